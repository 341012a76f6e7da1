//! Benchmarks of `kmeans`' Lloyd steps on each backend this build has (`Cuda` with the `cuda`
//! feature and a GPU), on prepared data: the blobs and the k-means++ start are made once per
//! job, outside the timing (and only for the jobs the command line selects), as the kernel's
//! own time leaves them out. Each job runs until it converges or reaches its steps, so the
//! time is per job; `banco` prints GFLOP/s and the comparison with scikit-learn. Run with
//! `cargo bench -p kernels --bench kmeans`.

use std::sync::OnceLock;
use std::time::Duration;

use comun::Algoritmo;
use comun::trabajo::ParamsKmeans;
use criterion::{Criterion, criterion_group, criterion_main};
use kernels::Control;
use kernels::kmeans::{self, Datos, datos};

/// Measures the job `(muestras, dimensiones, k, iteraciones)` on `algoritmos`.
fn medir(
    c: &mut Criterion,
    (n, d, k, iteraciones): (u32, u32, u32, u32),
    algoritmos: &[Algoritmo],
) {
    let p = ParamsKmeans::new(n, d, k, iteraciones, 1).expect("within the limits");
    let entradas = OnceLock::new();
    let preparar = || {
        let datos = Datos::new(&p);
        let iniciales = datos::iniciales(&datos, k as usize, 1, &Control::ninguno());
        (datos, iniciales.expect("an unshared control never stops"))
    };
    let mut grupo = c.benchmark_group(format!("kmeans {n} × {d}, k = {k}, {iteraciones} steps"));
    grupo
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(3));
    for &algoritmo in algoritmos {
        grupo.bench_function(algoritmo.nombre(), |b| {
            let (datos, iniciales) = entradas.get_or_init(preparar);
            b.iter(|| {
                kmeans::agrupar(
                    datos,
                    iniciales.clone(),
                    iteraciones,
                    std::hint::black_box(algoritmo),
                    &Control::ninguno(),
                )
                .expect("runs")
            })
        });
    }
    grupo.finish();
}

fn kmeans(c: &mut Criterion) {
    let mut todos = vec![Algoritmo::Secuencial, Algoritmo::Paralelo];
    let mut rapidos = vec![Algoritmo::Paralelo];
    if kernels::gpu().is_ok() {
        todos.push(Algoritmo::Cuda);
        rapidos.push(Algoritmo::Cuda);
    }
    medir(c, (100_000, 16, 8, 20), &todos);
    medir(c, (200_000, 64, 64, 20), &rapidos);
    medir(c, (20_000, 512, 512, 5), &rapidos);
}

criterion_group!(benches, kmeans);
criterion_main!(benches);

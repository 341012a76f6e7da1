//! Benchmarks of the autovalores kernel (`kernels::autovalores::resolver`: every eigenvalue of
//! the seeded symmetric matrix, plus the sampled eigenvector) on each backend this build has, at
//! n = 256 and 1024 (every backend) and 2048 (the size `banco` compares with numpy's eigvalsh;
//! not Secuencial). The matrix is generated once and copied outside the timing. Throughput is
//! counted as (4/3)·n³ floating-point operations, the tridiagonalisation's. Run with
//! `cargo bench -p kernels --bench autovalores`.

use std::time::Duration;

use comun::Algoritmo;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use kernels::{Control, autovalores};

/// The backends to measure: Paralelo (and Secuencial when asked), and `Cuda` where a GPU
/// answers.
fn algoritmos(con_secuencial: bool) -> Vec<Algoritmo> {
    let mut v = vec![Algoritmo::Paralelo];
    if con_secuencial {
        v.insert(0, Algoritmo::Secuencial);
    }
    if kernels::gpu().is_ok() {
        v.push(Algoritmo::Cuda);
    }
    v
}

fn medir(c: &mut Criterion, n: usize, con_secuencial: bool) {
    let a = autovalores::matriz(n, 1, &Control::ninguno()).expect("no control to stop it");
    let mut grupo = c.benchmark_group(format!("autovalores {n} (flops)"));
    grupo
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(5))
        .throughput(Throughput::Elements(
            (4.0 / 3.0 * (n as f64).powi(3)) as u64,
        ));
    for algoritmo in algoritmos(con_secuencial) {
        grupo.bench_function(algoritmo.nombre(), |b| {
            b.iter_batched_ref(
                || a.clone(),
                |copia| {
                    autovalores::resolver(copia, n, n / 2, algoritmo, &Control::ninguno())
                        .expect("runs")
                },
                BatchSize::LargeInput,
            )
        });
    }
    grupo.finish();
}

fn autovalores(c: &mut Criterion) {
    medir(c, 256, true);
    medir(c, 1024, true);
    medir(c, 2048, false);
}

criterion_group!(benches, autovalores);
criterion_main!(benches);

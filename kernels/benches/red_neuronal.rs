//! red_neuronal benchmarks: the default job (2-D spirals, layers 64-64, minibatches of 64, 10
//! epochs of Adam) on every backend this build has, and a wider network (blobs in 64
//! dimensions, layers 512-512, minibatches of 256) on `Paralelo` (and `Cuda`). Throughput is
//! in training samples, so criterion reports samples per second; `banco` prints the ratio to
//! numpy's same loop. Run with `cargo bench -p kernels --bench red_neuronal`.

use std::time::Duration;

use comun::Algoritmo;
use comun::trabajo::{Conjunto, ParamsRedNeuronal};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use kernels::Control;
use kernels::red_neuronal;

/// Benchmarks `p` on `algoritmos` (those this machine has) in a group called `nombre`.
fn medir(c: &mut Criterion, nombre: &str, p: &ParamsRedNeuronal, algoritmos: &[Algoritmo]) {
    let vistas = red_neuronal::entrenar(p, Algoritmo::Paralelo, &Control::ninguno())
        .expect("Paralelo runs everywhere")
        .muestras_vistas;
    let mut grupo = c.benchmark_group(nombre);
    grupo
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements(vistas as u64));
    for &algoritmo in algoritmos {
        if algoritmo == Algoritmo::Cuda && kernels::gpu().is_err() {
            continue;
        }
        grupo.bench_function(algoritmo.nombre(), |b| {
            b.iter(|| {
                red_neuronal::entrenar(std::hint::black_box(p), algoritmo, &Control::ninguno())
                    .expect("trains")
            })
        });
    }
    grupo.finish();
}

fn red_neuronal(c: &mut Criterion) {
    let todos = [Algoritmo::Secuencial, Algoritmo::Paralelo, Algoritmo::Cuda];
    medir(
        c,
        "red_neuronal default (samples)",
        &ParamsRedNeuronal::default(),
        &todos,
    );
    let ancho = ParamsRedNeuronal {
        capas: vec![512, 512],
        lote: 256,
        conjunto: Conjunto::Blobs,
        dimensiones: 64,
        clases: 10,
        muestras: 8192,
        epocas: 1,
        ..Default::default()
    };
    medir(
        c,
        "red_neuronal 64-512-512-10 (samples)",
        &ancho,
        &todos[1..],
    );
}

criterion_group!(benches, red_neuronal);
criterion_main!(benches);

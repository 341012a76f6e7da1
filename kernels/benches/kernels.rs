//! Benchmarks of matmul, vector_add, montecarlo and nbody on each backend this build has
//! (`Cuda` with the `cuda` feature and a GPU). Throughput is in the kernel's own unit (FLOPs,
//! bytes read and written, samples, interactions), so criterion reports it per second. Small
//! samples; `banco` prints the comparison table with numpy. Run with
//! `cargo bench -p kernels --bench kernels`.

use std::time::Duration;

use comun::Algoritmo;
use comun::trabajo::{Parametros, ParamsMatmul, ParamsMontecarlo, ParamsNbody, ParamsVectorAdd};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// The backends to measure: the CPU ones, and `Cuda` where a GPU answers.
fn algoritmos(con_secuencial: bool) -> Vec<Algoritmo> {
    let mut v = Vec::new();
    if con_secuencial {
        v.push(Algoritmo::Secuencial);
    }
    v.push(Algoritmo::Paralelo);
    if kernels::gpu().is_ok() {
        v.push(Algoritmo::Cuda);
    }
    v
}

fn medir(c: &mut Criterion, nombre: &str, p: Parametros, cantidad: u64, algoritmos: &[Algoritmo]) {
    let mut grupo = c.benchmark_group(nombre);
    grupo
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2))
        .throughput(Throughput::Elements(cantidad));
    for &algoritmo in algoritmos {
        grupo.bench_function(algoritmo.nombre(), |b| {
            b.iter(|| kernels::ejecutar(std::hint::black_box(&p), algoritmo).expect("runs"))
        });
    }
    grupo.finish();
}

fn matmul(c: &mut Criterion) {
    let p = Parametros::Matmul(ParamsMatmul::new(256, 1).unwrap());
    medir(
        c,
        "matmul 256 (flops)",
        p,
        2 * 256u64.pow(3),
        &algoritmos(true),
    );
    let p = Parametros::Matmul(ParamsMatmul::new(2048, 1).unwrap());
    medir(
        c,
        "matmul 2048 (flops)",
        p,
        2 * 2048u64.pow(3),
        &algoritmos(false),
    );
}

fn vector_add(c: &mut Criterion) {
    let n = 50_000_000;
    let p = Parametros::VectorAdd(ParamsVectorAdd::new(n, 1).unwrap());
    medir(c, "vector_add 50M (bytes)", p, 12 * n, &algoritmos(true));
}

fn montecarlo(c: &mut Criterion) {
    let n = 10_000_000;
    let p = Parametros::Montecarlo(ParamsMontecarlo::new(n, 1).unwrap());
    medir(c, "montecarlo 1e7 (samples)", p, n, &algoritmos(true));
}

fn nbody(c: &mut Criterion) {
    let p = Parametros::Nbody(ParamsNbody::new(2048, 2, 1).unwrap());
    medir(
        c,
        "nbody 2048x2 (interactions)",
        p,
        2048 * 2048 * 2,
        &algoritmos(true),
    );
}

criterion_group!(benches, matmul, vector_add, montecarlo, nbody);
criterion_main!(benches);

//! Benchmarks of the fft kernel's transforms (`kernels::fft::transformada`: the signal's
//! generation included, which criterion cannot leave out; `banco` reports kernel time alone)
//! on each backend this build has: 1-D of 2²² points (the size `banco` compares with
//! numpy.fft.fft), a prime length (Bluestein), and 2-D of 2048 × 2048. Throughput is counted
//! as 5·N·log₂N floating-point operations. Run with `cargo bench -p kernels --bench fft`.

use std::time::Duration;

use comun::Algoritmo;
use comun::trabajo::ParamsFft;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use kernels::{Control, fft};

/// The backends to measure: the CPU ones, and `Cuda` where a GPU answers.
fn algoritmos() -> Vec<Algoritmo> {
    let mut v = vec![Algoritmo::Secuencial, Algoritmo::Paralelo];
    if kernels::gpu().is_ok() {
        v.push(Algoritmo::Cuda);
    }
    v
}

fn medir(c: &mut Criterion, nombre: &str, n: u32, m: u32) {
    let p = ParamsFft::new(n, m, 1).unwrap();
    let puntos = p.puntos() as f64;
    let mut grupo = c.benchmark_group(nombre);
    grupo
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements((5.0 * puntos * puntos.log2()) as u64));
    for algoritmo in algoritmos() {
        grupo.bench_function(algoritmo.nombre(), |b| {
            b.iter(|| {
                fft::transformada(std::hint::black_box(&p), algoritmo, &Control::ninguno())
                    .expect("runs")
            })
        });
    }
    grupo.finish();
}

fn fft(c: &mut Criterion) {
    medir(c, "fft 1-D 2^22 (flops)", 1 << 22, 1);
    medir(c, "fft 1-D prime 1000003 (flops)", 1_000_003, 1);
    medir(c, "fft 2-D 2048x2048 (flops)", 2048, 2048);
}

criterion_group!(benches, fft);
criterion_main!(benches);

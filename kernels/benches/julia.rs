//! Julia kernel benchmarks: both CPU backends on a small image, and `Paralelo` on the
//! 4000×4000×1000 target size. Throughput is in iterations (the sum of counts), so criterion
//! reports iterations per second. Run with `cargo bench -p kernels --bench julia`.

use std::time::Duration;

use comun::Algoritmo;
use comun::trabajo::ParamsJulia;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// Benchmarks `algoritmos` on one image size, in a group named after the size.
fn medir(c: &mut Criterion, width: u32, height: u32, iteraciones: u32, algoritmos: &[Algoritmo]) {
    let p = ParamsJulia::new(width, height, iteraciones).expect("valid size");
    let suma = kernels::julia(&p, Algoritmo::Paralelo)
        .expect("Paralelo runs everywhere")
        .suma();
    let mut grupo = c.benchmark_group(format!("julia {width}x{height}x{iteraciones}"));
    grupo
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements(suma));
    for &algoritmo in algoritmos {
        grupo.bench_function(algoritmo.nombre(), |b| {
            b.iter(|| kernels::julia(std::hint::black_box(&p), algoritmo))
        });
    }
    grupo.finish();
}

fn pequena(c: &mut Criterion) {
    medir(
        c,
        800,
        600,
        200,
        &[Algoritmo::Secuencial, Algoritmo::Paralelo],
    );
}

fn objetivo(c: &mut Criterion) {
    medir(c, 4000, 4000, 1000, &[Algoritmo::Paralelo]);
}

criterion_group!(benches, pequena, objetivo);
criterion_main!(benches);

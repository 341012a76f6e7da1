//! imagen kernel benchmarks: the speed target's case, the Gaussian blur of one 4096 × 4096
//! `f32` plane at σ = 2 on `Paralelo` (banco compares it with scipy in the same run), and the
//! whole job as an esclavo runs it (the generated 1024² RGB image, blur then Sobel, the PNG
//! encoded) on both CPU backends. Throughput is in pixels. Run with `cargo bench -p kernels --bench imagen`.

use std::time::Duration;

use comun::Algoritmo;
use comun::trabajo::{Filtro, ParamsImagen};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use kernels::Control;

fn desenfoque(c: &mut Criterion) {
    let lado = 4096;
    let mut plano: Vec<f32> = (0..lado * lado)
        .map(|i| kernels::azar::uniforme(1, 60, i as u64, 0.0, 255.0))
        .collect();
    let mut tmp = vec![0.0; plano.len()];
    let mut grupo = c.benchmark_group(format!("imagen desenfoque {lado}x{lado} f32 σ 2"));
    grupo
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements((lado * lado) as u64));
    grupo.bench_function("Paralelo", |b| {
        b.iter(|| {
            kernels::imagen::desenfocar_plano(
                std::hint::black_box(&mut plano),
                &mut tmp,
                (lado as u32, lado as u32),
                2.0,
                Algoritmo::Paralelo,
            )
        })
    });
    grupo.finish();
}

fn trabajo(c: &mut Criterion) {
    let lado = 1024;
    let filtros = vec![Filtro::Desenfoque, Filtro::Sobel];
    let p = ParamsImagen::new(lado, lado, filtros, 2.0, None).expect("valid parameters");
    let mut grupo = c.benchmark_group(format!("imagen {lado}x{lado} RGB desenfoque+sobel"));
    grupo
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements(u64::from(lado) * u64::from(lado)));
    for algoritmo in [Algoritmo::Secuencial, Algoritmo::Paralelo] {
        grupo.bench_function(algoritmo.nombre(), |b| {
            b.iter(|| {
                kernels::imagen::ejecutar(
                    std::hint::black_box(&p),
                    None,
                    algoritmo,
                    &Control::ninguno(),
                )
            })
        });
    }
    grupo.finish();
}

criterion_group!(benches, desenfoque, trabajo);
criterion_main!(benches);

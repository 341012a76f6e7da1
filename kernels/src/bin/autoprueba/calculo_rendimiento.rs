//! The report's last section: the throughput of matmul, vector_add, montecarlo and nbody on
//! `Cuda` (best of 3 runs) and `Paralelo` (one run), against the copy bandwidth and the f32
//! peak measured or computed for the GPU.

use std::time::Duration;

use comun::Algoritmo;
use comun::trabajo::{ParamsMatmul, ParamsMontecarlo, ParamsNbody, ParamsVectorAdd};
use kernels::cuda::{self, Limites};
use kernels::{ErrorKernel, matmul, montecarlo, nbody, vector_add};

/// Prints the bounds, then one row per kernel, backend and size.
pub fn medir(limites: Limites) {
    println!("\n## Throughput: matmul, vector_add, montecarlo, nbody\n");
    let (gb, tf) = cotas(limites);
    println!(
        "| kernel | backend | size | kernel time | end to end | throughput (kernel) | \
         throughput (end to end) | % of bound |"
    );
    println!("|---|---|---|---:|---:|---:|---:|---:|");
    filas_matmul(tf);
    filas_vector_add(gb);
    filas_montecarlo();
    filas_nbody();
}

/// Measures the copy bandwidth, prints it, the f32 peak and what the columns time; returns
/// both bounds, in GB/s and GFLOP/s.
fn cotas(limites: Limites) -> (Option<f64>, Option<f64>) {
    let copia = cuda::ancho_de_banda_copia(1 << 30, 5);
    let pico = limites.pico_flops_f32();
    match &copia {
        Ok(b) => println!(
            "- device-to-device copy (cuMemcpyDtoDAsync of 1 GiB, best of 5, bytes read + \
             written): {:.1} GB/s",
            b / 1e9
        ),
        Err(e) => println!("- device-to-device copy: ERROR {e}"),
    }
    match pico {
        Some(p) => println!(
            "- f32 peak (no tensor cores) = SMs × FP32 lanes/SM × 2 × clock = {} × {} × 2 × {} \
             MHz = {:.2} TFLOP/s",
            limites.multiprocesadores,
            limites.lanes_f32_por_sm().unwrap_or(0),
            limites.reloj_khz / 1000,
            p / 1e12
        ),
        None => println!("- f32 peak unknown for this compute capability"),
    }
    println!(
        "- Cuda: kernel = CUDA events around the launches (best of 3; a job's `duracion_s`); \
         end to end = CUDA events around the whole call: allocation, copies to and from the \
         GPU, launches (same run; a job's `duracion_con_copias_s`). Paralelo: one run, {}.\n",
        kernels::dispositivo(Algoritmo::Paralelo)
    );
    (copia.ok().map(|b| b / 1e9), pico.map(|p| p / 1e9))
}

/// What one row measured: the work done, its unit, and the bound in that unit if any.
struct Caso<'a> {
    /// The kernel's name.
    kernel: &'a str,
    /// The job's size, in words.
    tam: String,
    /// Work done, in `unidad` times seconds.
    cantidad: f64,
    /// The throughput's unit.
    unidad: &'a str,
    /// The bound, in `unidad`.
    cota: Option<f64>,
}

impl Caso<'_> {
    /// `Cuda`'s row: the best of 3 runs of `correr`, which returns the kernel and end-to-end
    /// times; an error row if a run fails.
    fn cuda(self, correr: impl FnMut() -> Result<(Duration, Duration), ErrorKernel>) {
        if let Some((kernel, total)) = mejor(correr) {
            self.imprimir("Cuda", kernel, total);
        }
    }

    /// `Paralelo`'s row, from one run's kernel and end-to-end times; nothing if it failed.
    fn paralelo(self, corrida: Result<(Duration, Duration), ErrorKernel>) {
        if let Ok((kernel, total)) = corrida {
            self.imprimir("Paralelo", kernel, total);
        }
    }

    fn imprimir(&self, backend: &str, kernel_t: Duration, total: Duration) {
        let Caso {
            kernel,
            tam,
            cantidad,
            unidad,
            cota,
        } = self;
        let k = cantidad / kernel_t.as_secs_f64();
        let e = cantidad / total.as_secs_f64();
        println!(
            "| {kernel} | {backend} | {tam} | {} | {} | {k:.4e} {unidad} | {e:.4e} {unidad} | {} |",
            ms(kernel_t),
            ms(total),
            cota.map_or("-".into(), |c| format!("{:.0}%", 100.0 * k / c))
        );
    }
}

fn filas_matmul(tf: Option<f64>) {
    // Warm-up (module JIT, lazy driver set-up).
    let _ = matmul::matmul(&ParamsMatmul::new(256, 1).unwrap(), Algoritmo::Cuda);
    let tiempos = |r: matmul::Producto| (r.duracion, r.total);
    for (n, it) in [(2048u32, 10u32), (4096, 5), (8192, 3)] {
        let p = ParamsMatmul::new(n, it).unwrap();
        Caso {
            kernel: "matmul",
            tam: format!("n = {n} × {it}"),
            cantidad: 2.0 * f64::from(n).powi(3) * f64::from(it) / 1e9,
            unidad: "GFLOP/s",
            cota: tf,
        }
        .cuda(|| matmul::matmul(&p, Algoritmo::Cuda).map(tiempos));
    }
    let p = ParamsMatmul::new(4096, 1).unwrap();
    Caso {
        kernel: "matmul",
        tam: "n = 4096 × 1".into(),
        cantidad: 2.0 * 4096f64.powi(3) / 1e9,
        unidad: "GFLOP/s",
        cota: None,
    }
    .paralelo(matmul::matmul(&p, Algoritmo::Paralelo).map(tiempos));
}

fn filas_vector_add(gb: Option<f64>) {
    let tiempos = |r: vector_add::Suma| (r.duracion, r.total);
    for (n, it) in [(50_000_000u64, 20u32), (1 << 28, 10)] {
        let p = ParamsVectorAdd::new(n, it).unwrap();
        Caso {
            kernel: "vector_add",
            tam: format!("n = {n} × {it}"),
            cantidad: 12.0 * n as f64 * f64::from(it) / 1e9,
            unidad: "GB/s",
            cota: gb,
        }
        .cuda(|| vector_add::vector_add(&p, Algoritmo::Cuda).map(tiempos));
    }
    let p = ParamsVectorAdd::new(50_000_000, 10).unwrap();
    Caso {
        kernel: "vector_add",
        tam: "n = 50000000 × 10".into(),
        cantidad: 12.0 * 50e6 * 10.0 / 1e9,
        unidad: "GB/s",
        cota: None,
    }
    .paralelo(vector_add::vector_add(&p, Algoritmo::Paralelo).map(tiempos));
}

fn filas_montecarlo() {
    let tiempos = |r: montecarlo::Conteo| (r.duracion, r.total);
    let p = ParamsMontecarlo::new(100_000_000_000, 1).unwrap();
    Caso {
        kernel: "montecarlo",
        tam: "1e11 samples".into(),
        cantidad: 1e11,
        unidad: "samples/s",
        cota: None,
    }
    .cuda(|| montecarlo::montecarlo(&p, Algoritmo::Cuda).map(tiempos));
    let p = ParamsMontecarlo::new(2_000_000_000, 1).unwrap();
    Caso {
        kernel: "montecarlo",
        tam: "2e9 samples".into(),
        cantidad: 2e9,
        unidad: "samples/s",
        cota: None,
    }
    .paralelo(montecarlo::montecarlo(&p, Algoritmo::Paralelo).map(tiempos));
}

fn filas_nbody() {
    let tiempos = |r: nbody::Simulacion| (r.duracion, r.total);
    for (n, pasos) in [(16_384u32, 20u32), (65_536, 5)] {
        let p = ParamsNbody::new(n, pasos, 1).unwrap();
        Caso {
            kernel: "nbody",
            tam: format!("{n} bodies × {pasos} steps"),
            cantidad: f64::from(n) * f64::from(n) * f64::from(pasos),
            unidad: "interactions/s",
            cota: None,
        }
        .cuda(|| nbody::nbody(&p, Algoritmo::Cuda).map(tiempos));
    }
    let p = ParamsNbody::new(16_384, 2, 1).unwrap();
    Caso {
        kernel: "nbody",
        tam: "16384 bodies × 2 steps".into(),
        cantidad: 16_384f64 * 16_384.0 * 2.0,
        unidad: "interactions/s",
        cota: None,
    }
    .paralelo(nbody::nbody(&p, Algoritmo::Paralelo).map(tiempos));
}

/// The best kernel time (and its run's end-to-end time) of 3 runs; prints an error row.
fn mejor(
    mut f: impl FnMut() -> Result<(Duration, Duration), ErrorKernel>,
) -> Option<(Duration, Duration)> {
    let mut mejor: Option<(Duration, Duration)> = None;
    for _ in 0..3 {
        match f() {
            Ok(t) => {
                if mejor.is_none_or(|m| t.0 < m.0) {
                    mejor = Some(t);
                }
            }
            Err(e) => {
                println!("| | | | **ERROR**: {e} | | | | |");
                return None;
            }
        }
    }
    mejor
}

/// `12.345 ms`.
fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

//! The report's second section: Julia's throughput on `Cuda` (best of several runs, kernel,
//! copy, with-copies and end-to-end times) and on `Paralelo`, against the GPU's FP64 bound.

use std::time::{Duration, Instant};

use comun::Algoritmo;
use comun::trabajo::ParamsJulia;
use kernels::cuda::Limites;
use kernels::julia::cuda::{self, OPERACIONES_F64_POR_ITERACION, cota_iteraciones_por_segundo};

use crate::julia_acuerdo::{params, suma};

/// Benchmarked sizes; the CPU runs those marked `true` too.
const MEDIDAS: [(u32, u32, u32, bool); 3] = [
    (1024, 1024, 1000, true),
    (8192, 8192, 1000, true),
    (8192, 8192, 10_000, false),
];

/// Runs of each GPU measurement; the best is reported.
const REPETICIONES: usize = 3;

/// Prints how the bound is computed, then one row per backend and size.
pub fn medir(limites: Limites) {
    println!("## Throughput\n");
    explicar(limites);
    println!(
        "| backend | image × iteraciones | iterations | kernel time | copy to host | with \
         copies | end to end | iterations/s (kernel) | iterations/s (end to end) | % of bound |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    let cota = cota_iteraciones_por_segundo(&limites);
    // Warm-up: the first launch pays for lazy set-up in the driver.
    let _ = cuda::medir(&params(256, 256, 10));
    for (width, height, iteraciones, con_cpu) in MEDIDAS {
        let p = params(width, height, iteraciones);
        medir_gpu(&p, cota);
        if con_cpu {
            medir_cpu(&p);
        }
    }
}

/// The paragraph before the table: the FP64 peak and bound, and what each column times.
fn explicar(limites: Limites) {
    match (
        limites.pico_flops_f64(),
        cota_iteraciones_por_segundo(&limites),
    ) {
        (Some(pico), Some(cota)) => println!(
            "FP64 peak (no tensor cores) = SMs × FP64 lanes/SM × 2 × clock = {} × {} × 2 × \
             {} MHz = {:.2} TFLOP/s. Each iteration is {OPERACIONES_F64_POR_ITERACION} FP64 \
             instructions (4 mul, 4 add/sub, 1 compare; no FMA), so the FP64 pipes bound \
             the kernel at SMs × lanes × clock ÷ {OPERACIONES_F64_POR_ITERACION} = {} \
             iterations/s; \"% of bound\" compares with that. Iterations are the sum of all \
             counts (the work actually done). GPU times are the best of {REPETICIONES} runs: \
             kernel = CUDA events around the launches (a job's `duracion_s`); copy = the \
             counts from the GPU to the host (host clock; through pinned staging from \
             `cuda::UMBRAL_ETAPA` on); with copies = CUDA events around the whole call: \
             allocation, launches, copy (a job's `duracion_con_copias_s`); end to end = the \
             same and the free, on the host's clock (what an esclavo's job pays, without the \
             PNG). The CPU rows are one run each.\n",
            limites.multiprocesadores,
            limites.lanes_f64_por_sm().unwrap_or(0),
            limites.reloj_khz / 1000,
            pico / 1e12,
            cientifica(cota)
        ),
        _ => println!(
            "(FP64 lanes per SM unknown for compute capability {}.{}: no bound shown.)\n",
            limites.capacidad.0, limites.capacidad.1
        ),
    }
}

/// `Cuda`'s row for `p`: the best of [`REPETICIONES`] runs.
fn medir_gpu(p: &ParamsJulia, cota: Option<f64>) {
    let mut mejor_kernel = Duration::MAX;
    let mut mejor_total = Duration::MAX;
    let mut mejor_copia = Duration::MAX;
    let mut mejor_con_copias = Duration::MAX;
    let mut iteraciones = 0;
    for _ in 0..REPETICIONES {
        let inicio = Instant::now();
        match cuda::medir(p) {
            Ok(m) => {
                mejor_total = mejor_total.min(inicio.elapsed());
                mejor_kernel = mejor_kernel.min(m.kernel);
                mejor_copia = mejor_copia.min(m.copia);
                mejor_con_copias = mejor_con_copias.min(m.con_copias);
                iteraciones = suma(&m.conteos);
            }
            Err(e) => {
                println!("| Cuda | {} | **ERROR**: {e} | | | | | | | |", tamano(p));
                return;
            }
        }
    }
    let por_segundo = iteraciones as f64 / mejor_kernel.as_secs_f64();
    println!(
        "| Cuda | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
        tamano(p),
        cientifica(iteraciones as f64),
        ms(mejor_kernel),
        ms(mejor_copia),
        ms(mejor_con_copias),
        ms(mejor_total),
        cientifica(por_segundo),
        cientifica(iteraciones as f64 / mejor_total.as_secs_f64()),
        cota.map_or("-".into(), |c| format!("{:.0}%", 100.0 * por_segundo / c))
    );
}

/// `Paralelo`'s row for `p`: one run.
fn medir_cpu(p: &ParamsJulia) {
    let inicio = Instant::now();
    let c = kernels::julia(p, Algoritmo::Paralelo).expect("the CPU backends always run");
    let tiempo = inicio.elapsed();
    let iteraciones = c.suma() as f64;
    println!(
        "| Paralelo ({}) | {} | {} | {} | - | - | {} | {} | {} | - |",
        kernels::dispositivo(Algoritmo::Paralelo),
        tamano(p),
        cientifica(iteraciones),
        ms(tiempo),
        ms(tiempo),
        cientifica(iteraciones / tiempo.as_secs_f64()),
        cientifica(iteraciones / tiempo.as_secs_f64()),
    );
}

/// `1024×1024 × 1000`.
fn tamano(p: &ParamsJulia) -> String {
    format!("{}×{} × {}", p.width, p.height, p.iteraciones)
}

/// `12.34 ms`.
fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

/// `1.234e12`.
fn cientifica(x: f64) -> String {
    format!("{x:.3e}")
}

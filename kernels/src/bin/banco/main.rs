//! `banco`: the benchmark table. Runs every kernel on every backend this build has (best of 3
//! runs each, kernel time as the job reports it), measures numpy's `a @ b` (n = 2048, f32) and
//! `np.add(a, b, out=c)` (50M f32) in the same run, and prints one Markdown table with the
//! ratios the targets ask for.
//!
//! `cargo run --release -p kernels --bin banco` (numpy: the interpreter in `$BANCO_PYTHON`,
//! else target/py/venv/bin/python, else `python3`; `pip install numpy` there).

mod autovalores;
mod fft;
mod imagen;
mod kmeans;
mod matmul;
mod pares;
mod red_neuronal;

use std::process::Command;
use std::time::Duration;

use comun::Algoritmo;
use comun::trabajo::{ParamsMontecarlo, ParamsNbody, ParamsVectorAdd};
use kernels::{ErrorKernel, montecarlo, nbody, vector_add};

/// The numpy measurements: best of several runs, printed as `GFLOPS GBPS`.
const NUMPY: &str = "
import time, numpy as np
r = np.random.default_rng(1)
a = r.random((2048, 2048), dtype=np.float32); b = r.random((2048, 2048), dtype=np.float32)
a @ b
t = min((lambda s: (a @ b, time.perf_counter() - s)[1])(time.perf_counter()) for _ in range(5))
x = r.random(50_000_000, dtype=np.float32); y = r.random(50_000_000, dtype=np.float32)
z = np.empty_like(x); np.add(x, y, out=z)
u = min((lambda s: (np.add(x, y, out=z), time.perf_counter() - s)[1])(time.perf_counter()) for _ in range(10))
print(2 * 2048**3 / t / 1e9, 12 * 50_000_000 / u / 1e9)
";

fn main() {
    let cuda = kernels::gpu().is_ok();
    let mut algoritmos = vec![Algoritmo::Secuencial, Algoritmo::Paralelo];
    if cuda {
        algoritmos.push(Algoritmo::Cuda);
    }
    println!("- Paralelo: {}", kernels::dispositivo(Algoritmo::Paralelo));
    println!("- Cuda: {}", kernels::dispositivo(Algoritmo::Cuda));
    let numpy = medir_numpy();
    match &numpy {
        Ok((gf, gb)) => println!("- numpy (same run): a @ b {gf:.1} GFLOP/s, np.add {gb:.1} GB/s"),
        Err(e) => println!("- numpy: not measured ({e})"),
    }
    let pares_matmul = matmul::medir();
    println!();
    println!("| kernel | backend | size | kernel time (best of 3) | throughput | target | ratio |");
    println!("|---|---|---|---:|---:|---|---:|");
    let mut mc = [0.0; 2];
    let mut nb = [0.0; 2];
    for &algoritmo in &algoritmos {
        matmul::fila_matmul(algoritmo, &pares_matmul);
        fila_vector_add(algoritmo, &numpy);
        fila_montecarlo(algoritmo, &mut mc);
        fila_nbody(algoritmo, &mut nb);
    }
    fft::filas(&algoritmos);
    imagen::filas(&algoritmos);
    autovalores::filas(&algoritmos);
    kmeans::filas(&algoritmos);
    red_neuronal::filas(&algoritmos);
}

/// vector_add's row: GB/s, and for Paralelo the ratio to numpy's `np.add`.
fn fila_vector_add(algoritmo: Algoritmo, numpy: &Result<(f64, f64), String>) {
    let n = 50_000_000;
    let p = ParamsVectorAdd::new(n, 5).unwrap();
    if let Some(t) = mejor(|| vector_add::vector_add(&p, algoritmo).map(|r| r.duracion)) {
        let gb = 12.0 * n as f64 * 5.0 / t.as_secs_f64() / 1e9;
        let (objetivo, razon) = match (numpy, algoritmo) {
            (Ok((_, np)), Algoritmo::Paralelo) => {
                ("≥ 1.00 × numpy np.add".into(), format!("{:.2}", gb / np))
            }
            _ => ("-".to_string(), "-".to_string()),
        };
        fila(
            "vector_add",
            algoritmo,
            "n = 50M × 5",
            t,
            &format!("{gb:.1} GB/s"),
            &objetivo,
            &razon,
        );
    }
}

/// montecarlo's row: samples per second, and for Paralelo the ratio to Secuencial's (`mc`).
fn fila_montecarlo(algoritmo: Algoritmo, mc: &mut [f64; 2]) {
    let muestras = 100_000_000;
    let p = ParamsMontecarlo::new(muestras, 1).unwrap();
    if let Some(t) = mejor(|| montecarlo::montecarlo(&p, algoritmo).map(|r| r.duracion)) {
        let v = muestras as f64 / t.as_secs_f64();
        let (objetivo, razon) = objetivo_cpu(algoritmo, mc, v);
        fila(
            "montecarlo",
            algoritmo,
            "1e8 samples",
            t,
            &format!("{:.3e} samples/s", v),
            &objetivo,
            &razon,
        );
    }
}

/// nbody's row: pair interactions per second, and for Paralelo the ratio to Secuencial's
/// (`nb`).
fn fila_nbody(algoritmo: Algoritmo, nb: &mut [f64; 2]) {
    let (n, pasos) = (4096, 4);
    let p = ParamsNbody::new(n, pasos, 1).unwrap();
    if let Some(t) = mejor(|| nbody::nbody(&p, algoritmo).map(|r| r.duracion)) {
        let v = f64::from(n) * f64::from(n) * f64::from(pasos) / t.as_secs_f64();
        let (objetivo, razon) = objetivo_cpu(algoritmo, nb, v);
        fila(
            "nbody",
            algoritmo,
            "4096 bodies × 4 steps",
            t,
            &format!("{:.3e} interactions/s", v),
            &objetivo,
            &razon,
        );
    }
}

/// Remembers Secuencial's rate; for Paralelo, the target ≥ 1.7 × Secuencial and the ratio.
fn objetivo_cpu(algoritmo: Algoritmo, memoria: &mut [f64; 2], v: f64) -> (String, String) {
    match algoritmo {
        Algoritmo::Secuencial => {
            memoria[0] = v;
            ("-".into(), "-".into())
        }
        Algoritmo::Paralelo => (
            "≥ 1.7 × Secuencial".into(),
            format!("{:.2}", v / memoria[0]),
        ),
        _ => ("-".into(), "-".into()),
    }
}

fn fila(kernel: &str, a: Algoritmo, tam: &str, t: Duration, v: &str, objetivo: &str, razon: &str) {
    println!(
        "| {kernel} | {a} | {tam} | {:.2} ms | {v} | {objetivo} | {razon} |",
        t.as_secs_f64() * 1e3
    );
}

/// The best of 3 runs' kernel times; prints why on a failure.
fn mejor(f: impl FnMut() -> Result<Duration, ErrorKernel>) -> Option<Duration> {
    mejor_de(3, f)
}

/// The best of `veces` runs' kernel times; prints why on a failure.
fn mejor_de(veces: u32, mut f: impl FnMut() -> Result<Duration, ErrorKernel>) -> Option<Duration> {
    let mut mejor = Duration::MAX;
    for _ in 0..veces {
        match f() {
            Ok(t) => mejor = mejor.min(t),
            Err(e) => {
                eprintln!("banco: {e}");
                return None;
            }
        }
    }
    Some(mejor)
}

/// The interpreter that runs numpy and the peer scripts: `$BANCO_PYTHON`, else
/// target/py/venv/bin/python, else `python3`.
fn python() -> String {
    std::env::var("BANCO_PYTHON").unwrap_or_else(|_| {
        let venv = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/py/venv/bin/python");
        if std::path::Path::new(venv).exists() {
            venv.into()
        } else {
            "python3".into()
        }
    })
}

/// numpy's GFLOP/s and GB/s, measured now.
fn medir_numpy() -> Result<(f64, f64), String> {
    let python = python();
    let salida = Command::new(&python)
        .args(["-c", NUMPY])
        .output()
        .map_err(|e| format!("{python}: {e}"))?;
    if !salida.status.success() {
        return Err(String::from_utf8_lossy(&salida.stderr)
            .lines()
            .last()
            .unwrap_or("failed")
            .to_owned());
    }
    let texto = String::from_utf8_lossy(&salida.stdout);
    let v: Vec<f64> = texto
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    match v[..] {
        [gf, gb] => Ok((gf, gb)),
        _ => Err(format!("unexpected output {texto:?}")),
    }
}

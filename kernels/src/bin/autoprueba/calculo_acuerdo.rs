//! The report's third section: matmul, vector_add, montecarlo and nbody on `Cuda` against the
//! CPU, one table row per size, exact or within each kernel's stated tolerance.

use comun::Algoritmo;
use comun::trabajo::{ParamsMatmul, ParamsMontecarlo, ParamsNbody, ParamsVectorAdd};
use kernels::{matmul, montecarlo, nbody, vector_add};

/// Tolerance of matmul against the CPU: `max abs(ΔC) / max abs(C)`.
const TOL_MATMUL: f64 = 1e-5;
/// Tolerance of nbody's final energy against the CPU, relative.
const TOL_NBODY: f64 = 1e-4;

/// Prints the agreement table; whether every case agreed.
pub fn comprobar() -> bool {
    println!("\n## Agreement: matmul, vector_add, montecarlo, nbody\n");
    println!("| kernel | size | reference | measure | reference | Cuda | tolerance | result |");
    println!("|---|---|---|---|---:|---:|---|---|");
    let mut bien = true;
    for (n, referencia) in [
        (1, Algoritmo::Secuencial),
        (7, Algoritmo::Secuencial),
        (129, Algoritmo::Secuencial),
        (300, Algoritmo::Secuencial),
        (1000, Algoritmo::Paralelo),
        (2048, Algoritmo::Paralelo),
    ] {
        bien &= acuerdo_matmul(n, referencia);
    }
    for n in [1, 5, 1001, 50_000_000, (1 << 28) - 1] {
        bien &= acuerdo_vector(n);
    }
    for muestras in [1, 2, 3, 999_999, 1_000_000_007, 10_000_000_000] {
        bien &= acuerdo_montecarlo(muestras);
    }
    for (particulas, pasos) in [(1, 5), (2, 10), (257, 10), (1000, 20), (4096, 10)] {
        bien &= acuerdo_nbody(particulas, pasos);
    }
    bien
}

/// One row of the table.
struct Fila<'a> {
    /// The kernel's name.
    kernel: &'a str,
    /// The job's size, in words.
    tam: String,
    /// The CPU backend compared with.
    referencia: Algoritmo,
    /// What the two value columns hold.
    medida: &'a str,
    /// The reference's value.
    cpu: String,
    /// `Cuda`'s value.
    gpu: String,
    /// The tolerance, in words.
    tolerancia: &'a str,
}

impl Fila<'_> {
    /// Prints the row with its verdict; returns `ok`.
    fn imprimir(self, ok: bool) -> bool {
        let Fila {
            kernel,
            tam,
            referencia,
            medida,
            cpu,
            gpu,
            tolerancia,
        } = self;
        let res = if ok {
            "equal / within"
        } else {
            "**DIFFERENT**"
        };
        println!(
            "| {kernel} | {tam} | {referencia} | {medida} | {cpu} | {gpu} | {tolerancia} | {res} |"
        );
        ok
    }
}

/// Prints a row for a `Cuda` run that failed; returns false.
fn error(kernel: &str, tam: String, e: impl std::fmt::Display) -> bool {
    println!("| {kernel} | {tam} | | | | | | **ERROR**: {e} |");
    false
}

fn acuerdo_matmul(n: u32, referencia: Algoritmo) -> bool {
    let p = ParamsMatmul::new(n, 1).expect("valid");
    let cpu = matmul::matmul(&p, referencia).expect("CPU runs");
    match matmul::matmul(&p, Algoritmo::Cuda) {
        Ok(gpu) => {
            let d = matmul::diferencia_relativa(&cpu.c, &gpu.c);
            Fila {
                kernel: "matmul",
                tam: format!("n = {n}"),
                referencia,
                medida: "max abs(ΔC) / max abs(C) (error_relativo cpu, gpu)",
                cpu: format!("{:.1e}", matmul::error_relativo(&cpu.c, n)),
                gpu: format!("{d:.1e} ({:.1e})", matmul::error_relativo(&gpu.c, n)),
                tolerancia: "≤ 1e-5",
            }
            .imprimir(d <= TOL_MATMUL)
        }
        Err(e) => error("matmul", format!("n = {n}"), e),
    }
}

fn acuerdo_vector(n: u64) -> bool {
    let p = ParamsVectorAdd::new(n, 1).expect("valid");
    let cpu = vector_add::vector_add(&p, Algoritmo::Paralelo).expect("CPU runs");
    match vector_add::vector_add(&p, Algoritmo::Cuda) {
        Ok(gpu) => Fila {
            kernel: "vector_add",
            tam: format!("n = {n}"),
            referencia: Algoritmo::Paralelo,
            medida: "checksum (c equal bit for bit?)",
            cpu: format!("{}", vector_add::checksum(&cpu.c)),
            gpu: format!("{}", vector_add::checksum(&gpu.c)),
            tolerancia: "exact",
        }
        .imprimir(cpu.c == gpu.c),
        Err(e) => error("vector_add", format!("n = {n}"), e),
    }
}

fn acuerdo_montecarlo(muestras: u64) -> bool {
    let p = ParamsMontecarlo::new(muestras, 2026).expect("valid");
    let cpu = montecarlo::montecarlo(&p, Algoritmo::Paralelo).expect("CPU runs");
    match montecarlo::montecarlo(&p, Algoritmo::Cuda) {
        Ok(gpu) => Fila {
            kernel: "montecarlo",
            tam: format!("{muestras} samples"),
            referencia: Algoritmo::Paralelo,
            medida: "dentro",
            cpu: cpu.dentro.to_string(),
            gpu: gpu.dentro.to_string(),
            tolerancia: "exact",
        }
        .imprimir(cpu.dentro == gpu.dentro),
        Err(e) => error("montecarlo", format!("{muestras}"), e),
    }
}

fn acuerdo_nbody(particulas: u32, pasos: u32) -> bool {
    let p = ParamsNbody::new(particulas, pasos, 11).expect("valid");
    let cpu = nbody::nbody(&p, Algoritmo::Paralelo).expect("CPU runs");
    match nbody::nbody(&p, Algoritmo::Cuda) {
        Ok(gpu) => {
            let d = (gpu.energia_final - cpu.energia_final).abs()
                / cpu.energia_final.abs().max(f64::MIN_POSITIVE);
            Fila {
                kernel: "nbody",
                tam: format!("{particulas} bodies × {pasos} steps"),
                referencia: Algoritmo::Paralelo,
                medida: "final energy",
                cpu: format!("{:.9e}", cpu.energia_final),
                gpu: format!("{:.9e} (Δ {d:.1e})", gpu.energia_final),
                tolerancia: "≤ 1e-4 relative",
            }
            .imprimir(d <= TOL_NBODY)
        }
        Err(e) => error("nbody", format!("{particulas}"), e),
    }
}

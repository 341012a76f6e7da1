//! `autoprueba`: the GPU self-test. On a machine with an NVIDIA GPU it runs every kernel (Julia,
//! matmul, vector_add, montecarlo, nbody) on the GPU (`Cuda`) and on the CPU (`Secuencial`,
//! `Paralelo`), checks that they agree (exactly for Julia, vector_add and montecarlo, within
//! the stated tolerances for matmul and nbody), and prints a Markdown report: the device, the
//! agreement checks and throughput tables against the device's limits. Exits 1 on any
//! disagreement, 2 without a GPU.
//!
//! Build it with `scripts/build-cuda.sh` (it needs the `cuda` feature to test anything):
//! `target/cuda/release/autoprueba`. This file prints the device and the verdict; the sections
//! are in `julia_acuerdo.rs`, `julia_rendimiento.rs` (Julia), `calculo_acuerdo.rs`,
//! `calculo_rendimiento.rs` (the four kernels of `calculo.cu`) and `copias.rs` (copies back to
//! the host, pageable against pinned staging). It runs on GPU 0 of those `CUDA_VISIBLE_DEVICES`
//! leaves.

#[cfg(feature = "cuda")]
mod calculo_acuerdo;
#[cfg(feature = "cuda")]
mod calculo_rendimiento;
#[cfg(feature = "cuda")]
mod copias;
#[cfg(feature = "cuda")]
mod julia_acuerdo;
#[cfg(feature = "cuda")]
mod julia_rendimiento;

use std::process::ExitCode;

fn main() -> ExitCode {
    #[cfg(feature = "cuda")]
    return prueba();
    #[cfg(not(feature = "cuda"))]
    {
        eprintln!(
            "autoprueba: no GPU backend in this build (build it with the `cuda` feature: \
             scripts/build-cuda.sh)"
        );
        ExitCode::from(2)
    }
}

/// The whole report; success when every kernel agrees with the CPU.
#[cfg(feature = "cuda")]
fn prueba() -> ExitCode {
    let motor = match kernels::cuda::motor() {
        Ok(motor) => motor,
        Err(e) => {
            eprintln!("autoprueba: {e}");
            return ExitCode::from(2);
        }
    };
    dispositivo(motor);
    let limites = motor.limites();
    let julia = julia_acuerdo::comprobar();
    julia_rendimiento::medir(limites);
    let calculo = calculo_acuerdo::comprobar();
    calculo_rendimiento::medir(limites);
    copias::medir();
    if calculo && julia {
        println!("\nRESULT: Cuda agrees with the CPU on every size, every kernel.");
        ExitCode::SUCCESS
    } else {
        println!("\nRESULT: DISAGREEMENT between Cuda and the CPU (see above).");
        ExitCode::FAILURE
    }
}

/// The machine's GPUs, where it has several: the report runs on one.
#[cfg(feature = "cuda")]
fn otras_gpus(esta: u32) {
    let Ok(todas) = kernels::gpus() else {
        return;
    };
    if todas.usables.len() + todas.descartadas.len() < 2 {
        return;
    }
    let usables: Vec<String> = todas
        .usables
        .iter()
        .map(|g| format!("GPU {}: {}", g.indice, g.nombre))
        .collect();
    let fuera: String = todas
        .descartadas
        .iter()
        .map(|d| format!("; left out: {d}"))
        .collect();
    println!(
        "- this machine's GPUs: {} (this report runs on GPU {esta}; CUDA_VISIBLE_DEVICES picks \
         another){fuera}",
        usables.join(", ")
    );
}

/// The report's title and the device it ran on.
#[cfg(feature = "cuda")]
fn dispositivo(motor: &kernels::cuda::Motor) {
    let gpu = motor.gpu();
    let limites = motor.limites();
    println!("# autoprueba: the kernels on the GPU against the CPU\n");
    println!(
        "- GPU: {} (compute capability {}, {} SMs at {} MHz, {} MiB)",
        gpu.nombre,
        gpu.capacidad_computo,
        limites.multiprocesadores,
        limites.reloj_khz / 1000,
        gpu.memoria_bytes >> 20
    );
    println!("- driver: {}", gpu.driver);
    otras_gpus(gpu.indice);
    println!(
        "- CPU: {}",
        kernels::dispositivo(comun::Algoritmo::Paralelo)
    );
    println!("- kernel: kernels/cuda/julia.ptx (PTX ISA 7.8, compute_70, no FMA), f64\n");
}

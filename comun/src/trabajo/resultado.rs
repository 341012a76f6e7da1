//! [`Resultado`]: what a finished job computed, as its esclavo reports it and the maestro shows
//! it: kernel time, device, and each kernel's own figures ([`Detalle`]).

use serde::{Deserialize, Serialize};

/// What a kernel computed, besides time and device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "tipo", rename_all = "lowercase")]
pub enum Detalle {
    Julia {
        /// Sum of every pixel's iteration count: a checksum all backends agree on.
        suma_conteos: u64,
        pixeles: u64,
        /// Iterations per second of kernel time.
        iteraciones_por_segundo: f64,
    },
    Espera {
        ms: u64,
    },
    Matmul {
        n: u32,
        /// Sum of every entry of C (of the last repetition).
        checksum: f64,
        /// Largest relative error of sampled entries against an f64 reference.
        error_relativo: f64,
        /// 2·n³·iteraciones / kernel time, in 10⁹ per second.
        gflops: f64,
    },
    VectorAdd {
        n: u64,
        /// Sum of every element of c.
        checksum: f64,
        /// Bytes read and written (12·n per repetition) per second, in 10⁹.
        gbps: f64,
    },
    Montecarlo {
        muestras: u64,
        /// Points inside the quarter circle.
        dentro: u64,
        /// 4 · dentro / muestras.
        pi: f64,
        muestras_por_segundo: f64,
    },
    Nbody {
        particulas: u32,
        pasos: u32,
        /// Total (kinetic + potential) energy before the first step.
        energia_inicial: f64,
        /// Total energy after the last step.
        energia_final: f64,
        /// particulas² · pasos / kernel time.
        interacciones_por_segundo: f64,
    },
}

/// A job's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Resultado {
    /// Kernel time in seconds.
    pub duracion_s: f64,
    /// What ran it: `cpu: 16 hilos (AMD EPYC …)`, later a GPU's name.
    pub dispositivo: String,
    pub detalle: Detalle,
    /// Whether a PNG can be fetched at `GET /trabajos/{id}/imagen`.
    pub imagen: bool,
}

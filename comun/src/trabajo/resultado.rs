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
    Fft {
        n: u32,
        m: u32,
        /// |Σ|X|² / (N·Σ|x|²) − 1|, N = n·m: the energy check (Parseval), near 0.
        parseval: f64,
        /// Σ (re + im) of the spectrum.
        checksum: f64,
        /// 5·N·log₂N / kernel time, in 10⁹ per second.
        gflops: f64,
    },
    Autovalores {
        n: u32,
        /// Largest eigenvalue.
        mayor: f64,
        /// Smallest eigenvalue.
        menor: f64,
        /// Σλ: equal to `traza` up to rounding.
        suma: f64,
        /// trace(A).
        traza: f64,
        /// ‖A v − λ v‖ / (‖A‖ ‖v‖) of one sampled eigenpair.
        residuo: f64,
        /// (4/3)·n³ (the tridiagonalisation) / kernel time, in 10⁹ per second.
        gflops: f64,
    },
    Kmeans {
        muestras: u32,
        k: u32,
        /// Lloyd steps run.
        iteraciones: u32,
        /// Sum of squared distances to the nearest centroid, after each step.
        inercia: Vec<f64>,
        /// Σ of the final centroids' coordinates.
        checksum: f64,
        /// 3·muestras·k·dimensiones·iteraciones / kernel time, in 10⁹ per second.
        gflops: f64,
    },
    #[serde(rename = "red_neuronal")]
    RedNeuronal {
        /// Mean training loss (cross-entropy) of each epoch.
        perdida: Vec<f64>,
        /// Accuracy on the training set after the last epoch, in [0, 1].
        precision_entrenamiento: f64,
        /// Accuracy on the held-out 20%, in [0, 1].
        precision_prueba: f64,
        /// Training samples (forward and backward) per second.
        muestras_por_segundo: f64,
        gflops: f64,
    },
    Imagen {
        width: u32,
        height: u32,
        /// Σ of the output PNG's pixel bytes.
        checksum: u64,
        megapixeles_por_segundo: f64,
    },
}

/// A job's result.
///
/// `processing_time`, `device` and `worker_type` repeat `duracion_s`, `dispositivo` and the
/// kind of device under the names the GPU cluster's users know; they are written from those
/// fields ([`Resultado::nuevo`]) and ignored when a result is read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(from = "ResultadoLeido")]
pub struct Resultado {
    /// Kernel time in seconds (on a GPU: the kernels alone, without host↔device copies).
    pub duracion_s: f64,
    /// On a GPU, kernel time plus the host↔device copies, in seconds; absent on a CPU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duracion_con_copias_s: Option<f64>,
    /// What ran it: `cpu: 16 hilos (AMD EPYC …)`, later a GPU's name.
    pub dispositivo: String,
    pub detalle: Detalle,
    /// Whether a PNG can be fetched at `GET /trabajos/{id}/imagen` (julia, imagen).
    pub imagen: bool,
    /// The GPU cluster's name for `duracion_s`.
    pub processing_time: f64,
    /// The GPU cluster's name for `dispositivo`.
    pub device: String,
    /// The GPU cluster's `gpu` or `cpu`: the kind of device that ran it.
    pub worker_type: TipoTrabajador,
}

/// The kind of device that ran a job, as the GPU cluster named its workers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TipoTrabajador {
    Gpu,
    Cpu,
}

/// A [`Resultado`] as read: the GPU cluster's names are written again from the others.
#[derive(Deserialize)]
struct ResultadoLeido {
    duracion_s: f64,
    #[serde(default)]
    duracion_con_copias_s: Option<f64>,
    dispositivo: String,
    detalle: Detalle,
    imagen: bool,
}

impl From<ResultadoLeido> for Resultado {
    fn from(r: ResultadoLeido) -> Self {
        Resultado::nuevo(
            r.duracion_s,
            r.duracion_con_copias_s,
            r.dispositivo,
            r.detalle,
            r.imagen,
        )
    }
}

impl Resultado {
    /// A result, with the GPU cluster's names written from its fields: a GPU ran it exactly
    /// when it has a time with copies.
    pub fn nuevo(
        duracion_s: f64,
        duracion_con_copias_s: Option<f64>,
        dispositivo: String,
        detalle: Detalle,
        imagen: bool,
    ) -> Self {
        let worker_type = match duracion_con_copias_s {
            Some(_) => TipoTrabajador::Gpu,
            None => TipoTrabajador::Cpu,
        };
        Resultado {
            duracion_s,
            duracion_con_copias_s,
            device: dispositivo.clone(),
            dispositivo,
            detalle,
            imagen,
            processing_time: duracion_s,
            worker_type,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_result_carries_the_gpu_clusters_names_written_from_its_own() {
        let gpu = Resultado::nuevo(
            0.25,
            Some(0.5),
            "NVIDIA H100".into(),
            Detalle::Espera { ms: 1 },
            false,
        );
        let json = serde_json::to_value(&gpu).unwrap();
        assert_eq!(json["processing_time"], 0.25);
        assert_eq!(json["device"], "NVIDIA H100");
        assert_eq!(json["worker_type"], "gpu");
        assert_eq!(json["duracion_s"], 0.25, "ours are kept");
        // Read back, they follow the fields they repeat, whatever the body said.
        let mut otro = json.clone();
        otro["processing_time"] = 99.0.into();
        otro["worker_type"] = "cpu".into();
        otro["duracion_s"] = 2.0.into();
        let leido: Resultado = serde_json::from_value(otro).unwrap();
        assert_eq!(
            (leido.processing_time, leido.worker_type),
            (2.0, TipoTrabajador::Gpu)
        );
        // A result stored before these names existed reads with them.
        let viejo = r#"{"duracion_s":1.5,"dispositivo":"cpu: 2 hilos","detalle":{"tipo":"espera","ms":3},"imagen":false}"#;
        let leido: Resultado = serde_json::from_str(viejo).unwrap();
        assert_eq!(leido.device, "cpu: 2 hilos");
        assert_eq!(
            (leido.processing_time, leido.worker_type),
            (1.5, TipoTrabajador::Cpu)
        );
    }
}

//! What this machine offers (sent once, at registration) and how loaded it is (sent with every
//! heartbeat), read through `sysinfo` and, for the GPUs, `kernels::gpus`.

use std::sync::OnceLock;

use comun::nodo::{Capacidades, Carga, Gpu};
use sysinfo::{CpuRefreshKind, MemoryRefreshKind, RefreshKind, System};

/// The hardware this esclavo offers: cores, memory and `gpus`, the GPUs `Cuda` jobs run on.
pub fn capacidades(gpus: Vec<Gpu>) -> Capacidades {
    let memoria_bytes = System::new_with_specifics(
        RefreshKind::nothing().with_memory(MemoryRefreshKind::nothing().with_ram()),
    )
    .map(|s| s.total_memory())
    .unwrap_or(0);
    Capacidades {
        nucleos: crate::config::nucleos(),
        memoria_bytes,
        gpus,
    }
}

/// Every GPU the `Cuda` backend can use, detected once per process (every esclavo of a
/// `cliente local` shares them) and logged then: each one found, each one left out and why,
/// or why there is none and only CPU jobs are served.
pub fn gpus_detectadas() -> Vec<Gpu> {
    static GPUS: OnceLock<Vec<Gpu>> = OnceLock::new();
    GPUS.get_or_init(|| match kernels::gpus() {
        Ok(gpus) => {
            for gpu in &gpus.usables {
                tracing::info!(
                    indice = gpu.indice,
                    nombre = %gpu.nombre,
                    memoria_mib = gpu.memoria_bytes >> 20,
                    capacidad_computo = %gpu.capacidad_computo,
                    pci = %gpu.pci,
                    driver = %gpu.driver,
                    "GPU found: Cuda jobs run on it"
                );
            }
            for motivo in &gpus.descartadas {
                tracing::warn!(%motivo, "GPU left out: Cuda jobs do not run on it");
            }
            if gpus.usables.is_empty() {
                tracing::warn!("no usable GPU: serving CPU jobs only");
            }
            gpus.usables
        }
        // A build with the feature was meant to have a GPU: its absence is worth a warning.
        Err(motivo) if cfg!(feature = "cuda") => {
            tracing::warn!(%motivo, "no usable GPU: serving CPU jobs only");
            Vec::new()
        }
        Err(motivo) => {
            tracing::info!(%motivo, "no GPU backend: serving CPU jobs only");
            Vec::new()
        }
    })
    .clone()
}

/// Samples CPU and memory use; CPU use is measured between two consecutive samples, so one
/// monitor lives as long as the heartbeat loop.
pub struct Monitor {
    /// The sysinfo handle, kept between samples; `None` where the platform is unsupported
    /// (heartbeats then report zero load rather than failing).
    sistema: Option<System>,
}

impl Monitor {
    pub fn new() -> Self {
        let sistema = System::new_with_specifics(
            RefreshKind::nothing()
                .with_cpu(CpuRefreshKind::nothing().with_usage())
                .with_memory(MemoryRefreshKind::nothing().with_ram()),
        )
        .ok();
        Self { sistema }
    }

    /// CPU use since the previous sample (since creation for the first one), and memory now.
    pub fn muestra(&mut self) -> Carga {
        let Some(s) = &mut self.sistema else {
            return Carga::default();
        };
        s.refresh_cpu_usage();
        s.refresh_memory_specifics(MemoryRefreshKind::nothing().with_ram());
        Carga {
            cpu: s.global_cpu_usage(),
            memoria_usada: s.used_memory(),
            memoria_total: s.total_memory(),
        }
    }
}

impl Default for Monitor {
    fn default() -> Self {
        Self::new()
    }
}

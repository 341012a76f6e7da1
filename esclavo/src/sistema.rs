//! What this machine offers (sent once, at registration) and how loaded it is (sent with every
//! heartbeat), read through `sysinfo` and, for the GPU, `kernels::gpu`.

use std::sync::OnceLock;

use comun::nodo::{Capacidades, Carga, Gpu};
use sysinfo::{CpuRefreshKind, MemoryRefreshKind, RefreshKind, System};

/// The hardware this esclavo offers: cores, memory and, in a build with the `cuda` feature
/// that found a usable one, the GPU that `Cuda` jobs run on.
pub fn capacidades() -> Capacidades {
    let memoria_bytes = System::new_with_specifics(
        RefreshKind::nothing().with_memory(MemoryRefreshKind::nothing().with_ram()),
    )
    .map(|s| s.total_memory())
    .unwrap_or(0);
    Capacidades {
        nucleos: crate::config::nucleos(),
        memoria_bytes,
        gpu: gpu(),
    }
}

/// The GPU, detected once per process (every esclavo of a `cliente local` shares it) and
/// logged then: what was found, or why there is none and only CPU jobs are served.
fn gpu() -> Option<Gpu> {
    static GPU: OnceLock<Option<Gpu>> = OnceLock::new();
    GPU.get_or_init(|| match kernels::gpu() {
        Ok(gpu) => {
            tracing::info!(
                nombre = %gpu.nombre,
                memoria_mib = gpu.memoria_bytes >> 20,
                capacidad_computo = %gpu.capacidad_computo,
                driver = %gpu.driver,
                "GPU found: Cuda jobs run on it"
            );
            Some(gpu)
        }
        // A build with the feature was meant to have a GPU: its absence is worth a warning.
        Err(motivo) if cfg!(feature = "cuda") => {
            tracing::warn!(%motivo, "no usable GPU: serving CPU jobs only");
            None
        }
        Err(motivo) => {
            tracing::info!(%motivo, "no GPU backend: serving CPU jobs only");
            None
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

//! What this machine offers (sent once, at registration) and how loaded it is (sent with every
//! heartbeat), read through `sysinfo`.

use comun::api::Carga;
use comun::nodo::Capacidades;
use sysinfo::{CpuRefreshKind, MemoryRefreshKind, RefreshKind, System};

/// The hardware this esclavo offers. No GPU: this build has no GPU backend.
pub fn capacidades() -> Capacidades {
    let memoria_bytes = System::new_with_specifics(
        RefreshKind::nothing().with_memory(MemoryRefreshKind::nothing().with_ram()),
    )
    .map(|s| s.total_memory())
    .unwrap_or(0);
    Capacidades {
        nucleos: crate::config::nucleos(),
        memoria_bytes,
        gpu: None,
    }
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

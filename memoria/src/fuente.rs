//! Where samples come from: the [`Fuente`] trait, and [`FuenteSistema`], which reads this host
//! through `sysinfo` (CPU, load, memory, swap, filesystems) and NVML (GPUs).
//!
//! Tests give the service a scripted `Fuente` instead, so they drive alerts deterministically
//! without loading the machine.

use std::collections::HashMap;
use std::time::Instant;

use comun::memoria::{Disco, Muestra};
use sysinfo::{
    CpuRefreshKind, DiskRefreshKind, Disks, MINIMUM_CPU_UPDATE_INTERVAL, MemoryRefreshKind,
    RefreshKind, System,
};

use crate::gpu::Gpus;

/// Something that can read a node's resources. Called from a blocking thread, once per
/// interval, by one task: it may block briefly and keep state between calls.
pub trait Fuente: Send + 'static {
    /// Reads the resources now. The sampler fills in `nodo` and `instante_ms` afterwards.
    fn muestrear(&mut self) -> Muestra;
}

/// This host, through `sysinfo` and, where an NVIDIA driver is present, NVML.
pub struct FuenteSistema {
    /// CPU and memory; `None` where the platform is unsupported (samples then read zero).
    sistema: Option<System>,
    /// The mounted filesystems, re-listed at every sample (mounts come and go).
    discos: Option<Disks>,
    /// The GPUs; `None` without a driver.
    gpus: Option<Gpus>,
    /// When CPU times were last read: CPU use is measured between two reads, which `sysinfo`
    /// needs [`MINIMUM_CPU_UPDATE_INTERVAL`] apart.
    ultima_lectura_cpu: Instant,
}

impl FuenteSistema {
    /// Opens the readers and takes the first CPU reading, so the first sample measures CPU use
    /// from now on. Logs once when no NVIDIA driver is found.
    pub fn new() -> Self {
        let sistema = System::new_with_specifics(
            RefreshKind::nothing()
                .with_cpu(CpuRefreshKind::nothing().with_usage())
                .with_memory(MemoryRefreshKind::everything()),
        )
        .inspect_err(|e| tracing::warn!(error = %e, "cannot read CPU and memory use"))
        .ok();
        let discos = Disks::new_with_refreshed_list_specifics(solo_espacio())
            .inspect_err(|e| tracing::warn!(error = %e, "cannot read filesystems"))
            .ok();
        Self {
            sistema,
            discos,
            gpus: Gpus::iniciar(),
            ultima_lectura_cpu: Instant::now(),
        }
    }

    /// CPU use since the previous call, waiting first if that was too recent to measure.
    fn cpu(&mut self) -> f64 {
        let Some(sistema) = &mut self.sistema else {
            return 0.0;
        };
        let transcurrido = self.ultima_lectura_cpu.elapsed();
        if transcurrido < MINIMUM_CPU_UPDATE_INTERVAL {
            std::thread::sleep(MINIMUM_CPU_UPDATE_INTERVAL - transcurrido);
        }
        sistema.refresh_cpu_usage();
        self.ultima_lectura_cpu = Instant::now();
        // Two decimals: `sysinfo` measures in f32, whose widening shows noise (95.00000762…).
        (f64::from(sistema.global_cpu_usage()) * 100.0).round() / 100.0
    }

    fn discos(&mut self) -> Vec<Disco> {
        let Some(discos) = &mut self.discos else {
            return Vec::new();
        };
        discos.refresh_specifics(true, solo_espacio());
        unicos(discos.iter().map(|d| {
            let disco = Disco {
                punto_montaje: d.mount_point().to_string_lossy().into_owned(),
                usado: d.total_space().saturating_sub(d.available_space()),
                total: d.total_space(),
            };
            (d.name().to_string_lossy().into_owned(), disco)
        }))
    }
}

impl Default for FuenteSistema {
    fn default() -> Self {
        Self::new()
    }
}

impl Fuente for FuenteSistema {
    fn muestrear(&mut self) -> Muestra {
        let cpu_porcentaje = self.cpu();
        let carga = System::load_average().unwrap_or(sysinfo::LoadAvg {
            one: 0.0,
            five: 0.0,
            fifteen: 0.0,
        });
        let mut muestra = Muestra {
            cpu_porcentaje,
            carga_1: carga.one,
            carga_5: carga.five,
            carga_15: carga.fifteen,
            discos: self.discos(),
            gpus: self.gpus.as_mut().map(Gpus::muestrear).unwrap_or_default(),
            ..Muestra::default()
        };
        if let Some(s) = &mut self.sistema {
            s.refresh_memory_specifics(MemoryRefreshKind::everything());
            muestra.memoria_usada = s.used_memory();
            muestra.memoria_total = s.total_memory();
            muestra.swap_usada = s.used_swap();
            muestra.swap_total = s.total_swap();
        }
        muestra
    }
}

/// Filesystem sizes only: no disk kind, no I/O counters.
fn solo_espacio() -> DiskRefreshKind {
    DiskRefreshKind::nothing().with_storage()
}

/// Each filesystem once: a device mounted at several points (bind mounts, as Docker makes for
/// `/etc/hosts`) keeps its shortest mount point; empty filesystems are left out. `discos` are
/// `(device, use)` pairs; a device is told apart by its name and size.
fn unicos(discos: impl Iterator<Item = (String, Disco)>) -> Vec<Disco> {
    let mut por_dispositivo: HashMap<(String, u64), Disco> = HashMap::new();
    for (dispositivo, disco) in discos.filter(|(_, d)| d.total > 0) {
        let clave = (dispositivo, disco.total);
        match por_dispositivo.get(&clave) {
            Some(otro) if orden(&otro.punto_montaje) <= orden(&disco.punto_montaje) => {}
            _ => {
                por_dispositivo.insert(clave, disco);
            }
        }
    }
    let mut discos: Vec<Disco> = por_dispositivo.into_values().collect();
    discos.sort_by(|a, b| a.punto_montaje.cmp(&b.punto_montaje));
    discos
}

/// Shorter mount points first, then alphabetical.
fn orden(punto: &str) -> (usize, &str) {
    (punto.len(), punto)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(punto: &str, total: u64) -> Disco {
        Disco {
            punto_montaje: punto.into(),
            usado: total / 2,
            total,
        }
    }

    #[test]
    fn a_device_mounted_twice_is_listed_once_at_its_shortest_mount_point() {
        let discos = unicos(
            [
                ("/dev/sda1".to_owned(), d("/etc/hosts", 100)),
                ("/dev/sda1".to_owned(), d("/", 100)),
                ("/dev/sda1".to_owned(), d("/etc/hostname", 100)),
                ("/dev/sdb1".to_owned(), d("/datos", 50)),
                ("overlay".to_owned(), d("/var/lib/x", 0)),
            ]
            .into_iter(),
        );
        let puntos: Vec<&str> = discos.iter().map(|d| d.punto_montaje.as_str()).collect();
        assert_eq!(puntos, ["/", "/datos"]);
    }

    #[test]
    fn this_host_can_be_sampled() {
        let mut f = FuenteSistema::new();
        let m = f.muestrear();
        assert!(m.memoria_total > 0 && m.memoria_usada <= m.memoria_total);
        assert!(
            (0.0..=100.0).contains(&m.cpu_porcentaje),
            "{}",
            m.cpu_porcentaje
        );
        for d in &m.discos {
            assert!(d.total > 0 && d.usado <= d.total, "{d:?}");
        }
    }
}

//! The GPUs of an esclavo as job slots ([`RanurasGpu`]): how many `Cuda` jobs each device runs
//! now, and which device the next one goes to ([`elegir`], plain code).
//!
//! Each GPU has `--ranuras-por-gpu` slots (1 by default: a job has the device to itself, and
//! its kernel time is its own). The rule: among the GPUs with a free slot, the one running the
//! fewest jobs; ties go to the one with more memory, then to the lower index. Free memory is
//! not read when choosing: a job's need is not known before it runs, and the driver's figure
//! would be stale by the time a second job is placed; what a device runs is exact.

use comun::nodo::Gpu;
use serde::{Deserialize, Serialize};

/// One GPU and the `Cuda` jobs running on it, as `GET /estado` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GpuEnUso {
    /// The driver's ordinal of the device, as in the registration.
    pub indice: u32,
    /// Product name, `NVIDIA H100 80GB HBM3`.
    pub nombre: String,
    /// Device memory, bytes.
    pub memoria_bytes: u64,
    /// `Cuda` jobs it may run at once.
    pub ranuras: u32,
    /// `Cuda` jobs running on it now.
    pub ejecutando: u32,
}

/// The GPU slots of an esclavo. Not synchronised: `Ranuras` keeps it under its lock, so a job
/// takes its job slot and its GPU slot at once.
#[derive(Debug, Clone)]
pub(crate) struct RanurasGpu {
    /// Every GPU, each with the jobs it runs now, in registration order.
    dispositivos: Vec<GpuEnUso>,
}

impl RanurasGpu {
    /// `por_gpu` slots on each of `gpus`.
    pub(crate) fn new(gpus: &[Gpu], por_gpu: u32) -> Self {
        let dispositivos = gpus
            .iter()
            .map(|g| GpuEnUso {
                indice: g.indice,
                nombre: g.nombre.clone(),
                memoria_bytes: g.memoria_bytes,
                ranuras: por_gpu,
                ejecutando: 0,
            })
            .collect();
        Self { dispositivos }
    }

    /// GPU slots in all: what the esclavo registers as `capacidad_gpu`.
    pub(crate) fn capacidad(&self) -> u32 {
        self.dispositivos.iter().map(|d| d.ranuras).sum()
    }

    /// GPU slots running a job now.
    pub(crate) fn ocupadas(&self) -> u32 {
        self.dispositivos.iter().map(|d| d.ejecutando).sum()
    }

    /// Takes a slot on the device [`elegir`] picks: its index; or why there is none.
    pub(crate) fn tomar(&mut self) -> Result<u32, String> {
        if self.dispositivos.is_empty() {
            return Err("no GPU on this esclavo".into());
        }
        let Some(i) = elegir(&self.dispositivos) else {
            return Err(format!(
                "ocupado: {}/{} GPU slots in use",
                self.ocupadas(),
                self.capacidad()
            ));
        };
        let d = &mut self.dispositivos[i];
        d.ejecutando += 1;
        Ok(d.indice)
    }

    /// Frees a slot of the device `indice`.
    pub(crate) fn liberar(&mut self, indice: u32) {
        if let Some(d) = self.dispositivos.iter_mut().find(|d| d.indice == indice) {
            d.ejecutando = d.ejecutando.saturating_sub(1);
        }
    }

    /// Every GPU and what it runs now.
    pub(crate) fn vista(&self) -> Vec<GpuEnUso> {
        self.dispositivos.clone()
    }
}

/// The position in `dispositivos` of the GPU the next `Cuda` job goes to: of those with a free
/// slot, the fewest jobs running, then the most memory, then the lowest index; `None` when all
/// are full.
pub(crate) fn elegir(dispositivos: &[GpuEnUso]) -> Option<usize> {
    dispositivos
        .iter()
        .enumerate()
        .filter(|(_, d)| d.ejecutando < d.ranuras)
        .min_by_key(|(_, d)| (d.ejecutando, std::cmp::Reverse(d.memoria_bytes), d.indice))
        .map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GIB: u64 = 1 << 30;

    fn gpu(indice: u32, memoria_gib: u64) -> Gpu {
        Gpu {
            indice,
            nombre: format!("GPU de {memoria_gib} GiB"),
            memoria_bytes: memoria_gib * GIB,
            capacidad_computo: "9.0".into(),
            driver: "550".into(),
            pci: String::new(),
            limites: None,
        }
    }

    #[test]
    fn without_gpus_there_is_no_slot_and_it_says_why() {
        let mut r = RanurasGpu::new(&[], 1);
        assert_eq!(r.capacidad(), 0);
        assert_eq!(r.tomar(), Err("no GPU on this esclavo".into()));
    }

    #[test]
    fn one_gpu_takes_one_job_by_default_then_refuses() {
        let mut r = RanurasGpu::new(&[gpu(0, 80)], 1);
        assert_eq!(r.tomar(), Ok(0));
        assert_eq!(r.tomar(), Err("ocupado: 1/1 GPU slots in use".into()));
        r.liberar(0);
        assert_eq!(r.tomar(), Ok(0));
    }

    #[test]
    fn jobs_spread_over_the_least_busy_then_the_largest_then_the_first_gpu() {
        // Indices need not be dense (a device the kernels cannot use is not registered).
        let mut r = RanurasGpu::new(&[gpu(0, 40), gpu(2, 80), gpu(3, 80)], 2);
        assert_eq!(r.capacidad(), 6);
        let orden: Vec<u32> = (0..6).map(|_| r.tomar().unwrap()).collect();
        assert_eq!(orden, [2, 3, 0, 2, 3, 0]);
        assert_eq!(r.tomar(), Err("ocupado: 6/6 GPU slots in use".into()));
        r.liberar(3);
        assert_eq!(r.tomar(), Ok(3), "the one freed");
        r.liberar(0);
        r.liberar(2);
        assert_eq!(r.tomar(), Ok(2), "equally busy: the larger one");
        let vista = r.vista();
        assert_eq!(
            vista.iter().map(|g| g.ejecutando).collect::<Vec<_>>(),
            [1, 2, 2]
        );
        assert_eq!(r.ocupadas(), 5);
    }

    #[test]
    fn freeing_an_unknown_or_idle_device_changes_nothing() {
        let mut r = RanurasGpu::new(&[gpu(0, 80)], 1);
        r.liberar(7);
        r.liberar(0);
        assert_eq!(r.ocupadas(), 0);
        assert_eq!(r.tomar(), Ok(0));
    }

    /// Every occupancy of up to three GPUs with up to two slots each: the choice is a device with
    /// a free slot, none with a free slot runs fewer jobs, and `None` only when all are full.
    #[test]
    fn the_choice_is_always_a_least_busy_free_device() {
        for a in 0..=2 {
            for b in 0..=2 {
                for c in 0..=2 {
                    let mut d = RanurasGpu::new(&[gpu(0, 80), gpu(1, 40), gpu(2, 80)], 2).vista();
                    for (g, n) in d.iter_mut().zip([a, b, c]) {
                        g.ejecutando = n;
                    }
                    match elegir(&d) {
                        None => assert!(d.iter().all(|g| g.ejecutando == g.ranuras)),
                        Some(i) => {
                            assert!(d[i].ejecutando < d[i].ranuras);
                            let libres = d.iter().filter(|g| g.ejecutando < g.ranuras);
                            assert!(libres.clone().all(|g| g.ejecutando >= d[i].ejecutando));
                        }
                    }
                }
            }
        }
    }
}

//! NVIDIA GPUs through NVML. `nvml-wrapper` loads `libnvidia-ml.so.1` at run time, so the build
//! needs no CUDA and a host without the driver simply has no GPUs to monitor.

use comun::memoria::GpuMuestra;
use nvml_wrapper::Nvml;
use nvml_wrapper::enum_wrappers::device::TemperatureSensor;

/// The NVIDIA driver's management library, loaded.
pub struct Gpus {
    /// The loaded library; devices are looked up at every sample.
    nvml: Nvml,
    /// Whether a failed reading was already logged: logged once, not at every sample.
    fallo_avisado: bool,
}

impl Gpus {
    /// Loads NVML; `None`, logged once, where there is no driver.
    pub fn iniciar() -> Option<Self> {
        match Nvml::init() {
            Ok(nvml) => {
                let cuantas = nvml.device_count().unwrap_or(0);
                let driver = nvml.sys_driver_version().unwrap_or_default();
                tracing::info!(gpus = cuantas, %driver, "NVIDIA driver found: GPUs monitored");
                Some(Self {
                    nvml,
                    fallo_avisado: false,
                })
            }
            Err(e) => {
                tracing::info!(motivo = %e, "no NVIDIA driver: GPU not monitored");
                None
            }
        }
    }

    /// Memory, utilisation, temperature and PCI address of every GPU that answers, by the
    /// driver's index; one that does not is left out.
    pub fn muestrear(&mut self) -> Vec<GpuMuestra> {
        let cuantas = match self.nvml.device_count() {
            Ok(n) => n,
            Err(e) => {
                self.avisar(&e);
                return Vec::new();
            }
        };
        (0..cuantas)
            .filter_map(|indice| match self.leer(indice) {
                Ok(g) => Some(g),
                Err(e) => {
                    self.avisar(&e);
                    None
                }
            })
            .collect()
    }

    fn leer(&self, indice: u32) -> Result<GpuMuestra, nvml_wrapper::error::NvmlError> {
        let d = self.nvml.device_by_index(indice)?;
        let memoria = d.memory_info()?;
        let pci = d.pci_info().map_or_else(
            |_| String::new(),
            |p| comun::nodo::direccion_pci(p.domain, p.bus, p.device),
        );
        Ok(GpuMuestra {
            indice,
            nombre: d.name()?,
            memoria_usada: memoria.used,
            memoria_total: memoria.total,
            utilizacion: f64::from(d.utilization_rates()?.gpu),
            temperatura_c: d.temperature(TemperatureSensor::Gpu).ok().map(f64::from),
            pci,
        })
    }

    fn avisar(&mut self, e: &nvml_wrapper::error::NvmlError) {
        if !self.fallo_avisado {
            self.fallo_avisado = true;
            tracing::warn!(error = %e, "cannot read a GPU; leaving it out of the samples");
        }
    }
}

//! The GPUs set up once per process: the driver started and new enough (once), then each device,
//! the first time a call runs on it ([`motor_en`]): described, its primary context retained, and
//! the committed PTX loaded in it. Every failure is said in words, and kept.
//!
//! [`motor`] is the device of the calling thread's choice ([`crate::gpus::en_gpu`], GPU 0
//! without one), so a kernel's host code runs on whichever GPU its caller picked.

use std::ffi::{c_int, c_uint};
use std::sync::{Mutex, OnceLock};

use comun::nodo::{Gpu, LimitesGpu};
use cust::context::{Context, ContextFlags, CurrentContext};
use cust::device::{Device, DeviceAttribute};
use cust::error::CudaError;
use cust::function::Function;
use cust::module::Module;

use super::copias::EtapaPerezosa;
use super::limites::Limites;
use crate::ErrorKernel;

/// A PTX file committed under `kernels/cuda/`, embedded in the binary and loaded by [`motor`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ptx {
    /// `julia.ptx`, from `julia.cu`: f64, no fused multiply-adds.
    Julia,
    /// `calculo.ptx`, from `calculo.cu`: the `f32` and integer kernels, FMA allowed.
    Calculo,
}

/// One GPU, ready to run the kernels: what [`motor_en`] sets up once per process and device.
pub struct Motor {
    /// The device's primary context, retained for the life of the process.
    contexto: Context,
    /// [`Ptx::Julia`], loaded (and JIT-compiled) in `contexto`.
    julia: Module,
    /// [`Ptx::Calculo`], loaded in `contexto`.
    calculo: Module,
    /// What the esclavo registers and `dispositivo` shows.
    gpu: Gpu,
    /// The device's size and speed, for the pieces' sizes and the self-test's bounds.
    limites: Limites,
    /// The pinned halves results come back through (`copias`), made on first use.
    etapa: EtapaPerezosa,
    /// Other kernels' PTX loaded in `contexto` ([`Motor::modulo`]), keyed by the address of
    /// their embedded text.
    modulos: Mutex<Vec<(usize, &'static Module)>>,
}

/// The driver, started once per process: its CUDA version, and one place per device for that
/// device's [`Motor`], set up on first use.
struct Driver {
    /// `12040` for CUDA 12.4.
    version: c_int,
    /// Indexed by the device's ordinal.
    motores: Box<[OnceLock<Result<Motor, String>>]>,
}

/// The driver, started on first use; the reason there is none, for every call after a failure.
fn driver() -> Result<&'static Driver, ErrorKernel> {
    static DRIVER: OnceLock<Result<Driver, String>> = OnceLock::new();
    DRIVER
        .get_or_init(|| {
            iniciar_driver()?;
            let version = version_del_driver()?;
            let cuantos =
                Device::num_devices().map_err(|e| format!("cannot count CUDA devices: {e:?}"))?;
            if cuantos == 0 {
                return Err("the NVIDIA driver lists no CUDA device".into());
            }
            let motores = (0..cuantos).map(|_| OnceLock::new()).collect();
            Ok(Driver { version, motores })
        })
        .as_ref()
        .map_err(|motivo| ErrorKernel::NoDisponible(motivo.clone()))
}

/// How many CUDA devices the driver lists (after `CUDA_VISIBLE_DEVICES`); why none can be
/// used when the driver cannot start.
pub fn dispositivos() -> Result<u32, ErrorKernel> {
    driver().map(|d| d.motores.len() as u32)
}

/// GPU `indice` (the driver's ordinal), set up on first use; the reason it cannot be used, for
/// every call after a failure.
pub fn motor_en(indice: u32) -> Result<&'static Motor, ErrorKernel> {
    let driver = driver()?;
    let celda = driver.motores.get(indice as usize).ok_or_else(|| {
        ErrorKernel::NoDisponible(format!(
            "no CUDA device {indice}: the driver lists {}",
            driver.motores.len()
        ))
    })?;
    celda
        .get_or_init(|| preparar(indice, driver.version))
        .as_ref()
        .map_err(|motivo| ErrorKernel::NoDisponible(motivo.clone()))
}

/// The GPU the calling thread's `Cuda` work goes to ([`crate::gpus::en_gpu`]; GPU 0 unless
/// its caller chose), set up on first use.
pub fn motor() -> Result<&'static Motor, ErrorKernel> {
    motor_en(crate::gpus::gpu_elegida())
}

/// Threads per block of the grid-stride kernels.
pub(crate) const HILOS: u32 = 256;

impl Motor {
    /// The GPU as the esclavo registers it.
    pub fn gpu(&self) -> &Gpu {
        &self.gpu
    }

    /// The GPU's size and clock.
    pub fn limites(&self) -> Limites {
        self.limites
    }

    /// `ptx` (a kernel's PTX, embedded with `include_str!`), loaded in this GPU's context the
    /// first time it is asked for and kept for the process; `que` names it in errors
    /// (`fft.ptx`). It makes the context current on the calling thread first, so any thread
    /// may call it. A kernel whose PTX is not one of [`Ptx`] loads it here: once per GPU, on
    /// whichever GPU the call's thread chose.
    pub fn modulo(&self, ptx: &'static str, que: &str) -> Result<&'static Module, ErrorKernel> {
        self.hacer_actual()
            .map_err(|e| ErrorKernel::Gpu(format!("making the context current: {e:?}")))?;
        let clave = ptx.as_ptr() as usize;
        let mut modulos = self.modulos.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(&(_, cargado)) = modulos.iter().find(|(k, _)| *k == clave) {
            return Ok(cargado);
        }
        let cargado = Module::from_ptx(ptx, &[])
            .map_err(|e| ErrorKernel::Gpu(format!("loading {que}: {e:?}")))?;
        // One module per PTX and GPU, for the life of the process, like `julia` and `calculo`.
        let cargado: &'static Module = Box::leak(Box::new(cargado));
        modulos.push((clave, cargado));
        Ok(cargado)
    }

    /// The pinned halves of copies back to the host.
    pub(crate) fn etapa(&self) -> &EtapaPerezosa {
        &self.etapa
    }

    /// Makes the GPU's context current on the calling thread (cust's context is per thread).
    pub(crate) fn hacer_actual(&self) -> Result<(), CudaError> {
        CurrentContext::set_current(&self.contexto)
    }

    /// The entry point `nombre` of `ptx`.
    pub(crate) fn funcion(&self, ptx: Ptx, nombre: &str) -> Result<Function<'_>, CudaError> {
        match ptx {
            Ptx::Julia => &self.julia,
            Ptx::Calculo => &self.calculo,
        }
        .get_function(nombre)
    }

    /// Blocks of a grid-stride launch of [`HILOS`] threads over `trabajo` items (at least 1,
    /// at most 32 per SM).
    pub(crate) fn bloques(&self, trabajo: u64) -> u32 {
        let tope = u64::from(self.limites.multiprocesadores.max(1)) * 32;
        trabajo.div_ceil(u64::from(HILOS)).clamp(1, tope) as u32
    }
}

/// The Julia kernel as PTX (ISA 7.8, `compute_70`), generated from `julia.cu`.
const PTX_JULIA: &str = include_str!("../../cuda/julia.ptx");

/// matmul, vector_add, montecarlo and nbody as PTX (ISA 7.8, `compute_70`, FMA allowed),
/// generated from `calculo.cu`.
const PTX_CALCULO: &str = include_str!("../../cuda/calculo.ptx");

/// The entry point that [`Ptx::Julia`] must have: a PTX without it is not
/// the committed one.
const ENTRADA_JULIA: &str = "julia";

/// The oldest driver that loads PTX ISA 7.8: CUDA 11.8, driver R520.
const DRIVER_MINIMO: c_int = 11_080;

/// The oldest GPU the PTX targets: compute capability 7.0 (Volta).
const CAPACIDAD_MINIMA: (i32, i32) = (7, 0);

/// Every step of setting up GPU `indice` on a started driver of CUDA version `driver`, each
/// failure said in words that name the device.
fn preparar(indice: u32, driver: c_int) -> Result<Motor, String> {
    let dispositivo =
        Device::get_device(indice).map_err(|e| format!("no CUDA device {indice}: {e:?}"))?;
    let (gpu, limites) = describir(dispositivo, indice, driver)?;
    if limites.capacidad < CAPACIDAD_MINIMA {
        return Err(format!(
            "GPU {indice} ({}) has compute capability {}; the kernels need {}.{} (Volta) or newer",
            gpu.nombre, gpu.capacidad_computo, CAPACIDAD_MINIMA.0, CAPACIDAD_MINIMA.1
        ));
    }
    let contexto = Context::new(dispositivo).map_err(|e| {
        format!(
            "cannot create a CUDA context on GPU {indice} ({}): {e:?}",
            gpu.nombre
        )
    })?;
    // Waiting for the GPU sleeps instead of spinning a core that CPU jobs could use. Only a
    // preference: the default (spin, then yield) works too, so a refusal is ignored.
    let _ = contexto.set_flags(ContextFlags::SCHED_BLOCKING_SYNC);
    let (julia, calculo) = cargar_ptx(&gpu)?;
    Ok(Motor {
        contexto,
        julia,
        calculo,
        gpu,
        limites,
        etapa: EtapaPerezosa::new(),
        modulos: Mutex::new(Vec::new()),
    })
}

/// Both PTX files loaded (and JIT-compiled) in the current context, the Julia one checked for
/// its entry point.
fn cargar_ptx(gpu: &Gpu) -> Result<(Module, Module), String> {
    let julia = Module::from_ptx(PTX_JULIA, &[]).map_err(|e| {
        format!(
            "the driver ({}) cannot load the embedded PTX (ISA 7.8, compute_70): {e:?}",
            gpu.driver
        )
    })?;
    julia
        .get_function(ENTRADA_JULIA)
        .map_err(|e| format!("the embedded PTX has no `{ENTRADA_JULIA}` kernel: {e:?}"))?;
    let calculo = Module::from_ptx(PTX_CALCULO, &[]).map_err(|e| {
        format!(
            "the driver ({}) cannot load the embedded calculo PTX (ISA 7.8, compute_70): {e:?}",
            gpu.driver
        )
    })?;
    Ok((julia, calculo))
}

// The two driver calls made before anything else, declared here with plain `int` results:
// cust_raw declares them returning a Rust enum, and a code that enum lacks (any code newer
// than CUDA 11.4) would be undefined behaviour, where here it is only a number to report.
unsafe extern "C" {
    fn cuInit(flags: c_uint) -> c_int;
    fn cuDriverGetVersion(version: *mut c_int) -> c_int;
}

/// `cuInit`, with the usual reasons for its failure in words.
fn iniciar_driver() -> Result<(), String> {
    // SAFETY: cuInit takes a flags word (0 is the only valid value) and has no other inputs.
    let codigo = unsafe { cuInit(0) };
    match codigo {
        0 => Ok(()),
        34 => Err(
            "the CUDA driver library here is a stub (CUDA_ERROR_STUB_LIBRARY, 34): this \
                   machine has no NVIDIA driver"
                .into(),
        ),
        100 => Err(
            "the NVIDIA driver sees no GPU (CUDA_ERROR_NO_DEVICE, 100; check \
                    CUDA_VISIBLE_DEVICES and the container's devices)"
                .into(),
        ),
        803 => Err(
            "the NVIDIA driver's library and kernel module differ in version \
                    (CUDA_ERROR_SYSTEM_DRIVER_MISMATCH, 803)"
                .into(),
        ),
        otro => Err(format!(
            "the CUDA driver failed to start: cuInit returned error {otro}"
        )),
    }
}

/// The driver's CUDA version (`12040` for 12.4), refused when older than [`DRIVER_MINIMO`]:
/// newer PTX would fail with an error code this cust version cannot name.
fn version_del_driver() -> Result<c_int, String> {
    let mut version: c_int = 0;
    // SAFETY: cuDriverGetVersion writes one int through the pointer, which is valid.
    let codigo = unsafe { cuDriverGetVersion(&mut version) };
    if codigo != 0 {
        return Err(format!(
            "cannot read the CUDA driver's version: error {codigo}"
        ));
    }
    if version < DRIVER_MINIMO {
        return Err(format!(
            "the NVIDIA driver supports CUDA {}; the kernel's PTX (ISA 7.8) needs CUDA {} \
             (driver R520 or newer)",
            cuda_legible(version),
            cuda_legible(DRIVER_MINIMO)
        ));
    }
    Ok(version)
}

/// `12040` → `12.4`.
fn cuda_legible(version: c_int) -> String {
    format!("{}.{}", version / 1000, version % 1000 / 10)
}

/// Device `indice`'s name, memory, compute capability, PCI address and speed, and the
/// driver's version.
fn describir(
    dispositivo: Device,
    indice: u32,
    driver_cuda: c_int,
) -> Result<(Gpu, Limites), String> {
    let atributo = |a: DeviceAttribute| {
        dispositivo
            .get_attribute(a)
            .map_err(|e| format!("cannot read the GPU's {a:?}: {e:?}"))
    };
    let nombre = dispositivo
        .name()
        .map_err(|e| format!("cannot read the GPU's name: {e:?}"))?;
    let memoria_bytes = dispositivo
        .total_memory()
        .map_err(|e| format!("cannot read the GPU's memory size: {e:?}"))?;
    let capacidad = (
        atributo(DeviceAttribute::ComputeCapabilityMajor)?,
        atributo(DeviceAttribute::ComputeCapabilityMinor)?,
    );
    let limites = Limites {
        multiprocesadores: atributo(DeviceAttribute::MultiprocessorCount)?.max(0) as u32,
        reloj_khz: atributo(DeviceAttribute::ClockRate)?.max(0) as u32,
        capacidad,
    };
    let driver = match version_del_modulo_nvidia() {
        Some(modulo) => format!("{modulo} (CUDA {})", cuda_legible(driver_cuda)),
        None => format!("CUDA {}", cuda_legible(driver_cuda)),
    };
    let pci = [
        DeviceAttribute::PciDomainId,
        DeviceAttribute::PciBusId,
        DeviceAttribute::PciDeviceId,
    ]
    .map(|a| dispositivo.get_attribute(a).ok());
    // Bytes per second: two transfers per memory clock (kHz) on a bus `ancho` bits wide.
    let ancho_banda = match (
        dispositivo.get_attribute(DeviceAttribute::MemoryClockRate),
        dispositivo.get_attribute(DeviceAttribute::GlobalMemoryBusWidth),
    ) {
        (Ok(khz), Ok(ancho)) if khz > 0 && ancho > 0 => {
            Some(2.0 * f64::from(khz) * 1e3 * f64::from(ancho) / 8.0)
        }
        _ => None,
    };
    let giga = |v: f64| (v / 1e9).round() as u64;
    let gpu = Gpu {
        indice,
        nombre,
        memoria_bytes: memoria_bytes as u64,
        capacidad_computo: format!("{}.{}", capacidad.0, capacidad.1),
        driver,
        pci: direccion_pci(pci),
        limites: Some(LimitesGpu {
            pico_gflops_f32: limites.pico_flops_f32().map(giga),
            pico_gflops_f64: limites.pico_flops_f64().map(giga),
            ancho_banda_gb_s: ancho_banda.map(giga),
        }),
    };
    Ok((gpu, limites))
}

/// `0000:17:00.0` from the domain, bus and device numbers ([`comun::nodo::direccion_pci`]);
/// empty when one is unknown.
fn direccion_pci([dominio, bus, dispositivo]: [Option<i32>; 3]) -> String {
    match (dominio, bus, dispositivo) {
        (Some(d), Some(b), Some(x)) => {
            comun::nodo::direccion_pci(d.max(0) as u32, b.max(0) as u32, x.max(0) as u32)
        }
        _ => String::new(),
    }
}

/// The NVIDIA kernel module's version (`550.54.15`), from `/proc/driver/nvidia/version`.
fn version_del_modulo_nvidia() -> Option<String> {
    let texto = std::fs::read_to_string("/proc/driver/nvidia/version").ok()?;
    version_en_texto(&texto)
}

/// The version in the `NVRM version:` line of `/proc/driver/nvidia/version`.
fn version_en_texto(texto: &str) -> Option<String> {
    let linea = texto.lines().find(|l| l.starts_with("NVRM version:"))?;
    linea
        .split_whitespace()
        .find(|palabra| {
            palabra.contains('.') && palabra.chars().all(|c| c.is_ascii_digit() || c == '.')
        })
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn driver_version_is_read_from_proc() {
        let texto = "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.15  Tue Mar  5 \
                     22:23:56 UTC 2024\nGCC version:  gcc version 12.3.0\n";
        assert_eq!(version_en_texto(texto).as_deref(), Some("550.54.15"));
        assert_eq!(version_en_texto("nothing here"), None);
    }

    #[test]
    fn pci_addresses_are_written_as_nvml_writes_them() {
        assert_eq!(
            direccion_pci([Some(0), Some(0x17), Some(0)]),
            "0000:17:00.0"
        );
        assert_eq!(
            direccion_pci([Some(1), Some(0xc1), Some(3)]),
            "0001:c1:03.0"
        );
        assert_eq!(direccion_pci([Some(0), None, Some(0)]), "");
    }

    #[test]
    fn cuda_versions_are_written_major_dot_minor() {
        assert_eq!(cuda_legible(12_040), "12.4");
    }
}

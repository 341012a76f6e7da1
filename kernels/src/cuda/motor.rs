//! The GPU set up once per process ([`motor`]): the driver started and new enough, the first
//! device described, its primary context, and the committed PTX loaded; every failure said in
//! words, and kept.

use std::ffi::{c_int, c_uint};
use std::sync::OnceLock;

use comun::nodo::Gpu;
use cust::context::{Context, ContextFlags, CurrentContext};
use cust::device::{Device, DeviceAttribute};
use cust::error::CudaError;
use cust::function::Function;
use cust::module::Module;

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

/// The GPU, ready to run the kernels: what [`motor`] sets up once per process.
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
}

/// The GPU, set up on first use; the reason there is none, for every call after a failure.
pub fn motor() -> Result<&'static Motor, ErrorKernel> {
    static MOTOR: OnceLock<Result<Motor, String>> = OnceLock::new();
    MOTOR
        .get_or_init(preparar)
        .as_ref()
        .map_err(|motivo| ErrorKernel::NoDisponible(motivo.clone()))
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

/// Every step of setting up the GPU, each failure said in words.
fn preparar() -> Result<Motor, String> {
    iniciar_driver()?;
    let driver = version_del_driver()?;
    let dispositivo = Device::get_device(0).map_err(|e| format!("no CUDA device 0: {e:?}"))?;
    let (gpu, limites) = describir(dispositivo, driver)?;
    if limites.capacidad < CAPACIDAD_MINIMA {
        return Err(format!(
            "{} has compute capability {}; the kernel needs {}.{} (Volta) or newer",
            gpu.nombre, gpu.capacidad_computo, CAPACIDAD_MINIMA.0, CAPACIDAD_MINIMA.1
        ));
    }
    let contexto = Context::new(dispositivo)
        .map_err(|e| format!("cannot create a CUDA context on {}: {e:?}", gpu.nombre))?;
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

/// The device's name, memory, compute capability and speed, and the driver's version.
fn describir(dispositivo: Device, driver_cuda: c_int) -> Result<(Gpu, Limites), String> {
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
    let gpu = Gpu {
        nombre,
        memoria_bytes: memoria_bytes as u64,
        capacidad_computo: format!("{}.{}", capacidad.0, capacidad.1),
        driver,
    };
    Ok((gpu, limites))
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
    fn cuda_versions_are_written_major_dot_minor() {
        assert_eq!(cuda_legible(12_040), "12.4");
    }
}

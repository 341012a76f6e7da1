//! `Cuda`: the kernels on an NVIDIA GPU, through the CUDA driver API (`cust`).
//!
//! matmul, vector_add, montecarlo and nbody come from `kernels/cuda/calculo.cu`, compiled with
//! fused multiply-adds allowed (their tolerances are in their modules); each entry point here
//! copies the host's inputs in, times its launches with CUDA events, and copies the result back.
//!
//! Stopping: every entry point queues its work in pieces through `Piezas`, which checks the
//! run's [`Control`] before each piece and keeps at most `EN_VUELO` (2) pieces queued ahead of
//! the GPU, so a stop waits for at most that many pieces. A piece is one band of Julia rows
//! (bounded as below), matmul iterations worth about 10¹² flops (one iteration at n = 8192),
//! vector_add iterations worth about 8 GiB of traffic, one launch over a range of montecarlo
//! blocks ([`Limites::bloques_montecarlo_por_pieza`]), or nbody steps worth about 2³⁵ pair
//! interactions: each about 50 ms or less on an H100. A stopped run waits for its queued pieces
//! before freeing its buffers.
//!
//! The rest of this page is about Julia.
//!
//! The kernel is CUDA C (`kernels/cuda/julia.cu`), compiled ahead of time to PTX for
//! `compute_70` without fused multiply-adds (`scripts/ptx.py`) and embedded in the binary. The
//! driver JIT-compiles it for the GPU it finds, once per process, when the backend is first used.
//! Its arithmetic is `julia.rs`'s, operation for operation, so its counts equal `Secuencial`'s.
//!
//! The GPU is set up once, lazily, by [`motor`]: driver present (`cuInit`), driver new enough
//! for the PTX, first device, its primary context, the module. Every step that fails becomes a
//! sentence saying what is missing, kept for the life of the process and returned as
//! [`ErrorKernel::NoDisponible`] by every later call.
//!
//! cust 0.3.2 traps this module avoids: the current context belongs to the OS thread, so every
//! call sets it on its own thread; a `Function` borrows its `Module`, so it is looked up per call
//! from the `'static` module; `Display` of a `CudaError` calls into the driver and can panic
//! without one, so errors are written with `{:?}`; error codes newer than CUDA 11.4 arrive as
//! `UnknownError`, so the driver's version is checked before the PTX is loaded.

use std::ffi::{c_int, c_uint};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use comun::nodo::Gpu;
use comun::trabajo::ParamsJulia;
use cust::context::{Context, ContextFlags, CurrentContext};
use cust::device::{Device, DeviceAttribute};
use cust::error::CudaError;
use cust::event::{Event, EventFlags};
use cust::launch;
use cust::memory::{CopyDestination as _, DeviceBuffer};
use cust::module::Module;
use cust::stream::{Stream, StreamFlags};
use rayon::prelude::*;

use crate::ErrorKernel;
use crate::control::Control;
use crate::julia::{C_IM, C_RE, LIMITE_CUADRADO, Rejilla, X1, Y2};

/// The Julia kernel as PTX (ISA 7.8, `compute_70`), generated from `julia.cu`.
const PTX: &str = include_str!("../cuda/julia.ptx");

/// matmul, vector_add, montecarlo and nbody as PTX (ISA 7.8, `compute_70`, FMA allowed),
/// generated from `calculo.cu`.
const PTX_CALCULO: &str = include_str!("../cuda/calculo.ptx");

/// The entry point's name in [`PTX`].
const FUNCION: &str = "julia";

/// The oldest driver that loads PTX ISA 7.8: CUDA 11.8, driver R520.
const DRIVER_MINIMO: c_int = 11_080;

/// The oldest GPU the PTX targets: compute capability 7.0 (Volta).
const CAPACIDAD_MINIMA: (i32, i32) = (7, 0);

/// Side of the square of pixels a block covers (`LADO` in julia.cu): 16 × 16 threads.
const LADO: u32 = 16;

/// Longest one launch may run, at worst (every pixel of its rows at `iteraciones`, at the
/// GPU's FP64 bound): long enough that the tail of each launch (its slowest block, while the
/// rest of the GPU idles) costs little, short enough for a display watchdog (2 s).
const DURACION_POR_LANZAMIENTO_S: f64 = 0.05;

/// Most iterations one launch may run where the GPU's FP64 bound is unknown (0.5 s for a GPU
/// with 1/64-rate FP64 and 2·10¹⁰ iterations/s).
const ITERACIONES_POR_LANZAMIENTO_SIN_COTA: u64 = 1 << 33;

/// Pieces of work queued ahead of the GPU at most (see [`Piezas`]): two, so that the GPU
/// always has the next piece while the host waits for the previous one.
const EN_VUELO: usize = 2;

/// matmul floating-point operations in one piece: about 50 ms of the tiled SGEMM on an H100
/// (one iteration at n = 8192).
const FLOPS_POR_PIEZA: f64 = 1e12;

/// vector_add bytes read and written in one piece: a few ms at HBM bandwidth.
const BYTES_POR_PIEZA: f64 = 8.0 * (1u64 << 30) as f64;

/// nbody pair interactions in one piece: about 30 ms on an H100 (8 steps of 65 536 bodies).
const INTERACCIONES_POR_PIEZA: f64 = (1u64 << 35) as f64;

/// FP64 instructions per iteration of the kernel's loop, counted in `julia.ptx`: 4 multiplies
/// (one of them `2·zr`, written as an add), 4 adds or subtracts and 1 compare.
pub const OPERACIONES_F64_POR_ITERACION: u32 = 9;

/// The GPU, ready to run the kernel: what [`motor`] sets up once per process.
pub struct Motor {
    /// The device's primary context, retained for the life of the process.
    contexto: Context,
    /// The embedded PTX, loaded (and JIT-compiled) in `contexto`.
    modulo: Module,
    /// [`PTX_CALCULO`], loaded in `contexto`.
    calculo: Module,
    /// What the esclavo registers and `dispositivo` shows.
    gpu: Gpu,
    /// The device's size and speed, for the self-test's bounds.
    limites: Limites,
}

/// What bounds the GPU's speed, read from its attributes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limites {
    /// Streaming multiprocessors.
    pub multiprocesadores: u32,
    /// Highest SM clock, in kHz.
    pub reloj_khz: u32,
    /// Compute capability `(major, minor)`.
    pub capacidad: (i32, i32),
}

impl Limites {
    /// FP64 lanes per SM (each retires one f64 add, multiply or fused multiply-add per clock),
    /// from NVIDIA's tables by compute capability; `None` where this table does not know.
    pub fn lanes_f64_por_sm(&self) -> Option<u32> {
        match self.capacidad {
            (6, 0) | (7, 0) | (8, 0) => Some(32),
            (9, 0) => Some(64),
            (6, 1) | (6, 2) => Some(4),
            (7, 2) | (7, 5) | (8, 6) | (8, 7) | (8, 9) | (12, _) => Some(2),
            _ => None,
        }
    }

    /// FP32 lanes per SM, from NVIDIA's tables by compute capability; `None` where unknown.
    pub fn lanes_f32_por_sm(&self) -> Option<u32> {
        match self.capacidad {
            (6, 0) | (7, 0) | (7, 2) | (7, 5) | (8, 0) => Some(64),
            (6, 1) | (6, 2) | (8, 6) | (8, 7) | (8, 9) | (9, 0) | (12, _) => Some(128),
            _ => None,
        }
    }

    /// Peak f32 FLOP/s without tensor cores: SMs × FP32 lanes × 2 (an FMA counts as two) ×
    /// clock.
    pub fn pico_flops_f32(&self) -> Option<f64> {
        self.lanes_f32_por_sm()
            .map(|lanes| 2.0 * self.instrucciones_f64_por_segundo(lanes))
    }

    /// Peak f64 FLOP/s without tensor cores: SMs × FP64 lanes × 2 (a fused multiply-add counts
    /// as two) × clock.
    pub fn pico_flops_f64(&self) -> Option<f64> {
        self.lanes_f64_por_sm()
            .map(|lanes| 2.0 * self.instrucciones_f64_por_segundo(lanes))
    }

    /// The most iterations per second the FP64 pipes allow: SMs × FP64 lanes × clock ÷
    /// [`OPERACIONES_F64_POR_ITERACION`].
    pub fn cota_iteraciones_por_segundo(&self) -> Option<f64> {
        self.lanes_f64_por_sm().map(|lanes| {
            self.instrucciones_f64_por_segundo(lanes) / f64::from(OPERACIONES_F64_POR_ITERACION)
        })
    }

    /// Montecarlo blocks in one launch: about 50 ms where each SM retires 64 32-bit integer
    /// instructions per clock and a block takes about 100 (Philox4x32-10 and the test); at
    /// least 2²⁰.
    pub fn bloques_montecarlo_por_pieza(&self) -> u64 {
        let por_segundo =
            f64::from(self.multiprocesadores) * 64.0 * f64::from(self.reloj_khz) * 1e3 / 100.0;
        ((por_segundo * 0.05) as u64).max(1 << 20)
    }

    fn instrucciones_f64_por_segundo(&self, lanes: u32) -> f64 {
        f64::from(self.multiprocesadores) * f64::from(lanes) * f64::from(self.reloj_khz) * 1e3
    }
}

/// The counts of one image and how long the GPU took to compute them.
#[derive(Debug, Clone)]
pub struct Medida {
    /// One count per pixel, row-major, as [`Conteos::conteos`](crate::Conteos::conteos).
    pub conteos: Vec<u32>,
    /// From before the first launch to after the last, timed by CUDA events on the GPU.
    pub kernel: Duration,
    /// Copying the counts from the GPU to the host, timed on the host.
    pub copia: Duration,
}

/// The GPU, set up on first use; the reason there is none, for every call after a failure.
pub fn motor() -> Result<&'static Motor, ErrorKernel> {
    static MOTOR: OnceLock<Result<Motor, String>> = OnceLock::new();
    MOTOR
        .get_or_init(preparar)
        .as_ref()
        .map_err(|motivo| ErrorKernel::NoDisponible(motivo.clone()))
}

impl Motor {
    /// The GPU as the esclavo registers it.
    pub fn gpu(&self) -> &Gpu {
        &self.gpu
    }

    /// The GPU's size and clock.
    pub fn limites(&self) -> Limites {
        self.limites
    }

    /// Most iterations one launch may run: [`DURACION_POR_LANZAMIENTO_S`] at the FP64 bound.
    fn iteraciones_por_lanzamiento(&self) -> u64 {
        self.limites
            .cota_iteraciones_por_segundo()
            .map_or(ITERACIONES_POR_LANZAMIENTO_SIN_COTA, |cota| {
                (cota * DURACION_POR_LANZAMIENTO_S) as u64
            })
            .max(1)
    }
}

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
    let modulo = Module::from_ptx(PTX, &[]).map_err(|e| {
        format!(
            "the driver ({}) cannot load the embedded PTX (ISA 7.8, compute_70): {e:?}",
            gpu.driver
        )
    })?;
    modulo
        .get_function(FUNCION)
        .map_err(|e| format!("the embedded PTX has no `{FUNCION}` kernel: {e:?}"))?;
    let calculo = Module::from_ptx(PTX_CALCULO, &[]).map_err(|e| {
        format!(
            "the driver ({}) cannot load the embedded calculo PTX (ISA 7.8, compute_70): {e:?}",
            gpu.driver
        )
    })?;
    Ok(Motor {
        contexto,
        modulo,
        calculo,
        gpu,
        limites,
    })
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

/// The counts of `p` computed on the GPU (`Secuencial`'s, bit for bit), unless `control` stops
/// the run.
pub(crate) fn julia(p: &ParamsJulia, control: &Control) -> Result<Vec<u32>, ErrorKernel> {
    medir_con(p, control).map(|m| m.conteos)
}

/// The counts of `p` computed on the GPU, with the kernels' time on the GPU's clock.
///
/// Blocking; callable from any thread (it makes the GPU's context current on the calling
/// thread). The image is computed in launches of whole rows, each bounded by
/// [`Motor::iteraciones_por_lanzamiento`], queued on one stream (at most `EN_VUELO` ahead),
/// then copied back once.
pub fn medir(p: &ParamsJulia) -> Result<Medida, ErrorKernel> {
    medir_con(p, &Control::ninguno())
}

/// [`medir`] under `control`, checked before each launch.
pub fn medir_con(p: &ParamsJulia, control: &Control) -> Result<Medida, ErrorKernel> {
    let motor = motor()?;
    CurrentContext::set_current(&motor.contexto).map_err(fallo("making the context current"))?;
    let funcion = motor
        .modulo
        .get_function(FUNCION)
        .map_err(fallo("finding the kernel"))?;
    let pixeles = p.pixeles() as usize;
    let flujo = Stream::new(StreamFlags::NON_BLOCKING, None).map_err(fallo("creating a stream"))?;
    // SAFETY: the launches below write every one of the `pixeles` counts before the copy back.
    let conteos_gpu = unsafe { DeviceBuffer::<u32>::uninitialized(pixeles) }.map_err(fallo(
        &format!("allocating {} MiB on the GPU", (pixeles * 4) >> 20),
    ))?;
    let inicio = Event::new(EventFlags::DEFAULT).map_err(fallo("creating an event"))?;
    let fin = Event::new(EventFlags::DEFAULT).map_err(fallo("creating an event"))?;
    let rejilla = Rejilla::new(p.width, p.height);
    let destino = conteos_gpu.as_device_ptr();
    let (width, iteraciones) = (p.width, p.iteraciones);

    let lanzar = || -> Result<(), ErrorKernel> {
        let mut piezas = Piezas::new(&flujo, control)?;
        inicio.record(&flujo).map_err(fallo("recording an event"))?;
        for (fila0, filas) in lanzamientos(p, motor.iteraciones_por_lanzamiento()) {
            let bloques = (width.div_ceil(LADO), filas.div_ceil(LADO));
            piezas.pieza(|| {
                // SAFETY: the arguments match `julia`'s parameters in julia.cu, in order and
                // type (pointer, 4 × u32, 7 × f64), with the LADO × LADO threads a block it
                // expects; every pixel it writes, of rows `fila0 .. fila0 + filas`, lies inside
                // `conteos_gpu`, which outlives the stream's work (synchronised below, or by
                // `Piezas` when the run stops).
                unsafe {
                    launch!(funcion<<<bloques, LADO * LADO, 0, flujo>>>(
                        destino,
                        width,
                        fila0,
                        filas,
                        iteraciones,
                        X1,
                        Y2,
                        rejilla.dx,
                        rejilla.dy,
                        C_RE,
                        C_IM,
                        LIMITE_CUADRADO
                    ))
                }
                .map_err(fallo("launching the kernel"))
            })?;
        }
        fin.record(&flujo).map_err(fallo("recording an event"))?;
        flujo.synchronize().map_err(fallo("running the kernel"))
    };
    // While the GPU works, the host's buffer, written on every core by another thread (this
    // one holds the GPU's context and paces the launches): the first write to each page
    // faults, and faulting inside the copy would slow it several-fold.
    let (conteos, lanzado) = std::thread::scope(|s| {
        let relleno = s.spawn(|| {
            let mut conteos = Vec::with_capacity(pixeles);
            (0..pixeles)
                .into_par_iter()
                .map(|_| 0u32)
                .collect_into_vec(&mut conteos);
            conteos
        });
        let lanzado = lanzar();
        let conteos = relleno
            .join()
            .unwrap_or_else(|panico| std::panic::resume_unwind(panico));
        (conteos, lanzado)
    });
    let mut conteos: Vec<u32> = conteos;
    lanzado?;
    let kernel = fin.elapsed(&inicio).map_err(fallo("reading the events"))?;
    let inicio_copia = Instant::now();
    conteos_gpu
        .copy_to(&mut conteos[..])
        .map_err(fallo("copying the counts back"))?;
    Ok(Medida {
        conteos,
        kernel,
        copia: inicio_copia.elapsed(),
    })
}

/// The launches that cover `p`: `(first row, rows)`, each with at most `tope` iterations (at
/// least one row), in multiples of [`LADO`] rows where there are more than that, so that no
/// block straddles two launches.
fn lanzamientos(p: &ParamsJulia, tope: u64) -> impl Iterator<Item = (u32, u32)> {
    let por_fila = u64::from(p.width) * u64::from(p.iteraciones);
    let mut filas = (tope / por_fila).clamp(1, u64::from(p.height)) as u32;
    if filas > LADO {
        filas -= filas % LADO;
    }
    let height = p.height;
    (0..height)
        .step_by(filas as usize)
        .map(move |fila0| (fila0, filas.min(height - fila0)))
}

/// Queues work on one stream in pieces: checks the run's [`Control`] before each piece, and
/// waits for the GPU to finish piece `i − EN_VUELO` before queuing piece `i`, so a stop never
/// has more than [`EN_VUELO`] pieces to wait for. The host thread sleeps while it waits (the
/// context prefers blocking synchronisation; the events ask for it too).
struct Piezas<'a> {
    /// Where the pieces run.
    flujo: &'a Stream,
    /// Checked before each piece.
    control: &'a Control,
    /// Recorded after each piece, reused round-robin: `marcas[i % EN_VUELO]` marks piece `i`.
    marcas: Vec<Event>,
    /// Pieces queued so far.
    lanzadas: usize,
}

impl<'a> Piezas<'a> {
    fn new(flujo: &'a Stream, control: &'a Control) -> Result<Self, ErrorKernel> {
        let marcas = (0..EN_VUELO)
            .map(|_| {
                Event::new(EventFlags::BLOCKING_SYNC | EventFlags::DISABLE_TIMING)
                    .map_err(fallo("creating an event"))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            flujo,
            control,
            marcas,
            lanzadas: 0,
        })
    }

    /// Calls `lanzar`, which queues one piece of work on the stream, once the GPU is at most
    /// `EN_VUELO − 1` pieces behind and the control lets the run go on. When it must stop, the
    /// queued pieces are waited for (the caller then frees their buffers) and the control's
    /// error returned.
    fn pieza(
        &mut self,
        lanzar: impl FnOnce() -> Result<(), ErrorKernel>,
    ) -> Result<(), ErrorKernel> {
        let marca = &self.marcas[self.lanzadas % EN_VUELO];
        if self.lanzadas >= EN_VUELO {
            marca.synchronize().map_err(fallo("waiting for the GPU"))?;
        }
        if let Err(parada) = self.control.comprobar() {
            self.flujo
                .synchronize()
                .map_err(fallo("finishing the queued work"))?;
            return Err(parada);
        }
        lanzar()?;
        marca
            .record(self.flujo)
            .map_err(fallo("recording an event"))?;
        self.lanzadas += 1;
        Ok(())
    }
}

/// `total` units of work cut into pieces of `por_pieza` (at least 1): the sizes, in order.
fn trozos(total: u64, por_pieza: u64) -> impl Iterator<Item = (u64, u64)> {
    let por_pieza = por_pieza.max(1);
    (0..total)
        .step_by(por_pieza as usize)
        .map(move |desde| (desde, por_pieza.min(total - desde)))
}

/// A kernel's time on the GPU's clock, and the whole call's on the host's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tiempos {
    /// CUDA events around the launches.
    pub kernel: Duration,
    /// Allocation, copies to the GPU, launches, copies back (host clock).
    pub total: Duration,
}

/// The context made current on this thread, a stream, and two events.
fn preparar_llamada() -> Result<(&'static Motor, Stream, Event, Event), ErrorKernel> {
    let motor = motor()?;
    CurrentContext::set_current(&motor.contexto).map_err(fallo("making the context current"))?;
    let flujo = Stream::new(StreamFlags::NON_BLOCKING, None).map_err(fallo("creating a stream"))?;
    let inicio = Event::new(EventFlags::DEFAULT).map_err(fallo("creating an event"))?;
    let fin = Event::new(EventFlags::DEFAULT).map_err(fallo("creating an event"))?;
    Ok((motor, flujo, inicio, fin))
}

/// Records `fin` after the work queued on `flujo`, waits for it, and returns the GPU time from
/// `inicio` to `fin`; `que` names the work in errors.
fn cronometrar(
    flujo: &Stream,
    inicio: &Event,
    fin: &Event,
    que: &str,
) -> Result<Duration, ErrorKernel> {
    fin.record(flujo).map_err(fallo("recording an event"))?;
    flujo.synchronize().map_err(fallo(que))?;
    fin.elapsed(inicio).map_err(fallo("reading the events"))
}

/// A buffer on the GPU holding `datos`.
fn subir<T: cust::memory::DeviceCopy>(datos: &[T]) -> Result<DeviceBuffer<T>, ErrorKernel> {
    DeviceBuffer::from_slice(datos).map_err(fallo(&format!(
        "copying {} MiB to the GPU",
        std::mem::size_of_val(datos) >> 20
    )))
}

/// A zeroed buffer of `n` floats on the GPU.
fn reservar(n: usize) -> Result<DeviceBuffer<f32>, ErrorKernel> {
    DeviceBuffer::zeroed(n).map_err(fallo(&format!(
        "allocating {} MiB on the GPU",
        (n * 4) >> 20
    )))
}

/// Threads per block of the grid-stride kernels.
const HILOS: u32 = 256;

/// Blocks of a grid-stride launch over `trabajo` items (at least 1, at most 32 per SM).
fn bloques(motor: &Motor, trabajo: u64) -> u32 {
    let tope = u64::from(motor.limites.multiprocesadores.max(1)) * 32;
    trabajo.div_ceil(u64::from(HILOS)).clamp(1, tope) as u32
}

/// `C = A·B` (n × n) `iteraciones` times on the GPU: C, and the times; `control` is checked
/// between pieces of about `FLOPS_POR_PIEZA` (at least one iteration).
pub fn matmul(
    a: &[f32],
    b: &[f32],
    n: u32,
    iteraciones: u32,
    control: &Control,
) -> Result<(Vec<f32>, Tiempos), ErrorKernel> {
    let reloj = Instant::now();
    let (motor, flujo, inicio, fin) = preparar_llamada()?;
    let funcion = motor
        .calculo
        .get_function("matmul")
        .map_err(fallo("finding the matmul kernel"))?;
    let (a_gpu, b_gpu) = (subir(a)?, subir(b)?);
    let c_gpu = reservar(a.len())?;
    let rejilla = (n.div_ceil(128), n.div_ceil(128));
    let por_pieza = (FLOPS_POR_PIEZA / (2.0 * f64::from(n).powi(3))) as u64;
    let mut piezas = Piezas::new(&flujo, control)?;
    inicio.record(&flujo).map_err(fallo("recording an event"))?;
    for (_, veces) in trozos(u64::from(iteraciones), por_pieza) {
        piezas.pieza(|| {
            for _ in 0..veces {
                // SAFETY: matmul(const float*, const float*, float*, int) in calculo.cu, 256
                // threads a block; every access is inside the three n × n buffers, which
                // outlive the stream's work.
                unsafe {
                    launch!(funcion<<<rejilla, 256, 0, flujo>>>(
                        a_gpu.as_device_ptr(),
                        b_gpu.as_device_ptr(),
                        c_gpu.as_device_ptr(),
                        n as i32
                    ))
                }
                .map_err(fallo("launching matmul"))?;
            }
            Ok(())
        })?;
    }
    let kernel = cronometrar(&flujo, &inicio, &fin, "running matmul")?;
    let mut c = vec![0.0f32; a.len()];
    c_gpu.copy_to(&mut c[..]).map_err(fallo("copying C back"))?;
    Ok((
        c,
        Tiempos {
            kernel,
            total: reloj.elapsed(),
        },
    ))
}

/// `c = a + b` `iteraciones` times on the GPU: c, and the times; `control` is checked between
/// pieces of about `BYTES_POR_PIEZA` (at least one iteration).
pub fn vector_add(
    a: &[f32],
    b: &[f32],
    iteraciones: u32,
    control: &Control,
) -> Result<(Vec<f32>, Tiempos), ErrorKernel> {
    let reloj = Instant::now();
    let (motor, flujo, inicio, fin) = preparar_llamada()?;
    let funcion = motor
        .calculo
        .get_function("vector_add")
        .map_err(fallo("finding the vector_add kernel"))?;
    let (a_gpu, b_gpu) = (subir(a)?, subir(b)?);
    let c_gpu = reservar(a.len())?;
    let n = a.len() as u64;
    let grid = bloques(motor, n.div_ceil(4));
    let por_pieza = (BYTES_POR_PIEZA / (12.0 * n as f64)) as u64;
    let mut piezas = Piezas::new(&flujo, control)?;
    inicio.record(&flujo).map_err(fallo("recording an event"))?;
    for (_, veces) in trozos(u64::from(iteraciones), por_pieza) {
        piezas.pieza(|| {
            for _ in 0..veces {
                // SAFETY: vector_add(const float*, const float*, float*, u64) in calculo.cu; it
                // touches indices below n of the three n-element buffers (float4 accesses are
                // 16-byte aligned: cuMemAlloc aligns to 256).
                unsafe {
                    launch!(funcion<<<grid, HILOS, 0, flujo>>>(
                        a_gpu.as_device_ptr(),
                        b_gpu.as_device_ptr(),
                        c_gpu.as_device_ptr(),
                        n
                    ))
                }
                .map_err(fallo("launching vector_add"))?;
            }
            Ok(())
        })?;
    }
    let kernel = cronometrar(&flujo, &inicio, &fin, "running vector_add")?;
    let mut c = vec![0.0f32; a.len()];
    c_gpu.copy_to(&mut c[..]).map_err(fallo("copying c back"))?;
    Ok((
        c,
        Tiempos {
            kernel,
            total: reloj.elapsed(),
        },
    ))
}

/// Points inside among the first `2 · bloques` samples (whole Philox blocks) under `semilla`;
/// `control` is checked between launches of [`Limites::bloques_montecarlo_por_pieza`] blocks.
pub fn montecarlo(
    bloques_philox: u64,
    semilla: u64,
    control: &Control,
) -> Result<(u64, Tiempos), ErrorKernel> {
    let reloj = Instant::now();
    let (motor, flujo, inicio, fin) = preparar_llamada()?;
    let funcion = motor
        .calculo
        .get_function("montecarlo")
        .map_err(fallo("finding the montecarlo kernel"))?;
    let dentro_gpu = subir(&[0u64])?;
    let mut piezas = Piezas::new(&flujo, control)?;
    inicio.record(&flujo).map_err(fallo("recording an event"))?;
    let por_pieza = motor.limites.bloques_montecarlo_por_pieza();
    for (desde, cuantos) in trozos(bloques_philox, por_pieza) {
        let grid = bloques(motor, cuantos);
        piezas.pieza(|| {
            // SAFETY: montecarlo(u64, u64, u32, u32, u64*) in calculo.cu; it only adds to the
            // one u64 of `dentro_gpu`, which outlives the stream's work.
            unsafe {
                launch!(funcion<<<grid, HILOS, 0, flujo>>>(
                    desde,
                    desde + cuantos,
                    semilla as u32,
                    (semilla >> 32) as u32,
                    dentro_gpu.as_device_ptr()
                ))
            }
            .map_err(fallo("launching montecarlo"))
        })?;
    }
    let kernel = cronometrar(&flujo, &inicio, &fin, "running montecarlo")?;
    let mut dentro = [0u64];
    dentro_gpu
        .copy_to(&mut dentro[..])
        .map_err(fallo("copying the count back"))?;
    Ok((
        dentro[0],
        Tiempos {
            kernel,
            total: reloj.elapsed(),
        },
    ))
}

/// `pasos` steps of nbody on the GPU, the bodies updated in place; the times. `control` is
/// checked between pieces of about `INTERACCIONES_POR_PIEZA` (at least one step); a stopped
/// run leaves the bodies as they were.
pub fn nbody(
    c: &mut crate::nbody::Cuerpos,
    pasos: u32,
    control: &Control,
) -> Result<Tiempos, ErrorKernel> {
    let reloj = Instant::now();
    let (motor, flujo, inicio, fin) = preparar_llamada()?;
    let funcion = motor
        .calculo
        .get_function("nbody")
        .map_err(fallo("finding the nbody kernel"))?;
    let n = c.len();
    let pos: Vec<f32> = (0..n)
        .flat_map(|i| [c.x[i], c.y[i], c.z[i], c.m[i]])
        .collect();
    let vel: Vec<f32> = (0..n)
        .flat_map(|i| [c.vx[i], c.vy[i], c.vz[i], 0.0])
        .collect();
    let mut buffers = [subir(&pos)?, reservar(4 * n)?];
    let vel_gpu = subir(&vel)?;
    let grid = (n as u32).div_ceil(HILOS);
    let compartida = HILOS * 16;
    let por_pieza = (INTERACCIONES_POR_PIEZA / (n as f64 * n as f64)) as u64;
    let mut piezas = Piezas::new(&flujo, control)?;
    inicio.record(&flujo).map_err(fallo("recording an event"))?;
    for (_, veces) in trozos(u64::from(pasos), por_pieza) {
        piezas.pieza(|| {
            for _ in 0..veces {
                // SAFETY: nbody(const float4*, float4*, float4*, int, float, float) in
                // calculo.cu, HILOS threads and HILOS float4s of shared memory a block; it reads
                // and writes body indices below n of the three 4·n-float buffers, which outlive
                // the stream's work.
                unsafe {
                    launch!(funcion<<<grid, HILOS, compartida, flujo>>>(
                        buffers[0].as_device_ptr(),
                        buffers[1].as_device_ptr(),
                        vel_gpu.as_device_ptr(),
                        n as i32,
                        crate::nbody::EPS2,
                        crate::nbody::DT
                    ))
                }
                .map_err(fallo("launching nbody"))?;
                buffers.swap(0, 1);
            }
            Ok(())
        })?;
    }
    let kernel = cronometrar(&flujo, &inicio, &fin, "running nbody")?;
    let (mut pos, mut vel) = (pos, vel);
    buffers[0]
        .copy_to(&mut pos[..])
        .map_err(fallo("copying positions back"))?;
    vel_gpu
        .copy_to(&mut vel[..])
        .map_err(fallo("copying velocities back"))?;
    for i in 0..n {
        (c.x[i], c.y[i], c.z[i]) = (pos[4 * i], pos[4 * i + 1], pos[4 * i + 2]);
        (c.vx[i], c.vy[i], c.vz[i]) = (vel[4 * i], vel[4 * i + 1], vel[4 * i + 2]);
    }
    Ok(Tiempos {
        kernel,
        total: reloj.elapsed(),
    })
}

/// Device-to-device copy bandwidth, in bytes read plus written per second: the best of
/// `repeticiones` copies of `bytes` bytes (`cuMemcpyDtoDAsync`, timed by CUDA events).
pub fn ancho_de_banda_copia(bytes: usize, repeticiones: u32) -> Result<f64, ErrorKernel> {
    let (_, flujo, inicio, fin) = preparar_llamada()?;
    let n = bytes / 4;
    let origen = reservar(n)?;
    let mut destino = reservar(n)?;
    let mut mejor = f64::MAX;
    for _ in 0..repeticiones.max(1) {
        inicio.record(&flujo).map_err(fallo("recording an event"))?;
        // SAFETY: both buffers hold n f32 and outlive the stream's work (synchronised below).
        unsafe {
            cust::memory::AsyncCopyDestination::async_copy_from(&mut *destino, &origen, &flujo)
        }
        .map_err(fallo("copying on the GPU"))?;
        let t = cronometrar(&flujo, &inicio, &fin, "copying on the GPU")?;
        mejor = mejor.min(t.as_secs_f64());
    }
    Ok(2.0 * (n * 4) as f64 / mejor)
}

/// Turns a failed driver call into [`ErrorKernel::Gpu`] naming the step (`{:?}`: the error's
/// `Display` calls into the driver and may panic).
fn fallo(paso: &str) -> impl FnOnce(CudaError) -> ErrorKernel + '_ {
    move |e| ErrorKernel::Gpu(format!("{paso}: {e:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn launches_cover_every_row_once_in_bounded_pieces() {
        const TOPE: u64 = 1 << 33;
        for (width, height, iteraciones) in [
            (1, 1, 1),
            (8192, 8192, 1000),
            (16_384, 4096, 100_000),
            (7, 3, 5),
        ] {
            let p = ParamsJulia::new(width, height, iteraciones).unwrap();
            let mut siguiente = 0;
            for (fila0, filas) in lanzamientos(&p, TOPE) {
                assert_eq!(fila0, siguiente);
                assert!(filas >= 1);
                assert!(
                    filas == 1
                        || u64::from(filas) * u64::from(width) * u64::from(iteraciones) <= TOPE
                );
                assert!(
                    fila0 % LADO == 0 || filas < LADO,
                    "blocks stay in one launch"
                );
                siguiente += filas;
            }
            assert_eq!(siguiente, height, "{width}x{height}x{iteraciones}");
        }
    }

    #[test]
    fn pieces_cover_the_work_once_in_order() {
        for (total, por_pieza) in [(0, 5), (1, 5), (10, 5), (11, 5), (7, 0), (3, 100)] {
            let piezas: Vec<_> = trozos(total, por_pieza).collect();
            let mut siguiente = 0;
            for &(desde, cuantos) in &piezas {
                assert_eq!(desde, siguiente);
                assert!(cuantos >= 1 && cuantos <= por_pieza.max(1));
                siguiente += cuantos;
            }
            assert_eq!(siguiente, total, "{total} in pieces of {por_pieza}");
        }
    }

    #[test]
    fn driver_version_is_read_from_proc() {
        let texto = "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.15  Tue Mar  5 \
                     22:23:56 UTC 2024\nGCC version:  gcc version 12.3.0\n";
        assert_eq!(version_en_texto(texto).as_deref(), Some("550.54.15"));
        assert_eq!(version_en_texto("nothing here"), None);
    }

    #[test]
    fn h100_sxm_bounds_follow_the_formula() {
        let h100 = Limites {
            multiprocesadores: 132,
            reloj_khz: 1_980_000,
            capacidad: (9, 0),
        };
        let pico = h100.pico_flops_f64().unwrap();
        assert!((pico / 1e12 - 33.45).abs() < 0.01, "{pico}");
        let cota = h100.cota_iteraciones_por_segundo().unwrap();
        assert!((cota / 1e12 - 1.858).abs() < 0.001, "{cota}");
        let bloques = h100.bloques_montecarlo_por_pieza();
        assert!((bloques as f64 / 1e9 - 8.36).abs() < 0.01, "{bloques}");
        assert_eq!(cuda_legible(12_040), "12.4");
    }
}

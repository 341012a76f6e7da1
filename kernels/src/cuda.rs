//! The machinery every `Cuda` kernel shares: the GPU set up once per process ([`motor`]), one
//! call's stream and timing events ([`Llamada`]), copies to and from the GPU, launching in
//! pieces under a [`Control`], and driver errors in words. It knows no kernel: each kernel's
//! module holds its own GPU host code (`julia/cuda.rs`, `matmul/cuda.rs`, ...) and calls this.
//!
//! The kernels are CUDA C (`kernels/cuda/julia.cu`, `kernels/cuda/calculo.cu`), compiled ahead
//! of time to PTX for `compute_70` (`scripts/ptx.py`) and embedded in the binary; the driver
//! JIT-compiles them for the GPU it finds, once per process, when the backend is first used.
//!
//! The GPU is set up once, lazily, by [`motor`] (`cuda/preparar.rs`): driver present (`cuInit`),
//! driver new enough for the PTX, first device, its primary context, the modules. Every step
//! that fails becomes a sentence saying what is missing, kept for the life of the process and
//! returned as [`ErrorKernel::NoDisponible`] by every later call.
//!
//! Stopping: every kernel queues its work in pieces through `Llamada::en_piezas`, which
//! checks the run's [`Control`] before each piece and keeps at most two pieces queued ahead of
//! the GPU, so a stop waits for at most that many pieces; each kernel's module says how large
//! its pieces are (each about 50 ms or less on an H100). A stopped run waits for its queued
//! pieces before freeing its buffers.
//!
//! cust 0.3.2 traps this module avoids: the current context belongs to the OS thread, so every
//! call sets it on its own thread; a `Function` borrows its `Module`, so it is looked up per call
//! from the `'static` module; `Display` of a `CudaError` calls into the driver and can panic
//! without one, so errors are written with `{:?}`; error codes newer than CUDA 11.4 arrive as
//! `UnknownError`, so the driver's version is checked before the PTX is loaded.

mod limites;
mod piezas;
mod preparar;

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use comun::nodo::Gpu;
use cust::context::{Context, CurrentContext};
use cust::error::CudaError;
use cust::event::{Event, EventFlags};
use cust::function::Function;
use cust::memory::{CopyDestination as _, DeviceBuffer, DeviceCopy};
use cust::module::Module;
use cust::stream::{Stream, StreamFlags};

use crate::ErrorKernel;
use crate::control::Control;

pub use limites::Limites;
pub(crate) use piezas::trozos;

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
        .get_or_init(preparar::preparar)
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

/// A kernel's time on the GPU's clock, and the whole call's on the host's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tiempos {
    /// CUDA events around the launches.
    pub kernel: Duration,
    /// Allocation, copies to the GPU, launches, copies back (host clock).
    pub total: Duration,
}

/// One call of a kernel on the GPU: the context made current on this thread, a stream, the two
/// events that time the launches, and the host's clock from the call's start.
pub(crate) struct Llamada {
    /// The GPU.
    pub(crate) motor: &'static Motor,
    /// Where the call's copies and launches are queued.
    pub(crate) flujo: Stream,
    /// Recorded before the first launch.
    inicio: Event,
    /// Recorded after the last launch.
    fin: Event,
    /// Started before anything else, for [`Tiempos::total`].
    reloj: Instant,
}

impl Llamada {
    /// Starts the host's clock, then the GPU (set up on first use), its context made current on
    /// this thread, a stream and two events.
    pub(crate) fn new() -> Result<Self, ErrorKernel> {
        let reloj = Instant::now();
        let motor = motor()?;
        CurrentContext::set_current(&motor.contexto)
            .map_err(fallo("making the context current"))?;
        let flujo =
            Stream::new(StreamFlags::NON_BLOCKING, None).map_err(fallo("creating a stream"))?;
        let inicio = Event::new(EventFlags::DEFAULT).map_err(fallo("creating an event"))?;
        let fin = Event::new(EventFlags::DEFAULT).map_err(fallo("creating an event"))?;
        Ok(Self {
            motor,
            flujo,
            inicio,
            fin,
            reloj,
        })
    }

    /// Queues `lanzar(pieza)` for every piece in order (see [`piezas::Piezas`]) between the two
    /// events, checking `control` before each, then waits for the GPU: its time from the
    /// first launch to the last. `que` names the work in errors.
    pub(crate) fn en_piezas<P>(
        &self,
        control: &Control,
        piezas: impl IntoIterator<Item = P>,
        que: &str,
        mut lanzar: impl FnMut(P) -> Result<(), ErrorKernel>,
    ) -> Result<Duration, ErrorKernel> {
        let mut cola = piezas::Piezas::new(&self.flujo, control)?;
        self.empezar()?;
        for pieza in piezas {
            cola.pieza(|| lanzar(pieza))?;
        }
        self.cronometrar(que)
    }

    /// Records the first event on the stream.
    fn empezar(&self) -> Result<(), ErrorKernel> {
        self.inicio
            .record(&self.flujo)
            .map_err(fallo("recording an event"))
    }

    /// Records the second event after the work queued on the stream, waits for it, and
    /// returns the GPU time between the two events; `que` names the work in errors.
    fn cronometrar(&self, que: &str) -> Result<Duration, ErrorKernel> {
        self.fin
            .record(&self.flujo)
            .map_err(fallo("recording an event"))?;
        self.flujo.synchronize().map_err(fallo(que))?;
        self.fin
            .elapsed(&self.inicio)
            .map_err(fallo("reading the events"))
    }

    /// The entry point `nombre` of [`Ptx::Calculo`].
    pub(crate) fn funcion_calculo(&self, nombre: &str) -> Result<Function<'static>, ErrorKernel> {
        self.motor
            .funcion(Ptx::Calculo, nombre)
            .map_err(fallo(&format!("finding the {nombre} kernel")))
    }

    /// `kernel`, and the host's time since [`Llamada::new`].
    pub(crate) fn tiempos(&self, kernel: Duration) -> Tiempos {
        Tiempos {
            kernel,
            total: self.reloj.elapsed(),
        }
    }
}

/// A buffer on the GPU holding `datos`.
pub(crate) fn subir<T: DeviceCopy>(datos: &[T]) -> Result<DeviceBuffer<T>, ErrorKernel> {
    DeviceBuffer::from_slice(datos).map_err(fallo(&format!(
        "copying {} MiB to the GPU",
        std::mem::size_of_val(datos) >> 20
    )))
}

/// What `buffer` holds, copied to a new vector on the host; `que` names the copy in errors.
pub(crate) fn bajar<T: DeviceCopy + Default>(
    buffer: &DeviceBuffer<T>,
    que: &str,
) -> Result<Vec<T>, ErrorKernel> {
    let mut datos = vec![T::default(); buffer.len()];
    buffer.copy_to(&mut datos[..]).map_err(fallo(que))?;
    Ok(datos)
}

/// A zeroed buffer of `n` floats on the GPU.
pub(crate) fn reservar(n: usize) -> Result<DeviceBuffer<f32>, ErrorKernel> {
    DeviceBuffer::zeroed(n).map_err(fallo(&format!(
        "allocating {} MiB on the GPU",
        (n * 4) >> 20
    )))
}

/// Device-to-device copy bandwidth, in bytes read plus written per second: the best of
/// `repeticiones` copies of `bytes` bytes (`cuMemcpyDtoDAsync`, timed by CUDA events).
pub fn ancho_de_banda_copia(bytes: usize, repeticiones: u32) -> Result<f64, ErrorKernel> {
    let llamada = Llamada::new()?;
    let n = bytes / 4;
    let origen = reservar(n)?;
    let mut destino = reservar(n)?;
    let mut mejor = f64::MAX;
    for _ in 0..repeticiones.max(1) {
        llamada.empezar()?;
        // SAFETY: both buffers hold n f32 and outlive the stream's work (synchronised below).
        unsafe {
            cust::memory::AsyncCopyDestination::async_copy_from(
                &mut *destino,
                &origen,
                &llamada.flujo,
            )
        }
        .map_err(fallo("copying on the GPU"))?;
        let t = llamada.cronometrar("copying on the GPU")?;
        mejor = mejor.min(t.as_secs_f64());
    }
    Ok(2.0 * (n * 4) as f64 / mejor)
}

/// Turns a failed driver call into [`ErrorKernel::Gpu`] naming the step (`{:?}`: the error's
/// `Display` calls into the driver and may panic).
pub(crate) fn fallo(paso: &str) -> impl FnOnce(CudaError) -> ErrorKernel + '_ {
    move |e| ErrorKernel::Gpu(format!("{paso}: {e:?}"))
}

//! The machinery every `Cuda` kernel shares: each GPU set up once per process ([`motor`]), one
//! call's stream and timing events ([`Llamada`]), copies to and from the GPU, launching in
//! pieces under a [`Control`], and driver errors in words. It knows no kernel: each kernel's
//! module holds its own GPU host code (`julia/cuda.rs`, `matmul/cuda.rs`, ...) and calls this.
//!
//! The kernels are CUDA C (`kernels/cuda/julia.cu`, `kernels/cuda/calculo.cu`), compiled ahead
//! of time to PTX for `compute_70` (`scripts/ptx.py`) and embedded in the binary; the driver
//! JIT-compiles them for the GPU it finds, once per process, when the backend is first used.
//!
//! Each GPU is set up once, lazily, by [`motor_en`] (`cuda/motor.rs`): driver present
//! (`cuInit`) and new enough for the PTX (once for all devices), then that device, its primary
//! context, the modules. Every step that fails becomes a sentence saying what is missing, kept
//! for the life of the process and returned as [`ErrorKernel::NoDisponible`] by every later
//! call. A call runs on the device its thread chose ([`crate::gpus::en_gpu`], GPU 0 unless
//! chosen): [`Llamada::new`] takes [`motor`], that device's.
//!
//! Times: a call reports its kernel time (CUDA events around its launches, [`Llamada::en_piezas`])
//! and its time with copies (CUDA events around the whole call, from [`Llamada::new`] to the
//! last byte back on the host, [`Llamada::tiempos`]): `Salida::duracion` and
//! `Salida::duracion_con_copias`, the same way for every kernel. Results come back through
//! pinned staging memory from [`UMBRAL_ETAPA`] bytes on ([`bajar`], `cuda/copias.rs`).
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

mod copias;
mod limites;
mod motor;

use std::time::{Duration, Instant};

use cust::error::CudaError;
use cust::event::{Event, EventFlags};
use cust::function::Function;
use cust::memory::{CopyDestination as _, DeviceBuffer, DeviceCopy, DeviceSlice};
use cust::stream::{Stream, StreamFlags};

use crate::ErrorKernel;
use crate::control::Control;

pub use copias::{Bajadas, MITAD, UMBRAL_ETAPA, medir_bajadas};
pub use limites::Limites;
pub(crate) use motor::{HILOS, Ptx};
pub use motor::{Motor, dispositivos, motor, motor_en};

/// A kernel's time and the whole call's, both on the GPU's clock.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tiempos {
    /// CUDA events around the launches: `Salida::duracion`.
    pub kernel: Duration,
    /// CUDA events around the whole call: allocation, copies to the GPU, launches, copies back
    /// to the host; `Salida::duracion_con_copias`.
    pub total: Duration,
}

/// One call of a kernel on the GPU: the context made current on this thread, a stream, the
/// events that time the launches and the whole call, and the host's clock from the call's
/// start.
pub(crate) struct Llamada {
    /// The GPU.
    pub(crate) motor: &'static Motor,
    /// Where the call's copies and launches are queued.
    pub(crate) flujo: Stream,
    /// Recorded before the first launch.
    inicio: Event,
    /// Recorded after the last launch.
    fin: Event,
    /// Recorded when the call starts, before any allocation or copy: [`Tiempos::total`] counts
    /// from it.
    desde: Event,
    /// Started with the call: [`Tiempos::total`] where the events cannot be read.
    reloj: Instant,
}

impl Llamada {
    /// Starts the host's clock, then the GPU (set up on first use), its context made current on
    /// this thread, a stream and two events.
    pub(crate) fn new() -> Result<Self, ErrorKernel> {
        let reloj = Instant::now();
        let motor = motor()?;
        motor
            .hacer_actual()
            .map_err(fallo("making the context current"))?;
        let flujo =
            Stream::new(StreamFlags::NON_BLOCKING, None).map_err(fallo("creating a stream"))?;
        let inicio = Event::new(EventFlags::DEFAULT).map_err(fallo("creating an event"))?;
        let fin = Event::new(EventFlags::DEFAULT).map_err(fallo("creating an event"))?;
        let desde = Event::new(EventFlags::DEFAULT).map_err(fallo("creating an event"))?;
        desde.record(&flujo).map_err(fallo("recording an event"))?;
        Ok(Self {
            motor,
            flujo,
            inicio,
            fin,
            desde,
            reloj,
        })
    }

    /// Queues `lanzar(pieza)` for every piece in order (see [`Piezas`]) between the two
    /// events, checking `control` before each, then waits for the GPU: its time from the
    /// first launch to the last. `que` names the work in errors.
    pub(crate) fn en_piezas<P>(
        &self,
        control: &Control,
        piezas: impl IntoIterator<Item = P>,
        que: &str,
        mut lanzar: impl FnMut(P) -> Result<(), ErrorKernel>,
    ) -> Result<Duration, ErrorKernel> {
        let mut cola = Piezas::new(&self.flujo, control)?;
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

    /// `kernel`, and the whole call's time on the GPU's clock: from [`Llamada::new`] to now,
    /// once everything queued on its stream is done. Call it after the last copy back. Where
    /// the driver cannot time it (it never should, once the call's work went well), the host's
    /// clock stands in.
    pub(crate) fn tiempos(&self, kernel: Duration) -> Tiempos {
        let hasta = Event::new(EventFlags::DEFAULT).and_then(|hasta| {
            hasta.record(&self.flujo)?;
            hasta.synchronize()?;
            hasta.elapsed(&self.desde)
        });
        Tiempos {
            kernel,
            total: hasta.unwrap_or_else(|_| self.reloj.elapsed()),
        }
    }
}

/// Pieces of work queued ahead of the GPU at most (see [`Piezas`]): two, so that the GPU
/// always has the next piece while the host waits for the previous one.
const EN_VUELO: usize = 2;

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
pub(crate) fn trozos(total: u64, por_pieza: u64) -> impl Iterator<Item = (u64, u64)> {
    let por_pieza = por_pieza.max(1);
    (0..total)
        .step_by(por_pieza as usize)
        .map(move |desde| (desde, por_pieza.min(total - desde)))
}

/// A buffer on the GPU holding `datos`.
pub(crate) fn subir<T: DeviceCopy>(datos: &[T]) -> Result<DeviceBuffer<T>, ErrorKernel> {
    DeviceBuffer::from_slice(datos).map_err(fallo(&format!(
        "copying {} MiB to the GPU",
        std::mem::size_of_val(datos) >> 20
    )))
}

/// What `buffer` holds, copied to a new vector on the host ([`bajar_en`]); `que` names the
/// copy in errors.
pub(crate) fn bajar<T: DeviceCopy + Default + Send + Sync>(
    buffer: &DeviceSlice<T>,
    que: &str,
) -> Result<Vec<T>, ErrorKernel> {
    let mut datos = vec![T::default(); buffer.len()];
    bajar_en(buffer, &mut datos, que)?;
    Ok(datos)
}

/// What `origen` holds, copied into `destino` (of the same length): through the GPU's pinned
/// halves from [`UMBRAL_ETAPA`] bytes on (when another call of the same GPU is not using
/// them), straight otherwise. The work that wrote `origen` must be finished (its stream
/// synchronised, as [`Llamada::en_piezas`] leaves it). `que` names the copy in errors.
pub(crate) fn bajar_en<T: DeviceCopy + Send + Sync>(
    origen: &DeviceSlice<T>,
    destino: &mut [T],
    que: &str,
) -> Result<(), ErrorKernel> {
    if std::mem::size_of_val(destino) >= UMBRAL_ETAPA {
        let etapa = motor()?.etapa();
        if let Some(hecho) = etapa.con(|e| e.bajar(origen, destino)) {
            return hecho.map_err(fallo(que));
        }
    }
    origen.copy_to(destino).map_err(fallo(que))
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

#[cfg(test)]
mod tests {
    use super::*;

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
}

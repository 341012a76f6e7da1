//! Copies of results back to the host through pinned (page-locked) staging memory, where it
//! pays ([`UMBRAL_ETAPA`] bytes and more), and the measurement of what it pays
//! ([`medir_bajadas`], for `autoprueba`).
//!
//! A copy from the GPU into ordinary (pageable) memory is staged by the driver through its own
//! small pinned buffers, one piece after the other. Here each GPU keeps two pinned halves of
//! [`MITAD`] bytes ([`Etapa`], made on first use, kept for the life of the process): the GPU
//! copies piece `k` into one half (DMA at full link speed) while the host moves piece `k − 1`
//! out of the other into the destination, on every core. A small result is not worth the
//! extra host copy and goes straight to the destination.

use std::sync::Mutex;
use std::time::Instant;

use cust::error::CudaResult;
use cust::event::{Event, EventFlags};
use cust::memory::{
    AsyncCopyDestination as _, CopyDestination as _, DeviceBuffer, DeviceCopy, DeviceSlice,
    LockedBuffer,
};
use cust::stream::{Stream, StreamFlags};
use rayon::prelude::*;

use super::fallo;
use crate::ErrorKernel;

/// Results of this many bytes or more come back through the pinned halves. Below it the extra
/// host copy costs more than the driver's own staging loses (a guess until `autoprueba`'s
/// measurement on a GPU says otherwise; see docs/gpu.md).
pub const UMBRAL_ETAPA: usize = 8 << 20;

/// Bytes of each pinned half: large enough that a piece's fixed costs (a driver call, an event,
/// waking the cores) are small against its copy, small enough to keep 32 MiB pinned per GPU.
pub const MITAD: usize = 16 << 20;

/// Bytes each core moves out of a half at a time.
const POR_HILO: usize = 1 << 20;

/// Two pinned halves of one GPU, the stream their copies queue on, and the events that say a
/// half is full. Made in the GPU's context (current on the calling thread).
pub(crate) struct Etapa {
    /// The halves, [`MITAD`] bytes each, page-locked (`cuMemAllocHost`, page-aligned).
    mitades: [LockedBuffer<u8>; 2],
    /// Where the copies into the halves queue.
    flujo: Stream,
    /// `llenas[i]` is recorded after the copy into half `i`.
    llenas: [Event; 2],
}

impl Etapa {
    /// Allocates the halves and their stream in the current context.
    pub(crate) fn new() -> CudaResult<Self> {
        // SAFETY: the halves are written by the GPU before the host reads any byte of them.
        let mitad = || unsafe { LockedBuffer::<u8>::uninitialized(MITAD) };
        let evento = || Event::new(EventFlags::BLOCKING_SYNC | EventFlags::DISABLE_TIMING);
        Ok(Self {
            mitades: [mitad()?, mitad()?],
            flujo: Stream::new(StreamFlags::NON_BLOCKING, None)?,
            llenas: [evento()?, evento()?],
        })
    }

    /// Copies `origen` into `destino` (the same length) through the halves. The work that wrote
    /// `origen` must be finished (its stream synchronised). On an error, waits for the copies
    /// under way before returning, so the halves are free for the next call.
    pub(crate) fn bajar<T: DeviceCopy + Send + Sync>(
        &mut self,
        origen: &DeviceSlice<T>,
        destino: &mut [T],
    ) -> CudaResult<()> {
        let hecho = self.bajar_por_mitades(origen, destino);
        if hecho.is_err() {
            let _ = self.flujo.synchronize();
        }
        hecho
    }

    fn bajar_por_mitades<T: DeviceCopy + Send + Sync>(
        &mut self,
        origen: &DeviceSlice<T>,
        destino: &mut [T],
    ) -> CudaResult<()> {
        assert_eq!(origen.len(), destino.len(), "copy of unequal lengths");
        let por_mitad = (MITAD / std::mem::size_of::<T>().max(1)).max(1);
        let mut pendiente: Option<(usize, std::ops::Range<usize>)> = None;
        for (k, desde) in (0..destino.len()).step_by(por_mitad).enumerate() {
            let rango = desde..(desde + por_mitad).min(destino.len());
            let i = k % 2;
            // Half `i` last held piece k − 2, moved out in the previous round: it is free.
            let mitad = vista_mut::<T>(&mut self.mitades[i], rango.len());
            // SAFETY: the half is not read or written by the host until `llenas[i]` is waited
            // for below, and it outlives the copy (it lives as long as `self`).
            unsafe {
                origen
                    .index(rango.clone())
                    .async_copy_to(mitad, &self.flujo)
            }?;
            self.llenas[i].record(&self.flujo)?;
            if let Some((j, anterior)) = pendiente.replace((i, rango)) {
                self.vaciar(j, &mut destino[anterior])?;
            }
        }
        if let Some((j, anterior)) = pendiente {
            self.vaciar(j, &mut destino[anterior])?;
        }
        Ok(())
    }

    /// Waits for half `i` to be full, then moves its first `destino.len()` values out, on every
    /// core.
    fn vaciar<T: DeviceCopy + Send + Sync>(
        &mut self,
        i: usize,
        destino: &mut [T],
    ) -> CudaResult<()> {
        self.llenas[i].synchronize()?;
        let mitad = vista_mut::<T>(&mut self.mitades[i], destino.len());
        let por_hilo = (POR_HILO / std::mem::size_of::<T>().max(1)).max(1);
        destino
            .par_chunks_mut(por_hilo)
            .zip(mitad.par_chunks(por_hilo))
            .for_each(|(d, o)| d.copy_from_slice(o));
        Ok(())
    }
}

/// A GPU's [`Etapa`], made on first use, and lent to one call at a time.
pub(crate) struct EtapaPerezosa(Mutex<Preparacion>);

/// Where an [`EtapaPerezosa`] stands.
enum Preparacion {
    /// Not made yet.
    Pendiente,
    /// Made, ready.
    Lista(Etapa),
    /// Making it failed (no pinned memory to be had): copies go straight to the destination.
    Imposible,
}

impl EtapaPerezosa {
    pub(crate) fn new() -> Self {
        Self(Mutex::new(Preparacion::Pendiente))
    }

    /// `usar` on the halves, made now in the current context if they were not; `None`, at
    /// once, while another call uses them or where they cannot be made.
    pub(crate) fn con<R>(&self, usar: impl FnOnce(&mut Etapa) -> R) -> Option<R> {
        let mut p = self.0.try_lock().ok()?;
        if matches!(*p, Preparacion::Pendiente) {
            *p = Etapa::new().map_or(Preparacion::Imposible, Preparacion::Lista);
        }
        match &mut *p {
            Preparacion::Lista(etapa) => Some(usar(etapa)),
            _ => None,
        }
    }
}

/// The first `n` values of type `T` a half holds.
fn vista_mut<T: DeviceCopy>(mitad: &mut LockedBuffer<u8>, n: usize) -> &mut [T] {
    assert!(
        n * std::mem::size_of::<T>() <= mitad.len(),
        "a piece fits in a half"
    );
    let ptr = mitad.as_mut_ptr();
    assert_eq!(
        ptr as usize % std::mem::align_of::<T>(),
        0,
        "pinned memory is page-aligned"
    );
    // SAFETY: the half holds at least `n` values' bytes, is aligned for `T` (checked), and is
    // borrowed mutably for the slice's life. `T: DeviceCopy` is plain data, and the values read
    // from the slice were copied there from a buffer of `T` on the GPU.
    unsafe { std::slice::from_raw_parts_mut(ptr.cast::<T>(), n) }
}

/// What [`medir_bajadas`] measured for one size, in bytes per second (best of the repetitions).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bajadas {
    /// Bytes copied each time.
    pub bytes: usize,
    /// Into a new vector, directly (`cuMemcpyDtoH` into pageable memory).
    pub paginable: f64,
    /// Into a new vector through the pinned halves ([`Etapa`]): what `bajar` does from
    /// [`UMBRAL_ETAPA`] on.
    pub etapa: f64,
    /// Into pinned memory and no further: the link's ceiling.
    pub fijada: f64,
}

/// Copies of `bytes` bytes from the GPU measured three ways (best of `repeticiones`, host
/// clock, each into a destination allocated for it as a kernel's result is).
pub fn medir_bajadas(bytes: usize, repeticiones: u32) -> Result<Bajadas, ErrorKernel> {
    let _contexto = super::Llamada::new()?;
    let origen = DeviceBuffer::<u8>::zeroed(bytes).map_err(fallo("allocating on the GPU"))?;
    let mut etapa = Etapa::new().map_err(fallo("allocating pinned memory"))?;
    // SAFETY: written by the copies below before it is read.
    let mut fijada = unsafe { LockedBuffer::<u8>::uninitialized(bytes.max(1)) }
        .map_err(fallo("allocating pinned memory"))?;
    let mejor = |copiar: &mut dyn FnMut() -> CudaResult<()>| -> Result<f64, ErrorKernel> {
        let mut mejor = f64::MAX;
        for _ in 0..repeticiones.max(1) {
            let reloj = Instant::now();
            copiar().map_err(fallo("copying to the host"))?;
            mejor = mejor.min(reloj.elapsed().as_secs_f64());
        }
        Ok(bytes as f64 / mejor)
    };
    let paginable = mejor(&mut || origen.copy_to(&mut vec![0u8; bytes][..]))?;
    let por_etapa = mejor(&mut || etapa.bajar(&origen, &mut vec![0u8; bytes]))?;
    let a_fijada = mejor(&mut || origen.copy_to(&mut fijada[..bytes]))?;
    Ok(Bajadas {
        bytes,
        paginable,
        etapa: por_etapa,
        fijada: a_fijada,
    })
}

//! `Cuda` for kmeans: the host side of `kernels/cuda/kmeans.cu`. The points, their norms and
//! the assignment stay on the GPU for the whole run; each step uploads the centroids (and
//! their squared norms), runs `kmeans_asignar` and `kmeans_sumar`, and copies back the
//! cluster sums and counts, from which the host updates the centroids with the CPU's code
//! (`kmeans/lloyd.rs`).
//!
//! Times: the kernels of each step on the GPU's clock (CUDA events around the two launches),
//! summed; with copies, the whole call on the host's clock. Stopping: the [`Control`] is
//! checked before each step, and a step waits for its own work, so a stop waits for at most
//! one step.
//!
//! The module is loaded once per GPU and process (`Motor::modulo`, the PTX embedded here).

use std::time::Duration;

use cust::event::{Event, EventFlags};
use cust::function::Function;
use cust::launch;
use cust::memory::{AsyncCopyDestination as _, DeviceBuffer, DeviceSlice};

use super::datos::{self, Datos};
use super::lloyd::{self, Paso, Suma};
use super::{Agrupamiento, terminar};
use crate::ErrorKernel;
use crate::control::Control;
use crate::cuda::{HILOS, Llamada, bajar, fallo, subir};

/// The kernels as PTX (ISA 7.8, `compute_70`, FMA allowed), generated from `kmeans.cu`.
const PTX: &str = include_str!("../../cuda/kmeans.ptx");

/// Shared memory `kmeans_sumar` may take for a block's own sums (the default limit).
const COMPARTIDA_MAXIMA: usize = 48 << 10;

/// Lloyd on the GPU: up to `iteraciones` steps over `datos` from `iniciales`, `normas` being
/// `Σᵢ ‖Xᵢ‖²`.
pub(super) fn agrupar(
    datos: &Datos,
    iniciales: Vec<f32>,
    normas: i128,
    iteraciones: u32,
    control: &Control,
) -> Result<Agrupamiento, ErrorKernel> {
    let llamada = Llamada::new()?;
    let mut paso = PasoCuda::new(&llamada, datos, iniciales.len() / datos.dimensiones)?;
    let d = datos.dimensiones;
    let r = lloyd::lloyd(&mut paso, iniciales, d, normas, iteraciones, control)?;
    let kernel = paso.kernel;
    let mut a = terminar(r, &mut paso, kernel, None)?;
    a.con_copias = Some(llamada.tiempos(kernel).total);
    Ok(a)
}

/// The GPU's assignment step: buffers for the whole run, and the kernels' time so far.
struct PasoCuda<'a> {
    llamada: &'a Llamada,
    asignar: Function<'static>,
    sumar: Function<'static>,
    muestras: usize,
    d: usize,
    k: usize,
    x: DeviceBuffer<f32>,
    normas: DeviceBuffer<f32>,
    etiquetas: DeviceBuffer<u32>,
    c: DeviceBuffer<f32>,
    cc: DeviceBuffer<f32>,
    sumas: DeviceBuffer<u64>,
    cuentas: DeviceBuffer<u64>,
    /// Points that changed cluster, points settled exactly.
    contadores: DeviceBuffer<u32>,
    /// Recorded before and after each step's launches.
    eventos: [Event; 2],
    /// The kernels' time, summed over the steps.
    kernel: Duration,
}

impl<'a> PasoCuda<'a> {
    /// Loads the module, uploads the points and their norms, marks every point unassigned.
    fn new(llamada: &'a Llamada, datos: &Datos, k: usize) -> Result<Self, ErrorKernel> {
        let modulo = llamada.motor.modulo(PTX, "kmeans.ptx")?;
        let funcion = |nombre: &str| {
            modulo
                .get_function(nombre)
                .map_err(fallo(&format!("finding the {nombre} kernel")))
        };
        let (n, d) = (datos.muestras, datos.dimensiones);
        let mut etiquetas = DeviceBuffer::zeroed(n).map_err(fallo("allocating the labels"))?;
        // SAFETY: the buffer holds n u32 (4 bytes each), allocated above; the stream's work
        // finishes before the first step reads it (same stream).
        unsafe { etiquetas.set_32_async(u32::MAX, &llamada.flujo) }
            .map_err(fallo("marking every point unassigned"))?;
        let evento = || Event::new(EventFlags::DEFAULT).map_err(fallo("creating an event"));
        Ok(PasoCuda {
            llamada,
            asignar: funcion("kmeans_asignar")?,
            sumar: funcion("kmeans_sumar")?,
            muestras: n,
            d,
            k,
            x: subir(&datos.x)?,
            normas: subir(&datos::normas(datos))?,
            etiquetas,
            c: DeviceBuffer::zeroed(k * d).map_err(fallo("allocating the centroids"))?,
            cc: DeviceBuffer::zeroed(k).map_err(fallo("allocating the centroids' norms"))?,
            sumas: DeviceBuffer::zeroed(k * d).map_err(fallo("allocating the sums"))?,
            cuentas: DeviceBuffer::zeroed(k).map_err(fallo("allocating the counts"))?,
            contadores: DeviceBuffer::zeroed(2).map_err(fallo("allocating the counters"))?,
            eventos: [evento()?, evento()?],
            kernel: Duration::ZERO,
        })
    }

    /// Queues the step's uploads and zeroing; `cc` must live until the stream is synchronised.
    fn preparar(&mut self, centroides: &[f32], cc: &[f32]) -> Result<(), ErrorKernel> {
        let flujo = &self.llamada.flujo;
        let subir_centroides = fallo("uploading the centroids");
        // SAFETY: the host slices outlive the copies (the step synchronises the stream before
        // returning); the buffers were allocated with these lengths, in 4-byte units.
        unsafe {
            self.c
                .async_copy_from(centroides, flujo)
                .map_err(subir_centroides)?;
            self.cc
                .async_copy_from(cc, flujo)
                .map_err(fallo("uploading the centroids' norms"))?;
            for (buffer, que) in [
                (
                    &mut *self.sumas as &mut DeviceSlice<u64>,
                    "zeroing the sums",
                ),
                (&mut *self.cuentas, "zeroing the counts"),
            ] {
                buffer.set_32_async(0, flujo).map_err(fallo(que))?;
            }
            self.contadores
                .set_32_async(0, flujo)
                .map_err(fallo("zeroing the counters"))
        }
    }

    /// Queues the two kernels between the two events.
    fn lanzar(&self, radio: f32) -> Result<(), ErrorKernel> {
        let flujo = &self.llamada.flujo;
        let (n, d, k) = (self.muestras as i32, self.d as i32, self.k as i32);
        let (asignar, sumar) = (&self.asignar, &self.sumar);
        let bloques = (self.muestras as u32).div_ceil(HILOS);
        let propia = (self.k * self.d + self.k) * 8;
        let compartida = propia <= COMPARTIDA_MAXIMA;
        let motor = self.llamada.motor;
        let mut rejilla = motor.bloques((self.muestras * self.d) as u64);
        if compartida {
            // Each block adds k·(d + 1) totals at the end: few blocks.
            rejilla = rejilla.min(2 * motor.limites().multiprocesadores.max(1));
        }
        let propia = if compartida { propia as u32 } else { 0 };
        self.eventos[0]
            .record(flujo)
            .map_err(fallo("recording an event"))?;
        // SAFETY: kmeans_asignar(const float*, const float*, const float*, const float*, int,
        // int, int, float, u32*, u32*) and kmeans_sumar(const float*, const u32*, int, int, int,
        // int, u64*, u64*) in kmeans.cu, HILOS threads a block; every index they touch is
        // below n·d, n, k·d or k of buffers allocated with those lengths, which outlive the
        // stream's work (the step synchronises before returning). kmeans_sumar uses `propia`
        // bytes of dynamic shared memory, at most the default 48 KiB.
        unsafe {
            launch!(asignar<<<bloques, HILOS, 0, flujo>>>(
                self.x.as_device_ptr(),
                self.normas.as_device_ptr(),
                self.c.as_device_ptr(),
                self.cc.as_device_ptr(),
                n,
                d,
                k,
                radio,
                self.etiquetas.as_device_ptr(),
                self.contadores.as_device_ptr()
            ))
            .map_err(fallo("launching kmeans_asignar"))?;
            launch!(sumar<<<rejilla, HILOS, propia, flujo>>>(
                self.x.as_device_ptr(),
                self.etiquetas.as_device_ptr(),
                n,
                d,
                k,
                i32::from(compartida),
                self.sumas.as_device_ptr(),
                self.cuentas.as_device_ptr()
            ))
            .map_err(fallo("launching kmeans_sumar"))?;
        }
        self.eventos[1]
            .record(flujo)
            .map_err(fallo("recording an event"))
    }

    /// Waits for the step and copies back its sums, counts and counters.
    fn recoger(&mut self) -> Result<Suma, ErrorKernel> {
        let mut sumas = vec![0u64; self.k * self.d];
        let mut cuentas = vec![0u64; self.k];
        let mut contadores = [0u32; 2];
        let flujo = &self.llamada.flujo;
        // SAFETY: the host vectors have the buffers' lengths and outlive the copies, which the
        // synchronisation below waits for.
        unsafe {
            self.sumas
                .async_copy_to(&mut sumas, flujo)
                .map_err(fallo("copying the sums back"))?;
            self.cuentas
                .async_copy_to(&mut cuentas, flujo)
                .map_err(fallo("copying the counts back"))?;
            self.contadores
                .async_copy_to(&mut contadores[..], flujo)
                .map_err(fallo("copying the counters back"))?;
        }
        flujo
            .synchronize()
            .map_err(fallo("running a kmeans step"))?;
        self.kernel += self.eventos[1]
            .elapsed(&self.eventos[0])
            .map_err(fallo("reading the events"))?;
        Ok(Suma {
            // Two's complement lattice sums below 2⁴⁸: exact in f64.
            sumas: sumas
                .iter()
                .map(|&s| s as i64 as f64 / f64::from(datos::ESCALA))
                .collect(),
            cuentas,
            cambios: u64::from(contadores[0]),
            recomprobadas: u64::from(contadores[1]),
        })
    }
}

impl Paso for PasoCuda<'_> {
    fn asignar(&mut self, centroides: &[f32], _control: &Control) -> Result<Suma, ErrorKernel> {
        let (cc, radio) = normas_de_centroides(centroides, self.d);
        self.preparar(centroides, &cc)?;
        self.lanzar(radio)?;
        self.recoger()
    }

    fn etiquetas(&mut self) -> Result<Vec<u32>, ErrorKernel> {
        bajar(&self.etiquetas, "copying the labels back")
    }
}

/// `‖cⱼ‖²` rounded to `f32`, and `maxⱼ ‖cⱼ‖` rounded up, as `Paralelo` computes them.
fn normas_de_centroides(c: &[f32], d: usize) -> (Vec<f32>, f32) {
    let cc: Vec<f64> = c
        .chunks_exact(d)
        .map(|cj| cj.iter().map(|&v| f64::from(v) * f64::from(v)).sum())
        .collect();
    let radio = cc.iter().fold(0.0f64, |m, &v| m.max(v.sqrt()));
    (
        cc.iter().map(|&v| v as f32).collect(),
        (radio as f32).next_up(),
    )
}

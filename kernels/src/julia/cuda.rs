//! `Cuda` for Julia: the host side of `kernels/cuda/julia.cu`, which computes the image in
//! launches of whole rows and copies the counts back once (through pinned staging memory
//! for large images, `cuda::bajar_en`). It reports the kernel time and the time with the copy,
//! as every `Cuda` kernel does.
//!
//! The kernel is compiled to PTX without fused multiply-adds (`scripts/ptx.py`), and its
//! arithmetic is `julia.rs`'s, operation for operation, so its counts equal `Secuencial`'s.
//!
//! Stopping: a piece is one launch, a band of rows bounded by
//! [`DURACION_POR_LANZAMIENTO_S`] at the GPU's FP64 bound (about 50 ms), and the run's
//! [`Control`] is checked before each.

use std::time::{Duration, Instant};

use comun::trabajo::ParamsJulia;
use cust::launch;
use cust::memory::{DeviceBuffer, DevicePointer};
use rayon::prelude::*;

use super::{C_IM, C_RE, LIMITE_CUADRADO, Rejilla, X1, Y2};
use crate::ErrorKernel;
use crate::control::Control;
use crate::cuda::{Limites, Llamada, Ptx, bajar_en, fallo};

/// The entry point's name in `julia.ptx`.
const FUNCION: &str = "julia";

/// Side of the square of pixels a block covers (`LADO` in julia.cu): 16 × 16 threads.
const LADO: u32 = 16;

/// Longest one launch may run, at worst (every pixel of its rows at `iteraciones`, at the
/// GPU's FP64 bound): long enough that the tail of each launch (its slowest block, while the
/// rest of the GPU idles) costs little, short enough for a display watchdog (2 s).
const DURACION_POR_LANZAMIENTO_S: f64 = 0.05;

/// Most iterations one launch may run where the GPU's FP64 bound is unknown (0.5 s for a GPU
/// with 1/64-rate FP64 and 2·10¹⁰ iterations/s).
const ITERACIONES_POR_LANZAMIENTO_SIN_COTA: u64 = 1 << 33;

pub use super::OPERACIONES_F64_POR_ITERACION;

/// The most iterations per second the FP64 pipes of a GPU with `limites` allow: SMs × FP64
/// lanes × clock ÷ [`OPERACIONES_F64_POR_ITERACION`].
pub fn cota_iteraciones_por_segundo(limites: &Limites) -> Option<f64> {
    limites
        .instrucciones_f64_por_segundo()
        .map(|instrucciones| instrucciones / f64::from(OPERACIONES_F64_POR_ITERACION))
}

/// Most iterations one launch may run: [`DURACION_POR_LANZAMIENTO_S`] at the FP64 bound.
fn iteraciones_por_lanzamiento(limites: &Limites) -> u64 {
    cota_iteraciones_por_segundo(limites)
        .map_or(ITERACIONES_POR_LANZAMIENTO_SIN_COTA, |cota| {
            (cota * DURACION_POR_LANZAMIENTO_S) as u64
        })
        .max(1)
}

/// The counts of one image and how long the GPU took to compute them.
#[derive(Debug, Clone)]
pub struct Medida {
    /// One count per pixel, row-major, as [`Conteos::conteos`](crate::Conteos::conteos).
    pub conteos: Vec<u32>,
    /// From before the first launch to after the last, timed by CUDA events on the GPU: the
    /// job's `duracion_s`.
    pub kernel: Duration,
    /// Copying the counts from the GPU to the host, timed on the host.
    pub copia: Duration,
    /// The whole call, timed by CUDA events: allocation, launches, copy back; the job's
    /// `duracion_con_copias_s`.
    pub con_copias: Duration,
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
/// [`DURACION_POR_LANZAMIENTO_S`], queued on one stream (at most two ahead), then copied back
/// once.
pub fn medir(p: &ParamsJulia) -> Result<Medida, ErrorKernel> {
    medir_con(p, &Control::ninguno())
}

/// [`medir`] under `control`, checked before each launch.
pub fn medir_con(p: &ParamsJulia, control: &Control) -> Result<Medida, ErrorKernel> {
    let llamada = Llamada::new()?;
    let pixeles = p.pixeles() as usize;
    // SAFETY: the launches below write every one of the `pixeles` counts before the copy back.
    let conteos_gpu = unsafe { DeviceBuffer::<u32>::uninitialized(pixeles) }.map_err(fallo(
        &format!("allocating {} MiB on the GPU", (pixeles * 4) >> 20),
    ))?;
    let destino = conteos_gpu.as_device_ptr();
    let (mut conteos, kernel) = mientras_rellena(pixeles, || lanzar(&llamada, p, destino, control));
    let kernel = kernel?;
    let inicio_copia = Instant::now();
    bajar_en(&conteos_gpu, &mut conteos, "copying the counts back")?;
    let copia = inicio_copia.elapsed();
    Ok(Medida {
        conteos,
        kernel,
        copia,
        con_copias: llamada.tiempos(kernel).total,
    })
}

/// Queues the launches that write every count of `p` to `destino` (room for them all), checks
/// `control` before each, and waits for them: their time on the GPU.
fn lanzar(
    llamada: &Llamada,
    p: &ParamsJulia,
    destino: DevicePointer<u32>,
    control: &Control,
) -> Result<Duration, ErrorKernel> {
    let funcion = llamada
        .motor
        .funcion(Ptx::Julia, FUNCION)
        .map_err(fallo("finding the kernel"))?;
    let rejilla = Rejilla::new(p.width, p.height);
    let (width, iteraciones) = (p.width, p.iteraciones);
    let flujo = &llamada.flujo;
    let tope = iteraciones_por_lanzamiento(&llamada.motor.limites());
    let piezas = lanzamientos(p, tope);
    llamada.en_piezas(control, piezas, "running the kernel", |(fila0, filas)| {
        let bloques = (width.div_ceil(LADO), filas.div_ceil(LADO));
        // SAFETY: the arguments match `julia`'s parameters in julia.cu, in order and type
        // (pointer, 4 × u32, 7 × f64), with the LADO × LADO threads a block it expects; every
        // pixel it writes, of rows `fila0 .. fila0 + filas`, lies inside the caller's buffer
        // behind `destino`, which outlives the stream's work (synchronised by `en_piezas`,
        // also when the run stops).
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
    })
}

/// Runs `lanzar` on this thread (it holds the GPU's context and paces the launches) while
/// another thread writes the host's buffer of `pixeles` counts on every core: the first write
/// to each page faults, and faulting inside the copy back would slow it several-fold.
fn mientras_rellena<T>(pixeles: usize, lanzar: impl FnOnce() -> T) -> (Vec<u32>, T) {
    std::thread::scope(|s| {
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
    fn h100_sxm_iteration_bound_follows_the_formula() {
        let cota = cota_iteraciones_por_segundo(&Limites::H100_SXM).unwrap();
        assert!((cota / 1e12 - 1.858).abs() < 0.001, "{cota}");
    }
}

//! `kmeans`: Lloyd's k-means on seeded Gaussian blobs, `f32` data, with the same assignment,
//! centroids and inertia, bit for bit, on every backend.
//!
//! Inputs (`kmeans/datos.rs`): `muestras` points of `dimensiones` coordinates drawn from `k`
//! blobs (centres uniform in `[-10, 10)`, unit variance), on a fixed-point lattice of 2⁻¹⁹
//! so that squared distances are exact integers; k-means++ initial centroids from the same
//! seed, computed on the host in exact arithmetic for every backend.
//!
//! The assignment of a point is defined exactly: the first centroid at the least exact
//! lattice distance. `Secuencial` computes it so; `Paralelo` and `Cuda` compute `f32`
//! distances with a proven error bound and settle the points whose two nearest are within it
//! with exact distances. The update (means rounded to the lattice, an empty cluster keeps its
//! centroid) and the inertia (exact, from the cluster sums) are one shared function
//! (`kmeans/lloyd.rs`). Iterations stop early after the first step, from the second on, in
//! which no point changes cluster.
//!
//! - `Secuencial` (`kmeans/secuencial.rs`): exact distances, one thread.
//! - `Paralelo` (`kmeans/paralelo.rs`): a blocked `f32` product in vector registers on every
//!   core, per-thread `f64` sums.
//! - `Cuda` (`kmeans/cuda.rs`, `kernels/cuda/kmeans.cu`): an assignment kernel (points against
//!   shared-memory tiles of centroids) and a summing kernel (per-block integer sums); the
//!   host updates the centroids between steps.
//!
//! Kernel time: the Lloyd steps (for `Paralelo` with its per-job set-up, the point norms), not
//! the data or the initialisation; on `Cuda` the two kernels of each step on the GPU's clock,
//! and the whole call with the copy of the points in `duracion_con_copias`. Agreement and
//! speed: docs/kernels.md, section `kmeans`. Stopping
//! ([`Control`]): before each step; within one, `Secuencial` every 2²² coordinate
//! differences, `Paralelo` before each chunk of at most 504 points, `Cuda` between steps.

#[cfg(feature = "cuda")]
mod cuda;
pub mod datos;
mod lloyd;
mod paralelo;
mod secuencial;

use std::time::{Duration, Instant};

use comun::api::Detalle;
use comun::trabajo::ParamsKmeans;
use comun::{Algoritmo, ErrorCampo};

use crate::salida::por_segundo;
use crate::{Control, ErrorKernel, Salida};
pub use datos::Datos;
use lloyd::{Paso, Recorrido};

/// Whether the kernel has a GPU version (must match `comun::Tipo::tiene_cuda`).
pub const CUDA: bool = true;

/// A finished run.
#[derive(Debug, Clone, PartialEq)]
pub struct Agrupamiento {
    /// The centroids after the last step, row-major `k × dimensiones`.
    pub centroides: Vec<f32>,
    /// The cluster of each point in the last step.
    pub etiquetas: Vec<u32>,
    /// The inertia (sum of squared distances to the assigned centroid) of each step.
    pub inercia: Vec<f64>,
    /// Steps run.
    pub iteraciones: u32,
    /// Points whose nearest centroid was settled with exact distances, over all steps.
    pub recomprobadas: u64,
    /// Kernel time (see the module's documentation).
    pub duracion: Duration,
    /// On a GPU, with the copies and allocations; `None` on the CPU.
    pub con_copias: Option<Duration>,
}

impl Agrupamiento {
    /// `Σ` of the final centroids' coordinates, in `f64`, in order.
    pub fn checksum(&self) -> f64 {
        self.centroides.iter().map(|&v| f64::from(v)).sum()
    }
}

/// Runs the job on `algoritmo`, checking `control` between chunks of work.
pub fn ejecutar(
    p: &ParamsKmeans,
    algoritmo: Algoritmo,
    control: &Control,
) -> Result<Salida, ErrorKernel> {
    let a = kmeans_con(p, algoritmo, control)?;
    let operaciones = 3.0
        * f64::from(p.muestras)
        * f64::from(p.k)
        * f64::from(p.dimensiones)
        * f64::from(a.iteraciones);
    let detalle = Detalle::Kmeans {
        muestras: p.muestras,
        k: p.k,
        iteraciones: a.iteraciones,
        checksum: a.checksum(),
        gflops: por_segundo(operaciones, a.duracion) / 1e9,
        inercia: a.inercia,
    };
    Ok(Salida {
        duracion: a.duracion,
        duracion_con_copias: a.con_copias,
        ..Salida::cpu(a.duracion, detalle)
    })
}

/// Clusters the blobs of `p` on `algoritmo`.
pub fn kmeans(p: &ParamsKmeans, algoritmo: Algoritmo) -> Result<Agrupamiento, ErrorKernel> {
    kmeans_con(p, algoritmo, &Control::ninguno())
}

/// [`kmeans`] under `control`, checked as the module's documentation says.
pub fn kmeans_con(
    p: &ParamsKmeans,
    algoritmo: Algoritmo,
    control: &Control,
) -> Result<Agrupamiento, ErrorKernel> {
    p.validado()?;
    control.comprobar()?;
    #[cfg(not(feature = "cuda"))]
    if algoritmo == Algoritmo::Cuda {
        return Err(ErrorKernel::NoDisponible(crate::SIN_CUDA.into()));
    }
    #[cfg(feature = "cuda")]
    if algoritmo == Algoritmo::Cuda {
        crate::cuda::motor()?;
    }
    let datos = Datos::con(p, control)?;
    let iniciales = datos::iniciales(&datos, p.k as usize, p.semilla, control)?;
    agrupar(&datos, iniciales, p.iteraciones, algoritmo, control)
}

/// Up to `iteraciones` Lloyd steps over `datos` from `iniciales` (`k × dimensiones`,
/// row-major) on `algoritmo`. Every value must be a point of the lattice
/// ([`datos::en_la_red`]), as the job's own blobs are.
pub fn agrupar(
    datos: &Datos,
    iniciales: Vec<f32>,
    iteraciones: u32,
    algoritmo: Algoritmo,
    control: &Control,
) -> Result<Agrupamiento, ErrorKernel> {
    validar(datos, &iniciales)?;
    let inicio = Instant::now();
    let normas = datos::suma_de_normas(datos);
    let d = datos.dimensiones;
    let k = iniciales.len() / d;
    match algoritmo {
        Algoritmo::Secuencial => {
            let mut paso = secuencial::Secuencial::new(datos);
            let r = lloyd::lloyd(&mut paso, iniciales, d, normas, iteraciones, control)?;
            terminar(r, &mut paso, inicio.elapsed(), None)
        }
        #[cfg(feature = "cuda")]
        Algoritmo::Cuda => cuda::agrupar(datos, iniciales, normas, iteraciones, control),
        #[cfg(not(feature = "cuda"))]
        Algoritmo::Cuda => Err(ErrorKernel::NoDisponible(crate::SIN_CUDA.into())),
        Algoritmo::Paralelo | Algoritmo::Auto => {
            let mut paso = paralelo::Paralelo::new(datos, k);
            let r = lloyd::lloyd(&mut paso, iniciales, d, normas, iteraciones, control)?;
            terminar(r, &mut paso, inicio.elapsed(), None)
        }
    }
}

/// The shapes [`agrupar`] needs, and the lattice.
fn validar(datos: &Datos, iniciales: &[f32]) -> Result<(), ErrorKernel> {
    let d = datos.dimensiones;
    if d == 0 || datos.muestras == 0 || datos.x.len() != datos.muestras * d {
        let forma = format!("{} × {}", datos.muestras, d);
        let mensaje = format!("{} values do not make {forma} points", datos.x.len());
        return Err(ErrorCampo::new("datos", mensaje).into());
    }
    if iniciales.is_empty() || !iniciales.len().is_multiple_of(d) {
        let mensaje = format!("{} values are not whole centroids of {d}", iniciales.len());
        return Err(ErrorCampo::new("iniciales", mensaje).into());
    }
    datos::en_la_red(&datos.x, "datos")?;
    datos::en_la_red(iniciales, "iniciales")?;
    Ok(())
}

/// The run's result from the iterations' and the step's final assignment.
fn terminar(
    r: Recorrido,
    paso: &mut impl Paso,
    duracion: Duration,
    con_copias: Option<Duration>,
) -> Result<Agrupamiento, ErrorKernel> {
    Ok(Agrupamiento {
        centroides: r.centroides,
        etiquetas: paso.etiquetas()?,
        inercia: r.inercia,
        iteraciones: r.iteraciones,
        recomprobadas: r.recomprobadas,
        duracion,
        con_copias,
    })
}

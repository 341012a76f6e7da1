//! `red_neuronal`: trains a multi-layer perceptron on a seeded synthetic classification set
//! and reports its loss curve and accuracy.
//!
//! The network: inputs of `dimensiones`, the hidden layers `capas` (each `z = x·W + b`, then
//! ReLU), an output layer of `clases` logits, softmax cross-entropy. The data ([`datos`]):
//! `muestras` points of `conjunto` (Gaussian blobs, or 2-D spiral arms), class `i mod clases`,
//! the last fifth held out. The weights are He-initialised from the seed, the biases zero. Each
//! epoch visits the training samples in an order drawn from the seed, in minibatches of `lote`
//! (the last one shorter; `lote` above the training set's size is the whole set), and each
//! minibatch updates the weights once by the gradient of its mean loss, with SGD or Adam
//! (β₁ = 0.9, β₂ = 0.999, ε = 10⁻⁸). All in `f32`.
//!
//! Reported: the mean loss of each epoch (the minibatches' losses before their updates, summed
//! in `f64` in visiting order, over the training set's size), the accuracy on the training and
//! held-out sets after the last epoch, training samples per second and GFLOP/s of the
//! training's matrix products ([`Arquitectura::flops_por_muestra`]). The time is the training
//! loop's (not the data, nor the final accuracy).
//!
//! - `Secuencial`: plain loops, one thread (`red_neuronal/cpu.rs`, `producto.rs`,
//!   `elementos.rs`).
//! - `Paralelo`: the same loop with the products through gemm on every core and the
//!   elementwise work in vector registers, spread over the cores when large.
//! - `Cuda`: `kernels/cuda/red_neuronal.cu` (tiled products, bias and ReLU, softmax
//!   cross-entropy, the update), the whole loop on the GPU; host side `red_neuronal/cuda.rs`.
//!
//! Agreement ([`TOLERANCIA_PERDIDA`], [`MARGEN_PRECISION`]): the backends differ only in the
//! order of the `f32` sums inside the matrix products (and fused multiply-adds), so each
//! epoch's loss agrees within a relative tolerance and the accuracies within a margin; see
//! docs/kernels.md, section `red_neuronal`, for why these bounds.
//!
//! Stopping ([`Control`]): checked before every minibatch and before each block of
//! [`cpu::FILAS_EVALUACION`] samples of the final accuracy (`Cuda`: between pieces of a few
//! minibatches).

pub mod datos;

mod cpu;
#[cfg(feature = "cuda")]
mod cuda;
mod elementos;
mod producto;

use std::ops::Range;
use std::time::{Duration, Instant};

use comun::api::Detalle;
use comun::trabajo::{Optimizador, ParamsRedNeuronal};
use comun::{Algoritmo, ErrorCampo};

use crate::salida::por_segundo;
use crate::{Control, ErrorKernel, Salida};
use cpu::Cpu;

/// Whether the kernel has a GPU version (must match `comun::Tipo::tiene_cuda`).
pub const CUDA: bool = true;

/// Largest relative difference between two backends' mean loss of the same epoch, relative to
/// the first epoch's loss (docs/kernels.md says why).
pub const TOLERANCIA_PERDIDA: f64 = 0.02;

/// Largest difference between two backends' accuracies (a fraction of the samples).
pub const MARGEN_PRECISION: f64 = 0.02;

/// A layer: its sizes and where its parameters lie in the flat parameter vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capa {
    /// Inputs.
    pub entrada: usize,
    /// Outputs.
    pub salida: usize,
    /// Where its weights (`entrada × salida`, row-major) start; its `salida` biases follow.
    pub desde: usize,
}

impl Capa {
    /// Its weights in the parameter vector.
    pub fn pesos(&self) -> Range<usize> {
        self.desde..self.desde + self.entrada * self.salida
    }

    /// Its biases in the parameter vector.
    pub fn sesgos(&self) -> Range<usize> {
        let fin = self.pesos().end;
        fin..fin + self.salida
    }
}

/// The network's shape: the sizes of its layers and the layout of its parameters, one flat
/// vector `[W₁, b₁, W₂, b₂, …]`, which every backend shares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arquitectura {
    /// `[dimensiones, capas…, clases]`.
    tallas: Vec<usize>,
    /// One per product: the hidden layers and the output layer.
    capas: Vec<Capa>,
}

impl Arquitectura {
    /// The network of a job.
    pub fn new(p: &ParamsRedNeuronal) -> Self {
        let mut tallas = vec![p.dimensiones as usize];
        tallas.extend(p.capas.iter().map(|&c| c as usize));
        tallas.push(p.clases as usize);
        let mut desde = 0;
        let capas = tallas
            .windows(2)
            .map(|par| {
                let capa = Capa {
                    entrada: par[0],
                    salida: par[1],
                    desde,
                };
                desde = capa.sesgos().end;
                capa
            })
            .collect();
        Self { tallas, capas }
    }

    /// `[dimensiones, capas…, clases]`.
    pub fn tallas(&self) -> &[usize] {
        &self.tallas
    }

    /// The layers, input side first.
    pub fn capas(&self) -> &[Capa] {
        &self.capas
    }

    /// Weights and biases.
    pub fn parametros(&self) -> usize {
        self.capas.last().map_or(0, |c| c.sesgos().end)
    }

    /// The widest layer (inputs and outputs included).
    pub fn mayor(&self) -> usize {
        self.tallas.iter().copied().max().unwrap_or(0)
    }

    /// Floating-point operations of the matrix products of one sample's training step: the
    /// forward product (`2·in·out` a layer), the weights' gradient (`2·in·out`), and the
    /// gradient sent back (`2·in·out`, every layer but the first).
    pub fn flops_por_muestra(&self) -> f64 {
        let productos: f64 = self
            .capas
            .iter()
            .map(|c| (c.entrada * c.salida) as f64)
            .sum();
        let primera = self
            .capas
            .first()
            .map_or(0.0, |c| (c.entrada * c.salida) as f64);
        6.0 * productos - 2.0 * primera
    }
}

/// How a job trains, as every backend needs it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ajustes {
    /// Seed of the order of the minibatches and of the initial weights.
    pub semilla: u64,
    /// Epochs.
    pub epocas: u32,
    /// Rows of a minibatch: the job's `lote`, at most the training set.
    pub lote: usize,
    /// Adam (else SGD).
    pub adam: bool,
    /// Learning rate.
    pub tasa: f32,
}

impl Ajustes {
    /// The settings of a job training on `entrenamiento` samples.
    fn new(p: &ParamsRedNeuronal, entrenamiento: usize) -> Self {
        Self {
            semilla: p.semilla,
            epocas: p.epocas,
            lote: (p.lote as usize).min(entrenamiento),
            adam: p.optimizador == Optimizador::Adam,
            tasa: p.tasa,
        }
    }

    /// Epoch `epoca`'s mean loss from the sum of its `n` samples' losses; an error naming the
    /// learning rate when it is not finite (the training diverged).
    fn media(&self, epoca: u32, suma: f64, n: usize) -> Result<f64, ErrorKernel> {
        let media = suma / n as f64;
        if media.is_finite() {
            return Ok(media);
        }
        Err(ErrorCampo::new(
            "tasa",
            format!(
                "the training diverged: the mean loss of epoch {} is {media}; a smaller \
                 learning rate than {} may converge",
                epoca + 1,
                self.tasa
            ),
        )
        .into())
    }
}

/// What a training produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Entrenamiento {
    /// Mean training loss of each epoch.
    pub perdida: Vec<f64>,
    /// Accuracy on the training set after the last epoch.
    pub precision_entrenamiento: f64,
    /// Accuracy on the held-out set.
    pub precision_prueba: f64,
    /// The trained weights and biases, laid out as [`Arquitectura`] says.
    pub parametros: Vec<f32>,
    /// Training samples visited (`epocas ×` the training set).
    pub muestras_vistas: f64,
    /// Floating-point operations of the training's matrix products.
    pub flops: f64,
    /// The training loop's time (on the GPU's clock for `Cuda`, without copies).
    pub duracion: Duration,
    /// `Cuda`: with the copies of the data, the weights and the results; `None` on a CPU.
    pub con_copias: Option<Duration>,
}

/// Trains the job's network on `algoritmo` under `control`.
pub fn entrenar(
    p: &ParamsRedNeuronal,
    algoritmo: Algoritmo,
    control: &Control,
) -> Result<Entrenamiento, ErrorKernel> {
    let p = p.clone().validado()?;
    let arquitectura = Arquitectura::new(&p);
    let ajustes = Ajustes::new(&p, p.entrenamiento() as usize);
    control.comprobar()?;
    let cpu = match algoritmo {
        Algoritmo::Secuencial => Cpu::Secuencial,
        Algoritmo::Cuda => return entrenar_en_gpu(&p, &arquitectura, &ajustes, control),
        _ => Cpu::Paralelo,
    };
    let (entrenamiento, prueba) = datos::conjuntos(&p);
    let inicio = Instant::now();
    let (perdida, w) = cpu::entrenar(&arquitectura, &ajustes, &entrenamiento, cpu, control)?;
    let duracion = inicio.elapsed();
    let muestras_vistas = entrenamiento.len() as f64 * f64::from(p.epocas);
    Ok(Entrenamiento {
        precision_entrenamiento: cpu::precision(&arquitectura, &w, &entrenamiento, cpu, control)?,
        precision_prueba: cpu::precision(&arquitectura, &w, &prueba, cpu, control)?,
        perdida,
        parametros: w,
        muestras_vistas,
        flops: muestras_vistas * arquitectura.flops_por_muestra(),
        duracion,
        con_copias: None,
    })
}

/// `Cuda`, or why there is none in this build.
fn entrenar_en_gpu(
    p: &ParamsRedNeuronal,
    arquitectura: &Arquitectura,
    ajustes: &Ajustes,
    control: &Control,
) -> Result<Entrenamiento, ErrorKernel> {
    #[cfg(feature = "cuda")]
    return cuda::entrenar(p, arquitectura, ajustes, control);
    #[cfg(not(feature = "cuda"))]
    {
        let _ = (p, arquitectura, ajustes, control);
        Err(ErrorKernel::NoDisponible(crate::SIN_CUDA.into()))
    }
}

/// Runs the job on `algoritmo`, checking `control` between chunks of work.
pub fn ejecutar(
    p: &ParamsRedNeuronal,
    algoritmo: Algoritmo,
    control: &Control,
) -> Result<Salida, ErrorKernel> {
    let r = entrenar(p, algoritmo, control)?;
    let detalle = Detalle::RedNeuronal {
        muestras_por_segundo: por_segundo(r.muestras_vistas, r.duracion),
        gflops: por_segundo(r.flops, r.duracion) / 1e9,
        perdida: r.perdida,
        precision_entrenamiento: r.precision_entrenamiento,
        precision_prueba: r.precision_prueba,
    };
    Ok(Salida {
        duracion_con_copias: r.con_copias,
        ..Salida::cpu(r.duracion, detalle)
    })
}

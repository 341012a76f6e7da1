//! `Secuencial` and `Paralelo` for red_neuronal: the training loop on the CPU, and the
//! accuracy of the trained network.
//!
//! Both run the same steps with the same elementwise arithmetic ([`super::elementos`]); they
//! differ in the matrix products only ([`super::producto`]): `Secuencial` uses the plain loops
//! on one thread, `Paralelo` gemm on every core and the elementwise work in vector registers,
//! spread over the cores when the arrays are large. The accuracy is measured in blocks of
//! [`FILAS_EVALUACION`] samples, which `Paralelo` spreads over the cores.

use rayon::prelude::*;

use super::datos::{Datos, orden, parametros_iniciales};
use super::elementos::{
    Optimizacion, aciertos, mascara_relu, sesgo_relu, softmax_entropia, sumar_columnas,
};
use super::producto::{Forma, Motor, producto};
use super::{Ajustes, Arquitectura};
use crate::ErrorKernel;
use crate::control::Control;

/// Samples whose accuracy is measured together (and between two checks of the control).
pub const FILAS_EVALUACION: usize = 1024;

/// Which CPU backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cpu {
    /// Plain loops, one thread.
    Secuencial,
    /// gemm and vector loops on every core.
    Paralelo,
}

impl Cpu {
    /// The products' engine for the training steps.
    fn motor(self) -> Motor {
        match self {
            Cpu::Secuencial => Motor::Bucles,
            Cpu::Paralelo => Motor::GemmTodos,
        }
    }

    /// Whether the elementwise work may use every core.
    fn paralelo(self) -> bool {
        self == Cpu::Paralelo
    }
}

/// One minibatch's arrays: its inputs, every layer's output, and the gradients flowing back.
struct Lote {
    /// The minibatch's rows of the training inputs.
    entrada: Vec<f32>,
    /// Their classes.
    y: Vec<u32>,
    /// Each layer's output (ReLU applied on hidden layers; the last are the logits).
    salidas: Vec<Vec<f32>>,
    /// The gradient of the loss with respect to the current layer's pre-activation.
    delta: Vec<f32>,
    /// The gradient being computed for the layer below.
    delta_abajo: Vec<f32>,
    /// Each row's loss.
    perdidas: Vec<f32>,
}

impl Lote {
    /// Arrays for up to `filas` rows of `arquitectura`.
    fn new(arquitectura: &Arquitectura, filas: usize) -> Self {
        let tallas = arquitectura.tallas();
        let ancho = arquitectura.mayor();
        Self {
            entrada: vec![0.0; filas * tallas[0]],
            y: vec![0; filas],
            salidas: tallas[1..].iter().map(|t| vec![0.0; filas * t]).collect(),
            delta: vec![0.0; filas * ancho],
            delta_abajo: vec![0.0; filas * ancho],
            perdidas: vec![0.0; filas],
        }
    }
}

/// Trains the network of `arquitectura` on `datos` as the module's documentation says: each
/// epoch's mean loss and the trained parameters. `control` is checked before each minibatch.
pub fn entrenar(
    arquitectura: &Arquitectura,
    ajustes: &Ajustes,
    datos: &Datos,
    cpu: Cpu,
    control: &Control,
) -> Result<(Vec<f64>, Vec<f32>), ErrorKernel> {
    let mut w = parametros_iniciales(arquitectura, ajustes.semilla);
    let mut g = vec![0.0f32; w.len()];
    let mut optimizacion = Optimizacion::new(ajustes.adam, ajustes.tasa, w.len());
    let lote = ajustes.lote;
    let mut arrays = Lote::new(arquitectura, lote);
    let mut perdida = Vec::with_capacity(ajustes.epocas as usize);
    for epoca in 0..ajustes.epocas {
        let mut suma = 0.0f64;
        for indices in orden(ajustes.semilla, epoca, datos.len()).chunks(lote) {
            control.comprobar()?;
            reunir(datos, indices, &mut arrays);
            suma += paso(arquitectura, &w, &mut g, &mut arrays, indices.len(), cpu);
            optimizacion.actualizar(&mut w, &g, cpu.paralelo());
        }
        perdida.push(ajustes.media(epoca, suma, datos.len())?);
    }
    Ok((perdida, w))
}

/// Copies the minibatch's rows and classes into its arrays.
fn reunir(datos: &Datos, indices: &[u32], arrays: &mut Lote) {
    let d = datos.dimensiones;
    for (k, &i) in indices.iter().enumerate() {
        let i = i as usize;
        arrays.entrada[k * d..(k + 1) * d].copy_from_slice(&datos.x[i * d..(i + 1) * d]);
        arrays.y[k] = datos.y[i];
    }
}

/// One training step on the `filas` rows gathered in `arrays`: forward, loss, backward; the
/// gradient of the minibatch's mean loss into `g`. Returns the sum of the rows' losses, in
/// `f64`, in row order.
fn paso(
    arquitectura: &Arquitectura,
    w: &[f32],
    g: &mut [f32],
    arrays: &mut Lote,
    filas: usize,
    cpu: Cpu,
) -> f64 {
    let (motor, paralelo) = (cpu.motor(), cpu.paralelo());
    let capas = arquitectura.capas();
    let entrada = &arrays.entrada[..filas * capas[0].entrada];
    hacia_delante(
        arquitectura,
        w,
        entrada,
        &mut arrays.salidas,
        filas,
        motor,
        paralelo,
    );
    let clases = capas[capas.len() - 1].salida;
    let logits = &arrays.salidas[capas.len() - 1][..filas * clases];
    softmax_entropia(
        logits,
        &arrays.y[..filas],
        1.0 / filas as f32,
        &mut arrays.delta[..filas * clases],
        &mut arrays.perdidas[..filas],
        paralelo,
    );
    for (l, capa) in capas.iter().enumerate().rev() {
        let x = if l == 0 {
            entrada
        } else {
            &arrays.salidas[l - 1][..]
        };
        let delta = &arrays.delta[..filas * capa.salida];
        let forma = (capa.entrada, capa.salida, filas);
        producto(motor, Forma::Tn, forma, x, delta, &mut g[capa.pesos()]);
        sumar_columnas(delta, &mut g[capa.sesgos()]);
        if l > 0 {
            let abajo = &mut arrays.delta_abajo[..filas * capa.entrada];
            let forma = (filas, capa.entrada, capa.salida);
            producto(motor, Forma::Nt, forma, delta, &w[capa.pesos()], abajo);
            mascara_relu(abajo, x, capa.entrada, paralelo);
            std::mem::swap(&mut arrays.delta, &mut arrays.delta_abajo);
        }
    }
    arrays.perdidas[..filas].iter().map(|&p| f64::from(p)).sum()
}

/// The forward pass of `filas` rows of `entrada`: every layer's output into `salidas`.
fn hacia_delante(
    arquitectura: &Arquitectura,
    w: &[f32],
    entrada: &[f32],
    salidas: &mut [Vec<f32>],
    filas: usize,
    motor: Motor,
    paralelo: bool,
) {
    let capas = arquitectura.capas();
    for (l, capa) in capas.iter().enumerate() {
        let (antes, despues) = salidas.split_at_mut(l);
        let x = if l == 0 { entrada } else { &antes[l - 1][..] };
        let z = &mut despues[0][..filas * capa.salida];
        let forma = (filas, capa.salida, capa.entrada);
        producto(motor, Forma::Nn, forma, x, &w[capa.pesos()], z);
        sesgo_relu(z, &w[capa.sesgos()], l + 1 < capas.len(), paralelo);
    }
}

/// The fraction of `datos` the network `w` classifies right, in blocks of
/// [`FILAS_EVALUACION`] rows (`control` checked before each).
pub fn precision(
    arquitectura: &Arquitectura,
    w: &[f32],
    datos: &Datos,
    cpu: Cpu,
    control: &Control,
) -> Result<f64, ErrorKernel> {
    let d = datos.dimensiones;
    let bloque = |(x, y): (&[f32], &[u32])| {
        control.comprobar()?;
        let mut salidas: Vec<Vec<f32>> = arquitectura.tallas()[1..]
            .iter()
            .map(|t| vec![0.0; y.len() * t])
            .collect();
        let motor = match cpu {
            Cpu::Secuencial => Motor::Bucles,
            Cpu::Paralelo => Motor::GemmUnHilo,
        };
        hacia_delante(arquitectura, w, x, &mut salidas, y.len(), motor, false);
        Ok::<_, ErrorKernel>(aciertos(&salidas[salidas.len() - 1], y))
    };
    let bloques = datos
        .x
        .chunks(FILAS_EVALUACION * d)
        .zip(datos.y.chunks(FILAS_EVALUACION));
    let bien: u64 = match cpu {
        Cpu::Secuencial => bloques.map(bloque).sum::<Result<_, _>>()?,
        Cpu::Paralelo => {
            let bloques: Vec<_> = bloques.collect();
            bloques.into_par_iter().map(bloque).sum::<Result<_, _>>()?
        }
    };
    Ok(bien as f64 / datos.len().max(1) as f64)
}

//! The Julia set kernel: its exact definition, the result type and the `Secuencial` reference.
//!
//! Every backend computes the same image pixel for pixel. The shared pieces live here so that
//! they cannot drift apart:
//!
//! - `Rejilla` places pixel `(k, j)` at its starting point `z₀` in the complex plane;
//! - `paso` is the one update `z ← z² + c`, written in one fixed expression order;
//! - `sigue_dentro` is the one escape test `|z|² < 4`.
//!
//! Backends may reorganise *which* pixels they work on at a time, never the arithmetic.
//! `Secuencial` is here; `Paralelo` (every core, vector lanes) is in `julia/paralelo.rs`,
//! `Cuda`'s host code in `julia/cuda.rs` (feature `cuda`), and the PNG's colours in
//! `julia/color.rs`.

mod color;
#[cfg(feature = "cuda")]
pub mod cuda;
mod paralelo;

use comun::Algoritmo;
use comun::trabajo::ParamsJulia;

use crate::ErrorKernel;
use crate::control::{Contador, Control};

/// FP64 instructions per iteration of the `Cuda` kernel's loop, counted in `julia.ptx`: 4
/// multiplies (one of them `2·zr`, written as an add), 4 adds or subtracts and 1 compare. With
/// the GPU's FP64 rate it bounds the iterations per second (`cuda::cota_iteraciones_por_segundo`,
/// and `cliente benchmark`'s throughput against the device's limit).
pub const OPERACIONES_F64_POR_ITERACION: u32 = 9;

/// Real part of the constant `c` in `z ← z² + c`.
pub const C_RE: f64 = -0.62772;
/// Imaginary part of the constant `c` in `z ← z² + c`.
pub const C_IM: f64 = -0.42193;
/// Left edge of the region drawn: `x` of column 0.
pub const X1: f64 = -1.8;
/// Right edge of the region drawn (exclusive).
pub const X2: f64 = 1.8;
/// Bottom edge of the region drawn (exclusive).
pub const Y1: f64 = -1.8;
/// Top edge of the region drawn: `y` of row 0.
pub const Y2: f64 = 1.8;
/// A point whose squared modulus reaches this has escaped.
pub const LIMITE_CUADRADO: f64 = 4.0;

/// Image shapes that catch a backend's edge cases: single pixels, single rows and columns, odd
/// sizes, blocks and vector groups cut ragged by the image's edge. The crate's tests and the
/// GPU self-test (`autoprueba`) check every backend against `Secuencial` on each.
pub const FORMAS_DE_PRUEBA: [(u32, u32); 10] = [
    (1, 1),
    (1, 7),
    (7, 1),
    (3, 5),
    (17, 9),
    (33, 31),
    (64, 48),
    (100, 3),
    (255, 1),
    (1, 100),
];

/// Iteration counts of a Julia image, row-major: `conteos[j * width + k]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conteos {
    /// Pixels per row.
    pub width: u32,
    /// Rows.
    pub height: u32,
    /// One count per pixel, in `0 ..= iteraciones`; `iteraciones` means it never escaped.
    pub conteos: Vec<u32>,
}

impl Conteos {
    /// Sum of every pixel's count: the checksum all backends agree on, and the number of
    /// iterations the kernel performed.
    pub fn suma(&self) -> u64 {
        self.conteos.iter().map(|&c| u64::from(c)).sum()
    }

    /// The image as an RGB8 PNG: black where the point never escaped, a smooth palette
    /// (log-scaled by `count / iteraciones`) elsewhere.
    pub fn png(&self, iteraciones: u32) -> Vec<u8> {
        color::png(self, iteraciones)
    }
}

/// Iterations `Secuencial` computes between two checks of its [`Control`]: about 10 ms.
const ITERACIONES_ENTRE_COMPROBACIONES: u64 = 1 << 22;

/// Computes the Julia image with the chosen backend.
///
/// `Cuda` runs on the GPU when this crate is built with the `cuda` feature and a usable GPU
/// is present; otherwise it is answered with [`ErrorKernel::NoDisponible`], saying why.
pub fn julia(p: &ParamsJulia, algoritmo: Algoritmo) -> Result<Conteos, ErrorKernel> {
    julia_con(p, algoritmo, &Control::ninguno())
}

/// [`julia`] under `control`: `Secuencial` checks it every few million iterations, `Paralelo`
/// before each block of pixels, `Cuda` before each launch of a band of rows.
pub fn julia_con(
    p: &ParamsJulia,
    algoritmo: Algoritmo,
    control: &Control,
) -> Result<Conteos, ErrorKernel> {
    ParamsJulia::new(p.width, p.height, p.iteraciones)?;
    control.comprobar()?;
    let conteos = match algoritmo {
        Algoritmo::Secuencial => secuencial(p, control)?,
        Algoritmo::Paralelo | Algoritmo::Auto => paralelo::paralelo(p, control)?,
        #[cfg(feature = "cuda")]
        Algoritmo::Cuda => cuda::julia(p, control)?,
        #[cfg(not(feature = "cuda"))]
        Algoritmo::Cuda => {
            return Err(ErrorKernel::NoDisponible(crate::SIN_CUDA.into()));
        }
    };
    Ok(Conteos {
        width: p.width,
        height: p.height,
        conteos,
    })
}

/// Where each pixel of a `width × height` image starts in the complex plane.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rejilla {
    /// Distance between neighbouring columns, `(X2 − X1) / width`.
    pub(crate) dx: f64,
    /// Distance between neighbouring rows, `(Y2 − Y1) / height`.
    pub(crate) dy: f64,
}

impl Rejilla {
    pub(crate) fn new(width: u32, height: u32) -> Self {
        Self {
            dx: (X2 - X1) / f64::from(width),
            dy: (Y2 - Y1) / f64::from(height),
        }
    }

    /// `z₀` of pixel `(k, j)` as `(re, im)`: column `k` from the left, row `j` from the top.
    #[inline(always)]
    pub(crate) fn inicio(&self, k: u32, j: u32) -> (f64, f64) {
        (X1 + f64::from(k) * self.dx, Y2 - f64::from(j) * self.dy)
    }
}

/// Whether a point with squared components `zr2 = zr²`, `zi2 = zi²` has not escaped yet.
#[inline(always)]
pub(crate) fn sigue_dentro(zr2: f64, zi2: f64) -> bool {
    zr2 + zi2 < LIMITE_CUADRADO
}

/// One update `z ← z² + c`, given `z` and its squared components `zr2 = zr²`, `zi2 = zi²`.
///
/// Every backend uses exactly this expression, so their results are bit-identical.
#[inline(always)]
pub(crate) fn paso(zr: f64, zi: f64, zr2: f64, zi2: f64) -> (f64, f64) {
    (zr2 - zi2 + C_RE, 2.0 * zr * zi + C_IM)
}

/// The count of one point: updates made while `count < iteraciones` and `|z|² < 4`.
#[inline(always)]
pub(crate) fn conteo(zr0: f64, zi0: f64, iteraciones: u32) -> u32 {
    let (mut zr, mut zi) = (zr0, zi0);
    let mut n = 0;
    while n < iteraciones {
        let (zr2, zi2) = (zr * zr, zi * zi);
        if !sigue_dentro(zr2, zi2) {
            break;
        }
        (zr, zi) = paso(zr, zi, zr2, zi2);
        n += 1;
    }
    n
}

/// `Secuencial`: one thread, one pixel at a time. The reference every backend must match.
/// Checks `control` every [`ITERACIONES_ENTRE_COMPROBACIONES`] iterations (a pixel counts its
/// iterations plus one).
fn secuencial(p: &ParamsJulia, control: &Control) -> Result<Vec<u32>, ErrorKernel> {
    let rejilla = Rejilla::new(p.width, p.height);
    let mut conteos = Vec::with_capacity(p.pixeles() as usize);
    let mut contador = Contador::new(control, ITERACIONES_ENTRE_COMPROBACIONES);
    for j in 0..p.height {
        for k in 0..p.width {
            let (zr, zi) = rejilla.inicio(k, j);
            let n = conteo(zr, zi, p.iteraciones);
            conteos.push(n);
            contador.avanzar(u64::from(n) + 1)?;
        }
    }
    Ok(conteos)
}

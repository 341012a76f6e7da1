//! The `imagen` job kernel: a chain of filters over an 8-bit RGB or RGBA image, either a PNG
//! uploaded with `POST /imagenes` (decoded and checked by [`comun::imagenes`]) or a generated
//! test image ([`prueba`]), into a PNG of the same size and channels.
//!
//! The filters, applied in order to the three colour channels as `f32` planes (alpha, if any,
//! passes through untouched):
//!
//! - `desenfoque`: Gaussian blur of `sigma` pixels, separable: a horizontal pass, then a
//!   vertical one, each over `2r + 1` taps with `r = ⌈3σ⌉` ([`pesos_gaussianos`]); pixels past
//!   an edge are the edge's own (clamped).
//! - `sobel`: edge magnitude `√(gx² + gy²)` of the 3 × 3 Sobel operators ([`sobel`]), edges
//!   clamped, at most 255.
//! - `enfocar`: the 3 × 3 sharpening kernel `5c − up − left − right − down` ([`enfocar`]), clamped
//!   to `0 ..= 255`.
//! - `grises`: Rec. 601 (BT.601) luma `0.299 R + 0.587 G + 0.114 B` ([`luma`]) to every channel.
//!
//! The result is rounded once, at the end ([`cuantizar`]). Every backend computes the same `f32`
//! operations in the same order for every pixel: the per-pixel expressions are the functions
//! here, which `Secuencial` (`imagen/secuencial.rs`) and `Paralelo` (`imagen/paralelo.rs`, vector
//! lanes across pixels) call and `kernels/cuda/imagen.cu` writes out operation for operation,
//! compiled without fused multiply-adds. docs/kernels.md says why the backends are held to ±1
//! per channel.
//!
//! Kernel time is from the interleaved 8-bit input to the interleaved 8-bit output (splitting
//! into planes, the chain, rounding back), without decoding, generating or encoding a PNG.

#[cfg(feature = "cuda")]
mod cuda;
mod paralelo;
mod planos;
pub mod prueba;
mod secuencial;

use std::time::{Duration, Instant};

use comun::Algoritmo;
use comun::api::Detalle;
use comun::imagenes::{FormaPng, Pixeles};
use comun::trabajo::{Filtro, ParamsImagen};

use crate::salida::por_segundo;
use crate::{Control, ErrorKernel, Salida};
pub use planos::Planos;

/// Whether the kernel has a GPU version (must match `comun::Tipo::tiene_cuda`).
pub const CUDA: bool = true;

/// Rec. 601 luma weights of R, G and B.
pub const LUMA: [f32; 3] = [0.299, 0.587, 0.114];

/// Runs the job on `algoritmo` over `entrada` (the uploaded PNG's bytes; `None`: the generated
/// image), checking `control` between chunks of work.
pub fn ejecutar(
    p: &ParamsImagen,
    entrada: Option<&[u8]>,
    algoritmo: Algoritmo,
    control: &Control,
) -> Result<Salida, ErrorKernel> {
    let p = p.clone().validado()?;
    let imagen = match (p.entrada, entrada) {
        (Some(_), Some(png)) => comun::imagenes::decodificar_png(png)?,
        (None, None) => prueba::generar(p.width, p.height),
        (Some(id), None) => {
            return Err(ErrorKernel::Parametros(comun::ErrorCampo::new(
                "entrada",
                format!("the job names uploaded image {id}, but its PNG was not handed over"),
            )));
        }
        (None, Some(_)) => {
            return Err(ErrorKernel::Parametros(comun::ErrorCampo::new(
                "entrada",
                "a PNG was handed over for a job that names no uploaded image",
            )));
        }
    };
    control.comprobar()?;
    let cadena = Cadena::new(&p.filtros, p.sigma);
    let (salida, tiempos) = filtrar(&imagen, &cadena, algoritmo, control)?;
    control.comprobar()?;
    let forma = imagen.forma;
    let checksum = salida.iter().map(|&b| u64::from(b)).sum();
    let png = planos::png(&salida, forma);
    Ok(Salida {
        duracion: tiempos.kernel,
        duracion_con_copias: tiempos.con_copias,
        detalle: Detalle::Imagen {
            width: forma.width,
            height: forma.height,
            checksum,
            megapixeles_por_segundo: por_segundo(forma.pixeles() as f64, tiempos.kernel) / 1e6,
        },
        imagen_png: Some(png),
    })
}

/// A run's times: the kernel's, and on a GPU the kernel's plus the copies.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tiempos {
    pub(crate) kernel: Duration,
    pub(crate) con_copias: Option<Duration>,
}

/// `imagen`'s chain applied to `imagen` on `algoritmo`: the output's bytes (same layout as the
/// input's) and the times.
pub fn filtrar_imagen(
    imagen: &Pixeles,
    filtros: &[Filtro],
    sigma: f32,
    algoritmo: Algoritmo,
    control: &Control,
) -> Result<Vec<u8>, ErrorKernel> {
    filtrar(imagen, &Cadena::new(filtros, sigma), algoritmo, control).map(|(b, _)| b)
}

fn filtrar(
    imagen: &Pixeles,
    cadena: &Cadena,
    algoritmo: Algoritmo,
    control: &Control,
) -> Result<(Vec<u8>, Tiempos), ErrorKernel> {
    let cpu = |backend: &dyn Backend| {
        let inicio = Instant::now();
        let bytes = aplicar(backend, imagen, cadena, control)?;
        let tiempos = Tiempos {
            kernel: inicio.elapsed(),
            con_copias: None,
        };
        Ok((bytes, tiempos))
    };
    match algoritmo {
        Algoritmo::Secuencial => cpu(&secuencial::Secuencial),
        Algoritmo::Paralelo | Algoritmo::Auto => cpu(&paralelo::Paralelo),
        #[cfg(feature = "cuda")]
        Algoritmo::Cuda => cuda::filtrar(imagen, cadena, control),
        #[cfg(not(feature = "cuda"))]
        Algoritmo::Cuda => Err(ErrorKernel::NoDisponible(crate::SIN_CUDA.into())),
    }
}

/// The chain as every backend runs it: the filters in order, and the Gaussian's taps.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Cadena {
    /// In order.
    pub(crate) filtros: Vec<Filtro>,
    /// [`pesos_gaussianos`] of the job's sigma.
    pub(crate) pesos: Vec<f32>,
}

impl Cadena {
    pub(crate) fn new(filtros: &[Filtro], sigma: f32) -> Self {
        Self {
            filtros: filtros.to_vec(),
            pesos: pesos_gaussianos(sigma),
        }
    }
}

/// What a CPU backend does to the planes; the chain is run by [`aplicar`], the same for both.
trait Backend {
    /// The image's colour channels as planes.
    fn separar(&self, imagen: &Pixeles, control: &Control) -> Result<Planos, ErrorKernel>;
    /// `plano` blurred by the taps `pesos` (horizontal pass into `tmp`, vertical pass back).
    fn desenfocar(
        &self,
        plano: &mut [f32],
        tmp: &mut [f32],
        forma: FormaPng,
        pesos: &[f32],
        control: &Control,
    ) -> Result<(), ErrorKernel>;
    /// `destino` = the 3 × 3 `filtro` of `plano` at every pixel: [`sobel`] for
    /// [`Filtro::Sobel`], [`enfocar`] otherwise.
    fn vecindad(
        &self,
        filtro: Filtro,
        plano: &[f32],
        destino: &mut [f32],
        forma: FormaPng,
        control: &Control,
    ) -> Result<(), ErrorKernel>;
    /// Every channel = [`luma`] of the three.
    fn grises(&self, planos: &mut Planos, control: &Control) -> Result<(), ErrorKernel>;
    /// The planes rounded back into interleaved bytes, alpha restored.
    fn juntar(&self, planos: &Planos, control: &Control) -> Result<Vec<u8>, ErrorKernel>;
}

/// Runs `cadena` over `imagen` with `backend`.
fn aplicar(
    backend: &dyn Backend,
    imagen: &Pixeles,
    cadena: &Cadena,
    control: &Control,
) -> Result<Vec<u8>, ErrorKernel> {
    let forma = imagen.forma;
    let mut planos = backend.separar(imagen, control)?;
    let mut tmp = vec![0.0f32; forma.pixeles() as usize];
    for &filtro in &cadena.filtros {
        match filtro {
            Filtro::Grises => backend.grises(&mut planos, control)?,
            Filtro::Desenfoque => {
                for plano in &mut planos.color {
                    backend.desenfocar(plano, &mut tmp, forma, &cadena.pesos, control)?;
                }
            }
            Filtro::Sobel | Filtro::Enfocar => {
                for plano in &mut planos.color {
                    backend.vecindad(filtro, plano, &mut tmp, forma, control)?;
                    std::mem::swap(plano, &mut tmp);
                }
            }
        }
    }
    backend.juntar(&planos, control)
}

/// The Gaussian's `2r + 1` taps for `sigma`, `r = ⌈3σ⌉`: `exp(−k² / 2σ²)` for `k = −r ..= r`,
/// computed in `f64`, divided by their sum, then rounded to `f32`. Every backend gets these
/// same numbers.
pub fn pesos_gaussianos(sigma: f32) -> Vec<f32> {
    let sigma = f64::from(sigma);
    let radio = (3.0 * sigma).ceil() as i64;
    let crudos: Vec<f64> = (-radio..=radio)
        .map(|k| (-((k * k) as f64) / (2.0 * sigma * sigma)).exp())
        .collect();
    let suma: f64 = crudos.iter().sum();
    crudos.iter().map(|w| (w / suma) as f32).collect()
}

/// One output of a blur pass: `Σ pesos[j] · muestras[j]`, summed from `j = 0` up, starting at 0.
#[inline(always)]
pub(crate) fn convolucion(pesos: &[f32], muestras: impl Iterator<Item = f32>) -> f32 {
    let mut suma = 0.0f32;
    for (&w, v) in pesos.iter().zip(muestras) {
        suma += w * v;
    }
    suma
}

/// Sobel's edge magnitude at a pixel, given its 3 × 3 neighbourhood as rows up, centre, down,
/// each `[left, centre, right]`: `√(gx² + gy²)`, at most 255.
#[inline(always)]
pub fn sobel(u: [f32; 3], c: [f32; 3], d: [f32; 3]) -> f32 {
    let gx = (u[2] + 2.0 * c[2] + d[2]) - (u[0] + 2.0 * c[0] + d[0]);
    let gy = (d[0] + 2.0 * d[1] + d[2]) - (u[0] + 2.0 * u[1] + u[2]);
    (gx * gx + gy * gy).sqrt().min(255.0)
}

/// The sharpened value of centre `c` with its four neighbours: `5c − u − l − r − d` in that
/// order, clamped to `0 ..= 255`.
#[inline(always)]
pub fn enfocar(c: f32, u: f32, l: f32, r: f32, d: f32) -> f32 {
    (5.0 * c - u - l - r - d).clamp(0.0, 255.0)
}

/// [`sobel`] of a neighbourhood given as its rows up, centre and down.
#[inline(always)]
pub(crate) fn sobel_de(v: [[f32; 3]; 3]) -> f32 {
    sobel(v[0], v[1], v[2])
}

/// [`enfocar`] of a neighbourhood given as its rows up, centre and down.
#[inline(always)]
pub(crate) fn enfocar_de(v: [[f32; 3]; 3]) -> f32 {
    enfocar(v[1][1], v[0][1], v[1][0], v[1][2], v[2][1])
}

/// Rec. 601 luma of a pixel: `(0.299 R + 0.587 G) + 0.114 B`.
#[inline(always)]
pub fn luma(r: f32, g: f32, b: f32) -> f32 {
    LUMA[0] * r + LUMA[1] * g + LUMA[2] * b
}

/// A channel's final byte: clamped to `0 ..= 255`, plus ½, truncated (round half up).
#[inline(always)]
pub fn cuantizar(v: f32) -> u8 {
    (v.clamp(0.0, 255.0) + 0.5) as u8
}

/// Index `i + desplazamiento` clamped to `0 .. n`: the pixel an edge stands in for.
#[inline(always)]
pub(crate) fn pinzar(i: usize, desplazamiento: isize, n: usize) -> usize {
    (i as isize + desplazamiento).clamp(0, n as isize - 1) as usize
}

/// Blurs one plane of `width × height` `f32` samples in place with the Gaussian of `sigma` on
/// a CPU backend, `tmp` (as long) holding the pass between: the `desenfoque` filter alone, for
/// benchmarks against other libraries.
pub fn desenfocar_plano(
    plano: &mut [f32],
    tmp: &mut [f32],
    (width, height): (u32, u32),
    sigma: f32,
    algoritmo: Algoritmo,
) -> Result<(), ErrorKernel> {
    let forma = FormaPng {
        width,
        height,
        canales: 3,
    };
    let n = forma.pixeles() as usize;
    assert!(plano.len() == n && tmp.len() == n, "one sample per pixel");
    let pesos = pesos_gaussianos(sigma);
    let control = Control::ninguno();
    match algoritmo {
        Algoritmo::Secuencial => {
            secuencial::Secuencial.desenfocar(plano, tmp, forma, &pesos, &control)
        }
        Algoritmo::Paralelo | Algoritmo::Auto => {
            paralelo::Paralelo.desenfocar(plano, tmp, forma, &pesos, &control)
        }
        Algoritmo::Cuda => Err(ErrorKernel::NoDisponible(
            "desenfocar_plano runs on the CPU backends only".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaussian_taps_span_three_sigma_sum_to_one_and_are_symmetric() {
        for (sigma, radio) in [(0.1, 1), (1.0, 3), (2.0, 6), (2.5, 8), (64.0, 192)] {
            let p = pesos_gaussianos(sigma);
            assert_eq!(p.len(), 2 * radio + 1, "sigma {sigma}");
            let suma: f64 = p.iter().map(|&w| f64::from(w)).sum();
            assert!((suma - 1.0).abs() < 1e-6, "sigma {sigma}: {suma}");
            assert!(p.iter().eq(p.iter().rev()), "symmetric");
            assert!(p[radio] >= p[radio + 1], "the centre weighs most");
        }
    }

    #[test]
    fn the_pixel_operators_on_flat_and_stepped_neighbourhoods() {
        let plano = [7.0; 3];
        assert_eq!(sobel(plano, plano, plano), 0.0);
        assert_eq!(enfocar(7.0, 7.0, 7.0, 7.0, 7.0), 7.0);
        // A vertical step from 0 to 10: gx = 4·10.
        let escalon = [0.0, 10.0, 10.0];
        assert_eq!(sobel(escalon, escalon, escalon), 40.0);
        assert_eq!(
            sobel([0.0, 255.0, 255.0], [0.0, 255.0, 255.0], [0.0; 3]),
            255.0
        );
        assert_eq!(enfocar(0.0, 255.0, 0.0, 0.0, 0.0), 0.0);
        assert_eq!(enfocar(255.0, 0.0, 0.0, 0.0, 0.0), 255.0);
        assert_eq!(luma(255.0, 255.0, 255.0).round(), 255.0);
        assert_eq!(
            [
                cuantizar(-3.0),
                cuantizar(0.49),
                cuantizar(0.5),
                cuantizar(300.0)
            ],
            [0, 0, 1, 255]
        );
    }
}

//! `Paralelo`: the filters on every core and every vector lane.
//!
//! Each pass cuts its output into bands of whole rows (about [`PIXELES_POR_TAREA`] pixels),
//! which rayon spreads over the cores; each band first checks the run's [`Control`]. Inside a
//! row, [`CARRIL`] neighbouring pixels are computed together as plain `[f32; CARRIL]` arrays that
//! the compiler turns into vector instructions; [`multiversion`](mod@multiversion) compiles the
//! row functions for AVX-512, AVX2 and SSE4.1 and picks the best the CPU has at run time.
//!
//! Every lane computes its pixel with the expressions `Secuencial` uses ([`convolucion`]'s
//! order of taps, [`sobel`](super::sobel), [`enfocar`](super::enfocar), [`luma`]), so the two agree bit for bit: Rust never
//! fuses a multiply and an add, whatever the target's features. Columns and rows past an edge
//! are clamped as `Secuencial` clamps them: the horizontal pass and the 3 × 3 filters compute
//! the columns near the ends one by one, the vertical pass clamps its source rows.

use comun::imagenes::{FormaPng, Pixeles};
use comun::trabajo::Filtro;
use multiversion::multiversion;
use rayon::prelude::*;

use super::planos::{Planos, juntar_fila, separar_fila};
use super::{Backend, convolucion, enfocar_de, luma, pinzar, sobel_de};
use crate::ErrorKernel;
use crate::control::Control;

/// Neighbouring pixels computed together: four AVX-512 vectors of `f32`, eight AVX2 ones, so
/// that the blur's sums over the taps run as that many independent chains of additions.
const CARRIL: usize = 64;

/// Pixels per rayon task: a band of whole rows about this large (at least one row).
const PIXELES_POR_TAREA: usize = 1 << 16;

/// All cores, vector lanes.
pub(super) struct Paralelo;

/// Rows per task for rows of `w` pixels.
fn filas_por_tarea(w: usize) -> usize {
    (PIXELES_POR_TAREA / w).max(1)
}

impl Backend for Paralelo {
    fn separar(&self, imagen: &Pixeles, control: &Control) -> Result<Planos, ErrorKernel> {
        let forma = imagen.forma;
        let (w, c) = (forma.width as usize, usize::from(forma.canales));
        let banda = w * filas_por_tarea(w);
        let mut planos = Planos::vacios(forma);
        let [r, g, b] = &mut planos.color;
        r.par_chunks_mut(banda)
            .zip(g.par_chunks_mut(banda))
            .zip(b.par_chunks_mut(banda))
            .zip(imagen.datos.par_chunks(banda * c))
            .try_for_each(|(((r, g), b), bytes)| {
                control.comprobar()?;
                separar_fila(bytes, c, [r, g, b], None);
                Ok::<_, ErrorKernel>(())
            })?;
        if let Some(alfa) = &mut planos.alfa {
            alfa.par_chunks_mut(banda)
                .zip(imagen.datos.par_chunks(banda * c))
                .for_each(|(alfa, bytes)| {
                    for (a, pixel) in alfa.iter_mut().zip(bytes.chunks_exact(c)) {
                        *a = pixel[3];
                    }
                });
        }
        Ok(planos)
    }

    fn desenfocar(
        &self,
        plano: &mut [f32],
        tmp: &mut [f32],
        forma: FormaPng,
        pesos: &[f32],
        control: &Control,
    ) -> Result<(), ErrorKernel> {
        let (w, h) = (forma.width as usize, forma.height as usize);
        let origen = &*plano;
        por_bandas(tmp, w, control, |y, salida| {
            horizontal(&origen[y * w..][..w], pesos, salida)
        })?;
        let tmp = &*tmp;
        por_bandas(plano, w, control, |y, salida| {
            vertical(tmp, w, h, y, pesos, salida)
        })
    }

    fn vecindad(
        &self,
        filtro: Filtro,
        plano: &[f32],
        destino: &mut [f32],
        forma: FormaPng,
        control: &Control,
    ) -> Result<(), ErrorKernel> {
        let fila = if filtro == Filtro::Sobel {
            fila_sobel
        } else {
            fila_enfocar
        };
        let (w, h) = (forma.width as usize, forma.height as usize);
        let fila_de = |y: usize, d: isize| &plano[pinzar(y, d, h) * w..][..w];
        por_bandas(destino, w, control, |y, salida| {
            fila(fila_de(y, -1), fila_de(y, 0), fila_de(y, 1), salida)
        })
    }

    fn grises(&self, planos: &mut Planos, control: &Control) -> Result<(), ErrorKernel> {
        let [r, g, b] = &mut planos.color;
        r.par_chunks_mut(PIXELES_POR_TAREA)
            .zip(g.par_chunks_mut(PIXELES_POR_TAREA))
            .zip(b.par_chunks_mut(PIXELES_POR_TAREA))
            .try_for_each(|((r, g), b)| {
                control.comprobar()?;
                grises(r, g, b);
                Ok(())
            })
    }

    fn juntar(&self, planos: &Planos, control: &Control) -> Result<Vec<u8>, ErrorKernel> {
        let forma = planos.forma;
        let (w, c) = (forma.width as usize, usize::from(forma.canales));
        let banda = w * filas_por_tarea(w);
        let mut bytes = vec![0; forma.pixeles() as usize * c];
        bytes
            .par_chunks_mut(banda * c)
            .enumerate()
            .try_for_each(|(t, destino)| {
                control.comprobar()?;
                let rango = t * banda..t * banda + destino.len() / c;
                let filas = planos.color.each_ref().map(|p| &p[rango.clone()]);
                let alfa = planos.alfa.as_ref().map(|a| &a[rango.clone()]);
                juntar_fila(filas, alfa, c, destino);
                Ok::<_, ErrorKernel>(())
            })?;
        Ok(bytes)
    }
}

/// The horizontal blur pass of one row: `salida[x]` = the taps over `fila[x − r ..= x + r]`,
/// columns clamped. The columns whose taps all fall inside the row go [`CARRIL`] at a time; the
/// `r` at each end, and a ragged tail, one by one.
#[multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512vl+avx512dq",
    "x86_64+avx2+fma",
    "x86_64+sse4.1",
))]
fn horizontal(fila: &[f32], pesos: &[f32], salida: &mut [f32]) {
    let w = fila.len();
    let radio = pesos.len() / 2;
    let un_pixel = |x: usize| {
        let muestras = (0..pesos.len()).map(|j| fila[pinzar(x, j as isize - radio as isize, w)]);
        convolucion(pesos, muestras)
    };
    let mut x = radio.min(w);
    while x + CARRIL + radio <= w {
        let mut suma = [0.0f32; CARRIL];
        for (j, &p) in pesos.iter().enumerate() {
            let desde = x + j - radio;
            let v: &[f32; CARRIL] = fila[desde..desde + CARRIL].try_into().unwrap();
            for l in 0..CARRIL {
                suma[l] += p * v[l];
            }
        }
        salida[x..x + CARRIL].copy_from_slice(&suma);
        x += CARRIL;
    }
    for i in (0..radio.min(w)).chain(x..w) {
        salida[i] = un_pixel(i);
    }
}

/// Columns the vertical pass sums a tap at a time over (4 KiB of `f32`: the partial sums stay in
/// the L1 cache while each source row's stretch streams in).
const TRAMO: usize = 1024;

/// The vertical blur pass of row `y` of a `w × h` plane `fuente` into `salida`: for each
/// stretch of [`TRAMO`] columns, the taps in order, each adding its whole source row's stretch
/// (reading rows one after the other, not 2r + 1 rows side by side, whose equal strides would
/// fight over the same cache sets).
#[multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512vl+avx512dq",
    "x86_64+avx2+fma",
    "x86_64+sse4.1",
))]
fn vertical(fuente: &[f32], w: usize, h: usize, y: usize, pesos: &[f32], salida: &mut [f32]) {
    let radio = (pesos.len() / 2) as isize;
    for (k, tramo) in salida.chunks_mut(TRAMO).enumerate() {
        let x = k * TRAMO;
        tramo.fill(0.0);
        for (j, &p) in pesos.iter().enumerate() {
            let fila = pinzar(y, j as isize - radio, h) * w + x;
            let v = &fuente[fila..fila + tramo.len()];
            for (s, &v) in tramo.iter_mut().zip(v) {
                *s += p * v;
            }
        }
    }
}

/// Fills `destino`, rows of `w` samples, with `fila(y, row y)` for every row `y`: in bands of
/// whole rows over the cores, checking `control` before each band.
fn por_bandas(
    destino: &mut [f32],
    w: usize,
    control: &Control,
    fila: impl Fn(usize, &mut [f32]) + Sync,
) -> Result<(), ErrorKernel> {
    let filas = filas_por_tarea(w);
    destino
        .par_chunks_mut(w * filas)
        .enumerate()
        .try_for_each(|(t, banda)| {
            control.comprobar()?;
            for (i, salida) in banda.chunks_mut(w).enumerate() {
                fila(t * filas + i, salida);
            }
            Ok(())
        })
}

/// One row of [`sobel`](super::sobel).
#[multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512vl+avx512dq",
    "x86_64+avx2+fma",
    "x86_64+sse4.1",
))]
fn fila_sobel(u: &[f32], c: &[f32], d: &[f32], salida: &mut [f32]) {
    fila_3x3(u, c, d, salida, sobel_de);
}

/// One row of [`enfocar`](super::enfocar).
#[multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512vl+avx512dq",
    "x86_64+avx2+fma",
    "x86_64+sse4.1",
))]
fn fila_enfocar(u: &[f32], c: &[f32], d: &[f32], salida: &mut [f32]) {
    fila_3x3(u, c, d, salida, enfocar_de);
}

/// `salida[x]` = `f` of the neighbourhood of column `x` in rows `u`, `c`, `d` (each `[left,
/// centre, right]`, columns clamped): the interior [`CARRIL`] columns at a time, the rest one
/// by one.
#[inline(always)]
fn fila_3x3(u: &[f32], c: &[f32], d: &[f32], salida: &mut [f32], f: impl Fn([[f32; 3]; 3]) -> f32) {
    let w = salida.len();
    let un_pixel = |x: usize| {
        let (l, r) = (pinzar(x, -1, w), pinzar(x, 1, w));
        f([u, c, d].map(|fila| [fila[l], fila[x], fila[r]]))
    };
    let mut x = 1;
    while x + CARRIL < w {
        let (bu, bc, bd) = (ventana(u, x), ventana(c, x), ventana(d, x));
        let mut bloque = [0.0f32; CARRIL];
        for l in 0..CARRIL {
            bloque[l] = f([
                [bu[l], bu[l + 1], bu[l + 2]],
                [bc[l], bc[l + 1], bc[l + 2]],
                [bd[l], bd[l + 1], bd[l + 2]],
            ]);
        }
        salida[x..x + CARRIL].copy_from_slice(&bloque);
        x += CARRIL;
    }
    salida[0] = un_pixel(0);
    for (i, s) in salida.iter_mut().enumerate().skip(x.max(1)) {
        *s = un_pixel(i);
    }
}

/// The [`CARRIL`] + 2 samples of `fila` around columns `x .. x + CARRIL`.
#[inline(always)]
fn ventana(fila: &[f32], x: usize) -> &[f32; CARRIL + 2] {
    fila[x - 1..x + CARRIL + 1].try_into().unwrap()
}

/// [`luma`] of every pixel to all three channels.
#[multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512vl+avx512dq",
    "x86_64+avx2+fma",
    "x86_64+sse4.1",
))]
fn grises(r: &mut [f32], g: &mut [f32], b: &mut [f32]) {
    for ((r, g), b) in r.iter_mut().zip(g.iter_mut()).zip(b.iter_mut()) {
        let y = luma(*r, *g, *b);
        (*r, *g, *b) = (y, y, y);
    }
}

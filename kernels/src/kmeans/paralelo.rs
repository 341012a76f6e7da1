//! `Paralelo` for kmeans: every core and the vector units, with the exact assignment of
//! `Secuencial`.
//!
//! The distance step is a blocked product in `f32`, `ṽⱼ = ‖cⱼ‖² − 2 x·cⱼ` (the point's own
//! `‖x‖²` does not change which centroid is nearest): centroids packed coordinate-major in
//! blocks of `NR` lanes (8 when k ≤ 8, 32 with AVX-512 when k > 16, else 16), six points at a
//! time against a block with their accumulators in registers (`multiversion` picks AVX-512,
//! AVX2 + FMA or SSE4.1 code at run time), fused multiply-adds where the CPU has them; the
//! centroids in groups of about 128 KiB and the points in chunks of about 256 KiB, so both
//! stay in cache. `matmul::gemm_f32` (the `gemm` crate) on the same chunks measured slower:
//! docs/kernels.md. Per point it keeps the least `ṽ`, its centroid and the second least.
//!
//! Exactness: `|ṽⱼ − vⱼ| ≤ E = (d + 8)·2⁻²³·(‖x‖ + maxⱼ‖cⱼ‖)²`, twice a bound on the rounding
//! of any `d`-term `f32` dot product and the two operations after it (Higham, *Accuracy and
//! Stability of Numerical Algorithms*, §3.1). When the second least `ṽ` is within `2E` of
//! the least, the point is settled with exact lattice distances against every centroid
//! (`datos::mas_cercano`), otherwise the least is the exact nearest, alone. So the assignment
//! is `Secuencial`'s, whatever the rounding.
//!
//! The update step sums each chunk's points into per-thread `f64` accumulators (exact: the
//! sums are lattice integers below 2⁴⁸ times 2⁻¹⁹), merged at the end of the step; at most
//! 256 MiB of them. The [`Control`] is checked before each chunk.

use std::sync::Mutex;

use multiversion::multiversion;
use multiversion::target::selected_target;
use rayon::prelude::*;

use super::datos::{Datos, distancia_exacta, mas_cercano};
use super::lloyd::{Paso, Suma};
use crate::ErrorKernel;
use crate::control::Control;

/// Bytes of per-thread accumulators at most (`k × d` `f64` each).
const MEMORIA_ACUMULADORES: usize = 256 << 20;

/// Floats of a group of packed centroids (128 KiB).
const FLOTANTES_POR_GRUPO: usize = 1 << 15;

/// Floats of a chunk's points (256 KiB).
const FLOTANTES_POR_TROZO: usize = 1 << 16;

/// Floats of a chunk's distances to one group (64 KiB).
const FLOTANTES_DE_DISTANCIAS: usize = 1 << 14;

/// Most points in a chunk.
const MAX_FILAS: usize = 504;

/// Points whose distances are accumulated together in registers.
const PUNTOS: usize = 6;

/// The `Paralelo` assignment step over `datos`.
pub(super) struct Paralelo<'a> {
    /// The points.
    datos: &'a Datos,
    /// `‖xᵢ‖`, for the error bound.
    normas: Vec<f32>,
    /// Each point's cluster in the last step (`u32::MAX` before the first).
    etiquetas: Vec<u32>,
    /// Per-thread sums, reset after each step's merge.
    acumuladores: Vec<Mutex<Suma>>,
}

impl<'a> Paralelo<'a> {
    /// No step run yet; `k` clusters.
    pub(super) fn new(datos: &'a Datos, k: usize) -> Self {
        let d = datos.dimensiones;
        let cuantos = rayon::current_num_threads()
            .min(MEMORIA_ACUMULADORES / (k * d * 8))
            .max(1);
        Paralelo {
            datos,
            normas: super::datos::normas(datos),
            etiquetas: vec![u32::MAX; datos.muestras],
            acumuladores: (0..cuantos).map(|_| Mutex::new(Suma::new(k, d))).collect(),
        }
    }
}

impl Paso for Paralelo<'_> {
    fn asignar(&mut self, centroides: &[f32], control: &Control) -> Result<Suma, ErrorKernel> {
        let d = self.datos.dimensiones;
        let k = centroides.len() / d;
        match carriles(k) {
            8 => self.asignar_con::<8>(centroides, control)?,
            16 => self.asignar_con::<16>(centroides, control)?,
            _ => self.asignar_con::<32>(centroides, control)?,
        }
        let mut total = Suma::new(k, d);
        for acumulador in &self.acumuladores {
            let mut a = acumulador.lock().unwrap_or_else(|e| e.into_inner());
            total.juntar(&a);
            *a = Suma::new(k, d);
        }
        Ok(total)
    }

    fn etiquetas(&mut self) -> Result<Vec<u32>, ErrorKernel> {
        Ok(self.etiquetas.clone())
    }
}

impl Paralelo<'_> {
    /// The step with centroid blocks of `NR` lanes: every chunk of points on some core, its
    /// sums into that core's accumulator.
    fn asignar_con<const NR: usize>(
        &mut self,
        centroides: &[f32],
        control: &Control,
    ) -> Result<(), ErrorKernel> {
        let d = self.datos.dimensiones;
        let paquete = Paquete::<NR>::new(centroides, d);
        let filas = filas_por_trozo(d, paquete.bloques_por_grupo * NR);
        let acumuladores = &self.acumuladores;
        self.etiquetas
            .par_chunks_mut(filas)
            .zip(self.datos.x.par_chunks(filas * d))
            .zip(self.normas.par_chunks(filas))
            .try_for_each_init(Borrador::default, |borrador, ((etiquetas, x), normas)| {
                control.comprobar()?;
                let recomprobadas = elegir(x, normas, &paquete, centroides, borrador);
                let hilo = rayon::current_thread_index().unwrap_or(0) % acumuladores.len();
                let mut suma = acumuladores[hilo].lock().unwrap_or_else(|e| e.into_inner());
                suma.recomprobadas += recomprobadas;
                acumular(&mut suma, x, &borrador.elegidos, etiquetas);
                Ok(())
            })
    }
}

/// Centroid lanes of a block for `k` centroids: 8 for k ≤ 8, 32 (two AVX-512 registers per
/// point) for k > 16 on a CPU with AVX-512, 16 otherwise (two AVX2 registers, or one AVX-512).
fn carriles(k: usize) -> usize {
    #[cfg(target_arch = "x86_64")]
    let avx512 = std::arch::is_x86_feature_detected!("avx512f");
    #[cfg(not(target_arch = "x86_64"))]
    let avx512 = false;
    match k {
        0..=8 => 8,
        9..=16 => 16,
        _ if avx512 => 32,
        _ => 16,
    }
}

/// Points per chunk for `d` coordinates and groups `ancho` centroids wide: a multiple of
/// [`PUNTOS`] from 6 to [`MAX_FILAS`].
fn filas_por_trozo(d: usize, ancho: usize) -> usize {
    let filas = (FLOTANTES_POR_TROZO / d).min(FLOTANTES_DE_DISTANCIAS / ancho);
    (filas.min(MAX_FILAS) / PUNTOS).max(1) * PUNTOS
}

/// The centroids as the distance loop reads them.
struct Paquete<const NR: usize> {
    /// Block `b` (centroids `b·NR ..`) is `d × NR`, coordinate-major; missing centroids of
    /// the last block are zeros.
    bloques: Vec<f32>,
    /// `‖cⱼ‖²` rounded to `f32`, block by block; `+∞` for the missing ones, which so never
    /// come nearest.
    normas: Vec<f32>,
    /// `maxⱼ ‖cⱼ‖`.
    radio: f64,
    /// Coordinates of a centroid.
    d: usize,
    /// Blocks in a group.
    bloques_por_grupo: usize,
}

impl<const NR: usize> Paquete<NR> {
    fn new(c: &[f32], d: usize) -> Self {
        let k = c.len() / d;
        let nb = k.div_ceil(NR);
        let mut bloques = vec![0.0f32; nb * d * NR];
        let mut normas = vec![f32::INFINITY; nb * NR];
        let mut radio = 0.0f64;
        for (j, cj) in c.chunks_exact(d).enumerate() {
            let (b, carril) = (j / NR, j % NR);
            for (l, &v) in cj.iter().enumerate() {
                bloques[(b * d + l) * NR + carril] = v;
            }
            let n2: f64 = cj.iter().map(|&v| f64::from(v) * f64::from(v)).sum();
            normas[j] = n2 as f32;
            radio = radio.max(n2.sqrt());
        }
        Paquete {
            bloques,
            normas,
            radio,
            d,
            bloques_por_grupo: (FLOTANTES_POR_GRUPO / (NR * d)).clamp(1, nb),
        }
    }

    /// Blocks.
    fn len(&self) -> usize {
        self.normas.len() / NR
    }
}

/// A chunk's scratch space, kept by each rayon task between chunks.
#[derive(Default)]
struct Borrador {
    /// `ṽ` of the chunk's points (rows) against one group.
    distancias: Vec<f32>,
    /// Per point: least `ṽ`, its centroid, second least (several groups).
    mejores: Vec<Mejor>,
    /// Per point: where its least `ṽ` is, how many are within its threshold (one group).
    resumenes: Vec<(u32, u32)>,
    /// The nearest centroid of each point.
    elegidos: Vec<u32>,
}

/// The least `ṽ` seen for a point, its centroid, and the second least.
#[derive(Debug, Clone, Copy)]
struct Mejor {
    minimo: f32,
    centroide: u32,
    segundo: f32,
}

impl Mejor {
    const NINGUNO: Mejor = Mejor {
        minimo: f32::INFINITY,
        centroide: 0,
        segundo: f32::INFINITY,
    };

    /// Takes in what [`tres_menores`] found among centroids `primero ..`.
    #[inline(always)]
    fn ver(&mut self, (minimo, posicion, segundo): (f32, usize, f32), primero: usize) {
        if minimo < self.minimo {
            self.segundo = self.minimo.min(segundo);
            self.minimo = minimo;
            self.centroide = (primero + posicion) as u32;
        } else {
            self.segundo = self.segundo.min(minimo);
        }
    }
}

/// The nearest centroid of each point of chunk `x` into `borrador.elegidos`, exact (see the
/// module's documentation); how many needed exact distances.
fn elegir<const NR: usize>(
    x: &[f32],
    normas: &[f32],
    paquete: &Paquete<NR>,
    centroides: &[f32],
    borrador: &mut Borrador,
) -> u64 {
    let d = paquete.d;
    let filas = x.len() / d;
    let margen = Margen::new(d, paquete.radio);
    borrador.elegidos.clear();
    if paquete.len() <= paquete.bloques_por_grupo {
        // One group: every ṽ of a point is in the buffer at once.
        let ancho = paquete.len() * NR;
        borrador.distancias.resize(filas * ancho, 0.0);
        let salida = &mut borrador.distancias[..filas * ancho];
        distancias::<NR>(x, d, &paquete.bloques, &paquete.normas, salida);
        resumir(salida, ancho, normas, &margen, &mut borrador.resumenes);
        let mut recomprobadas = 0;
        for (i, &(posicion, cercanos)) in borrador.resumenes.iter().enumerate() {
            let j = if cercanos == 1 {
                posicion
            } else {
                recomprobadas += 1;
                let fila = &salida[i * ancho..(i + 1) * ancho];
                let umbral = margen.umbral(fila[posicion as usize], normas[i]);
                let xi = &x[i * d..(i + 1) * d];
                let candidatos = fila.iter().enumerate().filter(|&(_, &v)| v <= umbral);
                let exactas = candidatos
                    .map(|(j, _)| (distancia_exacta(xi, &centroides[j * d..(j + 1) * d]), j));
                // The least exact distance, the first centroid on ties.
                exactas.min().map_or(posicion, |(_, j)| j as u32)
            };
            borrador.elegidos.push(j);
        }
        return recomprobadas;
    }
    borrador.mejores.clear();
    borrador.mejores.resize(filas, Mejor::NINGUNO);
    for grupo in (0..paquete.len()).step_by(paquete.bloques_por_grupo) {
        let hasta = (grupo + paquete.bloques_por_grupo).min(paquete.len());
        let ancho = (hasta - grupo) * NR;
        borrador.distancias.resize(filas * ancho, 0.0);
        let bloques = &paquete.bloques[grupo * d * NR..hasta * d * NR];
        let cc = &paquete.normas[grupo * NR..hasta * NR];
        let salida = &mut borrador.distancias[..filas * ancho];
        distancias::<NR>(x, d, bloques, cc, salida);
        ver_filas(&mut borrador.mejores, salida, ancho, grupo * NR);
    }
    let mut recomprobadas = 0;
    for ((mejor, &norma), xi) in borrador.mejores.iter().zip(normas).zip(x.chunks_exact(d)) {
        let j = if mejor.segundo > margen.umbral(mejor.minimo, norma) {
            mejor.centroide
        } else {
            recomprobadas += 1;
            mas_cercano(xi, centroides) as u32
        };
        borrador.elegidos.push(j);
    }
    recomprobadas
}

/// The close-call threshold of a point: `ṽ` above `minimo + 2E` cannot be its nearest.
struct Margen {
    /// `(d + 8)·2⁻²³`.
    factor: f64,
    /// `maxⱼ ‖cⱼ‖`.
    radio: f64,
}

impl Margen {
    fn new(d: usize, radio: f64) -> Self {
        Margen {
            factor: (d as f64 + 8.0) * (-23f64).exp2(),
            radio,
        }
    }

    /// `minimo + 2E` for a point of norm `norma`, rounded up to an `f32` (so no value within
    /// the exact threshold compares above it).
    #[inline(always)]
    fn umbral(&self, minimo: f32, norma: f32) -> f32 {
        let e = self.factor * (f64::from(norma) + self.radio).powi(2);
        ((f64::from(minimo) + 2.0 * e) as f32).next_up()
    }
}

/// For each row of `distancias` (`ancho` wide): the first position of its least value and
/// how many of its values are within the point's [`Margen::umbral`] of it (1 when the least
/// is alone), into `resumenes`. Two passes in vector lanes: each lane's least and the chunk
/// it was in, then a count of the values under the threshold.
#[multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512vl+avx512dq",
    "x86_64+avx2+fma",
    "x86_64+sse4.1",
))]
fn resumir(
    distancias: &[f32],
    ancho: usize,
    normas: &[f32],
    margen: &Margen,
    resumenes: &mut Vec<(u32, u32)>,
) {
    resumenes.clear();
    for (fila, &norma) in distancias.chunks_exact(ancho).zip(normas) {
        let mut m = [f32::INFINITY; LANES];
        let mut trozo_de = [0u32; LANES];
        for (t, trozo) in fila.chunks_exact(LANES).enumerate() {
            for i in 0..LANES {
                let menor = trozo[i] < m[i];
                m[i] = if menor { trozo[i] } else { m[i] };
                trozo_de[i] = if menor { t as u32 } else { trozo_de[i] };
            }
        }
        let mut mejor = (f32::INFINITY, u32::MAX);
        for i in 0..LANES {
            let posicion = trozo_de[i] * LANES as u32 + i as u32;
            if m[i] < mejor.0 || (m[i] == mejor.0 && posicion < mejor.1) {
                mejor = (m[i], posicion);
            }
        }
        let umbral = margen.umbral(mejor.0, norma);
        let cercanos: u32 = fila.iter().map(|&v| u32::from(v <= umbral)).sum();
        resumenes.push((mejor.1, cercanos));
    }
}

/// The least of `fila` (a multiple of [`LANES`] long), in vector lanes.
#[inline(always)]
fn menor_de(fila: &[f32]) -> f32 {
    let menor = |a: f32, b: f32| if b < a { b } else { a };
    let mut m = [f32::INFINITY; LANES];
    for trozo in fila.chunks_exact(LANES) {
        for i in 0..LANES {
            m[i] = menor(m[i], trozo[i]);
        }
    }
    m.into_iter().fold(f32::INFINITY, menor)
}

/// [`tres_menores`] of each row of `distancias` (`ancho` wide: centroids `primero ..`), taken
/// into its point's [`Mejor`].
#[multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512vl+avx512dq",
    "x86_64+avx2+fma",
    "x86_64+sse4.1",
))]
fn ver_filas(mejores: &mut [Mejor], distancias: &[f32], ancho: usize, primero: usize) {
    for (mejor, fila) in mejores.iter_mut().zip(distancias.chunks_exact(ancho)) {
        mejor.ver(tres_menores(fila), primero);
    }
}

/// Lanes of [`resumir`] and [`menor_de`].
const LANES: usize = 8;

/// The least value of `fila` (a multiple of [`LANES`] long), the first position holding it,
/// and the least of the other positions' values, for points whose centroids come in several
/// groups (large `k·d`, where this costs little beside the products).
#[inline(always)]
fn tres_menores(fila: &[f32]) -> (f32, usize, f32) {
    let minimo = menor_de(fila);
    let posicion = fila.iter().position(|&v| v == minimo).unwrap_or(0);
    let otros = fila[..posicion].iter().chain(&fila[posicion + 1..]);
    let segundo = otros.fold(f32::INFINITY, |a, &b| if b < a { b } else { a });
    (minimo, posicion, segundo)
}

/// `ṽ` of every point of `x` (rows) against every centroid of `bloques` into `salida` (a row
/// per point), [`PUNTOS`] points at a time, then the rest one by one. A function of its own,
/// with its own run-time dispatch: inlined into its caller, the compiler stopped vectorising
/// the tiles.
#[multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512vl+avx512dq",
    "x86_64+avx2+fma",
    "x86_64+sse4.1",
))]
fn distancias<const NR: usize>(
    x: &[f32],
    d: usize,
    bloques: &[f32],
    cc: &[f32],
    salida: &mut [f32],
) {
    const FMA: bool = selected_target!().supports_feature_str("fma");
    let ancho = cc.len();
    let mut xs = x.chunks_exact(PUNTOS * d);
    let mut ss = salida.chunks_exact_mut(PUNTOS * ancho);
    for (xt, st) in (&mut xs).zip(&mut ss) {
        tesela_de_6::<NR, FMA>(xt, d, bloques, cc, st);
    }
    for (xt, st) in xs
        .remainder()
        .chunks_exact(d)
        .zip(ss.into_remainder().chunks_exact_mut(ancho))
    {
        tesela_de_1::<NR, FMA>(xt, d, bloques, cc, st);
    }
}

/// `NR` lanes of `f32`: one accumulator row of a tile.
#[derive(Clone, Copy)]
struct Carriles<const NR: usize>([f32; NR]);

impl<const NR: usize> Carriles<NR> {
    /// `self += x · c`, lane by lane (one vector multiply-add, or two, or four).
    #[inline(always)]
    fn sumar_producto<const FMA: bool>(&mut self, x: f32, c: &[f32; NR]) {
        for (a, &ci) in self.0.iter_mut().zip(c) {
            *a = if FMA { x.mul_add(ci, *a) } else { x * ci + *a };
        }
    }
}

/// `tesela_de_N`: `ṽ` of `N` points (`x`, rows of `d`) against every block, the `N` rows of
/// accumulators in registers. Each point is its own variable, each accumulator row its own
/// value, and the row pointers are hoisted: the compiler then vectorises exactly the lanes
/// (one broadcast per point and coordinate, the centroids' lanes loaded once), where loops
/// over points let it vectorise across them, with gathers, or keep the accumulators in memory
/// (both measured several times slower). Reading each coordinate from its row also measured
/// about twice as fast as first copying the rows coordinate-major as a GEMM packs its operand:
/// for small `k` the copy costs as much as the products.
macro_rules! tesela {
    ($nombre:ident, $n:literal, $($fila:ident $s:literal)*) => {
        #[inline(always)]
        fn $nombre<const NR: usize, const FMA: bool>(
            x: &[f32],
            d: usize,
            bloques: &[f32],
            cc: &[f32],
            salida: &mut [f32],
        ) {
            let ancho = cc.len();
            $(let $fila = &x[$s * d..($s + 1) * d];)*
            let pares = bloques.chunks_exact(d * NR).zip(cc.chunks_exact(NR));
            for (b, (bloque, ccb)) in pares.enumerate() {
                let mut acc = [Carriles::<NR>([0.0; NR]); $n];
                for (l, cv) in bloque.chunks_exact(NR).enumerate() {
                    let cv: &[f32; NR] = cv.try_into().expect("NR lanes");
                    // SAFETY: `l < d` (`bloque` holds d chunks of NR lanes) and every row
                    // holds d coordinates; the compiler cannot see it, and a bounds check per
                    // product costs a third of the speed.
                    $(acc[$s].sumar_producto::<FMA>(unsafe { *$fila.get_unchecked(l) }, cv);)*
                }
                for (s, a) in acc.iter().enumerate() {
                    let o = &mut salida[s * ancho + b * NR..s * ancho + (b + 1) * NR];
                    for ((o, &c), &a) in o.iter_mut().zip(ccb).zip(&a.0) {
                        *o = c - 2.0 * a;
                    }
                }
            }
        }
    };
}

tesela!(tesela_de_6, 6, f0 0 f1 1 f2 2 f3 3 f4 4 f5 5);
tesela!(tesela_de_1, 1, f0 0);

/// Adds each point of chunk `x` to its cluster `elegidos[i]` in `suma`, counting the points
/// whose cluster changed from `etiquetas` (updated).
#[multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512vl+avx512dq",
    "x86_64+avx2+fma",
    "x86_64+sse4.1",
))]
fn acumular(suma: &mut Suma, x: &[f32], elegidos: &[u32], etiquetas: &mut [u32]) {
    let d = x.len() / elegidos.len();
    for ((xi, &j), etiqueta) in x.chunks_exact(d).zip(elegidos).zip(etiquetas) {
        suma.sumar(j as usize, xi);
        if *etiqueta != j {
            *etiqueta = j;
            suma.cambios += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_whole_tiles_that_fit_the_cache() {
        assert_eq!(filas_por_trozo(16, 8), MAX_FILAS);
        assert_eq!(filas_por_trozo(1024, 32), 60);
        assert_eq!(filas_por_trozo(1024, 4096), 6);
        assert_eq!(filas_por_trozo(1, 16), MAX_FILAS);
    }

    #[test]
    fn the_second_least_is_kept_across_groups() {
        let mut m = Mejor::NINGUNO;
        let inf = f32::INFINITY;
        m.ver(tres_menores(&[5.0, 3.0, 4.0, inf, inf, inf, inf, inf]), 0);
        assert_eq!((m.minimo, m.centroide, m.segundo), (3.0, 1, 4.0));
        m.ver(tres_menores(&[3.5, 9.0, inf, inf, inf, inf, inf, inf]), 8);
        assert_eq!((m.minimo, m.centroide, m.segundo), (3.0, 1, 3.5));
        m.ver(tres_menores(&[inf, inf, 1.0, inf, inf, inf, inf, inf]), 16);
        assert_eq!((m.minimo, m.centroide, m.segundo), (1.0, 18, 3.0));
    }

    #[test]
    fn the_three_least_are_found_in_any_lane() {
        let mut fila: Vec<f32> = (0..24).map(|i| 100.0 - i as f32).collect();
        assert_eq!(tres_menores(&fila), (77.0, 23, 78.0));
        fila[5] = 0.5;
        fila[13] = 0.5;
        assert_eq!(
            tres_menores(&fila),
            (0.5, 5, 0.5),
            "ties: the first, and the tie second"
        );
        fila[13] = 0.75;
        fila[6] = 0.6;
        assert_eq!(tres_menores(&fila), (0.5, 5, 0.6));
        fila[6] = 9.0;
        assert_eq!(
            tres_menores(&fila),
            (0.5, 5, 0.75),
            "the second in the same lane"
        );
    }
}

//! [`gemm_f32`]: the one `f32` matrix product of the CPU kernels (matmul's `Paralelo`, and the
//! products of red_neuronal and kmeans), `C = op(A)·op(B) + β·C` on row-major slices.
//!
//! It hides which library multiplies, so the kernels that call it never name one: the `gemm`
//! crate (0.19, its AVX-512 micro-kernels built in with `x86-v4` and chosen at run time, AVX2
//! and FMA otherwise). On every core, C is cut into slabs of whole columns (of whole rows when
//! it is taller than wide), each multiplied by one single-threaded `gemm` call, and rayon
//! hands the slabs out by work stealing: no barrier inside a product, and a core slowed by
//! another process takes fewer slabs (docs/kernels.md, "matmul", has the measurements).

use rayon::prelude::*;

use crate::ErrorKernel;
use crate::control::Control;

/// How [`gemm_f32`] reads its operands and `C`, and how many threads it may use.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OpcionesGemm {
    /// Scale of the old `C`: `0` overwrites it (its old contents, even NaN, are never read),
    /// `1` accumulates into it, anything else scales it first.
    pub beta: f32,
    /// `a` holds `Aᵀ` (`k × m`, row-major) instead of `A` (`m × k`).
    pub traspuesta_a: bool,
    /// `b` holds `Bᵀ` (`n × k`, row-major) instead of `B` (`k × n`).
    pub traspuesta_b: bool,
    /// Every core of the rayon pool (`true`) or the calling thread alone (`false`: for callers
    /// that are already inside a parallel loop).
    pub paralelo: bool,
}

impl Default for OpcionesGemm {
    /// `C = A·B` on every core.
    fn default() -> Self {
        OpcionesGemm {
            beta: 0.0,
            traspuesta_a: false,
            traspuesta_b: false,
            paralelo: true,
        }
    }
}

/// Products smaller than this many multiply-adds run on the calling thread (gemm's own
/// threading threshold, 48·48·256).
const UMBRAL_PARALELO: usize = 48 * 48 * 256;

/// Slabs per thread at least: enough for work stealing to even out a core slowed by another
/// process.
const TROZOS_POR_HILO: usize = 4;

/// Most multiply-adds in one slab (2³⁴, about 0.1 to 0.2 s of one core): larger products get
/// more slabs, so that a [`Control`] checked between them stops a product soon.
const TRABAJO_POR_TROZO: usize = 1 << 34;

/// Narrowest slab, in columns (or rows) of C: a multiple of 16 `f32` (one cache line).
const ANCHO_MINIMO: usize = 128;

/// `C = op(A)·op(B) + β·C`, all row-major and contiguous: `op(A)` is `m × k`, `op(B)` is
/// `k × n`, `C` is `m × n` (see [`OpcionesGemm`] for `op` and `β`).
///
/// The sum runs in blocks and with fused multiply-adds, so it is not bit-identical to a plain
/// `k`-order loop: expect a difference of a few units in the last place times `√k` relative to
/// `Σ|a·b|` (one thread and all cores may differ in those last bits: a slab's shape can change
/// gemm's blocking of the sum).
///
/// # Panics
///
/// If a slice's length is not the product of its dimensions.
pub fn gemm_f32(
    m: usize,
    n: usize,
    k: usize,
    a: &[f32],
    b: &[f32],
    c: &mut [f32],
    opciones: OpcionesGemm,
) {
    gemm_f32_con(m, n, k, a, b, c, opciones, &Control::ninguno())
        .expect("a product without a control is never stopped");
}

/// [`gemm_f32`] checking `control` before each slab of C: when it says stop, the slabs not yet
/// started are skipped and its error returned (C is then partly computed).
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm_f32_con(
    m: usize,
    n: usize,
    k: usize,
    a: &[f32],
    b: &[f32],
    c: &mut [f32],
    opciones: OpcionesGemm,
    control: &Control,
) -> Result<(), ErrorKernel> {
    largo_esperado("a", a.len(), (m, k), "m·k");
    largo_esperado("b", b.len(), (k, n), "k·n");
    largo_esperado("c", c.len(), (m, n), "m·n");
    control.comprobar()?;
    if m == 0 || n == 0 {
        return Ok(());
    }
    if k == 0 {
        // An empty sum: C = β·C (β = 0 overwrites, NaN included).
        let beta = opciones.beta;
        c.iter_mut()
            .for_each(|x| *x = if beta != 0.0 { beta * *x } else { 0.0 });
        return Ok(());
    }
    let p = Producto::new(m, n, k, a, b, c, opciones);
    let hilos = rayon::current_num_threads();
    if !opciones.paralelo || hilos == 1 || m * n * k < UMBRAL_PARALELO {
        // SAFETY: the whole of C, which `p` was built over.
        unsafe { p.bloque(0..m, 0..n) };
        return Ok(());
    }
    let por_columnas = n >= m;
    let largo = if por_columnas { n } else { m };
    let trozos = (hilos * TROZOS_POR_HILO)
        .max((m * n * k).div_ceil(TRABAJO_POR_TROZO))
        .min(largo / ANCHO_MINIMO)
        .max(hilos);
    let ancho = largo.div_ceil(trozos).next_multiple_of(16);
    (0..largo.div_ceil(ancho))
        .into_par_iter()
        .try_for_each(|t| {
            control.comprobar()?;
            let trozo = t * ancho..((t + 1) * ancho).min(largo);
            // SAFETY: the slabs are disjoint (whole columns, or whole rows, of C), and each is
            // inside C; `c` stays borrowed for the whole loop, so nothing else touches it.
            unsafe {
                if por_columnas {
                    p.bloque(0..m, trozo);
                } else {
                    p.bloque(trozo, 0..n);
                }
            }
            Ok(())
        })
}

/// Panics, naming the slice and its dimensions, when its length is not their product.
fn largo_esperado(nombre: &str, largo: usize, (filas, columnas): (usize, usize), que: &str) {
    assert!(
        largo == filas * columnas,
        "gemm_f32: `{nombre}` must hold {que} = {filas}·{columnas} values, not {largo}"
    );
}

/// One product's operands as raw parts, so that slabs of C can go to several threads.
#[derive(Clone, Copy)]
struct Producto {
    k: usize,
    a: *const f32,
    /// Row and column strides of op(A) in `a`.
    a_rs: usize,
    a_cs: usize,
    b: *const f32,
    /// Row and column strides of op(B) in `b`.
    b_rs: usize,
    b_cs: usize,
    c: *mut f32,
    /// Row stride of C (its columns are contiguous).
    c_rs: usize,
    beta: f32,
}

// SAFETY: `Producto` is only built by `gemm_f32` from borrows that outlive every use (the
// parallel loop ends before `gemm_f32` returns), and threads write disjoint slabs of `c`.
unsafe impl Send for Producto {}
unsafe impl Sync for Producto {}

impl Producto {
    /// The strides of `op(A)`, `op(B)` and C as [`OpcionesGemm`] describes them.
    fn new(
        m: usize,
        n: usize,
        k: usize,
        a: &[f32],
        b: &[f32],
        c: &mut [f32],
        o: OpcionesGemm,
    ) -> Self {
        let (a_rs, a_cs) = if o.traspuesta_a { (1, m) } else { (k, 1) };
        let (b_rs, b_cs) = if o.traspuesta_b { (1, k) } else { (n, 1) };
        Producto {
            k,
            a: a.as_ptr(),
            a_rs,
            a_cs,
            b: b.as_ptr(),
            b_rs,
            b_cs,
            c: c.as_mut_ptr(),
            c_rs: n,
            beta: o.beta,
        }
    }

    /// `C[filas, columnas] = op(A)[filas, :]·op(B)[:, columnas] + β·C[filas, columnas]`, one
    /// single-threaded `gemm` call.
    ///
    /// # Safety
    ///
    /// The ranges lie inside C, and no other thread touches that block meanwhile.
    unsafe fn bloque(&self, filas: std::ops::Range<usize>, columnas: std::ops::Range<usize>) {
        let (i, j) = (filas.start, columnas.start);
        // SAFETY: every offset is inside its slice (the block lies in C, its rows of op(A)
        // and columns of op(B) in theirs, as `gemm_f32` checked the lengths); with β = 0 gemm
        // only writes C; C aliases neither input (it came from a unique borrow).
        unsafe {
            gemm::gemm(
                filas.len(),
                columnas.len(),
                self.k,
                self.c.add(i * self.c_rs + j),
                1,
                self.c_rs as isize,
                self.beta != 0.0,
                self.a.add(i * self.a_rs),
                self.a_cs as isize,
                self.a_rs as isize,
                self.b.add(j * self.b_cs),
                self.b_cs as isize,
                self.b_rs as isize,
                self.beta,
                1.0,
                false,
                false,
                false,
                gemm::Parallelism::None,
            );
        }
    }
}

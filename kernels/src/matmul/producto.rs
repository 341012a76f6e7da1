//! [`gemm_f32`]: the one `f32` matrix product of the CPU kernels (matmul's `Paralelo`, and the
//! products of red_neuronal and kmeans), `C = op(A)·op(B) + β·C` on row-major slices.
//!
//! It hides which library multiplies, so the kernels that call it never name one.

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

/// `C = op(A)·op(B) + β·C`, all row-major and contiguous: `op(A)` is `m × k`, `op(B)` is
/// `k × n`, `C` is `m × n` (see [`OpcionesGemm`] for `op` and `β`).
///
/// The sum runs in blocks and with fused multiply-adds, so it is not bit-identical to a plain
/// `k`-order loop: expect a difference of a few units in the last place times `√k` relative to
/// `Σ|a·b|`.
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
    assert_eq!(
        a.len(),
        m * k,
        "gemm_f32: `a` must hold m·k = {m}·{k} values"
    );
    assert_eq!(
        b.len(),
        k * n,
        "gemm_f32: `b` must hold k·n = {k}·{n} values"
    );
    assert_eq!(
        c.len(),
        m * n,
        "gemm_f32: `c` must hold m·n = {m}·{n} values"
    );
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        // An empty sum: C = β·C (β = 0 overwrites, NaN included).
        c.iter_mut().for_each(|x| {
            *x = if leer(opciones) {
                opciones.beta * *x
            } else {
                0.0
            }
        });
        return;
    }
    // Strides (row, column) of op(A) and op(B) in their slices.
    let (a_rs, a_cs) = if opciones.traspuesta_a {
        (1, m)
    } else {
        (k, 1)
    };
    let (b_rs, b_cs) = if opciones.traspuesta_b {
        (1, k)
    } else {
        (n, 1)
    };
    let leer_c = leer(opciones);
    let paralelismo = if opciones.paralelo && rayon::current_num_threads() > 1 {
        gemm::Parallelism::Rayon(rayon::current_num_threads())
    } else {
        gemm::Parallelism::None
    };
    // SAFETY: the asserts above make every index the strides reach lie inside its slice
    // (op(A) m × k, op(B) k × n, C m × n, each row-major or transposed as the strides say);
    // `c` is a unique borrow, so it aliases neither `a` nor `b`; with `leer_c` false, `c` is
    // only written.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            n as isize,
            leer_c,
            a.as_ptr(),
            a_cs as isize,
            a_rs as isize,
            b.as_ptr(),
            b_cs as isize,
            b_rs as isize,
            opciones.beta,
            1.0,
            false,
            false,
            false,
            paralelismo,
        );
    }
}

/// Whether the old `C` is read (β ≠ 0).
fn leer(opciones: OpcionesGemm) -> bool {
    opciones.beta != 0.0
}

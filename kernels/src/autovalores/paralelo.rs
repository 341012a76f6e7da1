//! `Paralelo` for autovalores: faer's symmetric eigensolver on every core — its Householder
//! tridiagonalisation (`faer::linalg::evd::tridiag::tridiag_in_place`, run-time AVX2/AVX-512
//! dispatch, rayon threads) and its QR iteration on the tridiagonal
//! (`tridiagonal_self_adjoint_evd` without vectors), the two halves of
//! `Mat::self_adjoint_eigenvalues`, called apart so that the reflectors stay for the sampled
//! eigenvector.

use std::time::{Duration, Instant};

use faer::dyn_stack::{MemBuffer, MemStack, StackReq};
use faer::linalg::evd::{self, tridiag};
use faer::linalg::householder;
use faer::linalg::qr::no_pivoting::factor::recommended_block_size;
use faer::reborrow::{Reborrow, ReborrowMut};
use faer::{Conj, Mat, MatMut, Par};

use super::tridiagonal::{normalizar, vector_propio};
use super::{Solucion, muestra_inicial};
use crate::ErrorKernel;
use crate::control::Control;

/// Eigenvalues of the symmetric `n × n` `a` (destroyed) and the eigenvector of the
/// `indice`-th smallest. `control` is checked before and after the tridiagonalisation (one faer
/// call, not interruptible) and before the tridiagonal QR.
pub(super) fn resolver(
    a: &mut [f64],
    n: usize,
    indice: usize,
    control: &Control,
) -> Result<Solucion, ErrorKernel> {
    let par = Par::rayon(0);
    let bs = recommended_block_size::<f64>(n, n);
    let mut reflectores = Mat::<f64>::zeros(bs, n - 1);
    let mut memoria = MemBuffer::new(StackReq::any_of(&[
        evd::self_adjoint_evd_scratch::<f64>(n, evd::ComputeEigenvectors::No, par, default()),
        householder::apply_block_householder_sequence_on_the_left_in_place_scratch::<f64>(
            n - 1,
            bs,
            1,
        ),
    ]));
    let pila = MemStack::new(&mut memoria);
    // A symmetric row-major matrix is its own column-major transpose.
    let mut t = MatMut::from_column_major_slice_mut(a, n, n);
    control.comprobar()?;
    let inicio = Instant::now();
    tridiag::tridiag_in_place(t.rb_mut(), reflectores.as_mut(), par, pila, default());
    let reduccion = inicio.elapsed();
    control.comprobar()?;
    let d: Vec<f64> = (0..n).map(|i| t[(i, i)]).collect();
    let e: Vec<f64> = (0..n - 1).map(|i| t[(i + 1, i)]).collect();
    let inicio = Instant::now();
    let mut valores = vec![0.0; n];
    evd::tridiagonal_self_adjoint_evd(
        faer::diag::DiagRef::from_slice(&d),
        faer::diag::DiagRef::from_slice(&e),
        faer::diag::DiagMut::from_slice_mut(&mut valores),
        None,
        par,
        pila,
        default(),
    )
    .map_err(|e| {
        ErrorKernel::NoDisponible(format!("autovalores: faer's tridiagonal QR failed: {e:?}"))
    })?;
    let duracion: Duration = reduccion + inicio.elapsed();
    valores.sort_by(f64::total_cmp);
    // The sampled eigenvector: inverse iteration on T, then Q·y with faer's blocked reflectors.
    let mut y = Mat::<f64>::zeros(n, 1);
    let x = vector_propio(&d, &e, valores[indice], &muestra_inicial(n));
    y.col_mut(0).iter_mut().zip(&x).for_each(|(y, x)| *y = *x);
    householder::apply_block_householder_sequence_on_the_left_in_place_with_conj(
        t.rb().submatrix(1, 0, n - 1, n - 1),
        reflectores.as_ref(),
        Conj::No,
        y.as_mut().subrows_mut(1, n - 1),
        par,
        pila,
    );
    let mut vector: Vec<f64> = y.col(0).iter().copied().collect();
    normalizar(&mut vector);
    Ok(Solucion {
        valores,
        vector,
        duracion,
        duracion_con_copias: None,
    })
}

/// faer's automatic tuning parameters.
fn default<T: Default>() -> T {
    T::default()
}

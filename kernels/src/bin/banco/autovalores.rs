//! autovalores' rows of the table: every eigenvalue of the seeded symmetric matrix, n = 2048 on
//! Paralelo and Cuda (n = 1024 on the one-thread Secuencial). Its peer,
//! `numpy.linalg.eigvalsh` (LAPACK's dsyevd through OpenBLAS) on the same matrix
//! (`kernels/pares/autovalores.py`, best of 3), is measured in the same run and shown in
//! Paralelo's target; the ratio is numpy's time over Paralelo's. The extreme eigenvalues of the
//! two are compared too (a warning when they differ by more than the kernel's tolerance).

use std::time::Duration;

use comun::Algoritmo;
use kernels::Control;
use kernels::autovalores;

use super::{fila, mejor, pares};

/// The size the target names.
const N: usize = 2048;

/// The seed of the benchmark's matrix.
const SEMILLA: u64 = 1;

/// What the peer measured.
struct Par {
    /// Best time of `eigvalsh`.
    tiempo: Duration,
    /// Its smallest and largest eigenvalues.
    extremos: (f64, f64),
}

/// One row per backend, Paralelo's with the peer's figures and the ratio.
pub fn filas(algoritmos: &[Algoritmo]) {
    let par = medir_par();
    if let Err(e) = &par {
        eprintln!("banco: numpy.linalg.eigvalsh not measured ({e})");
    }
    for &algoritmo in algoritmos {
        // The one-thread reference at a size it finishes in about a second.
        let n = if algoritmo == Algoritmo::Secuencial {
            N / 2
        } else {
            N
        };
        let Ok(a) = autovalores::matriz(n, SEMILLA, &Control::ninguno()) else {
            continue;
        };
        let mut extremos = (f64::NAN, f64::NAN);
        let t = mejor(|| {
            let mut copia = a.clone();
            autovalores::resolver(&mut copia, n, 0, algoritmo, &Control::ninguno()).map(|s| {
                extremos = (s.valores[0], s.valores[n - 1]);
                s.duracion
            })
        });
        let Some(t) = t else { continue };
        let (objetivo, razon) = match (&par, algoritmo) {
            (Ok(par), Algoritmo::Paralelo) => {
                comparar(extremos, par.extremos);
                let np = par.tiempo;
                (
                    format!(
                        "≥ 0.80 × numpy eigvalsh ({:.0} ms, {:.1} GFLOP/s)",
                        np.as_secs_f64() * 1e3,
                        gflops(N, np)
                    ),
                    format!("{:.2}", np.as_secs_f64() / t.as_secs_f64()),
                )
            }
            _ => ("-".to_string(), "-".to_string()),
        };
        fila(
            "autovalores",
            algoritmo,
            &format!("n = {n}"),
            t,
            &format!("{:.1} GFLOP/s", gflops(n, t)),
            &objetivo,
            &razon,
        );
    }
}

/// `(4/3)·n³` per second in 10⁹, as the kernel counts.
fn gflops(n: usize, t: Duration) -> f64 {
    4.0 / 3.0 * (n as f64).powi(3) / t.as_secs_f64() / 1e9
}

/// Warns when Paralelo's extreme eigenvalues and numpy's differ beyond the kernel's tolerance.
fn comparar(nuestros: (f64, f64), suyos: (f64, f64)) {
    let norma = nuestros.0.abs().max(nuestros.1.abs());
    let cota = autovalores::TOLERANCIA * N as f64 * norma;
    if (nuestros.0 - suyos.0).abs() > cota || (nuestros.1 - suyos.1).abs() > cota {
        eprintln!("banco: autovalores extremes {nuestros:?} differ from numpy's {suyos:?}");
    }
}

/// `kernels/pares/autovalores.py` at [`N`]: its best time and extreme eigenvalues.
fn medir_par() -> Result<Par, String> {
    let (n, semilla) = (format!("n={N}"), format!("semilla={SEMILLA}"));
    let m = pares::correr("autovalores.py", &[&n, &semilla, "--repeticiones", "3"])?;
    Ok(Par {
        tiempo: Duration::from_secs_f64(m.valor("segundos")?),
        extremos: (m.valor("menor")?, m.valor("mayor")?),
    })
}

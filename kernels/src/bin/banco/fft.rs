//! fft's rows of the table: the 1-D transform of 2²² complex points on every backend. Its peer,
//! `numpy.fft.fft` (pocketfft) on the same signal (`kernels/pares/fft.py`, best of 5), is
//! measured in the same run and shown in Paralelo's target; the ratio is numpy's time over
//! Paralelo's. The checksums of the two spectra are compared too (a warning when they differ).

use std::time::Duration;

use comun::Algoritmo;
use comun::trabajo::ParamsFft;
use kernels::fft;

use super::{fila, mejor};

/// The size the target names: 2²² points.
const N: u32 = 1 << 22;

/// What the peer measured.
struct Par {
    /// Best time of the transform.
    tiempo: Duration,
    /// Σ (re + im) of its spectrum.
    checksum: f64,
}

/// One row per backend, Paralelo's with the peer's figures and the ratio.
pub fn filas(algoritmos: &[Algoritmo]) {
    let p = ParamsFft::new(N, 1, 1).expect("a valid size");
    let par = medir_par();
    if let Err(e) = &par {
        eprintln!("banco: numpy.fft.fft not measured ({e})");
    }
    let tam = "N = 2²², 1-D";
    for &algoritmo in algoritmos {
        let mut checksum = f64::NAN;
        let t = mejor(|| {
            fft::transformada(&p, algoritmo, &kernels::Control::ninguno()).map(|e| {
                checksum = fft::checksum(&e.datos);
                e.duracion
            })
        });
        let Some(t) = t else { continue };
        let (objetivo, razon) = match (&par, algoritmo) {
            (Ok(par), Algoritmo::Paralelo) => {
                let acuerdo = (checksum - par.checksum).abs() / f64::from(N);
                if acuerdo > 1e-9 {
                    eprintln!(
                        "banco: fft checksum {checksum} differs from numpy's {}",
                        par.checksum
                    );
                }
                let np = par.tiempo;
                (
                    format!(
                        "≥ 1.00 × numpy.fft.fft ({:.2} ms, {:.2} GFLOP/s)",
                        np.as_secs_f64() * 1e3,
                        fft::gflops(p.puntos(), np)
                    ),
                    format!("{:.2}", par.tiempo.as_secs_f64() / t.as_secs_f64()),
                )
            }
            _ => ("-".to_string(), "-".to_string()),
        };
        fila(
            "fft",
            algoritmo,
            tam,
            t,
            &format!("{:.2} GFLOP/s", fft::gflops(p.puntos(), t)),
            &objetivo,
            &razon,
        );
    }
}

/// `kernels/pares/fft.py` at [`N`]: its best time and checksum.
fn medir_par() -> Result<Par, String> {
    let medida = super::pares::correr("fft.py", &[&format!("n={N}"), "--repeticiones", "5"])?;
    Ok(Par {
        tiempo: Duration::from_secs_f64(medida.valor("segundos")?),
        checksum: medida.valor("checksum")?,
    })
}

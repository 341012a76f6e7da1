//! banco's imagen rows: the whole job (the generated RGB test image, `desenfoque` σ = 2 then
//! `sobel`) on every backend, and the target's comparison: the blur alone on one 4096 × 4096
//! `f32` plane (`kernels::imagen::desenfocar_plano`, `Paralelo`) against
//! `scipy.ndimage.gaussian_filter` on the same plane shape, sigma, radius ⌈3σ⌉ and clamped
//! edges (`mode="nearest"`), measured by kernels/pares/imagen.py in the same run. Both write
//! into buffers allocated before the clock starts; the plane's values are uniform in
//! `[0, 255)`, seeded.

use std::time::{Duration, Instant};

use comun::Algoritmo;
use comun::trabajo::{Filtro, ParamsImagen};
use kernels::{Control, ErrorKernel};

use super::{fila, mejor};

/// Side of the target's plane.
const LADO: u32 = 4096;
/// The target's sigma.
const SIGMA: f32 = 2.0;

/// Every imagen row: the job on each of `algoritmos`, then the blur against scipy.
pub fn filas(algoritmos: &[Algoritmo]) {
    for &algoritmo in algoritmos {
        fila_trabajo(algoritmo);
    }
    fila_desenfoque();
}

/// The whole job's row: megapixels per second of kernel time.
fn fila_trabajo(algoritmo: Algoritmo) {
    // Secuencial at a size it finishes in a second or two.
    let lado = if algoritmo == Algoritmo::Secuencial {
        LADO / 2
    } else {
        LADO
    };
    let filtros = vec![Filtro::Desenfoque, Filtro::Sobel];
    let p = ParamsImagen::new(lado, lado, filtros, SIGMA, None).expect("valid parameters");
    let ejecutar =
        || kernels::imagen::ejecutar(&p, None, algoritmo, &Control::ninguno()).map(|s| s.duracion);
    if let Some(t) = mejor(ejecutar) {
        let mpx = f64::from(lado).powi(2) / t.as_secs_f64() / 1e6;
        fila(
            "imagen",
            algoritmo,
            &format!("{lado}² RGB, desenfoque σ 2 + sobel"),
            t,
            &format!("{mpx:.0} Mpixel/s"),
            "-",
            "-",
        );
    }
}

/// The blur of one `f32` plane on `Paralelo`, and its ratio to scipy's time (≥ 1: faster).
fn fila_desenfoque() {
    let n = (LADO * LADO) as usize;
    let mut plano: Vec<f32> = (0..n)
        .map(|i| kernels::azar::uniforme(1, 60, i as u64, 0.0, 255.0))
        .collect();
    let mut tmp = vec![0.0; n];
    let desenfocar = || -> Result<Duration, ErrorKernel> {
        let inicio = Instant::now();
        let lados = (LADO, LADO);
        kernels::imagen::desenfocar_plano(&mut plano, &mut tmp, lados, SIGMA, Algoritmo::Paralelo)?;
        Ok(inicio.elapsed())
    };
    let Some(t) = mejor(desenfocar) else {
        return;
    };
    let mpx = f64::from(LADO).powi(2) / t.as_secs_f64() / 1e6;
    let (objetivo, razon) = match scipy() {
        Ok(s) => (
            format!("≥ 1.00 × scipy gaussian_filter ({:.1} ms)", s * 1e3),
            format!("{:.2}", s / t.as_secs_f64()),
        ),
        Err(e) => (format!("scipy not measured: {e}"), "-".into()),
    };
    fila(
        "imagen desenfoque",
        Algoritmo::Paralelo,
        &format!("one {LADO}² f32 plane, σ 2 (13 taps)"),
        t,
        &format!("{mpx:.0} Mpixel/s"),
        &objetivo,
        &razon,
    );
}

/// scipy's best time for the same blur in seconds, from kernels/pares/imagen.py.
fn scipy() -> Result<f64, String> {
    let (lado, sigma) = (LADO.to_string(), SIGMA.to_string());
    super::pares::correr("imagen.py", &[&lado, &sigma])?.valor("segundos")
}

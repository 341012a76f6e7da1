//! banco's `kmeans` rows: two jobs on every backend, and for `Paralelo` the ratio of
//! scikit-learn's time to the kernel's for the same problem, measured in the same run.
//!
//! The kernel's blobs and k-means++ centroids are written to a temporary file that the peer
//! script (`kernels/pares/kmeans.py`) reads, so scikit-learn's `KMeans(algorithm="lloyd",
//! n_init=1, init=<those centroids>, max_iter=<the same>, tol=0)` solves the very problem the
//! kernel does; its steps and final inertia are shown beside the time, as a check.
//!
//! - the default job (100 000 × 16, k = 8, 20 steps): thin products, where the per-point work
//!   around the distances decides;
//! - a wider one (200 000 × 64, k = 64, 20 steps): the distances decide. `Paralelo` only.

use std::io::Write as _;
use std::process::Command;

use comun::Algoritmo;
use comun::trabajo::ParamsKmeans;
use kernels::Control;
use kernels::kmeans::{self, Datos, datos};

/// The jobs: a name for the table, the parameters, and whether `Secuencial` runs it.
fn trabajos() -> [(&'static str, ParamsKmeans, bool); 2] {
    [
        (
            "100000 × 16, k = 8, 20 steps (default)",
            ParamsKmeans::default(),
            true,
        ),
        (
            "200000 × 64, k = 64, 20 steps",
            ParamsKmeans::new(200_000, 64, 64, 20, 1).expect("within the limits"),
            false,
        ),
    ]
}

/// scikit-learn's run of one problem.
struct Pareja {
    /// Best `fit` time of 3.
    segundos: f64,
    /// `n_iter_`.
    iteraciones: u32,
    /// `inertia_`.
    inercia: f64,
}

/// Prints the rows of every job on `algoritmos`.
pub fn filas(algoritmos: &[Algoritmo]) {
    for (nombre, p, secuencial) in trabajos() {
        let datos = Datos::new(&p);
        let iniciales = datos::iniciales(&datos, p.k as usize, p.semilla, &Control::ninguno())
            .expect("an unshared control never stops");
        let sklearn = medir_sklearn(&datos, &iniciales, p.iteraciones);
        if let Err(e) = &sklearn {
            eprintln!("banco: scikit-learn's kmeans not measured: {e}");
        }
        for &algoritmo in algoritmos {
            if algoritmo == Algoritmo::Secuencial && !secuencial {
                continue;
            }
            let mut ultimo = None;
            let Some(t) = super::mejor(|| {
                let a = kmeans::agrupar(
                    &datos,
                    iniciales.clone(),
                    p.iteraciones,
                    algoritmo,
                    &Control::ninguno(),
                )?;
                let t = a.duracion;
                ultimo = Some(a);
                Ok(t)
            }) else {
                continue;
            };
            let Some(a) = ultimo else { continue };
            let flops = 3.0
                * f64::from(p.muestras)
                * f64::from(p.k)
                * f64::from(p.dimensiones)
                * f64::from(a.iteraciones);
            let (objetivo, razon) = match (&sklearn, algoritmo) {
                (Ok(sk), Algoritmo::Paralelo) => (
                    format!(
                        "≥ 1.00 × scikit-learn lloyd ({:.1} ms, {} steps as ours {}, inertia \
                         {:+.1e} relative to ours)",
                        sk.segundos * 1e3,
                        sk.iteraciones,
                        a.iteraciones,
                        (sk.inercia - a.inercia.last().copied().unwrap_or(0.0)) / sk.inercia
                    ),
                    format!("{:.2}", sk.segundos / t.as_secs_f64()),
                ),
                _ => ("-".into(), "-".into()),
            };
            super::fila(
                "kmeans",
                algoritmo,
                nombre,
                t,
                &format!("{:.1} GFLOP/s", flops / t.as_secs_f64() / 1e9),
                &objetivo,
                &razon,
            );
        }
    }
}

/// scikit-learn's best `fit` time of 3 on the problem, measured now through the peer script.
fn medir_sklearn(datos: &Datos, iniciales: &[f32], iteraciones: u32) -> Result<Pareja, String> {
    let ruta = std::env::temp_dir().join(format!("banco-kmeans-{}.bin", std::process::id()));
    escribir(&ruta, datos, iniciales, iteraciones)
        .map_err(|e| format!("writing {}: {e}", ruta.display()))?;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/pares/kmeans.py");
    let python = super::python();
    let salida = Command::new(&python).arg(script).arg(&ruta).output();
    let _ = std::fs::remove_file(&ruta);
    let salida = salida.map_err(|e| format!("{python}: {e}"))?;
    let texto = String::from_utf8_lossy(&salida.stdout);
    if !salida.status.success() {
        let error = String::from_utf8_lossy(&salida.stderr);
        return Err(error.lines().last().unwrap_or("failed").to_owned());
    }
    let campo = |nombre: &str| -> Result<f64, String> {
        texto
            .split_whitespace()
            .find_map(|par| par.strip_prefix(nombre)?.strip_prefix('='))
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("no {nombre} in {texto:?}"))
    };
    Ok(Pareja {
        segundos: campo("segundos")?,
        iteraciones: campo("iteraciones")? as u32,
        inercia: campo("inercia")?,
    })
}

/// The problem in the peer script's format: four little-endian `u32` (muestras, dimensiones,
/// k, iteraciones), the points, the initial centroids, as little-endian `f32`.
fn escribir(
    ruta: &std::path::Path,
    datos: &Datos,
    iniciales: &[f32],
    iteraciones: u32,
) -> std::io::Result<()> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(ruta)?);
    let k = iniciales.len() / datos.dimensiones;
    for v in [datos.muestras, datos.dimensiones, k, iteraciones as usize] {
        f.write_all(&(v as u32).to_le_bytes())?;
    }
    for v in datos.x.iter().chain(iniciales) {
        f.write_all(&v.to_le_bytes())?;
    }
    f.flush()
}

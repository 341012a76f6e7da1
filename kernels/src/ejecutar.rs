//! Running a whole job: parameters in, the wire [`Resultado`] (and the PNG) out.

use std::time::{Duration, Instant};

use comun::Algoritmo;
use comun::api::{Detalle, Resultado};
use comun::trabajo::{Parametros, ParamsEspera, ParamsJulia};

use crate::{ErrorKernel, dispositivo, julia};

/// What running a job produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Ejecucion {
    /// The result as the esclavo reports it to the maestro.
    pub resultado: Resultado,
    /// The image, for kernels that draw one (`resultado.imagen` is then true).
    pub imagen_png: Option<Vec<u8>>,
}

/// Runs any job kernel and builds the wire result.
///
/// Blocking (it computes or sleeps on the calling thread): call it off the async runtime,
/// e.g. in `tokio::task::spawn_blocking`. Parameters are validated again, since values decoded
/// from the wire bypass the validating constructors.
pub fn ejecutar(p: &Parametros, algoritmo: Algoritmo) -> Result<Ejecucion, ErrorKernel> {
    p.validar()?;
    match p {
        Parametros::Julia(j) => ejecutar_julia(j, algoritmo),
        Parametros::Espera(e) => Ok(ejecutar_espera(e, algoritmo)),
        otro => Err(ErrorKernel::NoDisponible(format!(
            "tipo {} has no kernel in this build yet",
            otro.tipo()
        ))),
    }
}

/// Julia: times the kernel alone (not the PNG), and reports iterations per second of it.
fn ejecutar_julia(p: &ParamsJulia, algoritmo: Algoritmo) -> Result<Ejecucion, ErrorKernel> {
    let inicio = Instant::now();
    let conteos = julia(p, algoritmo)?;
    let duracion_s = inicio.elapsed().as_secs_f64();
    let suma_conteos = conteos.suma();
    let iteraciones_por_segundo = if duracion_s > 0.0 {
        suma_conteos as f64 / duracion_s
    } else {
        0.0
    };
    Ok(Ejecucion {
        resultado: Resultado {
            duracion_s,
            dispositivo: dispositivo(algoritmo),
            detalle: Detalle::Julia {
                suma_conteos,
                pixeles: p.pixeles(),
                iteraciones_por_segundo,
            },
            imagen: true,
        },
        imagen_png: Some(conteos.png(p.iteraciones)),
    })
}

/// Espera: sleeps the requested time on this thread.
fn ejecutar_espera(p: &ParamsEspera, algoritmo: Algoritmo) -> Ejecucion {
    let inicio = Instant::now();
    std::thread::sleep(Duration::from_millis(p.ms));
    Ejecucion {
        resultado: Resultado {
            duracion_s: inicio.elapsed().as_secs_f64(),
            dispositivo: dispositivo(algoritmo),
            detalle: Detalle::Espera { ms: p.ms },
            imagen: false,
        },
        imagen_png: None,
    }
}

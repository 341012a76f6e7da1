//! Running a whole job: parameters in, the wire [`Resultado`] (and the PNG) out.

use std::time::{Duration, Instant};

use comun::Algoritmo;
use comun::api::{Detalle, Resultado};
use comun::trabajo::{
    Parametros, ParamsEspera, ParamsJulia, ParamsMatmul, ParamsNbody, ParamsVectorAdd,
};

use crate::{Control, ErrorKernel, dispositivo, matmul, montecarlo, nbody, vector_add};

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
    ejecutar_con(p, algoritmo, &Control::ninguno())
}

/// [`ejecutar`] under `control`: cancelling it, or reaching its time limit, stops the kernel
/// at its next check (docs/kernels.md lists how often each kernel checks) and answers
/// [`ErrorKernel::Cancelado`] or [`ErrorKernel::PlazoExcedido`].
pub fn ejecutar_con(
    p: &Parametros,
    algoritmo: Algoritmo,
    control: &Control,
) -> Result<Ejecucion, ErrorKernel> {
    p.validar()?;
    let (duracion_s, detalle) = match p {
        Parametros::Julia(j) => return ejecutar_julia(j, algoritmo, control),
        Parametros::Espera(e) => return ejecutar_espera(e, algoritmo, control),
        Parametros::Matmul(m) => detalle_matmul(m, matmul::matmul_con(m, algoritmo, control)?),
        Parametros::VectorAdd(v) => {
            detalle_vector_add(v, vector_add::vector_add_con(v, algoritmo, control)?)
        }
        Parametros::Montecarlo(m) => {
            detalle_montecarlo(montecarlo::montecarlo_con(m, algoritmo, control)?)
        }
        Parametros::Nbody(nb) => detalle_nbody(nb, nbody::nbody_con(nb, algoritmo, control)?),
    };
    Ok(sin_imagen(duracion_s, algoritmo, detalle))
}

/// matmul's kernel time in seconds and its wire detail: the checksum, the sampled error and
/// GFLOP/s.
fn detalle_matmul(m: &ParamsMatmul, r: matmul::Producto) -> (f64, Detalle) {
    let t = r.duracion.as_secs_f64();
    let flops = 2.0 * f64::from(m.n).powi(3) * f64::from(m.iteraciones);
    let detalle = Detalle::Matmul {
        n: m.n,
        checksum: matmul::checksum(&r.c, m.n),
        error_relativo: matmul::error_relativo(&r.c, m.n),
        gflops: por_segundo(flops, t) / 1e9,
    };
    (t, detalle)
}

/// vector_add's kernel time in seconds and its wire detail: the checksum and GB/s (bytes read
/// and written).
fn detalle_vector_add(v: &ParamsVectorAdd, r: vector_add::Suma) -> (f64, Detalle) {
    let t = r.duracion.as_secs_f64();
    let bytes = 12.0 * v.n as f64 * f64::from(v.iteraciones);
    let detalle = Detalle::VectorAdd {
        n: v.n,
        checksum: vector_add::checksum(&r.c),
        gbps: por_segundo(bytes, t) / 1e9,
    };
    (t, detalle)
}

/// montecarlo's kernel time in seconds and its wire detail: the count, π, samples per second.
fn detalle_montecarlo(r: montecarlo::Conteo) -> (f64, Detalle) {
    let t = r.duracion.as_secs_f64();
    let detalle = Detalle::Montecarlo {
        muestras: r.muestras,
        dentro: r.dentro,
        pi: r.pi(),
        muestras_por_segundo: por_segundo(r.muestras as f64, t),
    };
    (t, detalle)
}

/// nbody's kernel time in seconds and its wire detail: the energies before and after, and
/// pair interactions per second.
fn detalle_nbody(nb: &ParamsNbody, r: nbody::Simulacion) -> (f64, Detalle) {
    let t = r.duracion.as_secs_f64();
    let interacciones = f64::from(nb.particulas) * f64::from(nb.particulas) * f64::from(nb.pasos);
    let detalle = Detalle::Nbody {
        particulas: nb.particulas,
        pasos: nb.pasos,
        energia_inicial: r.energia_inicial,
        energia_final: r.energia_final,
        interacciones_por_segundo: por_segundo(interacciones, t),
    };
    (t, detalle)
}

/// `cantidad / t`, or 0 for a time too short to measure.
fn por_segundo(cantidad: f64, t: f64) -> f64 {
    if t > 0.0 { cantidad / t } else { 0.0 }
}

/// The result of a kernel that draws no image.
fn sin_imagen(duracion_s: f64, algoritmo: Algoritmo, detalle: Detalle) -> Ejecucion {
    Ejecucion {
        resultado: Resultado {
            duracion_s,
            dispositivo: dispositivo(algoritmo),
            detalle,
            imagen: false,
        },
        imagen_png: None,
    }
}

/// Julia: times the kernel alone (not the PNG), and reports iterations per second of it.
fn ejecutar_julia(
    p: &ParamsJulia,
    algoritmo: Algoritmo,
    control: &Control,
) -> Result<Ejecucion, ErrorKernel> {
    let inicio = Instant::now();
    let conteos = crate::julia::julia_con(p, algoritmo, control)?;
    let duracion_s = inicio.elapsed().as_secs_f64();
    control.comprobar()?;
    let suma_conteos = conteos.suma();
    let iteraciones_por_segundo = por_segundo(suma_conteos as f64, duracion_s);
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

/// Espera: sleeps the requested time on this thread, waking early to stop.
fn ejecutar_espera(
    p: &ParamsEspera,
    algoritmo: Algoritmo,
    control: &Control,
) -> Result<Ejecucion, ErrorKernel> {
    let inicio = Instant::now();
    control.dormir(Duration::from_millis(p.ms))?;
    let duracion_s = inicio.elapsed().as_secs_f64();
    Ok(sin_imagen(
        duracion_s,
        algoritmo,
        Detalle::Espera { ms: p.ms },
    ))
}

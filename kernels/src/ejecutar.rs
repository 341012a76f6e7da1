//! Running a whole job: parameters in, the wire [`Resultado`] (and the PNG) out.

use std::time::{Duration, Instant};

use comun::Algoritmo;
use comun::api::{Detalle, Resultado};
use comun::trabajo::{
    Parametros, ParamsEspera, ParamsJulia, ParamsMatmul, ParamsMontecarlo, ParamsNbody,
    ParamsVectorAdd,
};

use crate::{Control, ErrorKernel, dispositivo};

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
    match p {
        Parametros::Julia(j) => ejecutar_julia(j, algoritmo, control),
        Parametros::Espera(e) => ejecutar_espera(e, algoritmo, control),
        Parametros::Matmul(m) => ejecutar_matmul(m, algoritmo, control),
        Parametros::VectorAdd(v) => ejecutar_vector_add(v, algoritmo, control),
        Parametros::Montecarlo(m) => ejecutar_montecarlo(m, algoritmo, control),
        Parametros::Nbody(nb) => ejecutar_nbody(nb, algoritmo, control),
    }
}

/// matmul: the checksum, the sampled error and GFLOP/s of the kernel time.
fn ejecutar_matmul(
    m: &ParamsMatmul,
    algoritmo: Algoritmo,
    control: &Control,
) -> Result<Ejecucion, ErrorKernel> {
    let r = crate::matmul::matmul_con(m, algoritmo, control)?;
    let t = r.duracion.as_secs_f64();
    let flops = 2.0 * f64::from(m.n).powi(3) * f64::from(m.iteraciones);
    Ok(sin_imagen(
        t,
        algoritmo,
        Detalle::Matmul {
            n: m.n,
            checksum: crate::matmul::checksum(&r.c, m.n),
            error_relativo: crate::matmul::error_relativo(&r.c, m.n),
            gflops: por_segundo(flops, t) / 1e9,
        },
    ))
}

/// vector_add: the checksum and GB/s (bytes read and written) of the kernel time.
fn ejecutar_vector_add(
    v: &ParamsVectorAdd,
    algoritmo: Algoritmo,
    control: &Control,
) -> Result<Ejecucion, ErrorKernel> {
    let r = crate::vector_add::vector_add_con(v, algoritmo, control)?;
    let t = r.duracion.as_secs_f64();
    let bytes = 12.0 * v.n as f64 * f64::from(v.iteraciones);
    Ok(sin_imagen(
        t,
        algoritmo,
        Detalle::VectorAdd {
            n: v.n,
            checksum: crate::vector_add::checksum(&r.c),
            gbps: por_segundo(bytes, t) / 1e9,
        },
    ))
}

/// montecarlo: the count, π, and samples per second of the kernel time.
fn ejecutar_montecarlo(
    m: &ParamsMontecarlo,
    algoritmo: Algoritmo,
    control: &Control,
) -> Result<Ejecucion, ErrorKernel> {
    let r = crate::montecarlo::montecarlo_con(m, algoritmo, control)?;
    let t = r.duracion.as_secs_f64();
    Ok(sin_imagen(
        t,
        algoritmo,
        Detalle::Montecarlo {
            muestras: r.muestras,
            dentro: r.dentro,
            pi: r.pi(),
            muestras_por_segundo: por_segundo(r.muestras as f64, t),
        },
    ))
}

/// nbody: the energies before and after, and pair interactions per second of the kernel time.
fn ejecutar_nbody(
    nb: &ParamsNbody,
    algoritmo: Algoritmo,
    control: &Control,
) -> Result<Ejecucion, ErrorKernel> {
    let r = crate::nbody::nbody_con(nb, algoritmo, control)?;
    let t = r.duracion.as_secs_f64();
    let interacciones = f64::from(nb.particulas) * f64::from(nb.particulas) * f64::from(nb.pasos);
    Ok(sin_imagen(
        t,
        algoritmo,
        Detalle::Nbody {
            particulas: nb.particulas,
            pasos: nb.pasos,
            energia_inicial: r.energia_inicial,
            energia_final: r.energia_final,
            interacciones_por_segundo: por_segundo(interacciones, t),
        },
    ))
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

/// Espera: sleeps the requested time on this thread, waking early to stop.
fn ejecutar_espera(
    p: &ParamsEspera,
    algoritmo: Algoritmo,
    control: &Control,
) -> Result<Ejecucion, ErrorKernel> {
    let inicio = Instant::now();
    control.dormir(Duration::from_millis(p.ms))?;
    Ok(Ejecucion {
        resultado: Resultado {
            duracion_s: inicio.elapsed().as_secs_f64(),
            dispositivo: dispositivo(algoritmo),
            detalle: Detalle::Espera { ms: p.ms },
            imagen: false,
        },
        imagen_png: None,
    })
}

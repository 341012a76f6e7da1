//! Running a whole job: parameters in, the wire [`Resultado`] (and the PNG) out. Every kernel
//! answers a [`Salida`]; this module picks the kernel for the job's tipo, builds the `Salida`
//! of the kernels that predate it from their own results, and turns it into the wire result.

use std::time::{Duration, Instant};

use comun::api::{Detalle, Resultado};
use comun::trabajo::{
    Parametros, ParamsEspera, ParamsImagen, ParamsJulia, ParamsMatmul, ParamsNbody, ParamsVectorAdd,
};
use comun::{Algoritmo, ErrorCampo};

use crate::salida::por_segundo;
use crate::{
    Control, ErrorKernel, Salida, autovalores, dispositivo, fft, imagen, kmeans, matmul,
    montecarlo, nbody, red_neuronal, vector_add,
};

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
/// [`ErrorKernel::Cancelado`] or [`ErrorKernel::PlazoExcedido`]. An `imagen` job runs on its
/// generated image; one that names an uploaded `entrada` is refused (the esclavo fetches the
/// PNG and calls [`ejecutar_con_entrada`]).
pub fn ejecutar_con(
    p: &Parametros,
    algoritmo: Algoritmo,
    control: &Control,
) -> Result<Ejecucion, ErrorKernel> {
    ejecutar_con_entrada(p, None, algoritmo, control)
}

/// [`ejecutar_con`] with `entrada`, the bytes of the PNG an `imagen` job's `entrada` names.
pub fn ejecutar_con_entrada(
    p: &Parametros,
    entrada: Option<&[u8]>,
    algoritmo: Algoritmo,
    control: &Control,
) -> Result<Ejecucion, ErrorKernel> {
    p.validar()?;
    if entrada.is_some() && !matches!(p, Parametros::Imagen(_)) {
        return Err(
            ErrorCampo::new("entrada", format!("tipo {} takes no input image", p.tipo())).into(),
        );
    }
    let salida = match p {
        Parametros::Julia(j) => ejecutar_julia(j, algoritmo, control)?,
        Parametros::Espera(e) => ejecutar_espera(e, control)?,
        Parametros::Matmul(m) => {
            let r = matmul::matmul_con(m, algoritmo, control)?;
            con_copias(algoritmo, r.total, salida_matmul(m, r))
        }
        Parametros::VectorAdd(v) => {
            let r = vector_add::vector_add_con(v, algoritmo, control)?;
            con_copias(algoritmo, r.total, salida_vector_add(v, r))
        }
        Parametros::Montecarlo(m) => {
            let r = montecarlo::montecarlo_con(m, algoritmo, control)?;
            con_copias(algoritmo, r.total, salida_montecarlo(r))
        }
        Parametros::Nbody(nb) => {
            let r = nbody::nbody_con(nb, algoritmo, control)?;
            con_copias(algoritmo, r.total, salida_nbody(nb, r))
        }
        Parametros::RedNeuronal(r) => red_neuronal::ejecutar(r, algoritmo, control)?,
        Parametros::Imagen(i) => ejecutar_imagen(i, entrada, algoritmo, control)?,
        Parametros::Fft(f) => fft::ejecutar(f, algoritmo, control)?,
        Parametros::Autovalores(a) => autovalores::ejecutar(a, algoritmo, control)?,
        Parametros::Kmeans(k) => kmeans::ejecutar(k, algoritmo, control)?,
    };
    let (resultado, imagen_png) = salida.resultado(dispositivo(algoritmo));
    Ok(Ejecucion {
        resultado,
        imagen_png,
    })
}

/// imagen: the uploaded PNG when the job names one (and it was fetched), else the generated
/// image.
fn ejecutar_imagen(
    p: &ParamsImagen,
    entrada: Option<&[u8]>,
    algoritmo: Algoritmo,
    control: &Control,
) -> Result<Salida, ErrorKernel> {
    if let (Some(id), None) = (p.entrada, entrada) {
        return Err(ErrorCampo::new(
            "entrada",
            format!(
                "the job reads uploaded image {id}, which was not fetched (its esclavo passes \
                 the PNG to ejecutar_con_entrada)"
            ),
        )
        .into());
    }
    imagen::ejecutar(p, entrada, algoritmo, control)
}

/// `salida` of a kernel that ran on `algoritmo`, with `total` (kernel plus copies, as the
/// kernel timed it) as its time with copies when that was the GPU.
fn con_copias(algoritmo: Algoritmo, total: Duration, salida: Salida) -> Salida {
    Salida {
        duracion_con_copias: (algoritmo == Algoritmo::Cuda).then_some(total),
        ..salida
    }
}

/// matmul's output: the checksum, the sampled error and GFLOP/s.
fn salida_matmul(m: &ParamsMatmul, r: matmul::Producto) -> Salida {
    let flops = 2.0 * f64::from(m.n).powi(3) * f64::from(m.iteraciones);
    let detalle = Detalle::Matmul {
        n: m.n,
        checksum: matmul::checksum(&r.c, m.n),
        error_relativo: matmul::error_relativo(&r.c, m.n),
        gflops: por_segundo(flops, r.duracion) / 1e9,
    };
    Salida::cpu(r.duracion, detalle)
}

/// vector_add's output: the checksum and GB/s (bytes read and written).
fn salida_vector_add(v: &ParamsVectorAdd, r: vector_add::Suma) -> Salida {
    let bytes = 12.0 * v.n as f64 * f64::from(v.iteraciones);
    let detalle = Detalle::VectorAdd {
        n: v.n,
        checksum: vector_add::checksum(&r.c),
        gbps: por_segundo(bytes, r.duracion) / 1e9,
    };
    Salida::cpu(r.duracion, detalle)
}

/// montecarlo's output: the count, π, samples per second.
fn salida_montecarlo(r: montecarlo::Conteo) -> Salida {
    let detalle = Detalle::Montecarlo {
        muestras: r.muestras,
        dentro: r.dentro,
        pi: r.pi(),
        muestras_por_segundo: por_segundo(r.muestras as f64, r.duracion),
    };
    Salida::cpu(r.duracion, detalle)
}

/// nbody's output: the energies before and after, and pair interactions per second.
fn salida_nbody(nb: &ParamsNbody, r: nbody::Simulacion) -> Salida {
    let interacciones = f64::from(nb.particulas) * f64::from(nb.particulas) * f64::from(nb.pasos);
    let detalle = Detalle::Nbody {
        particulas: nb.particulas,
        pasos: nb.pasos,
        energia_inicial: r.energia_inicial,
        energia_final: r.energia_final,
        interacciones_por_segundo: por_segundo(interacciones, r.duracion),
    };
    Salida::cpu(r.duracion, detalle)
}

/// Julia: times the kernel alone (not the PNG; on the GPU, not the copy either), and reports
/// iterations per second of it.
fn ejecutar_julia(
    p: &ParamsJulia,
    algoritmo: Algoritmo,
    control: &Control,
) -> Result<Salida, ErrorKernel> {
    let (conteos, duracion, duracion_con_copias) = julia_cronometrada(p, algoritmo, control)?;
    control.comprobar()?;
    let suma_conteos = conteos.suma();
    let detalle = Detalle::Julia {
        suma_conteos,
        pixeles: p.pixeles(),
        iteraciones_por_segundo: por_segundo(suma_conteos as f64, duracion),
    };
    Ok(Salida {
        imagen_png: Some(conteos.png(p.iteraciones)),
        duracion_con_copias,
        ..Salida::cpu(duracion, detalle)
    })
}

/// Julia's counts, its kernel time and, on the GPU, its time with the copy back.
fn julia_cronometrada(
    p: &ParamsJulia,
    algoritmo: Algoritmo,
    control: &Control,
) -> Result<(crate::Conteos, Duration, Option<Duration>), ErrorKernel> {
    #[cfg(feature = "cuda")]
    if algoritmo == Algoritmo::Cuda {
        ParamsJulia::new(p.width, p.height, p.iteraciones)?;
        control.comprobar()?;
        let m = crate::julia::cuda::medir_con(p, control)?;
        let conteos = crate::Conteos {
            width: p.width,
            height: p.height,
            conteos: m.conteos,
        };
        return Ok((conteos, m.kernel, Some(m.con_copias)));
    }
    let inicio = Instant::now();
    let conteos = crate::julia::julia_con(p, algoritmo, control)?;
    Ok((conteos, inicio.elapsed(), None))
}

/// Espera: sleeps the requested time on this thread, waking early to stop.
fn ejecutar_espera(p: &ParamsEspera, control: &Control) -> Result<Salida, ErrorKernel> {
    let inicio = Instant::now();
    control.dormir(Duration::from_millis(p.ms))?;
    Ok(Salida::cpu(inicio.elapsed(), Detalle::Espera { ms: p.ms }))
}

#[cfg(test)]
mod tests {
    use comun::Tipo;

    use crate::{autovalores, fft, imagen, kmeans, red_neuronal};

    /// The maestro refuses `Cuda` and steers `Auto` by `Tipo::tiene_cuda`: it must say what
    /// each kernel module says of itself.
    #[test]
    fn each_kernel_has_a_gpu_version_exactly_when_its_tipo_says_so() {
        let modulos = [
            (Tipo::Fft, fft::CUDA),
            (Tipo::Autovalores, autovalores::CUDA),
            (Tipo::Kmeans, kmeans::CUDA),
            (Tipo::RedNeuronal, red_neuronal::CUDA),
            (Tipo::Imagen, imagen::CUDA),
        ];
        for (tipo, cuda) in modulos {
            assert_eq!(tipo.tiene_cuda(), cuda, "{tipo}");
        }
    }
}

//! Running jobs: each accepted job in its slot (`ranuras`), kernels on tokio's
//! blocking pool, `espera` jobs on timers (thousands of them cost no threads), and the result
//! queued for the maestro. An `imagen` job that names an uploaded PNG gets it first
//! (`entradas`: the esclavo's cache, or `GET /imagenes/{id}` from the maestro); one that cannot
//! be had fails the attempt, saying why.
//!
//! An attempt's kernel checks its `Parada` between chunks of work (within about 100 ms;
//! docs/kernels.md) and an `espera` timer wakes at once; the attempt then frees its slot and
//! reports `Fallido` with `cancelled: <motivo>` or `time limit of N s exceeded after M s`, and
//! `/estado` records it as `cancelado` or `fallido`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use comun::nodo::{Asignacion, InformeResultado, Rechazo, RespuestaEjecutar, Salida};
use comun::trabajo::{Detalle, Resultado};
use comun::{Algoritmo, Estado, Parametros};
use kernels::ErrorKernel;

use crate::entradas::Entradas;
use crate::ranuras::{Parada, RanuraTomada};
use crate::servicio::Esclavo;

/// Why running attempts stop when the esclavo shuts down (their thread finishes early; no
/// result is sent).
const MOTIVO_CIERRE: &str = "the esclavo is shutting down";

/// Why a draining esclavo refuses new jobs.
const MOTIVO_DRENANDO: &str = "draining: this esclavo is stopping";

/// Takes each job that finds a free slot and starts it; refuses the others, saying why.
/// Jobs are taken in the order of the request. The parameters must have been validated.
pub(crate) fn aceptar(esclavo: &Arc<Esclavo>, trabajos: Vec<Asignacion>) -> RespuestaEjecutar {
    let mut respuesta = RespuestaEjecutar::default();
    for a in trabajos {
        let toma = if esclavo.cerrado() {
            Err("shutting down".to_owned())
        } else if esclavo.drenando() {
            Err(MOTIVO_DRENANDO.to_owned())
        } else if a.algoritmo.necesita_gpu() && esclavo.capacidades().gpus.is_empty() {
            Err(format!(
                "no GPU on this esclavo ({})",
                kernels::dispositivo(Algoritmo::Cuda)
            ))
        } else {
            esclavo.ranuras.tomar(&a)
        };
        match toma {
            Ok(RanuraTomada::Nueva { parada, gpu }) => {
                respuesta.aceptados.push(a.id);
                tokio::spawn(correr(Arc::clone(esclavo), a, parada, gpu));
            }
            Ok(RanuraTomada::YaEnCurso) => respuesta.aceptados.push(a.id),
            Err(motivo) => respuesta.rechazados.push(Rechazo { id: a.id, motivo }),
        }
    }
    respuesta
}

/// Runs one attempt in its slot (a `Cuda` one on GPU `gpu`), frees the slot and queues the
/// result for the maestro. Abandoned (no result, slot left as is) when the esclavo shuts down;
/// its kernel is told to stop, so its thread ends soon.
async fn correr(esclavo: Arc<Esclavo>, a: Asignacion, parada: Parada, gpu: Option<u32>) {
    let mut cierre = esclavo.aviso_de_cierre();
    let inicio = Instant::now();
    let (salida, estado) = tokio::select! {
        _ = cierre.wait_for(|cerrado| *cerrado) => {
            parada.parar(MOTIVO_CIERRE);
            return;
        }
        fin = ejecutar(a.parametros.clone(), a.algoritmo, &parada, gpu, &esclavo.entradas) => fin,
    };
    match (&salida, estado) {
        (Salida::Fallido { error }, Estado::Cancelado) => {
            tracing::info!(id = %a.id, intento = a.intento, %error, "job stopped");
        }
        (Salida::Fallido { error }, _) => {
            tracing::warn!(id = %a.id, intento = a.intento, %error, "job failed");
        }
        _ => tracing::debug!(id = %a.id, intento = a.intento, "job completed"),
    }
    let tipo = a.parametros.tipo();
    esclavo
        .metricas
        .terminado(tipo, a.algoritmo, estado, inicio.elapsed());
    let informe = InformeResultado {
        id: a.id,
        intento: a.intento,
        esclavo: esclavo.nombre().to_owned(),
        instancia: esclavo.instancia(),
        salida,
    };
    esclavo.informar(informe, || {
        esclavo.ranuras.liberar((a.id, a.intento), estado)
    });
}

/// Computes a job under `parada`: `espera` on a timer, everything else on the blocking pool,
/// its `Cuda` work on GPU `gpu` (GPU 0 when none was chosen).
/// Returns what to report and how `/estado` records the end: `Completado`, `Fallido`, or
/// `Cancelado` when the attempt was cancelled (a time limit counts as `Fallido`).
async fn ejecutar(
    p: Parametros,
    algoritmo: Algoritmo,
    parada: &Parada,
    gpu: Option<u32>,
    entradas: &Entradas,
) -> (Salida, Estado) {
    let fin = if let Parametros::Espera(e) = p {
        esperar(e.ms, parada).await
    } else {
        let entrada = match traer_entrada(&p, entradas, parada).await {
            Ok(entrada) => entrada,
            Err(fin) => return fin,
        };
        let control = parada.control.clone();
        let calculo = tokio::task::spawn_blocking(move || {
            kernels::en_gpu(gpu.unwrap_or(0), || {
                let entrada = entrada.as_deref().map(Vec::as_slice);
                kernels::ejecutar_con_entrada(&p, entrada, algoritmo, &control)
            })
        });
        match calculo.await {
            Ok(fin) => fin.map(|e| Salida::Completado {
                resultado: e.resultado,
                imagen_png: e.imagen_png.map(|png| STANDARD.encode(png)),
            }),
            Err(e) => {
                let error = format!("kernel crashed: {e}");
                return (Salida::Fallido { error }, Estado::Fallido);
            }
        }
    };
    match fin {
        Ok(salida) => (salida, Estado::Completado),
        Err(e) => fin_por(e),
    }
}

/// The uploaded PNG an `imagen` job names as `entrada` (none for any other job), from the
/// esclavo's cache or the maestro; `Err` is the attempt's end: `Fallido` saying why it could not
/// be had (the maestro retries it), or the stop the control asked for meanwhile.
async fn traer_entrada(
    p: &Parametros,
    entradas: &Entradas,
    parada: &Parada,
) -> Result<Option<Arc<Vec<u8>>>, (Salida, Estado)> {
    let Parametros::Imagen(imagen) = p else {
        return Ok(None);
    };
    let Some(id) = imagen.entrada else {
        return Ok(None);
    };
    let png = entradas
        .traer(id)
        .await
        .map_err(|error| (Salida::Fallido { error }, Estado::Fallido))?;
    parada.control.comprobar().map_err(fin_por)?;
    Ok(Some(png))
}

/// How an attempt stopped by `e` ends: `Cancelado` when it was cancelled, `Fallido` otherwise
/// (a time limit too), with `e` in words.
fn fin_por(e: ErrorKernel) -> (Salida, Estado) {
    let estado = match e {
        ErrorKernel::Cancelado { .. } => Estado::Cancelado,
        _ => Estado::Fallido,
    };
    let error = e.to_string();
    (Salida::Fallido { error }, estado)
}

/// An `espera` job: sleeps `ms` without holding a thread, waking early when `parada` is set or
/// its time limit comes.
async fn esperar(ms: u64, parada: &Parada) -> Result<Salida, ErrorKernel> {
    let inicio = Instant::now();
    let sueno = Duration::from_millis(ms);
    loop {
        let falta = sueno.saturating_sub(inicio.elapsed());
        if falta.is_zero() {
            break;
        }
        parada.control.comprobar()?;
        let tope = parada.control.restante().map_or(falta, |r| r.min(falta));
        tokio::select! {
            () = tokio::time::sleep(tope) => {}
            () = parada.aviso.notified() => {}
        }
    }
    Ok(Salida::Completado {
        resultado: Resultado::nuevo(
            inicio.elapsed().as_secs_f64(),
            None,
            "cpu".into(),
            Detalle::Espera { ms },
            false,
        ),
        imagen_png: None,
    })
}

#[cfg(test)]
mod tests {
    use comun::trabajo::ParamsEspera;

    use super::*;

    fn espera_de(ms: u64) -> Parametros {
        Parametros::Espera(ParamsEspera { ms })
    }

    #[tokio::test]
    async fn an_espera_timer_wakes_at_once_when_cancelled() {
        let parada = Parada::new(0);
        let inicio = Instant::now();
        let entradas = Entradas::default();
        let (fin, ()) = tokio::join!(
            ejecutar(
                espera_de(60_000),
                Algoritmo::Secuencial,
                &parada,
                None,
                &entradas
            ),
            async {
                tokio::time::sleep(Duration::from_millis(20)).await;
                parada.parar("stop");
            }
        );
        assert!(inicio.elapsed() < Duration::from_secs(30), "it woke early");
        assert_eq!(
            fin,
            (
                Salida::Fallido {
                    error: "cancelled: stop".into()
                },
                Estado::Cancelado
            )
        );
    }

    #[tokio::test]
    async fn an_espera_timer_stops_at_its_time_limit() {
        let inicio = Instant::now();
        let (salida, estado) = ejecutar(
            espera_de(60_000),
            Algoritmo::Secuencial,
            &Parada::new(30),
            None,
            &Entradas::default(),
        )
        .await;
        assert!(inicio.elapsed() >= Duration::from_millis(30));
        assert!(inicio.elapsed() < Duration::from_secs(30));
        assert_eq!(estado, Estado::Fallido);
        let Salida::Fallido { error } = salida else {
            panic!("{salida:?}");
        };
        assert!(
            error.starts_with("time limit of 0.03 s exceeded after 0.03"),
            "{error}"
        );
        // A limit longer than the sleep changes nothing.
        let (salida, estado) = ejecutar(
            espera_de(5),
            Algoritmo::Secuencial,
            &Parada::new(60_000),
            None,
            &Entradas::default(),
        )
        .await;
        assert!(matches!(salida, Salida::Completado { .. }) && estado == Estado::Completado);
    }

    #[tokio::test]
    async fn espera_zero_finishes_at_once_with_the_kernel_shape() {
        let (
            Salida::Completado {
                resultado,
                imagen_png,
            },
            Estado::Completado,
        ) = ejecutar(
            espera_de(0),
            Algoritmo::Paralelo,
            &Parada::new(0),
            None,
            &Entradas::default(),
        )
        .await
        else {
            panic!("espera failed");
        };
        assert_eq!(resultado.detalle, Detalle::Espera { ms: 0 });
        assert_eq!(resultado.dispositivo, "cpu");
        assert!(!resultado.imagen && imagen_png.is_none());
    }
}

//! Registration and heartbeat: getting known to the maestro and staying known.
//!
//! The loop registers (retrying with backoff until the maestro answers), then sends a heartbeat
//! every period. A 404 to a heartbeat means the maestro forgot this instance (it restarted
//! with a fresh database, or declared it dead): register again at once, same instance. Network
//! errors are only logged: a maestro that comes back answers 404 or 200 by itself. A heartbeat's
//! answer may list running jobs the maestro no longer wants (`cancelar`): they are stopped as
//! `POST /cancelar` stops them, the backstop for a cancellation that did not reach the esclavo.

use std::sync::Arc;
use std::time::Duration;

use comun::nodo::{Latido, RespuestaRegistro};
use plataforma::Reintento;
use tokio::time::MissedTickBehavior;

use crate::conexion::{ClienteMaestro, en_una_linea};
use crate::servicio::Esclavo;
use crate::sistema::Monitor;

/// Why attempts stop when a heartbeat's answer lists them.
const MOTIVO_LATIDO: &str = "the maestro no longer wants this job";

/// Shortest heartbeat period, whatever the config or the maestro say.
const LATIDO_MINIMO: Duration = Duration::from_millis(10);

/// Registers, then heartbeats, registering again whenever the maestro forgets; never returns.
pub(crate) async fn mantener_registro(
    esclavo: Arc<Esclavo>,
    cliente: ClienteMaestro,
    latido: Duration,
) {
    let mut monitor = Monitor::new();
    loop {
        let respuesta = registrar(&esclavo, &cliente).await;
        let periodo = periodo(latido, respuesta.latido_ms);
        latir_mientras_conocido(&esclavo, &cliente, &mut monitor, periodo).await;
    }
}

/// The configured period, or the maestro's when it asks for more frequent heartbeats.
fn periodo(configurado: Duration, pedido_ms: u64) -> Duration {
    let pedido = Duration::from_millis(pedido_ms);
    let periodo = if pedido_ms > 0 && pedido < configurado {
        pedido
    } else {
        configurado
    };
    periodo.max(LATIDO_MINIMO)
}

/// Sends the registration until the maestro accepts it.
async fn registrar(esclavo: &Esclavo, cliente: &ClienteMaestro) -> RespuestaRegistro {
    let registro = esclavo.registro();
    let mut reintento = Reintento::new();
    loop {
        match cliente.registrar(&registro).await {
            Ok(respuesta) => {
                esclavo.marcar_registrado(true);
                tracing::info!(
                    maestro = cliente.base(),
                    instancia = registro.instancia,
                    intentos = reintento.fallos() + 1,
                    mensaje = %respuesta.mensaje,
                    "registered with the maestro"
                );
                return respuesta;
            }
            Err(e) => {
                let anotar = |fallos| {
                    tracing::warn!(
                        maestro = cliente.base(), error = %en_una_linea(&e), fallos,
                        "could not register; retrying"
                    );
                };
                reintento.esperar_tras_fallo(anotar).await;
            }
        }
    }
}

/// Sends a heartbeat every `periodo` until the maestro answers that it does not know us.
async fn latir_mientras_conocido(
    esclavo: &Esclavo,
    cliente: &ClienteMaestro,
    monitor: &mut Monitor,
    periodo: Duration,
) {
    let mut intervalo = tokio::time::interval(periodo);
    intervalo.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut fallos = Reintento::new();
    loop {
        tokio::select! {
            _ = intervalo.tick() => {}
            () = esclavo.latir_ya.notified() => {}
        }
        let latido = Latido {
            nombre: esclavo.nombre().to_owned(),
            instancia: esclavo.instancia(),
            carga: monitor.muestra(),
            ejecutando: esclavo.ranuras.ids_en_curso(),
            drenando: esclavo.drenando(),
        };
        match cliente.latido(&latido).await {
            Ok(respuesta) => {
                parar_los_no_queridos(esclavo, &respuesta.cancelar);
                if fallos.fallos() > 0 {
                    tracing::info!(
                        fallos = fallos.fallos(),
                        "heartbeats reach the maestro again"
                    );
                }
                fallos.exito();
            }
            Err(e) if e.es_desconocido() => {
                esclavo.marcar_registrado(false);
                tracing::warn!("the maestro does not know this esclavo; registering again");
                return;
            }
            Err(e) => {
                fallos.fallo();
                if fallos.merece_log() {
                    tracing::warn!(
                        error = %en_una_linea(&e),
                        fallos = fallos.fallos(),
                        "heartbeat failed"
                    );
                }
            }
        }
    }
}

/// Stops the running jobs a heartbeat's answer lists (`cancelar`), as `POST /cancelar` would.
fn parar_los_no_queridos(esclavo: &Esclavo, ids: &[comun::TrabajoId]) {
    if ids.is_empty() {
        return;
    }
    let r = esclavo.ranuras.cancelar(ids, MOTIVO_LATIDO);
    tracing::info!(
        cancelados = ?r.cancelados,
        desconocidos = ?r.desconocidos,
        "the maestro's heartbeat answer stops jobs"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_maestro_may_ask_for_faster_heartbeats_but_not_slower_or_zero() {
        let dos = Duration::from_secs(2);
        assert_eq!(periodo(dos, 500), Duration::from_millis(500));
        assert_eq!(periodo(dos, 10_000), dos);
        assert_eq!(periodo(dos, 0), dos);
        assert_eq!(periodo(Duration::ZERO, 0), LATIDO_MINIMO);
    }
}

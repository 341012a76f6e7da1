//! Handlers of the memoria endpoints: reports in, the cluster's resource picture out.

use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::extract::State;
use comun::ErrorCampo;
use comun::api::{AlertaNodo, EstadoMemoria, NodoMemoriaInfo};
use comun::memoria::{ReporteMemoria, RespuestaReporte};

use super::error::ErrorApi;
use super::extraer::Cuerpo;
use crate::compartido::Compartido;

/// A memoria node's report. If what it says about its node changed (an alert started or ended),
/// the dispatcher looks again at once.
pub async fn reportar(
    State(c): State<Arc<Compartido>>,
    Cuerpo(r): Cuerpo<ReporteMemoria>,
) -> Result<Json<RespuestaReporte>, ErrorApi> {
    if r.nodo.trim().is_empty() {
        return Err(ErrorCampo::new("nodo", "must not be empty").into());
    }
    let cambio = c.estado().reportar_memoria(r, Instant::now());
    if cambio {
        c.despertar.notify_one();
    }
    Ok(Json(RespuestaReporte { ok: true }))
}

pub async fn ver(State(c): State<Arc<Compartido>>) -> Json<EstadoMemoria> {
    let ahora = Instant::now();
    let plazo = c.config.plazo_memoria;
    let estado = c.estado();
    let mut nodos = Vec::new();
    let mut alertas = Vec::new();
    for (nodo, n) in &estado.memoria {
        let hace = ahora.duration_since(n.recibido);
        let obsoleto = hace > plazo;
        if !obsoleto {
            alertas.extend(n.reporte.alertas.iter().map(|a| AlertaNodo {
                nodo: nodo.clone(),
                alerta: a.clone(),
            }));
        }
        nodos.push(NodoMemoriaInfo {
            nodo: nodo.clone(),
            reporte: n.reporte.clone(),
            hace_ms: hace.as_millis() as u64,
            obsoleto,
        });
    }
    Json(EstadoMemoria {
        nodos,
        alertas,
        plazo_ms: plazo.as_millis() as u64,
    })
}

//! The memoria's HTTP API: routes and handlers, answering refusals with the cluster's one
//! [`ErrorApi`].
//!
//! | route | what |
//! |---|---|
//! | `GET /ping` | liveness: [`Ping`] |
//! | `GET /metricas` | the newest [`Muestra`]; 503 before the first sample |
//! | `GET /historial?desde=<ms>` | the kept samples taken at or after `desde`: [`Historial`] |
//! | `GET /alertas` | the active alerts: [`Alertas`] |
//!
//! Every route only reads; with a token configured, all but `GET /ping` need it unless
//! `lecturas_abiertas` ([`plataforma::proteger`]). Errors are a JSON
//! [`CuerpoError`](comun::CuerpoError) naming the query parameter at fault.

use std::sync::Arc;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use comun::api::Ping;
use comun::memoria::{Alertas, Historial, Muestra};
use plataforma::http::{Consulta, ErrorApi, metodo_no_permitido, ruta_desconocida};

use crate::servicio::Memoria;

/// The memoria's routes over its shared state.
pub fn router(memoria: Arc<Memoria>) -> Router {
    let rutas = Router::new()
        .route("/ping", get(ping))
        .route("/metricas", get(metricas))
        .route("/historial", get(historial))
        .route("/alertas", get(alertas))
        .fallback(ruta_desconocida(
            "a memoria serves /ping, /metricas, /historial and /alertas",
        ))
        .method_not_allowed_fallback(metodo_no_permitido);
    plataforma::proteger(rutas, memoria.acceso().clone()).with_state(memoria)
}

async fn ping() -> Json<Ping> {
    Json(Ping::ok("memoria"))
}

/// The newest sample; 503 before the first.
async fn metricas(State(memoria): State<Arc<Memoria>>) -> Result<Json<Muestra>, ErrorApi> {
    memoria
        .ultima()
        .map(Json)
        .ok_or_else(|| ErrorApi::no_disponible("no sample yet: the first one is being taken"))
}

async fn historial(
    State(memoria): State<Arc<Memoria>>,
    Consulta(pares): Consulta<Vec<(String, String)>>,
) -> Result<Json<Historial>, ErrorApi> {
    let desde = leer_desde(&pares)?;
    Ok(Json(memoria.historial(desde)))
}

async fn alertas(State(memoria): State<Arc<Memoria>>) -> Json<Alertas> {
    Json(memoria.alertas())
}

/// `desde` (milliseconds since the Unix epoch) from `/historial`'s query; the only parameter.
fn leer_desde(pares: &[(String, String)]) -> Result<Option<u64>, ErrorApi> {
    let mut desde = None;
    for (nombre, valor) in pares {
        if nombre != "desde" {
            return Err(ErrorApi::parametro(
                nombre,
                if nombre.is_empty() {
                    "a parameter with no name (/historial takes only `desde`)".to_owned()
                } else {
                    format!("{nombre}: unknown parameter (/historial takes only `desde`)")
                },
            ));
        }
        if desde.is_some() {
            return Err(ErrorApi::parametro("desde", "desde: given twice"));
        }
        let ms = valor.trim().parse::<u64>().map_err(|_| {
            ErrorApi::parametro(
                "desde",
                format!("desde: `{valor}` is not a time in milliseconds since the Unix epoch"),
            )
        })?;
        desde = Some(ms);
    }
    Ok(desde)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pares(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter().map(|(a, b)| ((*a).into(), (*b).into())).collect()
    }

    fn campo(r: Result<Option<u64>, ErrorApi>) -> Option<String> {
        match r {
            Err(ErrorApi::Cliente(_, cuerpo)) => cuerpo.campo,
            otro => panic!("expected a bad request, got {otro:?}"),
        }
    }

    #[test]
    fn desde_is_read_and_checked() {
        assert_eq!(leer_desde(&[]).unwrap(), None);
        assert_eq!(leer_desde(&pares(&[("desde", "17")])).unwrap(), Some(17));
        assert_eq!(
            campo(leer_desde(&pares(&[("desde", "-1")]))).as_deref(),
            Some("desde")
        );
        assert_eq!(
            campo(leer_desde(&pares(&[("desde", "")]))).as_deref(),
            Some("desde")
        );
        assert_eq!(
            campo(leer_desde(&pares(&[("desde", "1"), ("desde", "2")]))).as_deref(),
            Some("desde")
        );
        assert_eq!(
            campo(leer_desde(&pares(&[("hasta", "1")]))).as_deref(),
            Some("hasta")
        );
    }
}

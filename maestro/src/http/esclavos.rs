//! Handlers of the endpoints esclavos use, and the esclavo list.

use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::extract::State;
use base64::Engine;
use comun::ErrorCampo;
use comun::api::EsclavoInfo;
use comun::nodo::{
    Latido, LoteResultados, Registro, RespuestaLatido, RespuestaRegistro, RespuestaResultados,
    Salida,
};

use super::extraer::Cuerpo;
use crate::estado::{Final, Registrado};
use crate::ids::{EsclavoId, IntentoId};
use crate::servicio::Servicio;
use plataforma::http::ErrorApi;

#[utoipa::path(
    get,
    path = "/esclavos",
    tags = ["original", "esclavos"],
    description = "The registered esclavos: slots, running jobs, GPUs, last heartbeat.",
    responses((status = 200, description = "Every registered esclavo", body = Vec<EsclavoInfo>))
)]
pub async fn listar(State(s): State<Arc<Servicio>>) -> Json<Vec<EsclavoInfo>> {
    Json(s.estado().esclavos_info(Instant::now()))
}

#[utoipa::path(
    post,
    path = "/registrar_esclavo",
    request_body = Registro,
    tags = ["original", "nodos"],
    description = "Used by esclavos: registers one (again after a restart, with a new instance).",
    responses(
        (status = 200, description = "Registered; the answer carries the heartbeat period", body = RespuestaRegistro),
        (status = 500, description = "The store failed; the details are in the maestro's log"),
    )
)]
pub async fn registrar(
    State(s): State<Arc<Servicio>>,
    Cuerpo(r): Cuerpo<Registro>,
) -> Result<Json<RespuestaRegistro>, ErrorApi> {
    if r.nombre.trim().is_empty() {
        return Err(ErrorCampo::new("nombre", "must not be empty").into());
    }
    if r.capacidad == 0 {
        return Err(ErrorCampo::new("capacidad", "must be at least 1 job slot").into());
    }
    if r.capacidad_gpu > 0 && r.capacidades.gpus.is_empty() {
        return Err(ErrorCampo::new(
            "capacidad_gpu",
            format!(
                "{} GPU slots, but capacidades.gpus lists no GPU",
                r.capacidad_gpu
            ),
        )
        .into());
    }
    let url_valida = reqwest::Url::parse(&r.url).is_ok_and(|u| {
        matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty())
    });
    if !url_valida {
        return Err(ErrorCampo::new(
            "url",
            format!("'{}' is not an http(s) URL with a host", r.url),
        )
        .into());
    }
    let gpus = match r.capacidades.gpus.len() {
        0 => String::new(),
        n => format!(" ({} on its {n} GPUs)", r.capacidad_gpu),
    };
    let mensaje = format!(
        "esclavo {} registered at {} with {} slots{gpus}",
        r.nombre, r.url, r.capacidad
    );
    tracing::info!("{mensaje}");
    s.transicion(|e| ((), e.registrar(r, Instant::now(), comun::ahora_ms())))
        .await?;
    Ok(Json(RespuestaRegistro {
        latido_ms: s.config.latido.as_millis() as u64,
        mensaje,
    }))
}

/// A heartbeat. The answer lists the jobs the esclavo runs that the maestro knows are
/// cancelled, finished or running elsewhere, for it to stop.
#[utoipa::path(
    post,
    path = "/latido",
    request_body = Latido,
    tag = "nodos",
    description = "Used by esclavos: a heartbeat with the jobs it runs and its load. The answer \
                   lists the jobs it runs that are cancelled, finished or running elsewhere, \
                   for it to stop.",
    responses(
        (status = 200, description = "Heartbeat taken", body = RespuestaLatido),
        (status = 404, description = "This esclavo (instance) is not registered: register again"),
    )
)]
pub async fn latido(
    State(s): State<Arc<Servicio>>,
    Cuerpo(l): Cuerpo<Latido>,
) -> Result<Json<RespuestaLatido>, ErrorApi> {
    let cancelar = s.transicion_sin_esperar(|e| (e.latido(&l, Instant::now()), Vec::new()));
    let Some(cancelar) = cancelar else {
        return Err(ErrorApi::no_encontrado(format!(
            "esclavo {} (instance {}) is not registered: register again",
            l.nombre, l.instancia
        )));
    };
    if !cancelar.is_empty() {
        tracing::info!(esclavo = %l.nombre, ?cancelar, "heartbeat answer: stop jobs no longer wanted");
    }
    Ok(Json(RespuestaLatido { ok: true, cancelar }))
}

/// Records a batch of finished attempts; answers once every one is durable.
#[utoipa::path(
    post,
    path = "/resultado",
    request_body = LoteResultados,
    tags = ["original", "nodos"],
    description = "Used by esclavos: a batch of finished attempts; answers once every one is \
                   durable. Takes bodies up to 1 GiB (results carry PNGs).",
    responses(
        (status = 200, description = "How many results were recorded and how many ignored (stale attempts)", body = RespuestaResultados),
        (status = 500, description = "The store failed; the details are in the maestro's log"),
    )
)]
pub async fn resultado(
    State(s): State<Arc<Servicio>>,
    Cuerpo(lote): Cuerpo<LoteResultados>,
) -> Result<Json<RespuestaResultados>, ErrorApi> {
    let informes: Vec<(IntentoId, EsclavoId, Final)> = lote
        .resultados
        .into_iter()
        .map(|i| {
            let intento = IntentoId::new(i.id, i.intento);
            (
                intento,
                EsclavoId::new(i.esclavo, i.instancia),
                final_de(intento, i.salida),
            )
        })
        .collect();
    let respuesta = s
        .transicion(|estado| {
            let (ahora, ahora_ms) = (Instant::now(), comun::ahora_ms());
            let mut r = RespuestaResultados::default();
            let mut cambios = Vec::new();
            for (intento, esclavo, f) in informes {
                let (registrado, suyos) = estado.terminar(intento, esclavo, f, ahora, ahora_ms);
                match registrado {
                    Registrado::Si => r.registrados += 1,
                    Registrado::Ignorado => r.ignorados += 1,
                }
                cambios.extend(suyos);
            }
            (r, cambios)
        })
        .await?;
    Ok(Json(respuesta))
}

/// How an attempt ended, as the state records it: the image decoded, the result as stored.
fn final_de(intento: IntentoId, salida: Salida) -> Final {
    match salida {
        Salida::Fallido { error } => Final::Fallido(error),
        Salida::Completado {
            mut resultado,
            imagen_png,
        } => {
            let png = imagen_png.and_then(|b| {
                base64::engine::general_purpose::STANDARD
                    .decode(b)
                    .map_err(|e| tracing::error!(id = %intento.trabajo, "result image is not base64 ({e}): stored without it"))
                    .ok()
            });
            resultado.imagen = png.is_some();
            Final::Completado {
                resultado: serde_json::to_string(&resultado).expect("a result serializes"),
                png,
            }
        }
    }
}

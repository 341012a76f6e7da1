//! Handlers of the endpoints esclavos use, and the esclavo list.

use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::extract::State;
use base64::Engine;
use comun::ErrorCampo;
use comun::api::EsclavoInfo;
use comun::nodo::{
    Baja, Latido, LoteResultados, Registro, RespuestaBaja, RespuestaLatido, RespuestaRegistro,
    RespuestaResultados, Salida,
};

use super::extraer::{Cuerpo, Ruta};
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

#[utoipa::path(
    post,
    path = "/esclavos/{nombre}/drenar",
    tag = "esclavos",
    params(("nombre" = String, Path, description = "The esclavo's name")),
    description = "Drains an esclavo: it gets no new job; the jobs it runs finish there. It \
                   lasts until a new process registers under that name (or the maestro \
                   restarts). An esclavo drains itself on SIGTERM (`--gracia-s`); this is for \
                   an operator who wants one idle before stopping it.",
    responses(
        (status = 200, description = "Draining: the esclavo, `drenando: true`", body = EsclavoInfo),
        (status = 404, description = "No esclavo has that name"),
    )
)]
pub async fn drenar(
    State(s): State<Arc<Servicio>>,
    Ruta(nombre): Ruta<String>,
) -> Result<Json<EsclavoInfo>, ErrorApi> {
    let info = s.transicion_sin_esperar(|e| (e.drenar(&nombre, Instant::now()), Vec::new()));
    info.map(Json)
        .ok_or_else(|| ErrorApi::no_encontrado(format!("no esclavo is named {nombre:?}")))
}

#[utoipa::path(
    post,
    path = "/esclavos/{nombre}/baja",
    request_body = Baja,
    tag = "nodos",
    params(("nombre" = String, Path, description = "The esclavo's name")),
    description = "Used by esclavos as they stop: the process `instancia` leaves the cluster. \
                   The jobs it still runs are handed back to the queue at once (their attempt \
                   ends with the reason; it does not count as a failure) and it is forgotten. \
                   Durable before the answer.",
    responses(
        (status = 200, description = "Gone: the jobs handed back", body = RespuestaBaja),
        (status = 404, description = "That process is not the one registered under the name"),
        (status = 500, description = "The store failed; the details are in the maestro's log"),
    )
)]
pub async fn baja(
    State(s): State<Arc<Servicio>>,
    Ruta(nombre): Ruta<String>,
    Cuerpo(b): Cuerpo<Baja>,
) -> Result<Json<RespuestaBaja>, ErrorApi> {
    let id = EsclavoId::new(nombre.clone(), b.instancia);
    let motivo = b.motivo.unwrap_or_else(|| "it stopped".into());
    let devueltos = s
        .transicion(|e| match e.baja(&id, &motivo, comun::ahora_ms()) {
            Some((devueltos, cambios)) => (Some(devueltos), cambios),
            None => (None, Vec::new()),
        })
        .await?;
    let Some(devueltos) = devueltos else {
        return Err(ErrorApi::no_encontrado(format!(
            "esclavo {nombre} (instance {}) is not registered",
            b.instancia
        )));
    };
    tracing::info!(esclavo = %nombre, devueltos = devueltos.len(), "esclavo left the cluster: {motivo}");
    Ok(Json(RespuestaBaja { devueltos }))
}

//! Handlers of the job endpoints.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use comun::api::{
    Cursor, FiltroTrabajos, ListaTrabajos, MAX_ESPERA, MAX_LOTE, Origen, PeticionCarga,
    PeticionLote, PeticionTrabajo, RespuestaAgregar, RespuestaCarga, RespuestaLimpiar,
    RespuestaLote, Resumen, Trabajo,
};
use comun::archivo::parsear;
use comun::{CuerpoError, Estado as EstadoTrabajo, NuevoTrabajo, Parametros, TrabajoId};
use serde::Deserialize;
use tokio::time::Instant;

use super::extraer::{Consulta, Cuerpo, Ruta};
use crate::entradas;
use crate::servicio::Servicio;
use plataforma::http::ErrorApi;

type Res<T> = Result<T, ErrorApi>;

#[utoipa::path(
    post,
    path = "/agregar_trabajo",
    request_body = PeticionTrabajo,
    tags = ["original", "trabajos"],
    description = "Queues one job, given in the original system's flat body.",
    responses(
        (status = 200, description = "Queued: its id, state and priority", body = RespuestaAgregar),
        (status = 500, description = "The store failed; the details are in the maestro's log"),
    )
)]
pub async fn agregar(
    State(s): State<Arc<Servicio>>,
    Cuerpo(p): Cuerpo<PeticionTrabajo>,
) -> Res<Json<RespuestaAgregar>> {
    let trabajo = p.validar()?;
    entradas::comprobar(&s.almacen, &[&trabajo], |_| "entrada".into()).await?;
    let (prioridad, descripcion) = (trabajo.prioridad, trabajo.parametros.descripcion());
    let ids = s.admitir(vec![(trabajo, Origen::Api, None)]).await?;
    Ok(Json(RespuestaAgregar {
        id: ids[0],
        estado: EstadoTrabajo::Pendiente,
        prioridad,
        mensaje: format!("job {} queued: {descripcion}", ids[0]),
    }))
}

#[utoipa::path(
    post,
    path = "/trabajos",
    request_body = PeticionLote,
    tag = "trabajos",
    description = "Queues many jobs, all or none (at most `MAX_LOTE`, 10,000, per request); a \
                   refusal names the job at fault (`trabajos[3].width`).",
    responses(
        (status = 200, description = "Queued: their ids, in order", body = RespuestaLote),
        (status = 500, description = "The store failed; the details are in the maestro's log"),
    )
)]
pub async fn agregar_lote(
    State(s): State<Arc<Servicio>>,
    Cuerpo(lote): Cuerpo<PeticionLote>,
) -> Res<Json<RespuestaLote>> {
    if lote.trabajos.len() > MAX_LOTE {
        return Err(ErrorApi::campo(
            comun::ErrorCampo::new(
                "trabajos",
                format!(
                    "{} jobs in one request; the limit is {MAX_LOTE}",
                    lote.trabajos.len()
                ),
            )
            .con_limite(MAX_LOTE as u64),
        ));
    }
    let mut nuevos = Vec::with_capacity(lote.trabajos.len());
    for (i, p) in lote.trabajos.iter().enumerate() {
        let t = p.validar().map_err(|mut e| {
            e.campo = format!("trabajos[{i}].{}", e.campo);
            e
        })?;
        nuevos.push((t, Origen::Api, None));
    }
    let trabajos: Vec<&NuevoTrabajo> = nuevos.iter().map(|(t, _, _)| t).collect();
    entradas::comprobar(&s.almacen, &trabajos, |i| format!("trabajos[{i}].entrada")).await?;
    let ids = s.admitir(nuevos).await?;
    Ok(Json(RespuestaLote { ids }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FiltroLista {
    /// Only jobs in this state: pendiente, asignado, completado, fallido or cancelado.
    estado: Option<String>,
    /// At most this many jobs (100 when absent, at most 10,000).
    limite: Option<u32>,
    /// Only jobs of this kernel: julia, espera, matmul, vector_add, montecarlo or nbody.
    tipo: Option<String>,
    /// Only jobs of this priority: 1, 2, 3 or alta, media, baja.
    prioridad: Option<String>,
    /// Only jobs this esclavo runs, or whose last attempt it ran.
    esclavo: Option<String>,
    /// Only jobs that came in this way: api, archivo or carpeta (the task folder).
    origen: Option<String>,
    /// Only jobs whose backend was asked for by this original system's name: Numpy or
    /// juliaCython (both run as Paralelo; the job keeps the name as `algoritmo_pedido`).
    algoritmo_pedido: Option<String>,
    /// The `siguiente` of the page before: this page holds the jobs after it.
    cursor: Option<String>,
}

impl FiltroLista {
    /// The filters and cursor, each checked: an unknown value is refused naming its parameter.
    fn leer(&self) -> Res<(FiltroTrabajos, Option<Cursor>)> {
        fn valor<T: std::str::FromStr<Err = comun::ErrorCampo>>(
            v: &Option<String>,
        ) -> Res<Option<T>> {
            Ok(v.as_deref().map(str::parse).transpose()?)
        }
        let filtro = FiltroTrabajos {
            estado: valor(&self.estado)?,
            tipo: valor(&self.tipo)?,
            prioridad: valor(&self.prioridad)?,
            esclavo: self.esclavo.clone(),
            origen: valor(&self.origen)?,
            algoritmo_pedido: match self.algoritmo_pedido.as_deref() {
                None => None,
                Some(a) => Some(comun::Algoritmo::nombre_original(a).ok_or_else(|| {
                    let nombres = comun::trabajo::algoritmo::NOMBRES_ORIGINALES.join(" or ");
                    comun::ErrorCampo::new(
                        "algoritmo_pedido",
                        format!(
                            "'{a}' is not an original system's backend name (expected {nombres})"
                        ),
                    )
                })?),
            },
        };
        Ok((filtro, valor(&self.cursor)?))
    }
}

#[utoipa::path(
    get,
    path = "/trabajos",
    tag = "trabajos",
    params(FiltroLista),
    description = "Jobs from the store, newest first, one page at a time: pass the answer's \
                   `siguiente` back as `cursor` for the next page (absent on the last). Every \
                   filter given must match. `total` is exact with no filter or `estado` \
                   alone; with other filters it counts up to 10,000 and `total_exacto` says \
                   whether it stopped there.",
    responses(
        (status = 200, description = "A page of jobs, how many match in all, the next page's cursor", body = ListaTrabajos),
        (status = 422, description = "An unknown filter value or cursor, named by its parameter"),
        (status = 500, description = "The store failed; the details are in the maestro's log"),
    )
)]
pub async fn listar(
    State(s): State<Arc<Servicio>>,
    Consulta(f): Consulta<FiltroLista>,
) -> Res<Json<ListaTrabajos>> {
    let (filtro, cursor) = f.leer()?;
    let limite = f.limite.unwrap_or(100);
    Ok(Json(s.pagina(filtro, cursor, limite).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct Espera {
    /// Wait up to this long for the job to finish.
    esperar_ms: Option<u64>,
}

#[utoipa::path(
    get,
    path = "/trabajos/{id}",
    tag = "trabajos",
    params(("id" = String, Path, description = "The job's id (a whole number), or the task_id it was submitted with"), Espera),
    description = "One job with its attempts and time limit; for a pending one, why it waits \
                   (its queue place, or its retry's delay). With `esperar_ms`, waits up to that \
                   long (at most 60 s) for it to finish.",
    responses(
        (status = 200, description = "The job", body = Trabajo),
        (status = 404, description = "No job with that id"),
        (status = 500, description = "The store failed; the details are in the maestro's log"),
    )
)]
pub async fn ver(
    State(s): State<Arc<Servicio>>,
    Ruta(id): Ruta<String>,
    Consulta(q): Consulta<Espera>,
) -> Res<Json<Trabajo>> {
    let id = id_de(&s, &id)?;
    let limite = Instant::now() + Duration::from_millis(q.esperar_ms.unwrap_or(0)).min(MAX_ESPERA);
    let mut cambios = s.suscribir();
    let mut parando = s.parando.clone();
    let mut esperado_al_almacen = false;
    loop {
        cambios.borrow_and_update();
        let activo = s.estado().trabajos.en_memoria(id).is_some();
        if !activo || Instant::now() >= limite {
            let t = leer(&s, id).await?;
            // A job out of memory but not final in the store is being committed: the change
            // that took it out is already with the writer, so wait for the store to hold
            // everything sent until now. (Waiting for the published counts instead could miss
            // the wake-up: a publish may count the job before its commit, and the one after
            // its commit then changes nothing.)
            // Once is enough: past that commit the store is the authority.
            let en_vuelo = !activo && !t.estado.es_final();
            if !en_vuelo || esperado_al_almacen || Instant::now() >= limite {
                return Ok(Json(con_memoria(&s, t)));
            }
            esperado_al_almacen = true;
            tokio::select! {
                _ = s.almacen.esperar_orden(s.almacen.ultima_orden()) => {}
                _ = tokio::time::sleep_until(limite) => {}
                _ = parando.changed() => {}
            }
        } else {
            tokio::select! {
                _ = cambios.changed() => {}
                _ = tokio::time::sleep_until(limite) => {}
                _ = parando.changed() => {}
            }
        }
        if *parando.borrow() {
            return Ok(Json(con_memoria(&s, leer(&s, id).await?)));
        }
    }
}

pub(super) async fn leer(s: &Servicio, id: TrabajoId) -> Res<Trabajo> {
    s.almacen
        .trabajo(id)
        .await?
        .ok_or_else(|| ErrorApi::no_encontrado(format!("no job {id}")))
}

/// Overlays what memory knows that the database may not have yet: a pending job's reason, a
/// dispatch not yet committed.
pub(super) fn con_memoria(s: &Servicio, mut t: Trabajo) -> Trabajo {
    s.con_memoria(&mut t);
    t
}

/// Answer to `DELETE /trabajos/{id}`: the job, now cancelado.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Cancelado {
    id: TrabajoId,
    estado: EstadoTrabajo,
}

/// The job a path names: by its id, or by the `task_id` it was submitted with; 400 for
/// anything else.
pub(super) fn id_de(s: &Servicio, texto: &str) -> Res<TrabajoId> {
    texto.parse().or_else(|e: comun::ErrorCampo| {
        s.por_task_id(texto)
            .ok_or_else(|| ErrorApi::peticion(format!("{e}, nor the task_id of any job")))
    })
}

#[utoipa::path(
    delete,
    path = "/trabajos/{id}",
    tag = "trabajos",
    params(("id" = String, Path, description = "The job's id (a whole number), or the task_id it was submitted with")),
    description = "Cancels a pending job (waiting for a retry or not), or a running one: its \
                   esclavo is told to stop it.",
    responses(
        (status = 200, description = "Cancelled: its id and new state", body = Cancelado),
        (status = 404, description = "No job with that id"),
        (status = 409, description = "The job is already final: nothing to cancel"),
        (status = 500, description = "The store failed; the details are in the maestro's log"),
    )
)]
pub async fn cancelar(
    State(s): State<Arc<Servicio>>,
    Ruta(id): Ruta<String>,
) -> Res<Json<Cancelado>> {
    let id = id_de(&s, &id)?;
    Ok(Json(cancelar_id(&s, id).await?))
}

#[utoipa::path(
    get,
    path = "/trabajos/{id}/imagen",
    tag = "trabajos",
    params(("id" = String, Path, description = "The job's id (a whole number), or the task_id it was submitted with")),
    description = "The PNG of a finished Julia or imagen job.",
    responses(
        (status = 200, description = "The image", content_type = "image/png"),
        (status = 404, description = "No such job, not a Julia or imagen job, or not completado (yet)"),
        (status = 500, description = "The store failed; the details are in the maestro's log"),
    )
)]
pub async fn imagen(State(s): State<Arc<Servicio>>, Ruta(id): Ruta<String>) -> Res<Response> {
    let id = id_de(&s, &id)?;
    if let Some(png) = s.almacen.imagen(id).await? {
        return Ok(([(header::CONTENT_TYPE, "image/png")], png).into_response());
    }
    let t = leer(&s, id).await?;
    let dibuja = matches!(t.parametros, Parametros::Julia(_) | Parametros::Imagen(_));
    let motivo = match (dibuja, t.estado) {
        (true, EstadoTrabajo::Completado) => format!("job {id} has no image stored"),
        (true, e) => format!("job {id} is {e}: its image exists once it is completado"),
        (false, _) => format!(
            "job {id} is a {} job: only julia and imagen jobs have an image",
            t.parametros.tipo().nombre()
        ),
    };
    Err(ErrorApi::no_encontrado(motivo))
}

#[utoipa::path(
    post,
    path = "/limpiar_cola",
    tags = ["original", "trabajos"],
    description = "Cancels every pending job (waiting for a retry or not); running ones run on.",
    responses(
        (status = 200, description = "How many were cancelled", body = RespuestaLimpiar),
        (status = 500, description = "The store failed; the details are in the maestro's log"),
    )
)]
pub async fn limpiar(State(s): State<Arc<Servicio>>) -> Res<Json<RespuestaLimpiar>> {
    let eliminados = s
        .transicion(|e| {
            let cambios = e.limpiar(comun::ahora_ms());
            (cambios.len(), cambios)
        })
        .await?;
    Ok(Json(RespuestaLimpiar {
        eliminados,
        mensaje: format!("{eliminados} pending jobs cancelled"),
    }))
}

#[utoipa::path(
    post,
    path = "/cargar_trabajos",
    request_body = PeticionCarga,
    tags = ["original", "trabajos"],
    description = "Queues the lines of a jobs file (trabajos.txt format): its text \
                   (`contenido`) or the name of a file inside the maestro's jobs folder \
                   (`archivo`). Lines that do not parse are listed, the others queued.",
    responses(
        (status = 200, description = "The ids queued and the lines refused", body = RespuestaCarga),
        (status = 400, description = "Neither or both of `contenido` and `archivo`, or malformed JSON"),
        (status = 422, description = "A wrong field, or `archivo` outside the jobs folder or unreadable"),
        (status = 500, description = "The store failed; the details are in the maestro's log"),
    )
)]
pub async fn cargar(
    State(s): State<Arc<Servicio>>,
    Cuerpo(p): Cuerpo<PeticionCarga>,
) -> Res<Json<RespuestaCarga>> {
    let (nombre, texto) = match (p.contenido, p.archivo) {
        (Some(texto), None) => ("(subido)".to_string(), texto),
        (None, Some(nombre)) => {
            let ruta = dentro_de_la_carpeta(&s.config.carpeta_trabajos(), &nombre)?;
            let texto = tokio::fs::read_to_string(&ruta).await.map_err(|e| {
                ErrorApi::Cliente(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    CuerpoError {
                        campo: Some("archivo".into()),
                        ..CuerpoError::new(format!("archivo: cannot read '{nombre}': {e}"))
                    },
                )
            })?;
            (nombre, texto)
        }
        _ => {
            return Err(ErrorApi::peticion(
                "give exactly one of 'contenido' (the text of a jobs file) or 'archivo' \
                 (a file name inside the maestro's jobs folder)",
            ));
        }
    };
    let mut archivo = parsear(&texto);
    entradas::rechazar_lineas(&s.almacen, &mut archivo).await?;
    let nuevos = archivo
        .trabajos
        .iter()
        .map(|l| {
            let origen = Origen::Archivo {
                archivo: nombre.clone(),
                linea: l.linea,
            };
            (l.trabajo.clone(), origen, None)
        })
        .collect();
    let ids = s.admitir(nuevos).await?;
    Ok(Json(RespuestaCarga {
        cargados: ids.len(),
        ids,
        rechazadas: archivo.rechazadas,
    }))
}

/// Resolves a user-given file name inside `carpeta`, refusing anything that would leave it:
/// absolute paths, `..`, and symbolic links that point outside.
fn dentro_de_la_carpeta(carpeta: &Path, nombre: &str) -> Res<PathBuf> {
    let fuera = |por: &str| {
        ErrorApi::Cliente(
            StatusCode::UNPROCESSABLE_ENTITY,
            CuerpoError {
                campo: Some("archivo".into()),
                ..CuerpoError::new(format!(
                    "archivo: '{nombre}' {por}; name a file inside the maestro's jobs folder ({})",
                    carpeta.display()
                ))
            },
        )
    };
    let relativa = Path::new(nombre);
    if nombre.is_empty()
        || !relativa
            .components()
            .all(|parte| matches!(parte, Component::Normal(_)))
    {
        return Err(fuera("is not a plain relative path"));
    }
    let base = carpeta
        .canonicalize()
        .map_err(|_| fuera("cannot be loaded: the jobs folder does not exist"))?;
    let ruta = base
        .join(relativa)
        .canonicalize()
        .map_err(|_| fuera("does not exist"))?;
    if !ruta.starts_with(&base) {
        return Err(fuera("leads outside the jobs folder"));
    }
    Ok(ruta)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EsperaResumen {
    /// The version the client already has.
    version: Option<u64>,
    /// Wait up to this long for another version.
    espera_ms: Option<u64>,
}

#[utoipa::path(
    get,
    path = "/resumen",
    tag = "trabajos",
    params(EsperaResumen),
    description = "Job counts by state, with their version. With `version` (the one the client \
                   has), waits up to `espera_ms` (at most 60 s) for another.",
    responses((status = 200, description = "The counts", body = Resumen))
)]
pub async fn resumen(
    State(s): State<Arc<Servicio>>,
    Consulta(q): Consulta<EsperaResumen>,
) -> Json<Resumen> {
    let mut rx = s.suscribir();
    let mut parando = s.parando.clone();
    if let Some(v) = q.version {
        let espera = Duration::from_millis(q.espera_ms.unwrap_or(0)).min(MAX_ESPERA);
        let _ = tokio::time::timeout(espera, async {
            tokio::select! {
                _ = rx.wait_for(|(r, _)| r.version != v) => {}
                _ = parando.wait_for(|p| *p) => {}
            }
        })
        .await;
    }
    Json(s.resumen_confirmado(&rx).await)
}

/// Cancels job `id` (pending or running): what `DELETE /trabajos/{id}` and
/// `DELETE /tasks/{task_id}` do.
pub(super) async fn cancelar_id(s: &Arc<Servicio>, id: TrabajoId) -> Res<Cancelado> {
    let cancelado = s
        .transicion(|e| match e.cancelar(id, comun::ahora_ms()) {
            Some(cambio) => (true, vec![cambio]),
            None => (false, vec![]),
        })
        .await?;
    if cancelado {
        return Ok(Cancelado {
            id,
            estado: EstadoTrabajo::Cancelado,
        });
    }
    let t = leer(s, id).await?;
    Err(ErrorApi::conflicto(format!(
        "job {id} is already {}: nothing to cancel",
        t.estado
    )))
}

//! The dashboard's actions: cancel a job, retry a failed or cancelled one, change a pending
//! one's priority, clear the queue. Each checks the session and its CSRF token
//! ([`Sesion::actuar`]), runs the same operation as the API, and goes back to the page it came
//! from (303); a refusal answers a page that says why, with its status.

use std::sync::Arc;

use axum::extract::{Form, FromRequest, FromRequestParts, Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use comun::{Prioridad, TrabajoId};
use serde::Deserialize;

use super::sesion::{Sesion, destino_local};
use super::trabajo::id_de;
use super::vistas::Fallo;
use crate::servicio::Servicio;

/// The fields an action's form sends.
#[derive(Deserialize)]
pub struct Campos {
    csrf: Option<String>,
    /// The page to go back to (the job's own page when absent).
    volver: Option<String>,
    /// The new priority (`prioridad` only).
    prioridad: Option<String>,
}

type Res = Result<Response, Fallo>;

/// Checks the session, then goes back to `volver` (else `por_defecto`) once `accion` is done.
async fn actuar<F>(
    sesion: &Sesion,
    cabeceras: &HeaderMap,
    c: &Campos,
    por_defecto: String,
    accion: F,
) -> Res
where
    F: Future<Output = Result<(), Fallo>>,
{
    let volver = c
        .volver
        .as_deref()
        .map_or(por_defecto, |v| destino_local(Some(v)));
    sesion
        .actuar(cabeceras, c.csrf.as_deref())
        .map_err(|f| f.volviendo_a(volver.clone()))?;
    accion.await.map_err(|f| f.volviendo_a(volver.clone()))?;
    Ok(Redirect::to(&volver).into_response())
}

/// An action on one job, as its form posts it: the job's id from the path, the viewer, the
/// headers the checks read, the form's fields.
pub struct SobreTrabajo {
    s: Arc<Servicio>,
    sesion: Sesion,
    cabeceras: HeaderMap,
    id: String,
    campos: Campos,
}

impl FromRequest<Arc<Servicio>> for SobreTrabajo {
    type Rejection = Response;

    async fn from_request(req: Request, s: &Arc<Servicio>) -> Result<Self, Response> {
        let (mut partes, cuerpo) = req.into_parts();
        let Path(id) = Path::<String>::from_request_parts(&mut partes, s)
            .await
            .map_err(IntoResponse::into_response)?;
        let sesion = Sesion::de(s, &partes.headers);
        let cabeceras = partes.headers.clone();
        let Form(campos) = Form::<Campos>::from_request(Request::from_parts(partes, cuerpo), s)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(SobreTrabajo {
            s: Arc::clone(s),
            sesion,
            cabeceras,
            id,
            campos,
        })
    }
}

impl SobreTrabajo {
    /// Checks the session, runs `accion` on the job, and goes back to its page.
    async fn hacer(
        self,
        accion: impl AsyncFnOnce(&Arc<Servicio>, TrabajoId, &Campos) -> Result<(), Fallo>,
    ) -> Res {
        let pagina = format!("/panel/trabajos/{}", self.id);
        let SobreTrabajo {
            s,
            sesion,
            cabeceras,
            id,
            campos,
        } = self;
        actuar(&sesion, &cabeceras, &campos, pagina, async {
            accion(&s, id_de(&id)?, &campos).await
        })
        .await
    }
}

/// `POST /panel/trabajos/{id}/cancelar`.
pub async fn cancelar(a: SobreTrabajo) -> Res {
    a.hacer(async |s, id, _| {
        let cancelado = s
            .transicion(|e| match e.cancelar(id, comun::ahora_ms()) {
                Some(cambio) => (true, vec![cambio]),
                None => (false, vec![]),
            })
            .await
            .map_err(Fallo::interno)?;
        if cancelado {
            return Ok(());
        }
        let t = s.trabajo(id).await?;
        Err(Fallo::new(
            StatusCode::CONFLICT,
            format!("job {id} is already {}: nothing to cancel", t.estado),
        ))
    })
    .await
}

/// `POST /panel/trabajos/{id}/reintentar`: a new attempt of a failed or cancelled job.
pub async fn reintentar(a: SobreTrabajo) -> Res {
    a.hacer(async |s, id, _| {
        s.reintentar(id).await?;
        Ok(())
    })
    .await
}

/// `POST /panel/trabajos/{id}/prioridad`: a pending job's new priority (field `prioridad`).
pub async fn prioridad(a: SobreTrabajo) -> Res {
    a.hacer(async |s, id, c| {
        let prioridad: Prioridad =
            c.prioridad.as_deref().unwrap_or_default().parse().map_err(
                |e: comun::ErrorCampo| Fallo::new(StatusCode::BAD_REQUEST, e.to_string()),
            )?;
        s.priorizar(id, prioridad).await?;
        Ok(())
    })
    .await
}

/// `POST /panel/limpiar`: cancels every pending job.
pub async fn limpiar(
    State(s): State<Arc<Servicio>>,
    sesion: Sesion,
    cabeceras: HeaderMap,
    Form(c): Form<Campos>,
) -> Res {
    actuar(&sesion, &cabeceras, &c, "/panel/trabajos".into(), async {
        s.transicion(|e| {
            let cambios = e.limpiar(comun::ahora_ms());
            ((), cambios)
        })
        .await
        .map_err(Fallo::interno)
    })
    .await
}

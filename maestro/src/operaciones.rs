//! What an operator does with jobs, as operations of [`Servicio`] that the API and the
//! dashboard both call: a page of jobs from the store with memory's view laid over it
//! ([`Servicio::pagina`]), a retry of a failed or cancelled job ([`Servicio::reintentar`]),
//! a new priority for a pending one ([`Servicio::priorizar`]).
//!
//! Each action is a transition through [`Servicio::transicion`] (decide under the lock →
//! commit → publish): it is in the store before its answer, so it survives a SIGKILL of the
//! maestro that follows.

use std::sync::{Arc, LazyLock};

use comun::api::{Cursor, FiltroTrabajos, ListaTrabajos, MAX_LISTA, RespuestaAccion, Trabajo};
use comun::{Estado as EstadoTrabajo, Prioridad, TrabajoId};
use plataforma::http::ErrorApi;

use crate::servicio::Servicio;

/// One retry at a time: between reading a finished job from the store and queueing it under
/// the lock, no other retry may queue, run and finish the same job.
static REINTENTANDO: LazyLock<tokio::sync::Mutex<()>> = LazyLock::new(Default::default);

impl Servicio {
    /// A page of jobs, newest first: those `filtro` takes that are older than `cursor` (from
    /// the newest without one), at most `limite` (at most [`MAX_LISTA`]). Pass the answer's
    /// `siguiente` back as `cursor` for the next page. Pending and running jobs show what
    /// memory knows of them ([`Servicio::con_memoria`]). `total` is exact, and costs nothing,
    /// when `filtro` takes every job or the jobs of one state (the live counts, once the store
    /// holds everything they count); with other filters it is counted in the store up to
    /// [`MAX_CUENTA`](comun::api::MAX_CUENTA), and `total_exacto` says whether it stopped there.
    pub async fn pagina(
        &self,
        filtro: FiltroTrabajos,
        cursor: Option<Cursor>,
        limite: u32,
    ) -> anyhow::Result<ListaTrabajos> {
        let r = self.resumen_confirmado(&self.suscribir()).await;
        let exacto = filtro.solo_estado().then(|| match filtro.estado {
            None => r.total(),
            Some(EstadoTrabajo::Pendiente) => r.pendientes,
            Some(EstadoTrabajo::Asignado) => r.asignados,
            Some(EstadoTrabajo::Completado) => r.completados,
            Some(EstadoTrabajo::Fallido) => r.fallidos,
            Some(EstadoTrabajo::Cancelado) => r.cancelados,
        });
        let mut lista = self
            .almacen
            .pagina(filtro, cursor, limite.min(MAX_LISTA))
            .await?;
        if let Some(total) = exacto {
            (lista.total, lista.total_exacto) = (total, true);
        }
        for t in &mut lista.trabajos {
            self.con_memoria(t);
        }
        Ok(lista)
    }

    /// Lays over a job read from the store what memory knows and the store may not have yet:
    /// a pending job's reason to wait, a dispatch not yet committed (its state, esclavo and
    /// start together: the view never says running on no esclavo, or since no time).
    pub fn con_memoria(&self, t: &mut Trabajo) {
        let estado = self.estado();
        match estado.trabajos.en_memoria(t.id) {
            Some(EstadoTrabajo::Pendiente) => {
                t.estado = EstadoTrabajo::Pendiente;
                t.motivo = estado.explicar(t.id);
            }
            Some(EstadoTrabajo::Asignado) => {
                t.estado = EstadoTrabajo::Asignado;
                if let Some(c) = estado.trabajos.en_curso.get(&t.id) {
                    t.esclavo = Some(c.esclavo.nombre.clone());
                    let desde = c.inicio.elapsed().as_millis() as u64;
                    t.iniciado_ms
                        .get_or_insert(comun::ahora_ms().saturating_sub(desde));
                }
            }
            Some(e) => t.estado = e,
            None => {}
        }
    }

    /// One job with its attempts, as the API shows it; 404 if there is none.
    pub async fn trabajo(&self, id: TrabajoId) -> Result<Trabajo, ErrorApi> {
        let mut t = self
            .almacen
            .trabajo(id)
            .await?
            .ok_or_else(|| ErrorApi::no_encontrado(format!("no job {id}")))?;
        self.con_memoria(&mut t);
        Ok(t)
    }

    /// Queues a failed or cancelled job again: a new attempt of the same job (same id), its
    /// earlier attempts and their errors kept, its failures forgotten; it is pending, in the
    /// queue by its priority and id. 409 naming its state for any other job (and for a
    /// cancelled one whose esclavo has not stopped its attempt yet), 404 for an unknown one.
    pub async fn reintentar(self: &Arc<Self>, id: TrabajoId) -> Result<RespuestaAccion, ErrorApi> {
        let _uno = REINTENTANDO.lock().await;
        // The store must hold every change decided until now (a failure committed without
        // waiting, say) before it tells this job's state.
        self.almacen
            .esperar_orden(self.almacen.ultima_orden())
            .await;
        let t = self.trabajo(id).await?;
        let hecho = self
            .transicion(|e| match e.reintentar(&t) {
                Ok(cambio) => (Ok(()), vec![cambio]),
                Err(rechazo) => (Err(rechazo), vec![]),
            })
            .await?;
        if let Err(rechazo) = hecho {
            return Err(ErrorApi::conflicto(format!("job {id} {rechazo}")));
        }
        let previos = t.intentos.len();
        Ok(RespuestaAccion {
            id,
            estado: EstadoTrabajo::Pendiente,
            prioridad: t.prioridad,
            mensaje: format!(
                "job {id} was {} and is queued again; its {previos} earlier attempts are kept",
                t.estado
            ),
        })
    }

    /// Gives a pending job (queued, or waiting for a retry) a new priority: it takes its
    /// place among the jobs of that priority, by id. 409 naming its state for a job that is
    /// not pending, 404 for an unknown one.
    pub async fn priorizar(
        self: &Arc<Self>,
        id: TrabajoId,
        prioridad: Prioridad,
    ) -> Result<RespuestaAccion, ErrorApi> {
        let hecho = self
            .transicion(|e| match e.priorizar(id, prioridad) {
                Some(cambio) => (true, vec![cambio]),
                None => (false, vec![]),
            })
            .await?;
        if !hecho {
            let t = self.trabajo(id).await?;
            return Err(ErrorApi::conflicto(format!(
                "job {id} is {}: only a pendiente job's priority can change",
                t.estado
            )));
        }
        let lugar = self.estado().explicar(id).unwrap_or_default();
        Ok(RespuestaAccion {
            id,
            estado: EstadoTrabajo::Pendiente,
            prioridad,
            mensaje: format!("job {id} now has priority {prioridad}. {lugar}")
                .trim_end()
                .to_string(),
        })
    }
}

//! Waiting for jobs to finish, with the maestro's long polls (never a fixed-interval poll).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use comun::TrabajoId;
use comun::api::{MAX_ESPERA, Trabajo};
use indicatif::ProgressBar;
use tokio::task::JoinSet;

use crate::api::Maestro;
use crate::error::Error;

/// How long one wait for a single job lasts before its spinner shows its state again.
const REFRESCO: Duration = Duration::from_secs(5);
/// Jobs waited for at once when waiting for many.
const ESPERAS_A_LA_VEZ: usize = 8;

/// Waits until job `id` is final; the spinner shows its state and, while it waits, why.
pub async fn uno(m: &Maestro, id: TrabajoId, barra: &ProgressBar) -> Result<Trabajo, Error> {
    let mut espera = Duration::ZERO;
    loop {
        let t = m.esperar_trabajo(id, espera).await?;
        if t.estado.es_final() {
            return Ok(t);
        }
        let donde = t
            .esclavo
            .as_deref()
            .map(|e| format!(" on {e}"))
            .unwrap_or_default();
        let motivo = t
            .motivo
            .as_deref()
            .map(|m| format!(": {m}"))
            .unwrap_or_default();
        barra.set_message(format!("job {id} {}{donde}{motivo}", t.estado));
        espera = REFRESCO;
    }
}

/// Waits until every job of `ids` is final; the bar advances as each does. Returns them in
/// the order of `ids`.
pub async fn varios(
    m: &Maestro,
    ids: &[TrabajoId],
    barra: &ProgressBar,
) -> Result<Vec<Trabajo>, Error> {
    let ids: Arc<[TrabajoId]> = ids.into();
    let siguiente = Arc::new(AtomicUsize::new(0));
    let mut tareas = JoinSet::new();
    for _ in 0..ESPERAS_A_LA_VEZ.min(ids.len()) {
        let (m, ids, siguiente, barra) = (m.clone(), ids.clone(), siguiente.clone(), barra.clone());
        tareas.spawn(async move {
            let mut hechos = Vec::new();
            loop {
                let i = siguiente.fetch_add(1, Ordering::Relaxed);
                let Some(&id) = ids.get(i) else {
                    return Ok::<_, Error>(hechos);
                };
                let t = hasta_final(&m, id).await?;
                barra.inc(1);
                hechos.push((i, t));
            }
        });
    }
    let mut todos = Vec::with_capacity(ids.len());
    while let Some(r) = tareas.join_next().await {
        let hechos = r.map_err(|e| Error::local(format!("a waiting task failed: {e}")))??;
        todos.extend(hechos);
    }
    todos.sort_by_key(|(i, _)| *i);
    Ok(todos.into_iter().map(|(_, t)| t).collect())
}

async fn hasta_final(m: &Maestro, id: TrabajoId) -> Result<Trabajo, Error> {
    loop {
        let t = m.esperar_trabajo(id, MAX_ESPERA).await?;
        if t.estado.es_final() {
            return Ok(t);
        }
    }
}

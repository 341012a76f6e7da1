//! The sampler: the first sample, taken before the service answers anything ([`primera`]), then
//! one task that reads the node every interval ([`muestrear`]); each sample goes to
//! [`Memoria::registrar`] (history, alerts, waking the reporter).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio::time::MissedTickBehavior;

use crate::fuente::Fuente;
use crate::servicio::Memoria;

/// Takes the first sample, so that `GET /metricas` has one as soon as the service answers
/// `GET /ping`. Returns the source for [`muestrear`]; an error only if it panics.
pub(crate) async fn primera<F: Fuente>(memoria: &Memoria, fuente: F) -> anyhow::Result<F> {
    tomar(memoria, fuente).await
}

/// Samples `fuente` every `intervalo`, the first one interval from now (after [`primera`]),
/// until aborted. Returns only if the source panics.
pub(crate) async fn muestrear(
    memoria: Arc<Memoria>,
    mut fuente: impl Fuente,
    intervalo: Duration,
) -> anyhow::Result<()> {
    let mut reloj = tokio::time::interval_at(tokio::time::Instant::now() + intervalo, intervalo);
    // A slow sample delays the next ones instead of causing a burst to catch up.
    reloj.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        reloj.tick().await;
        fuente = tomar(&memoria, fuente).await?;
    }
}

/// One sample, on the blocking pool (the source reads `/proc`, calls NVML, may sleep to
/// measure CPU use), handed to [`Memoria::registrar`].
async fn tomar<F: Fuente>(memoria: &Memoria, mut fuente: F) -> anyhow::Result<F> {
    let (devuelta, mut muestra) = tokio::task::spawn_blocking(move || {
        let muestra = fuente.muestrear();
        (fuente, muestra)
    })
    .await
    .context("the resource sampler panicked")?;
    muestra.nodo = memoria.nodo().to_owned();
    muestra.instante_ms = comun::ahora_ms();
    memoria.registrar(muestra);
    Ok(devuelta)
}

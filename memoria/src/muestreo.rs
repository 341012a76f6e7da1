//! The sampler: one task that reads the node every interval and hands each sample to
//! [`Memoria::registrar`] (history, alerts, waking the reporter).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio::time::MissedTickBehavior;

use crate::fuente::Fuente;
use crate::servicio::Memoria;

/// Samples `fuente` every `intervalo`, the first at once, until aborted. The source runs on the
/// blocking pool (it reads `/proc`, calls NVML, may sleep to measure CPU use). Returns only if
/// the source panics.
pub(crate) async fn muestrear(
    memoria: Arc<Memoria>,
    mut fuente: impl Fuente,
    intervalo: Duration,
) -> anyhow::Result<()> {
    let mut reloj = tokio::time::interval(intervalo);
    // A slow sample delays the next ones instead of causing a burst to catch up.
    reloj.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        reloj.tick().await;
        let (devuelta, mut muestra) = tokio::task::spawn_blocking(move || {
            let muestra = fuente.muestrear();
            (fuente, muestra)
        })
        .await
        .context("the resource sampler panicked")?;
        fuente = devuelta;
        muestra.nodo = memoria.nodo().to_owned();
        muestra.instante_ms = comun::ahora_ms();
        memoria.registrar(muestra);
    }
}

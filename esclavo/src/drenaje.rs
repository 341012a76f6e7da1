//! The drain at shutdown (SIGTERM: `docker stop`, a Kubernetes scale-down, an operator).
//!
//! 1. New jobs are refused (`POST /ejecutar` answers each "draining") and a heartbeat saying
//!    `drenando` goes at once, so the maestro plans nothing more here.
//! 2. The running jobs go on. The drain waits until none runs and every result has been
//!    acknowledged by the maestro, or until the grace period (`--gracia-s`) ends.
//! 3. `POST /esclavos/{nombre}/baja`: the maestro hands back whatever still runs here (queued
//!    again at once; the attempt ends with the reason and does not count as a failure) and
//!    forgets this esclavo. If the maestro cannot be reached, nothing is lost either: it
//!    declares this esclavo lost after its heartbeat limit and runs those jobs again (then as
//!    failed attempts).
//!
//! **Invariant:** an esclavo that leaves by a drain costs no job an attempt; each job it ran
//! either finished here with its result acknowledged, or is pending again at the maestro
//! before the process exits (when the maestro answered).

use std::time::{Duration, Instant};

use comun::nodo::Baja;

use crate::conexion::{ClienteMaestro, en_una_linea};
use crate::servicio::Esclavo;

/// How long the hand-back (`POST /esclavos/{nombre}/baja`) may take.
const PLAZO_BAJA: Duration = Duration::from_secs(5);

/// Drains `esclavo`: refuses new jobs, waits up to `gracia` for the running ones and their
/// results, hands the rest back. Returns when the process may stop.
pub async fn drenar(esclavo: &Esclavo, cliente: &ClienteMaestro, gracia: Duration) {
    esclavo.drenar();
    let corriendo = esclavo.ranuras.ocupadas();
    tracing::info!(
        corriendo,
        gracia_s = gracia.as_secs_f64(),
        "draining: new jobs refused; waiting for the running ones to finish"
    );
    let inicio = Instant::now();
    let terminado = tokio::time::timeout(gracia, vaciarse(esclavo))
        .await
        .is_ok();
    let quedan = esclavo.ranuras.ocupadas();
    let motivo = if terminado {
        format!(
            "it stopped after its jobs finished ({:.1} s of drain)",
            inicio.elapsed().as_secs_f64()
        )
    } else {
        format!(
            "it stopped; its grace period of {} s ended with {quedan} jobs running",
            gracia.as_secs_f64()
        )
    };
    let baja = Baja {
        instancia: esclavo.instancia(),
        motivo: Some(motivo.clone()),
    };
    match tokio::time::timeout(PLAZO_BAJA, cliente.baja(esclavo.nombre(), &baja)).await {
        Ok(Ok(r)) => tracing::info!(
            devueltos = ?r.devueltos,
            sin_enviar = esclavo.por_enviar(),
            "left the cluster: {motivo}"
        ),
        Ok(Err(e)) => tracing::warn!(
            error = %en_una_linea(&e),
            "could not hand back the running jobs; the maestro runs them again once it \
             declares this esclavo lost"
        ),
        Err(_) => tracing::warn!(
            "the maestro did not answer the hand-back within {PLAZO_BAJA:?}; it runs these \
             jobs again once it declares this esclavo lost"
        ),
    }
}

/// Completes once no job runs here and the maestro has acknowledged every result.
async fn vaciarse(esclavo: &Esclavo) {
    loop {
        // Registered before the check, so a change in between is not missed.
        let cambio = esclavo.cambio.notified();
        if esclavo.ranuras.ocupadas() == 0 && esclavo.por_enviar() == 0 {
            return;
        }
        cambio.await;
    }
}

//! The reporter: one task that sends the node's latest sample and active alerts to the maestro
//! every `intervalo_reporte`, and at once when an alert starts or ends.
//!
//! There is no queue: each try sends the state *now*, so a maestro that is away for an hour gets
//! one report, the latest, when it is back. Failed tries back off from 100 ms to 5 s; the first
//! failure and every tenth are logged.

use std::sync::Arc;

use plataforma::Reintento;

use crate::conexion::{ClienteMaestro, en_una_linea};
use crate::servicio::Memoria;

/// Reports until aborted.
pub(crate) async fn reportar(memoria: Arc<Memoria>, cliente: ClienteMaestro) {
    let mut reintento = Reintento::new();
    loop {
        let Some(reporte) = memoria.reporte() else {
            // No sample yet: the first one wakes us.
            memoria.novedad().await;
            continue;
        };
        match cliente.reportar_memoria(&reporte).await {
            Ok(()) => {
                if reintento.fallos() > 0 {
                    tracing::info!(
                        fallos = reintento.fallos(),
                        maestro = cliente.base(),
                        "the maestro takes reports again"
                    );
                }
                reintento.exito();
                tracing::debug!(alertas = reporte.alertas.len(), "report delivered");
                tokio::select! {
                    () = memoria.novedad() => {}
                    () = tokio::time::sleep(memoria.intervalo_reporte()) => {}
                }
            }
            Err(e) => {
                let anotar = |fallos| {
                    tracing::warn!(
                        error = %en_una_linea(&e), fallos, maestro = cliente.base(),
                        "could not report to the maestro; retrying with the latest state"
                    );
                };
                reintento.esperar_tras_fallo(anotar).await;
            }
        }
    }
}

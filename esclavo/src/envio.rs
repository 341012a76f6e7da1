//! Sending results to the maestro: one task batches whatever has finished and retries each batch
//! until the maestro acknowledges it.
//!
//! Results stay in memory until a 2xx answer, so a maestro that is down for a while gets them
//! all when it comes back. The maestro ignores duplicates, so resending after a lost answer is
//! safe. A batch the maestro refuses as malformed (a 4xx other than 401, 404, 408, 429) can
//! never pass: it is logged and dropped so that later results are not stuck behind it; a batch
//! refused as too large is split.

use std::sync::Arc;

use comun::nodo::{InformeResultado, LoteResultados, Salida};
use plataforma::Reintento;
use tokio::sync::mpsc;

use crate::conexion::{ClienteMaestro, ErrorMaestro, en_una_linea};
use crate::servicio::Esclavo;

/// Most reports in one batch.
const MAX_INFORMES: usize = 256;
/// Roughly the most bytes in one batch (images dominate); a single larger report goes alone.
const MAX_BYTES: usize = 4 << 20;

/// Sends every result that arrives on `recibidos`, in batches, until the channel closes.
pub(crate) async fn enviar_resultados(
    esclavo: Arc<Esclavo>,
    cliente: ClienteMaestro,
    mut recibidos: mpsc::UnboundedReceiver<InformeResultado>,
) {
    let mut sobrante = None;
    loop {
        let primero = match sobrante.take() {
            Some(informe) => informe,
            None => match recibidos.recv().await {
                Some(informe) => informe,
                None => return,
            },
        };
        let mut bytes = tamano(&primero);
        let mut lote = vec![primero];
        while lote.len() < MAX_INFORMES {
            let Ok(informe) = recibidos.try_recv() else {
                break;
            };
            bytes += tamano(&informe);
            if bytes > MAX_BYTES {
                sobrante = Some(informe);
                break;
            }
            lote.push(informe);
        }
        let n = lote.len();
        entregar(&cliente, lote).await;
        esclavo.enviados(n);
    }
}

/// About how many bytes a report takes on the wire.
fn tamano(informe: &InformeResultado) -> usize {
    let imagen = match &informe.salida {
        Salida::Completado { imagen_png, .. } => imagen_png.as_ref().map_or(0, String::len),
        Salida::Fallido { error } => error.len(),
    };
    imagen + 300
}

/// Sends `lote` until the maestro acknowledges it (or refuses it for good), splitting it if it
/// is too large.
async fn entregar(cliente: &ClienteMaestro, lote: Vec<InformeResultado>) {
    let mut pendientes = vec![LoteResultados { resultados: lote }];
    while let Some(mut lote) = pendientes.pop() {
        match enviar_con_reintentos(cliente, &lote).await {
            Entrega::Hecha => {}
            Entrega::DemasiadoGrande => {
                let mitad = lote.resultados.len() / 2;
                let segunda = lote.resultados.split_off(mitad);
                pendientes.push(LoteResultados {
                    resultados: segunda,
                });
                pendientes.push(lote);
            }
        }
    }
}

/// How sending one batch ended.
enum Entrega {
    /// Acknowledged, or dropped as impossible: either way it is no longer ours to send.
    Hecha,
    /// Refused as too large, and it holds more than one report: split it.
    DemasiadoGrande,
}

/// Sends one batch, retrying with backoff until the maestro acknowledges it, refuses it for
/// good, or refuses it as too large.
async fn enviar_con_reintentos(cliente: &ClienteMaestro, cuerpo: &LoteResultados) -> Entrega {
    let lote = &cuerpo.resultados;
    let mut reintento = Reintento::new();
    loop {
        match cliente.resultados(cuerpo).await {
            Ok(r) => {
                tracing::debug!(
                    informes = lote.len(),
                    registrados = r.registrados,
                    ignorados = r.ignorados,
                    "results delivered"
                );
                return Entrega::Hecha;
            }
            Err(e @ ErrorMaestro::Respuesta(_)) => {
                tracing::warn!(
                    error = %en_una_linea(&e),
                    "the maestro acknowledged results with an unexpected body; taken as delivered"
                );
                return Entrega::Hecha;
            }
            Err(e) if e.es_demasiado_grande() && lote.len() > 1 => {
                tracing::warn!(
                    informes = lote.len(),
                    "batch too large for the maestro; splitting it"
                );
                return Entrega::DemasiadoGrande;
            }
            Err(e) if e.es_definitivo() => {
                tracing::error!(
                    error = %en_una_linea(&e),
                    trabajos = %intentos(lote),
                    "the maestro refused results for good; dropping them"
                );
                return Entrega::Hecha;
            }
            Err(e) => {
                let anotar = |fallos| {
                    tracing::warn!(
                        error = %en_una_linea(&e), fallos, informes = lote.len(),
                        "could not deliver results; keeping them and retrying"
                    );
                };
                reintento.esperar_tras_fallo(anotar).await;
            }
        }
    }
}

/// `id/intento` of each report, for the log: `7/1, 9/2`.
fn intentos(lote: &[InformeResultado]) -> String {
    let ids: Vec<String> = lote
        .iter()
        .map(|i| format!("{}/{}", i.id, i.intento))
        .collect();
    ids.join(", ")
}

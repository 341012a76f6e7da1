//! [`Memoria`]: the handle of a running memoria, which the sampler, the reporter and the HTTP
//! handlers share: its samples and alerts behind one short-held lock, and the news that wakes
//! the reporter.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use comun::memoria::{Alertas, Historial as CuerpoHistorial, Muestra, ReporteMemoria};
use tokio::sync::Notify;

use crate::alertas::{Cambios, Evaluador};
use crate::config::Config;
use crate::historial::Historial;
use crate::metricas::Metricas;

/// The state of one memoria process.
pub struct Memoria {
    /// The host reported on.
    nodo: String,
    /// Who may read its API: the token (when configured) and whether reads pass without it.
    acceso: plataforma::Acceso,
    /// Changes at every process start, so the maestro can tell a restart.
    instancia: u64,
    /// Time between reports when nothing changes; sent in each report.
    intervalo_reporte: Duration,
    /// Samples and alerts, behind one short-held lock (never held across `.await`).
    mediciones: Mutex<Mediciones>,
    /// Wakes the reporter at once: the first sample arrived, or an alert started or ended.
    novedad: Notify,
    /// The Prometheus metrics (`GET /metrics`).
    metricas: Metricas,
}

/// What changes with every sample.
struct Mediciones {
    /// The recent samples; the newest is the one `/metricas` and reports show.
    historial: Historial,
    /// The alert engine and the active alerts.
    evaluador: Evaluador,
}

impl Memoria {
    pub fn new(config: &Config) -> Arc<Self> {
        Arc::new(Self {
            nodo: config.nodo.clone(),
            acceso: plataforma::Acceso::new(config.token.clone(), config.lecturas_abiertas),
            instancia: plataforma::nueva_instancia(),
            intervalo_reporte: config.intervalo_reporte,
            mediciones: Mutex::new(Mediciones {
                historial: Historial::new(config.historial),
                evaluador: Evaluador::new(config.politica),
            }),
            novedad: Notify::new(),
            metricas: Metricas::new(&config.nodo),
        })
    }

    pub fn nodo(&self) -> &str {
        &self.nodo
    }

    pub fn instancia(&self) -> u64 {
        self.instancia
    }

    /// The access rule of its API.
    pub fn acceso(&self) -> &plataforma::Acceso {
        &self.acceso
    }

    /// Takes in a new sample: keeps it, evaluates the alerts, logs what changed and wakes the
    /// reporter when an alert started or ended (or, if it waits for one, the first sample).
    pub fn registrar(&self, muestra: Muestra) -> Cambios {
        let (cambios, primera) = {
            let mut m = self.mediciones();
            let cambios = m.evaluador.evaluar(&muestra, muestra.instante_ms);
            let primera = m.historial.is_empty();
            m.historial.agregar(muestra);
            (cambios, primera)
        };
        anotar(&cambios);
        self.metricas.muestra_tomada();
        if !cambios.is_empty() {
            self.novedad.notify_one();
        } else if primera {
            // Taken before the reporter starts (`run_con_fuente`), which then reports it
            // anyway: wake only a reporter already waiting, leave no permit for a second report.
            self.novedad.notify_waiters();
        }
        cambios
    }

    /// The newest sample, if one was taken.
    pub fn ultima(&self) -> Option<Muestra> {
        self.mediciones().historial.ultima().cloned()
    }

    /// The body of `GET /historial`.
    pub fn historial(&self, desde_ms: Option<u64>) -> CuerpoHistorial {
        let m = self.mediciones();
        CuerpoHistorial {
            nodo: self.nodo.clone(),
            capacidad: m.historial.capacidad(),
            muestras: m.historial.desde(desde_ms),
        }
    }

    /// The text of `GET /metrics`: the newest sample's values and the active alerts.
    pub fn exponer_metricas(&self) -> Result<axum::response::Response, plataforma::http::ErrorApi> {
        let (muestra, alertas) = {
            let m = self.mediciones();
            (m.historial.ultima().cloned(), m.evaluador.activas())
        };
        self.metricas.exponer(muestra.as_ref(), &alertas)
    }

    /// The HTTP metrics, for the router.
    pub fn metricas(&self) -> &plataforma::Metricas {
        self.metricas.base()
    }

    /// The body of `GET /alertas`.
    pub fn alertas(&self) -> Alertas {
        Alertas {
            nodo: self.nodo.clone(),
            alertas: self.mediciones().evaluador.activas(),
        }
    }

    /// The report of the state now; `None` before the first sample.
    pub fn reporte(&self) -> Option<ReporteMemoria> {
        let m = self.mediciones();
        Some(ReporteMemoria {
            nodo: self.nodo.clone(),
            instancia: self.instancia,
            muestra: m.historial.ultima()?.clone(),
            alertas: m.evaluador.activas(),
            intervalo_ms: u64::try_from(self.intervalo_reporte.as_millis()).unwrap_or(u64::MAX),
        })
    }

    pub fn intervalo_reporte(&self) -> Duration {
        self.intervalo_reporte
    }

    /// Completes when there is news to report at once (immediately if some came since the last
    /// call).
    pub async fn novedad(&self) {
        self.novedad.notified().await;
    }

    fn mediciones(&self) -> MutexGuard<'_, Mediciones> {
        // Nothing under the lock can be left half-updated in a way that matters (at worst a
        // sample is evaluated but not kept): carry on rather than cascade a panic.
        self.mediciones.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Logs what changed: a level change of one resource as one line, not as an end and a start.
fn anotar(cambios: &Cambios) {
    for a in &cambios.iniciadas {
        match cambios.terminadas.iter().find(|t| t.recurso == a.recurso) {
            Some(antes) if a.nivel > antes.nivel => tracing::warn!(
                recurso = %a.recurso, nivel = %a.nivel, valor = a.valor, umbral = a.umbral,
                desde_ms = a.desde_ms, "alert escalated from {}", antes.nivel
            ),
            Some(antes) => tracing::info!(
                recurso = %a.recurso, nivel = %a.nivel, valor = a.valor, umbral = a.umbral,
                desde_ms = a.desde_ms, "alert eased from {}", antes.nivel
            ),
            None => tracing::warn!(
                recurso = %a.recurso, nivel = %a.nivel, valor = a.valor, umbral = a.umbral,
                desde_ms = a.desde_ms, "alert started"
            ),
        }
    }
    for t in &cambios.terminadas {
        if !cambios.iniciadas.iter().any(|a| a.recurso == t.recurso) {
            tracing::info!(
                recurso = %t.recurso, nivel = %t.nivel, valor = t.valor, umbral = t.umbral,
                desde_ms = t.desde_ms, "alert ended"
            );
        }
    }
}

//! The maestro's service handle, shared by the HTTP handlers, the dispatcher, the watchdog and
//! the file watcher, and the one path of every change of state:
//!
//! 1. **decide** under the state lock (a transition of [`Estado`]), and hand its changes to
//!    the store before releasing it, so the store sees them in the order they were decided;
//! 2. **commit**: await them, where the answer promises durability;
//! 3. **publish** the new counts, wake the dispatcher, and tell esclavos to stop the attempts
//!    the transition gave up ([`Efectos`]).
//!
//! **Invariant: nothing accepted is lost.** A job is committed before its submitter hears
//! "ok" ([`Servicio::admitir`]); a result is committed before its esclavo hears "ok"
//! ([`Servicio::transicion`]; the esclavo retries until then).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use comun::api::{InformeArchivo, Origen, Resumen};
use comun::nodo::PeticionCancelar;
use comun::{NuevoTrabajo, TrabajoId};
use plataforma::esclavo::ClienteEsclavo;
use tokio::sync::{Notify, watch};

use crate::Config;
use crate::almacen::{Almacen, Cambio, Confirmacion, LineaCargada, NumeroOrden};
use crate::estado::{Efectos, Estado, Parada};
use crate::ids::EsclavoId;
use crate::metricas::Metricas;
use crate::series::{self, Series};

/// Shared by the HTTP handlers, the dispatcher, the watchdog and the file watcher.
pub struct Servicio {
    pub config: Config,
    estado: Mutex<Estado>,
    pub almacen: Almacen,
    /// Wakes the dispatcher: a job was queued or a slot freed.
    pub despertar: Notify,
    /// The latest job counts, with the store order that makes them durable; long-polling
    /// clients wait on it.
    resumen: watch::Sender<(Resumen, NumeroOrden)>,
    /// What the watched jobs file looked like at its last reading (the file watcher writes
    /// it; `/estado` shows it).
    pub informe_archivo: watch::Sender<Option<InformeArchivo>>,
    /// Flips to true when the maestro is shutting down: long polls return at once.
    pub parando: watch::Receiver<bool>,
    /// The esclavos' API (`/ejecutar`, `/cancelar`), connections kept alive.
    pub esclavos: ClienteEsclavo,
    /// The Prometheus metrics (`GET /metrics`): events counted as transitions decide them.
    pub metricas: Metricas,
    /// The last hour's time series ([`series::muestrear`] feeds them).
    series: Mutex<Series>,
}

impl Servicio {
    pub fn new(
        config: Config,
        almacen: Almacen,
        estado: Estado,
        parando: watch::Receiver<bool>,
    ) -> anyhow::Result<Arc<Self>> {
        let resumen = watch::Sender::new((estado.resumen(), almacen.ultima_orden()));
        let esclavos = ClienteEsclavo::new(config.token.clone(), config.ca.as_ref())?;
        let metricas = Metricas::new(almacen.medidas());
        let series = Series::new(config.paso_series, series::CAPACIDAD);
        Ok(Arc::new(Self {
            config,
            estado: Mutex::new(estado),
            almacen,
            despertar: Notify::new(),
            resumen,
            informe_archivo: watch::Sender::new(None),
            parando,
            esclavos,
            metricas,
            series: Mutex::new(series),
        }))
    }

    /// The state, for a short critical section (never held across `.await`).
    pub fn estado(&self) -> MutexGuard<'_, Estado> {
        self.estado.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The time series, for a short critical section.
    pub fn series(&self) -> MutexGuard<'_, Series> {
        self.series.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Decide: runs a transition under the lock and hands its changes to the store before
    /// releasing it. Returns what the transition returned, its commit and its effects.
    pub fn decidir<T>(
        &self,
        f: impl FnOnce(&mut Estado) -> (T, Vec<Cambio>),
    ) -> (T, Confirmacion, Efectos) {
        let mut estado = self.estado();
        let (valor, cambios) = f(&mut estado);
        self.metricas.cambios(&cambios);
        (valor, self.almacen.guardar(cambios), estado.tomar_efectos())
    }

    /// Publish: the new counts to long-polling clients, then what the transitions asked for.
    pub fn publicar(&self, efectos: Efectos) {
        self.publicar_resumen(&self.estado());
        self.cumplir(efectos);
    }

    /// Wakes the dispatcher and sends the stops, if the transitions asked for them.
    fn cumplir(&self, efectos: Efectos) {
        if efectos.despertar {
            self.despertar.notify_one();
        }
        self.mandar_paradas(efectos.paradas);
    }

    /// Publishes the current counts, paired with the last store order sent, which holds them:
    /// call it with the state locked.
    fn publicar_resumen(&self, estado: &Estado) {
        let nuevo = estado.resumen();
        let secuencia = self.almacen.ultima_orden();
        self.resumen.send_if_modified(|(r, s)| {
            let cambio = *r != nuevo;
            *s = secuencia;
            *r = nuevo;
            cambio
        });
    }

    /// Decide → commit → publish. Returns what the transition returned, once its changes are
    /// committed.
    pub async fn transicion<T>(
        self: &Arc<Self>,
        f: impl FnOnce(&mut Estado) -> (T, Vec<Cambio>),
    ) -> anyhow::Result<T> {
        let (valor, commit, efectos) = self.decidir(f);
        let s = self.clone();
        hasta_el_final(async move {
            commit.esperar().await?;
            s.publicar(efectos);
            Ok(())
        })
        .await?;
        Ok(valor)
    }

    /// Decide → publish, without awaiting the commit: the changes still reach the store in
    /// order, and whoever reads the counts waits for the order that holds them.
    pub fn transicion_sin_esperar<T>(&self, f: impl FnOnce(&mut Estado) -> (T, Vec<Cambio>)) -> T {
        let (valor, efectos) = {
            let mut estado = self.estado();
            let (valor, cambios) = f(&mut estado);
            if !cambios.is_empty() {
                self.metricas.cambios(&cambios);
                self.almacen.guardar_sin_esperar(cambios);
            }
            self.publicar_resumen(&estado);
            (valor, estado.tomar_efectos())
        };
        self.cumplir(efectos);
        valor
    }

    pub fn suscribir(&self) -> watch::Receiver<(Resumen, NumeroOrden)> {
        self.resumen.subscribe()
    }

    /// The published counts, once the store holds everything they count: a client that sees
    /// a job counted as finished finds it finished in the store too.
    pub async fn resumen_confirmado(
        &self,
        rx: &watch::Receiver<(Resumen, NumeroOrden)>,
    ) -> Resumen {
        let (r, secuencia) = *rx.borrow();
        self.almacen.esperar_orden(secuencia).await;
        r
    }

    /// Stores new jobs durably, then queues them and wakes the dispatcher. Returns their ids
    /// once they are committed; on error nothing was queued. A `task_id` already taken is
    /// refused with a [`TaskIdsRepetidos`] error (`downcast_ref` finds it).
    pub async fn admitir(
        self: &Arc<Self>,
        nuevos: Vec<(NuevoTrabajo, Origen, Option<LineaCargada>)>,
    ) -> anyhow::Result<Vec<TrabajoId>> {
        self.admitir_con(nuevos, Vec::new()).await
    }

    /// [`Servicio::admitir`], with `mas` changes committed in the same transaction as the
    /// jobs (a task file's mark), and only if they are.
    pub async fn admitir_con(
        self: &Arc<Self>,
        nuevos: Vec<(NuevoTrabajo, Origen, Option<LineaCargada>)>,
        mas: Vec<Cambio>,
    ) -> anyhow::Result<Vec<TrabajoId>> {
        if nuevos.is_empty() {
            return Ok(Vec::new());
        }
        let (filas, commit, _) = self.decidir(|e| {
            let (filas, mut cambios) = e.admitir(nuevos, comun::ahora_ms());
            if filas.is_ok() {
                cambios.extend(mas);
            }
            (filas, cambios)
        });
        let filas = filas?;
        let s = self.clone();
        hasta_el_final(async move {
            if let Err(e) = commit.esperar().await {
                s.transicion_sin_esperar(|e| (e.olvidar_task_ids(&filas), Vec::new()));
                return Err(e);
            }
            s.transicion_sin_esperar(|e| (e.encolar(&filas), Vec::new()));
            Ok(filas.into_iter().map(|f| f.id).collect())
        })
        .await
    }

    /// The job with this `task_id`.
    pub fn por_task_id(&self, task_id: &str) -> Option<TrabajoId> {
        self.estado().por_task_id(task_id)
    }

    /// Tells esclavos to stop the attempts a transition gave up (`POST {esclavo}/cancelar`),
    /// one request per esclavo and reason, in the background. Best effort: an esclavo that
    /// does not hear it still stops an attempt at its time limit, and the answer to its next
    /// heartbeat lists the jobs the maestro no longer wants.
    fn mandar_paradas(&self, paradas: Vec<Parada>) {
        let mut grupos: BTreeMap<(EsclavoId, String, String), Vec<TrabajoId>> = BTreeMap::new();
        for p in paradas {
            grupos
                .entry((p.esclavo, p.url, p.motivo))
                .or_default()
                .push(p.id);
        }
        for ((esclavo, url, motivo), trabajos) in grupos {
            let cliente = self.esclavos.clone();
            tokio::spawn(async move {
                let peticion = PeticionCancelar {
                    trabajos,
                    motivo: Some(motivo),
                };
                let motivo = peticion.motivo.as_deref().unwrap_or_default();
                let esclavo = &esclavo.nombre;
                match cliente.cancelar(&url, &peticion).await {
                    Ok(r) => tracing::info!(
                        %esclavo, cancelados = ?r.cancelados, desconocidos = ?r.desconocidos,
                        "esclavo told to stop jobs: {motivo}"
                    ),
                    Err(e) => tracing::warn!(
                        %esclavo, trabajos = ?peticion.trabajos,
                        "could not tell the esclavo to stop jobs ({motivo}): {e}"
                    ),
                }
            });
        }
    }
}

/// Runs `fin` (a commit's wait and what follows it) to its end even when the caller is dropped
/// meanwhile, as an HTTP handler is when its client hangs up: committed jobs that were never
/// queued would wait in the store, unseen, until a restart, and a task_id retried by that
/// client would find them taken.
async fn hasta_el_final<T: Send + 'static>(
    fin: impl Future<Output = anyhow::Result<T>> + Send + 'static,
) -> anyhow::Result<T> {
    tokio::spawn(fin)
        .await
        .map_err(|e| anyhow::anyhow!("finishing a commit panicked: {e}"))?
}

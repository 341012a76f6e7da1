//! What every task and handler of the maestro shares, and the operations that span memory and
//! database (decide under the lock, commit outside it, then publish).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use arranque::esclavo::ClienteEsclavo;
use comun::api::{Origen, Resumen};
use comun::nodo::PeticionCancelar;
use comun::{NuevoTrabajo, TrabajoId};
use tokio::sync::{Notify, watch};

use crate::Config;
use crate::almacen::{Almacen, Cambio, LineaCargada, NumeroOrden};
use crate::estado::{Estado, Parada};

/// Shared by the HTTP handlers, the dispatcher, the watchdog and the file watcher.
pub struct Compartido {
    pub config: Config,
    estado: Mutex<Estado>,
    pub almacen: Almacen,
    /// Wakes the dispatcher: a job was queued or a slot freed.
    pub despertar: Notify,
    /// The latest job counts, with the database order that makes them durable; long-polling
    /// clients wait on it.
    resumen: watch::Sender<(Resumen, NumeroOrden)>,
    /// Flips to true when the maestro is shutting down: long polls return at once.
    pub parando: watch::Receiver<bool>,
    /// The esclavos' API (`/ejecutar`, `/cancelar`), connections kept alive.
    pub esclavos: ClienteEsclavo,
}

impl Compartido {
    pub fn new(
        config: Config,
        almacen: Almacen,
        estado: Estado,
        parando: watch::Receiver<bool>,
    ) -> anyhow::Result<Arc<Self>> {
        let resumen = watch::Sender::new((estado.resumen(), almacen.ultima_orden()));
        let esclavos = ClienteEsclavo::new(config.token.clone(), config.ca.as_ref())?;
        Ok(Arc::new(Self {
            config,
            estado: Mutex::new(estado),
            almacen,
            despertar: Notify::new(),
            resumen,
            parando,
            esclavos,
        }))
    }

    /// The state, for a short critical section (never held across `.await`).
    pub fn estado(&self) -> MutexGuard<'_, Estado> {
        self.estado.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Publishes the current counts to long-polling clients. Call it with the state locked:
    /// the counts are paired with the last database order sent, which holds them.
    pub fn publicar(&self, estado: &Estado) {
        let nuevo = estado.resumen();
        let secuencia = self.almacen.ultima_orden();
        self.resumen.send_if_modified(|(r, s)| {
            let cambio = *r != nuevo;
            *s = secuencia;
            *r = nuevo;
            cambio
        });
    }

    pub fn suscribir(&self) -> watch::Receiver<(Resumen, NumeroOrden)> {
        self.resumen.subscribe()
    }

    /// The published counts, once the database holds everything they count: a client that
    /// sees a job counted as finished finds it finished in the database too.
    pub async fn resumen_confirmado(
        &self,
        rx: &watch::Receiver<(Resumen, NumeroOrden)>,
    ) -> Resumen {
        let (r, secuencia) = *rx.borrow();
        self.almacen.esperar_orden(secuencia).await;
        r
    }

    /// Stores new jobs durably, then queues them and wakes the dispatcher. Returns their ids
    /// once they are committed; on error nothing was queued.
    pub async fn admitir(
        &self,
        nuevos: Vec<(NuevoTrabajo, Origen, Option<LineaCargada>)>,
    ) -> anyhow::Result<Vec<TrabajoId>> {
        if nuevos.is_empty() {
            return Ok(Vec::new());
        }
        let (filas, commit) = {
            let mut estado = self.estado();
            let (filas, cambios) = estado.admitir(nuevos, comun::ahora_ms());
            (filas, self.almacen.guardar(cambios))
        };
        commit.await?;
        {
            let mut estado = self.estado();
            estado.encolar(&filas);
            self.publicar(&estado);
        }
        self.despertar.notify_one();
        Ok(filas.into_iter().map(|f| f.id).collect())
    }

    /// Applies a transition: decides under the lock, commits, then publishes and wakes the
    /// dispatcher (a slot may have freed or a job come back). Returns what the transition
    /// returned besides its changes.
    pub async fn transicion<T>(
        &self,
        f: impl FnOnce(&mut Estado) -> (T, Vec<Cambio>),
    ) -> anyhow::Result<T> {
        let (valor, commit, paradas) = {
            let mut estado = self.estado();
            let (valor, cambios) = f(&mut estado);
            (valor, self.almacen.guardar(cambios), estado.tomar_paradas())
        };
        commit.await?;
        self.publicar(&self.estado());
        self.despertar.notify_one();
        self.mandar_paradas(paradas);
        Ok(valor)
    }

    /// Tells esclavos to stop the attempts a transition gave up (`POST {esclavo}/cancelar`),
    /// one request per esclavo and reason, in the background. Best effort: an esclavo that
    /// does not hear it still stops an attempt at its time limit, and the answer to its next
    /// heartbeat lists the jobs the maestro no longer wants.
    fn mandar_paradas(&self, paradas: Vec<Parada>) {
        let mut grupos: BTreeMap<(String, String, String), Vec<TrabajoId>> = BTreeMap::new();
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

    /// Like [`Compartido::transicion`] without waiting for the commit (changes still reach
    /// the database in order).
    pub fn transicion_sin_esperar(&self, f: impl FnOnce(&mut Estado) -> Vec<Cambio>) {
        let mut estado = self.estado();
        let cambios = f(&mut estado);
        if !cambios.is_empty() {
            self.almacen.guardar_sin_esperar(cambios);
        }
        self.publicar(&estado);
        let paradas = estado.tomar_paradas();
        drop(estado);
        self.despertar.notify_one();
        self.mandar_paradas(paradas);
    }
}

//! [`Esclavo`]: the handle of a running esclavo, which the HTTP handlers, the job tasks and the
//! background loops share: who it is, its slots, its registration and its results to send.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use comun::api::SistemaPing;
use comun::nodo::{Capacidades, InformeResultado, Registro};
use plataforma::http::ErrorApi;
use tokio::sync::{Notify, mpsc, watch};

use crate::config::Config;
use crate::entradas::Entradas;
use crate::metricas::{Instantanea, Metricas};
use crate::ranuras::Ranuras;
use crate::sistema::Monitor;
use crate::vista::EstadoEsclavo;

/// One running esclavo, shared behind an `Arc`.
pub struct Esclavo {
    /// Its unique name in the cluster.
    nombre: String,
    /// Changes at every process start, so the maestro can tell a restart from a reconnection.
    instancia: u64,
    /// How the maestro reaches it.
    url: String,
    /// The maestro's base URL, shown by `/estado`.
    maestro: String,
    /// The host it runs on.
    nodo: String,
    /// The hardware it offers, read once at start.
    capacidades: Capacidades,
    /// Who may call it: the token every request but `GET /ping` requires (when one is
    /// configured), and whether reads pass without it.
    acceso: plataforma::Acceso,
    /// The job slots and what ran in them.
    pub(crate) ranuras: Ranuras,
    /// Whether the maestro accepted the registration and has not answered 404 since.
    registrado: AtomicBool,
    /// Results queued or being sent that the maestro has not acknowledged yet.
    por_enviar: AtomicU64,
    /// Where finished attempts go; the sender task (`envio`) holds the other end.
    informes: mpsc::UnboundedSender<InformeResultado>,
    /// Turns true once, at shutdown: running jobs are abandoned and new ones refused.
    cierre: watch::Sender<bool>,
    /// Draining (SIGTERM): new jobs are refused, running ones go on, heartbeats say so.
    drenando: AtomicBool,
    /// Wakes the heartbeat loop to send one now (the maestro must hear of a drain at once).
    pub(crate) latir_ya: Notify,
    /// Signalled whenever a slot frees or results are acknowledged: a drain waits on it.
    pub(crate) cambio: Notify,
    /// The Prometheus metrics (`GET /metrics`).
    pub(crate) metricas: Metricas,
    /// Where the uploaded PNGs of `imagen` jobs come from (`run` connects it to the maestro).
    pub(crate) entradas: Entradas,
    /// Samples the host for `GET /ping` (CPU use is measured between two pings).
    monitor: Mutex<Monitor>,
}

impl Esclavo {
    /// The shared state of an esclavo reachable at `url`, and the receiving end of its results
    /// (for [`envio`](crate::envio), or for a test to read).
    pub fn new(
        config: &Config,
        url: String,
    ) -> (Arc<Self>, mpsc::UnboundedReceiver<InformeResultado>) {
        let (informes, recibidos) = mpsc::unbounded_channel();
        let gpus = config
            .gpus
            .clone()
            .unwrap_or_else(crate::sistema::gpus_detectadas);
        let esclavo = Self {
            nombre: config.nombre.clone(),
            instancia: plataforma::nueva_instancia(),
            url,
            maestro: config.maestro.clone(),
            nodo: config.nodo.clone(),
            ranuras: Ranuras::new(config.capacidad, &gpus, config.ranuras_por_gpu),
            capacidades: crate::sistema::capacidades(gpus),
            acceso: plataforma::Acceso::new(config.token.clone(), config.lecturas_abiertas),
            registrado: AtomicBool::new(false),
            por_enviar: AtomicU64::new(0),
            informes,
            cierre: watch::Sender::new(false),
            drenando: AtomicBool::new(false),
            latir_ya: Notify::new(),
            cambio: Notify::new(),
            metricas: Metricas::new(&config.nombre),
            monitor: Mutex::new(Monitor::new()),
            entradas: Entradas::default(),
        };
        (Arc::new(esclavo), recibidos)
    }

    pub fn nombre(&self) -> &str {
        &self.nombre
    }

    pub fn instancia(&self) -> u64 {
        self.instancia
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn capacidades(&self) -> &Capacidades {
        &self.capacidades
    }

    /// The host's figures and the slots in use, as `GET /ping` reports them.
    pub fn sistema(&self) -> SistemaPing {
        let carga = self
            .monitor
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .muestra();
        SistemaPing {
            cpu_porcentaje: carga.cpu,
            memoria_usada: carga.memoria_usada,
            memoria_total: carga.memoria_total,
            memoria_porcentaje: comun::memoria::porcentaje(
                carga.memoria_usada,
                carga.memoria_total,
            )
            .unwrap_or(0.0),
            nucleos: self.capacidades.nucleos,
            ranuras: self.ranuras.capacidad(),
            ocupadas: self.ranuras.ids_en_curso().len() as u32,
            gpu: self.capacidades.resumen_gpus(),
        }
    }

    /// The access rule of its API.
    pub(crate) fn acceso(&self) -> &plataforma::Acceso {
        &self.acceso
    }

    /// The body of `POST /registrar_esclavo`.
    pub fn registro(&self) -> Registro {
        Registro {
            nombre: self.nombre.clone(),
            instancia: self.instancia,
            url: self.url.clone(),
            nodo: self.nodo.clone(),
            capacidad: self.ranuras.capacidad(),
            capacidad_gpu: self.ranuras.capacidad_gpu(),
            capacidades: self.capacidades.clone(),
        }
    }

    pub(crate) fn marcar_registrado(&self, registrado: bool) {
        self.registrado.store(registrado, Ordering::Relaxed);
    }

    /// Queues a finished attempt for the maestro, once `liberar` has freed its slot. The
    /// result counts as unsent before the slot is free, so a drain never sees neither.
    pub(crate) fn informar(&self, informe: InformeResultado, liberar: impl FnOnce()) {
        self.por_enviar.fetch_add(1, Ordering::Relaxed);
        liberar();
        // Fails only when the sender task is gone, i.e. at shutdown: the maestro re-runs it.
        let _ = self.informes.send(informe);
        self.cambio.notify_waiters();
    }

    /// The maestro acknowledged (or refused for good) `n` queued results.
    pub(crate) fn enviados(&self, n: usize) {
        self.por_enviar.fetch_sub(n as u64, Ordering::Relaxed);
        self.cambio.notify_waiters();
    }

    /// Results the maestro has not acknowledged yet.
    pub fn por_enviar(&self) -> u64 {
        self.por_enviar.load(Ordering::Relaxed)
    }

    /// Starts draining: new jobs are refused, the next heartbeat (sent at once) tells the
    /// maestro, running jobs go on ([`crate::drenaje`]).
    pub fn drenar(&self) {
        self.drenando.store(true, Ordering::Relaxed);
        self.latir_ya.notify_one();
    }

    pub fn drenando(&self) -> bool {
        self.drenando.load(Ordering::Relaxed)
    }

    /// The text of `GET /metrics`, with what mirrors the state read now.
    pub(crate) fn exponer_metricas(&self) -> Result<axum::response::Response, ErrorApi> {
        self.metricas.actualizar(Instantanea {
            capacidad: self.ranuras.capacidad(),
            ocupadas: self.ranuras.ocupadas(),
            gpus: self.ranuras.gpus(),
            por_enviar: self.por_enviar.load(Ordering::Relaxed),
            registrado: self.registrado.load(Ordering::Relaxed),
        });
        self.metricas.base().exponer()
    }

    /// Starts shutdown: running jobs are abandoned, new ones refused.
    pub fn cerrar(&self) {
        self.cierre.send_replace(true);
    }

    pub fn cerrado(&self) -> bool {
        *self.cierre.borrow()
    }

    /// A receiver that sees `true` once shutdown starts.
    pub(crate) fn aviso_de_cierre(&self) -> watch::Receiver<bool> {
        self.cierre.subscribe()
    }

    /// What `GET /estado` answers.
    pub fn estado(&self) -> EstadoEsclavo {
        let actividad = self.ranuras.actividad();
        EstadoEsclavo {
            nombre: self.nombre.clone(),
            instancia: self.instancia,
            url: self.url.clone(),
            maestro: self.maestro.clone(),
            nodo: self.nodo.clone(),
            capacidad: self.ranuras.capacidad(),
            gpus: actividad.gpus,
            ejecutando: actividad.ejecutando,
            completados: actividad.completados,
            fallidos: actividad.fallidos,
            cancelados: actividad.cancelados,
            historial: actividad.historial,
            registrado: self.registrado.load(Ordering::Relaxed),
            drenando: self.drenando(),
            resultados_por_enviar: self.por_enviar.load(Ordering::Relaxed),
        }
    }
}

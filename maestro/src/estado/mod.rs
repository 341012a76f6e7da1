//! The maestro's live state, without I/O: a thin composition of the jobs ([`trabajos`]), the
//! esclavos ([`esclavos`]) and the memoria nodes ([`nodos`]), with the transitions that span
//! them (`transiciones`).
//!
//! Each transition changes memory and returns the store changes
//! ([`Cambio`](crate::almacen::Cambio)) that make it durable; the caller ([`crate::servicio`])
//! hands them to the store while still holding the lock, so the store sees changes in the
//! order they were decided. What a transition wants done once its changes are committed
//! (esclavos told to stop attempts, the dispatcher woken) it leaves in [`Efectos`], which the
//! caller takes with [`Estado::tomar_efectos`].

pub mod esclavos;
pub mod nodos;
pub mod trabajos;
mod transiciones;

use std::time::{Duration, Instant};

use comun::TrabajoId;
use comun::api::{ColaPrioridad, EsclavoInfo, Resumen};
use comun::nodo::Asignacion;

use crate::almacen::Recuperado;
use crate::config::{Config, REINTENTO_MAX, por_defecto};
use crate::estadisticas::Estadisticas;
use crate::ids::EsclavoId;
use crate::{planificador, reintentos};
use esclavos::Esclavos;
use nodos::Nodos;
use trabajos::Trabajos;
pub use trabajos::{EnCurso, Fallo, Rechazo, TaskIdsRepetidos};
pub use transiciones::{Final, Registrado};

/// Settings the transitions need.
#[derive(Debug, Clone, Copy)]
pub struct Reglas {
    /// Failed attempts after which a job is `fallido`.
    pub max_fallos: u32,
    /// A memoria report older than this is stale: shown, but it steers nothing.
    pub plazo_memoria: Duration,
    /// An esclavo silent for longer than this is lost.
    pub plazo_esclavo: Duration,
    /// Time limit of an attempt of a job that sets none; zero: none.
    pub plazo_trabajo: Duration,
    /// How long past its time limit an attempt may go before the maestro fails it itself (its
    /// esclavo normally reports it first).
    pub gracia_plazo: Duration,
    /// Delay before the retry of a job after its first failure; it doubles with each failure.
    pub reintento_base: Duration,
    /// Longest delay before a retry.
    pub reintento_max: Duration,
}

impl Reglas {
    /// The rules with the given failure limit and memoria staleness, and the maestro's
    /// defaults for everything else.
    pub fn new(max_fallos: u32, plazo_memoria: Duration) -> Self {
        Reglas {
            max_fallos,
            plazo_memoria,
            ..Reglas::de(&Config::new(por_defecto::DATOS))
        }
    }

    /// The rules a maestro with `config` follows.
    pub fn de(config: &Config) -> Self {
        Reglas {
            max_fallos: config.max_intentos.max(1),
            plazo_memoria: config.plazo_memoria,
            plazo_esclavo: config.plazo_esclavo,
            plazo_trabajo: config.plazo_trabajo,
            gracia_plazo: config.gracia_plazo(),
            reintento_base: config.reintento_base,
            reintento_max: REINTENTO_MAX,
        }
    }
}

/// Jobs to send to one esclavo in one request.
#[derive(Debug, Clone)]
pub struct Envio {
    pub esclavo: EsclavoId,
    pub url: String,
    pub trabajos: Vec<Asignacion>,
}

/// An attempt its esclavo should stop (`POST {esclavo}/cancelar`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parada {
    /// The esclavo, for the log.
    pub esclavo: EsclavoId,
    /// Where it serves.
    pub url: String,
    /// The job whose attempt there should stop.
    pub id: TrabajoId,
    /// Why, as the esclavo will put it in the attempt's error.
    pub motivo: String,
}

/// What transitions want done once their changes are committed.
#[derive(Debug, Default)]
pub struct Efectos {
    /// Attempts their esclavos should stop.
    pub paradas: Vec<Parada>,
    /// Whether the dispatcher should look again: a job was queued, a slot freed, an esclavo
    /// or a node changed.
    pub despertar: bool,
}

/// The live state.
#[derive(Debug)]
pub struct Estado {
    pub trabajos: Trabajos,
    pub esclavos: Esclavos,
    pub nodos: Nodos,
    /// Figures since start, fed by the transitions.
    pub estadisticas: Estadisticas,
    /// What the transitions since the last [`Estado::tomar_efectos`] want done.
    efectos: Efectos,
}

impl Estado {
    pub fn new(recuperado: Recuperado, reglas: Reglas) -> Self {
        Estado {
            trabajos: Trabajos::new(recuperado, reglas),
            esclavos: Esclavos::new(reglas.plazo_esclavo),
            nodos: Nodos::new(reglas.plazo_memoria),
            estadisticas: Estadisticas::new(Instant::now(), comun::ahora_ms()),
            efectos: Efectos::default(),
        }
    }

    /// What the transitions since the last call want done.
    pub fn tomar_efectos(&mut self) -> Efectos {
        std::mem::take(&mut self.efectos)
    }

    /// The dispatcher should look again once the changes are committed.
    fn despertar(&mut self) {
        self.efectos.despertar = true;
    }

    /// Asks the esclavo that runs `e` to stop it (nothing if that esclavo is gone or restarted).
    fn parar(&mut self, e: &EnCurso, motivo: String) {
        if let Some(esclavo) = self.esclavos.vigente(&e.esclavo) {
            self.efectos.paradas.push(Parada {
                esclavo: e.esclavo.clone(),
                url: esclavo.url.clone(),
                id: e.trabajo.id,
                motivo,
            });
        }
    }

    /// The job counts, as `/resumen` shows them.
    pub fn resumen(&self) -> Resumen {
        self.trabajos.resumen()
    }

    /// Pending and running jobs per priority, as `/estado` shows them.
    pub fn cola_por_prioridad(&self) -> Vec<ColaPrioridad> {
        self.trabajos.cola_por_prioridad()
    }

    /// Every esclavo, as `/esclavos` shows them.
    pub fn esclavos_info(&self, ahora: Instant) -> Vec<EsclavoInfo> {
        self.esclavos.info(ahora)
    }

    /// When the earliest retry is due: the dispatcher wakes then.
    pub fn proximo_reintento(&self) -> Option<Instant> {
        self.trabajos.proximo_reintento()
    }

    /// Why a pending job is not running yet.
    pub fn explicar(&self, id: TrabajoId) -> Option<String> {
        let ahora = Instant::now();
        if let Some((e, vence)) = self.trabajos.reintentos.buscar(id) {
            return Some(reintentos::explicar(
                e,
                vence.saturating_duration_since(ahora),
            ));
        }
        let cola = &self.trabajos.cola;
        let p = cola.buscar(id)?;
        let candidatos = self.esclavos.candidatos(&self.nodos, ahora);
        Some(planificador::explicar(p, cola.delante_de(p), &candidatos))
    }
}

//! The maestro's live state and every transition of a job's life, without I/O.
//!
//! Each transition changes memory and returns the database [`Cambio`]s that make it durable; the
//! caller hands them to the writer while still holding the lock, so the database sees changes in
//! the order they were decided. Memory answers "what is pending, what runs where"; the database
//! answers everything else.
//!
//! Exactly once: a result is recorded only for a job that is still pending or running *in
//! memory*, and recording removes it from both; every later report for it is ignored.
//!
//! Pending means in the queue ([`Cola`]) or waiting for a retry ([`Reintentos`]). Transitions
//! that want an esclavo to stop an attempt (a cancelled job, a time limit past its grace, an
//! attempt superseded by another's result) leave a [`Parada`]; the caller takes them with
//! [`Estado::tomar_paradas`] and sends them once the changes are committed.

use std::collections::{BTreeMap, HashMap};
use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use comun::api::{Carga, ColaPrioridad, EsclavoInfo, InformeArchivo, Origen, Resumen};
use comun::memoria::{Nivel, ReporteMemoria};
use comun::nodo::{Asignacion, Latido, Registro};
use comun::{Estado as EstadoTrabajo, NuevoTrabajo, Prioridad, TrabajoId};

use crate::almacen::{Cambio, FilaNueva, LineaCargada, Recuperado};
use crate::cola::{Cola, Pendiente};
use crate::config::{Config, REINTENTO_MAX};
use crate::planificador::{self, Hueco};
use crate::reintentos::{self, Reintentos};

/// A job sent to an esclavo.
#[derive(Debug, Clone)]
pub struct EnCurso {
    /// The job as it waited, with `intentos` counting this attempt.
    pub trabajo: Pendiente,
    pub esclavo: String,
    /// The esclavo process it went to: a restart under the same name is a different one.
    pub instancia: u64,
    pub intento: u32,
    /// Cancelled by a user while it ran: its result will be ignored, its slot is still busy.
    pub cancelado: bool,
    /// When it was sent: its time limit counts from here.
    pub inicio: Instant,
    /// Its time limit (the job's own or the maestro's default); zero: none.
    pub plazo: Duration,
}

/// The time limit of an attempt of `p`: its own, or `defecto` (zero: none).
fn plazo_de(p: &Pendiente, defecto: Duration) -> Duration {
    p.plazo_s
        .map_or(defecto, |s| Duration::from_secs(s.get().into()))
}

/// A time limit in words: `30 s`, `0.5 s`.
pub fn texto_plazo(plazo: Duration) -> String {
    if plazo.subsec_millis() == 0 {
        format!("{} s", plazo.as_secs())
    } else {
        format!("{} s", plazo.as_secs_f64())
    }
}

/// A registered esclavo.
#[derive(Debug, Clone)]
pub struct Esclavo {
    pub registro: Registro,
    pub ultimo_latido: Instant,
    /// False once its heartbeats stop for longer than the limit; true again at the next one.
    pub vivo: bool,
    pub carga: Carga,
    /// Jobs we sent it that it has not reported back.
    pub propios: u32,
    /// Jobs it says it runs that we did not send it (left from before a maestro restart, or
    /// superseded attempts): they take slots too.
    pub ajenos: u32,
    pub completados: u64,
}

impl Esclavo {
    fn hueco(&self, salud: Salud) -> Hueco {
        let ocupados = self.propios + self.ajenos;
        let memoria =
            comun::memoria::porcentaje(self.carga.memoria_usada, self.carga.memoria_total);
        Hueco {
            libres: self.registro.capacidad.saturating_sub(ocupados),
            ejecutando: ocupados,
            gpu: self.registro.capacidades.gpu.is_some(),
            vivo: self.vivo,
            critico: salud.critico,
            avisos: salud.avisos,
            cpu: self.carga.cpu,
            memoria: memoria.unwrap_or(0.0) as f32,
        }
    }
}

/// The latest report of a memoria node.
#[derive(Debug, Clone)]
pub struct NodoMemoria {
    pub reporte: ReporteMemoria,
    pub recibido: Instant,
    /// Set once the report is older than the limit (so its going stale is logged once).
    pub caducado: bool,
}

/// What a node's fresh alerts say about it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Salud {
    pub critico: bool,
    pub avisos: u32,
}

/// Jobs to send to one esclavo in one request.
#[derive(Debug, Clone)]
pub struct Envio {
    pub esclavo: String,
    pub url: String,
    pub trabajos: Vec<Asignacion>,
}

/// An attempt its esclavo should stop (`POST {esclavo}/cancelar`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parada {
    /// The esclavo's name, for the log.
    pub esclavo: String,
    /// Where it serves.
    pub url: String,
    /// The job whose attempt there should stop.
    pub id: TrabajoId,
    /// Why, as the esclavo will put it in the attempt's error.
    pub motivo: String,
}

/// Whose fault a failed attempt was: it decides whether the retry waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fallo {
    /// The job's: its esclavo reported an error, or refused it as malformed, or it ran past
    /// its time limit. The retry waits ([`reintentos::demora`]).
    DelTrabajo,
    /// The esclavo's: lost, unreachable, or restarted. The job goes back to the queue at once.
    /// Either way the attempt counts towards the job's failures.
    DelEsclavo,
}

/// What a result report did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registrado {
    /// The job is now completado or fallido (or pending again after a failed attempt).
    Si,
    /// The job had already finished (or the attempt was superseded): nothing changed.
    Ignorado,
}

/// How a report of a finished attempt ended.
pub enum Final {
    Completado {
        resultado: String,
        png: Option<Vec<u8>>,
    },
    Fallido(String),
}

/// Settings the transitions need.
#[derive(Debug, Clone, Copy)]
pub struct Reglas {
    /// Failed attempts after which a job is `fallido`.
    pub max_fallos: u32,
    /// A memoria report older than this is stale: shown, but it steers nothing.
    pub plazo_memoria: Duration,
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
            ..Reglas::de(&Config::new(""))
        }
    }

    /// The rules a maestro with `config` follows.
    pub fn de(config: &Config) -> Self {
        Reglas {
            max_fallos: config.max_intentos.max(1),
            plazo_memoria: config.plazo_memoria,
            plazo_trabajo: config.plazo_trabajo,
            gracia_plazo: config.gracia_plazo(),
            reintento_base: config.reintento_base,
            reintento_max: REINTENTO_MAX,
        }
    }
}

/// Why a job cancelled through the API stopped.
const MOTIVO_CANCELADO: &str = "cancelled by a user";

/// The live state.
#[derive(Debug)]
pub struct Estado {
    pub cola: Cola,
    /// Pending jobs waiting out the delay before their retry.
    pub reintentos: Reintentos,
    pub en_curso: HashMap<TrabajoId, EnCurso>,
    /// By name: iteration in name order keeps scheduling deterministic.
    pub esclavos: BTreeMap<String, Esclavo>,
    siguiente_id: u64,
    asignados: [u64; 3],
    completados: u64,
    fallidos: u64,
    cancelados: u64,
    /// Bumped by every change the summary shows.
    version: u64,
    /// What the watched jobs file looked like at its last reading.
    pub archivo: Option<InformeArchivo>,
    /// The latest report of each memoria node, by node.
    pub memoria: BTreeMap<String, NodoMemoria>,
    reglas: Reglas,
    /// Attempts to stop, for the caller to send ([`Estado::tomar_paradas`]).
    paradas: Vec<Parada>,
}

impl Estado {
    pub fn new(recuperado: Recuperado, reglas: Reglas) -> Self {
        let mut cola = Cola::default();
        recuperado
            .pendientes
            .into_iter()
            .for_each(|p| cola.insertar(p));
        let contar = |e| recuperado.por_estado.get(&e).copied().unwrap_or(0);
        Estado {
            cola,
            reintentos: Reintentos::default(),
            en_curso: HashMap::new(),
            esclavos: BTreeMap::new(),
            siguiente_id: recuperado.siguiente_id,
            asignados: [0; 3],
            completados: contar(EstadoTrabajo::Completado),
            fallidos: contar(EstadoTrabajo::Fallido),
            cancelados: contar(EstadoTrabajo::Cancelado),
            version: 1,
            archivo: None,
            memoria: BTreeMap::new(),
            reglas,
            paradas: Vec::new(),
        }
    }

    /// The attempts transitions asked to stop since the last call.
    pub fn tomar_paradas(&mut self) -> Vec<Parada> {
        std::mem::take(&mut self.paradas)
    }

    /// Asks the esclavo that runs `e` to stop it (nothing if that esclavo is gone or restarted).
    fn parar(&mut self, e: &EnCurso, motivo: String) {
        if let Some(esclavo) = self.esclavos.get(&e.esclavo)
            && esclavo.registro.instancia == e.instancia
        {
            self.paradas.push(Parada {
                esclavo: e.esclavo.clone(),
                url: esclavo.registro.url.clone(),
                id: e.trabajo.id,
                motivo,
            });
        }
    }

    /// When the earliest retry is due: the dispatcher wakes then.
    pub fn proximo_reintento(&self) -> Option<Instant> {
        self.reintentos.proximo()
    }

    pub fn resumen(&self) -> Resumen {
        Resumen {
            version: self.version,
            pendientes: self.cola.len() + self.reintentos.len(),
            asignados: self.asignados.iter().sum(),
            completados: self.completados,
            fallidos: self.fallidos,
            cancelados: self.cancelados,
        }
    }

    pub fn cola_por_prioridad(&self) -> Vec<ColaPrioridad> {
        Prioridad::TODAS
            .into_iter()
            .map(|p| ColaPrioridad {
                prioridad: p,
                pendientes: self.cola.pendientes_de(p) + self.reintentos.pendientes_de(p),
                asignados: self.asignados[p.indice()],
            })
            .collect()
    }

    fn cambiado(&mut self) {
        self.version += 1;
    }

    /// Gives new jobs their ids and rows; they join the queue with [`Estado::encolar`] once
    /// the rows are committed.
    pub fn admitir(
        &mut self,
        nuevos: Vec<(NuevoTrabajo, Origen, Option<LineaCargada>)>,
        ahora_ms: u64,
    ) -> (Vec<FilaNueva>, Vec<Cambio>) {
        let mut filas = Vec::with_capacity(nuevos.len());
        let mut cambios = Vec::with_capacity(nuevos.len());
        for (trabajo, origen, linea) in nuevos {
            let id = TrabajoId(self.siguiente_id);
            self.siguiente_id += 1;
            let fila = FilaNueva {
                id,
                trabajo,
                origen,
                creado_ms: ahora_ms,
            };
            cambios.push(Cambio::Insertar(fila.clone()));
            if let Some(l) = linea {
                cambios.push(Cambio::MarcarLinea(l, id));
            }
            filas.push(fila);
        }
        (filas, cambios)
    }

    pub fn encolar(&mut self, filas: &[FilaNueva]) {
        for f in filas {
            self.cola.insertar(Pendiente {
                id: f.id,
                parametros: f.trabajo.parametros,
                algoritmo: f.trabajo.algoritmo,
                prioridad: f.trabajo.prioridad,
                intentos: 0,
                fallos: 0,
                plazo_s: f.trabajo.plazo_s.and_then(NonZeroU32::new),
            });
        }
        self.cambiado();
    }

    /// Decides which pending jobs go where now, and marks them running. Retries due at `ahora`
    /// join the queue first.
    pub fn planificar(&mut self, ahora: Instant, ahora_ms: u64) -> (Vec<Envio>, Vec<Cambio>) {
        for p in self.reintentos.vencidos(ahora) {
            self.cola.insertar(p);
        }
        let nombres: Vec<String> = self.esclavos.keys().cloned().collect();
        let mut huecos = self.huecos(ahora);
        let decisiones = planificador::planificar(&mut self.cola, &mut huecos);
        if decisiones.is_empty() {
            return (Vec::new(), Vec::new());
        }
        let mut envios: BTreeMap<usize, Envio> = BTreeMap::new();
        let mut cambios = Vec::with_capacity(decisiones.len());
        for d in decisiones {
            let esclavo = self
                .esclavos
                .get_mut(&nombres[d.esclavo])
                .expect("planned esclavo");
            let mut trabajo = d.trabajo;
            trabajo.intentos += 1;
            let intento = trabajo.intentos;
            esclavo.propios += 1;
            self.asignados[trabajo.prioridad.indice()] += 1;
            let plazo = plazo_de(&trabajo, self.reglas.plazo_trabajo);
            self.en_curso.insert(
                trabajo.id,
                EnCurso {
                    trabajo,
                    esclavo: esclavo.registro.nombre.clone(),
                    instancia: esclavo.registro.instancia,
                    intento,
                    cancelado: false,
                    inicio: ahora,
                    plazo,
                },
            );
            cambios.push(Cambio::Asignar {
                id: trabajo.id,
                intento,
                esclavo: esclavo.registro.nombre.clone(),
                inicio_ms: ahora_ms,
            });
            envios
                .entry(d.esclavo)
                .or_insert_with(|| Envio {
                    esclavo: esclavo.registro.nombre.clone(),
                    url: esclavo.registro.url.clone(),
                    trabajos: Vec::new(),
                })
                .trabajos
                .push(Asignacion {
                    id: trabajo.id,
                    intento,
                    parametros: trabajo.parametros,
                    algoritmo: planificador::resolver(trabajo.algoritmo, huecos[d.esclavo].gpu),
                    plazo_ms: u64::try_from(plazo.as_millis()).unwrap_or(u64::MAX),
                });
        }
        self.cambiado();
        (envios.into_values().collect(), cambios)
    }

    /// Takes a job off the running set if it runs as `intento` (any attempt if `None`),
    /// freeing its esclavo's slot.
    fn sacar_en_curso(&mut self, id: TrabajoId, intento: Option<u32>) -> Option<EnCurso> {
        let actual = self.en_curso.get(&id)?;
        if intento.is_some_and(|i| i != actual.intento) {
            return None;
        }
        let e = self.en_curso.remove(&id)?;
        if let Some(esclavo) = self.esclavos.get_mut(&e.esclavo)
            && esclavo.registro.instancia == e.instancia
        {
            esclavo.propios = esclavo.propios.saturating_sub(1);
        }
        if !e.cancelado {
            self.asignados[e.trabajo.prioridad.indice()] -= 1;
        }
        self.cambiado();
        Some(e)
    }

    /// The esclavo refused the job (no free slot): it waits again in its place, and the
    /// esclavo counts as full until its next heartbeat.
    pub fn devolver(&mut self, id: TrabajoId, intento: u32) -> Vec<Cambio> {
        let Some(e) = self.sacar_en_curso(id, Some(intento)) else {
            return Vec::new();
        };
        if let Some(esclavo) = self.esclavos.get_mut(&e.esclavo) {
            esclavo.ajenos = esclavo.registro.capacidad.saturating_sub(esclavo.propios);
        }
        if e.cancelado {
            return vec![];
        }
        let mut trabajo = e.trabajo;
        trabajo.intentos -= 1;
        self.cola.insertar(trabajo);
        vec![Cambio::Devolver { id, intento }]
    }

    /// An attempt failed: the job is pending again, or fails for good after too many failures.
    /// After a failure of the job's own ([`Fallo::DelTrabajo`]) it waits for its retry until
    /// `ahora` plus [`reintentos::demora`]; after one of the esclavo's it is queued at once.
    pub fn fallar(
        &mut self,
        id: TrabajoId,
        intento: u32,
        error: String,
        fallo: Fallo,
        ahora: Instant,
        ahora_ms: u64,
    ) -> Vec<Cambio> {
        let Some(e) = self.sacar_en_curso(id, Some(intento)) else {
            return Vec::new();
        };
        if e.cancelado {
            return Vec::new();
        }
        let mut trabajo = e.trabajo;
        trabajo.fallos += 1;
        let definitivo = trabajo.fallos >= self.reglas.max_fallos;
        let demora = match fallo {
            Fallo::DelTrabajo => reintentos::demora(
                self.reglas.reintento_base,
                self.reglas.reintento_max,
                trabajo.fallos,
            ),
            Fallo::DelEsclavo => Duration::ZERO,
        };
        if definitivo {
            self.fallidos += 1;
            tracing::warn!(%id, fallos = trabajo.fallos, "job failed for good: {error}");
        } else if demora.is_zero() {
            tracing::info!(%id, intento, "attempt failed, job queued again: {error}");
            self.cola.insertar(trabajo);
        } else {
            tracing::info!(%id, intento, "attempt failed, retry in {demora:?}: {error}");
            self.reintentos
                .insertar(trabajo, error.clone(), ahora + demora);
        }
        vec![Cambio::Fallar {
            id,
            intento,
            fin_ms: ahora_ms,
            error,
            fallos: trabajo.fallos,
            definitivo,
        }]
    }

    /// A finished attempt's report. Records a result only if the job is still pending or
    /// running: the first result wins, from whichever attempt.
    pub fn terminar(
        &mut self,
        id: TrabajoId,
        intento: u32,
        esclavo: &str,
        final_: Final,
        ahora: Instant,
        ahora_ms: u64,
    ) -> (Registrado, Vec<Cambio>) {
        match final_ {
            Final::Fallido(error) => {
                let cambios = self.fallar(id, intento, error, Fallo::DelTrabajo, ahora, ahora_ms);
                let r = if cambios.is_empty() {
                    Registrado::Ignorado
                } else {
                    Registrado::Si
                };
                (r, cambios)
            }
            Final::Completado { resultado, png } => {
                let vigente = match self.sacar_en_curso(id, None) {
                    Some(e) => {
                        let otro = e.intento != intento || e.esclavo != esclavo;
                        if otro && !e.cancelado {
                            let motivo = format!("attempt {intento} finished the job first");
                            self.parar(&e, motivo);
                        }
                        !e.cancelado
                    }
                    None => self.cola.quitar(id).is_some() || self.reintentos.quitar(id).is_some(),
                };
                if !vigente {
                    return (Registrado::Ignorado, Vec::new());
                }
                self.completados += 1;
                self.cambiado();
                if let Some(e) = self.esclavos.get_mut(esclavo) {
                    e.completados += 1;
                }
                let cambio = Cambio::Completar {
                    id,
                    intento,
                    esclavo: esclavo.to_string(),
                    fin_ms: ahora_ms,
                    resultado,
                    png,
                };
                (Registrado::Si, vec![cambio])
            }
        }
    }

    /// Cancels a pending or running job; `None` if it is neither (finished, or unknown). A
    /// running one keeps its slot until its esclavo, told to stop it, reports it.
    pub fn cancelar(&mut self, id: TrabajoId, ahora_ms: u64) -> Option<Cambio> {
        if self.cola.quitar(id).is_none() && self.reintentos.quitar(id).is_none() {
            let e = self.en_curso.get_mut(&id).filter(|e| !e.cancelado)?;
            e.cancelado = true;
            let e = e.clone();
            self.asignados[e.trabajo.prioridad.indice()] -= 1;
            self.parar(&e, MOTIVO_CANCELADO.into());
        }
        self.cancelados += 1;
        self.cambiado();
        Some(Cambio::Cancelar {
            id,
            fin_ms: ahora_ms,
            motivo: MOTIVO_CANCELADO.into(),
        })
    }

    /// Cancels every pending job (waiting for a retry or not); running ones keep running.
    pub fn limpiar(&mut self, ahora_ms: u64) -> Vec<Cambio> {
        let mut todos = self.cola.vaciar();
        todos.extend(self.reintentos.vaciar());
        self.cancelados += todos.len() as u64;
        self.cambiado();
        todos
            .into_iter()
            .map(|p| Cambio::Cancelar {
                id: p.id,
                fin_ms: ahora_ms,
                motivo: "dropped by limpiar_cola".into(),
            })
            .collect()
    }

    /// Registers an esclavo. A new instance under a known name means the old process died: what
    /// it was running is queued again.
    pub fn registrar(&mut self, registro: Registro, ahora: Instant, ahora_ms: u64) -> Vec<Cambio> {
        let mut cambios = Vec::new();
        if let Some(viejo) = self.esclavos.get(&registro.nombre)
            && viejo.registro.instancia != registro.instancia
        {
            let error = format!("esclavo {} restarted while it ran", registro.nombre);
            cambios = self.fallar_los_de(&registro.nombre, &error, ahora, ahora_ms);
        }
        let completados = self
            .esclavos
            .get(&registro.nombre)
            .map_or(0, |e| e.completados);
        let mismo = self
            .esclavos
            .get(&registro.nombre)
            .filter(|e| e.registro.instancia == registro.instancia);
        let propios = mismo.map_or(0, |e| e.propios);
        self.esclavos.insert(
            registro.nombre.clone(),
            Esclavo {
                registro,
                ultimo_latido: ahora,
                vivo: true,
                carga: Carga::default(),
                propios,
                ajenos: 0,
                completados,
            },
        );
        self.cambiado();
        cambios
    }

    /// A heartbeat. Returns the jobs of `l.ejecutando` the esclavo should stop (see
    /// [`Estado::no_queridos`]), or `None` if the esclavo (this instance of it) is unknown and
    /// must register.
    pub fn latido(&mut self, l: &Latido, ahora: Instant) -> Option<Vec<TrabajoId>> {
        let esclavo = self.esclavos.get_mut(&l.nombre)?;
        if esclavo.registro.instancia != l.instancia {
            return None;
        }
        if !esclavo.vivo {
            tracing::info!(esclavo = %l.nombre, "esclavo is back");
        }
        esclavo.vivo = true;
        esclavo.ultimo_latido = ahora;
        esclavo.carga = l.carga;
        let nombre = &esclavo.registro.nombre;
        let ajenos = l
            .ejecutando
            .iter()
            .filter(|id| {
                !self
                    .en_curso
                    .get(id)
                    .is_some_and(|e| &e.esclavo == nombre && e.instancia == l.instancia)
            })
            .count() as u32;
        let esclavo = self.esclavos.get_mut(&l.nombre).expect("checked above");
        esclavo.ajenos = ajenos;
        Some(self.no_queridos(&l.nombre, l.instancia, &l.ejecutando))
    }

    /// The jobs among `ids`, which an esclavo runs, that the maestro no longer wants from it:
    /// cancelled, finished, or running elsewhere as the current attempt. Wanted are the
    /// pending ones (in the queue or waiting for a retry: after a maestro restart, the jobs
    /// recovered as pending that an esclavo still runs, whose result still counts) and the
    /// live attempts it runs for the maestro.
    pub fn no_queridos(&self, nombre: &str, instancia: u64, ids: &[TrabajoId]) -> Vec<TrabajoId> {
        ids.iter()
            .copied()
            .filter(|&id| {
                let pendiente = self.cola.buscar(id).is_some() || self.reintentos.contiene(id);
                let aqui = self.en_curso.get(&id).is_some_and(|e| {
                    !e.cancelado && e.esclavo == nombre && e.instancia == instancia
                });
                !pendiente && !aqui
            })
            .collect()
    }

    /// Fails every attempt that ran longer than its time limit plus the grace, as its esclavo
    /// did not report it (counted like any failed attempt, and the retry waits), and asks that
    /// esclavo to stop it. A cancelled attempt that overstays only gives its slot back.
    pub fn vencer_plazos(&mut self, ahora: Instant, ahora_ms: u64) -> Vec<Cambio> {
        let mut cambios = Vec::new();
        for e in self.vencidos(ahora) {
            let plazo = texto_plazo(e.plazo);
            if e.cancelado {
                self.sacar_en_curso(e.trabajo.id, Some(e.intento));
                self.parar(&e, MOTIVO_CANCELADO.into());
                continue;
            }
            let error = format!(
                "time limit of {plazo} exceeded (no answer from esclavo {})",
                e.esclavo
            );
            tracing::warn!(id = %e.trabajo.id, intento = e.intento, "{error}");
            let id = e.trabajo.id;
            cambios.extend(self.fallar(id, e.intento, error, Fallo::DelTrabajo, ahora, ahora_ms));
            self.parar(&e, format!("time limit of {plazo} exceeded"));
        }
        cambios
    }

    /// Whether some attempt ran longer than its time limit plus the grace.
    pub fn hay_plazos_vencidos(&self, ahora: Instant) -> bool {
        self.en_curso.values().any(|e| self.vencido(e, ahora))
    }

    fn vencido(&self, e: &EnCurso, ahora: Instant) -> bool {
        !e.plazo.is_zero()
            && ahora.saturating_duration_since(e.inicio) > e.plazo + self.reglas.gracia_plazo
    }

    /// The attempts past their time limit and grace, in id order.
    fn vencidos(&self, ahora: Instant) -> Vec<EnCurso> {
        let mut vencidos: Vec<EnCurso> = self
            .en_curso
            .values()
            .filter(|e| self.vencido(e, ahora))
            .cloned()
            .collect();
        vencidos.sort_by_key(|e| e.trabajo.id);
        vencidos
    }

    /// Declares lost every esclavo silent for longer than `plazo`, and queues its jobs again.
    pub fn revisar_perdidos(
        &mut self,
        plazo: Duration,
        ahora: Instant,
        ahora_ms: u64,
    ) -> Vec<Cambio> {
        let perdidos: Vec<String> = self
            .esclavos
            .values()
            .filter(|e| e.vivo && ahora.duration_since(e.ultimo_latido) > plazo)
            .map(|e| e.registro.nombre.clone())
            .collect();
        let mut cambios = Vec::new();
        for nombre in perdidos {
            tracing::warn!(esclavo = %nombre, "esclavo lost: no heartbeat for {plazo:?}");
            let error = format!(
                "esclavo {nombre} lost: no heartbeat for {} s",
                plazo.as_secs_f32()
            );
            cambios.extend(self.perder(&nombre, &error, ahora, ahora_ms));
        }
        cambios
    }

    /// The esclavo could not be reached: it gets nothing until its next heartbeat, and what it
    /// was given is queued again at once (a failed attempt, but not the job's fault: no delay).
    pub fn perder(
        &mut self,
        nombre: &str,
        error: &str,
        ahora: Instant,
        ahora_ms: u64,
    ) -> Vec<Cambio> {
        if let Some(e) = self.esclavos.get_mut(nombre) {
            e.vivo = false;
            e.ajenos = 0;
        }
        self.cambiado();
        self.fallar_los_de(nombre, error, ahora, ahora_ms)
    }

    /// Fails every attempt running on an esclavo that was lost or restarted: each counts as a
    /// failed attempt of its job ([`Fallo::DelEsclavo`]), which is queued again at once.
    fn fallar_los_de(
        &mut self,
        nombre: &str,
        error: &str,
        ahora: Instant,
        ahora_ms: u64,
    ) -> Vec<Cambio> {
        let suyos: Vec<(TrabajoId, u32)> = self
            .en_curso
            .values()
            .filter(|e| e.esclavo == nombre)
            .map(|e| (e.trabajo.id, e.intento))
            .collect();
        let mut cambios = Vec::new();
        for (id, intento) in suyos {
            let error = error.to_string();
            cambios.extend(self.fallar(id, intento, error, Fallo::DelEsclavo, ahora, ahora_ms));
        }
        cambios
    }

    /// Where a job is in memory: pending, running, or neither (finished or unknown).
    pub fn donde(&self, id: TrabajoId) -> Option<EstadoTrabajo> {
        if self.cola.buscar(id).is_some() || self.reintentos.contiene(id) {
            Some(EstadoTrabajo::Pendiente)
        } else if self.en_curso.get(&id).is_some_and(|e| !e.cancelado) {
            Some(EstadoTrabajo::Asignado)
        } else {
            None
        }
    }

    /// Why a pending job is not running yet.
    pub fn explicar(&self, id: TrabajoId) -> Option<String> {
        let ahora = Instant::now();
        if let Some((e, vence)) = self.reintentos.buscar(id) {
            return Some(reintentos::explicar(
                e,
                vence.saturating_duration_since(ahora),
            ));
        }
        let p = self.cola.buscar(id)?;
        let huecos = self.huecos(ahora);
        Some(planificador::explicar(p, self.cola.delante_de(p), &huecos))
    }

    /// The planner's view of every esclavo, in name order.
    fn huecos(&self, ahora: Instant) -> Vec<Hueco> {
        self.esclavos
            .values()
            .map(|e| e.hueco(self.salud(&e.registro.nodo, ahora)))
            .collect()
    }

    /// What the fresh alerts of a node say; a node without a fresh report is healthy.
    pub fn salud(&self, nodo: &str, ahora: Instant) -> Salud {
        let Some(n) = self.memoria.get(nodo) else {
            return Salud::default();
        };
        if ahora.duration_since(n.recibido) > self.reglas.plazo_memoria {
            return Salud::default();
        }
        let alertas = &n.reporte.alertas;
        Salud {
            critico: alertas.iter().any(|a| a.nivel == Nivel::Critico),
            avisos: alertas.iter().filter(|a| a.nivel == Nivel::Aviso).count() as u32,
        }
    }

    /// Keeps a memoria node's latest report; true if what it says about the node changed.
    pub fn reportar_memoria(&mut self, reporte: ReporteMemoria, ahora: Instant) -> bool {
        let nodo = reporte.nodo.clone();
        let antes = self.salud(&nodo, ahora);
        let era_caducado = self.memoria.get(&nodo).is_some_and(|n| n.caducado);
        if era_caducado {
            tracing::info!(nodo = %nodo, "memoria node reports again");
        }
        self.memoria.insert(
            nodo.clone(),
            NodoMemoria {
                reporte,
                recibido: ahora,
                caducado: false,
            },
        );
        era_caducado || self.salud(&nodo, ahora) != antes
    }

    /// Marks reports that went stale since the last call; true if any did (its alerts no longer
    /// steer, so the dispatcher should look again).
    pub fn caducar_memoria(&mut self, ahora: Instant) -> bool {
        let plazo = self.reglas.plazo_memoria;
        let mut alguno = false;
        for (nodo, n) in &mut self.memoria {
            if !n.caducado && ahora.duration_since(n.recibido) > plazo {
                n.caducado = true;
                alguno = true;
                tracing::warn!(nodo = %nodo, "memoria node silent for {plazo:?}: its alerts are stale and steer nothing");
            }
        }
        alguno
    }

    pub fn esclavos_info(&self, ahora: Instant) -> Vec<EsclavoInfo> {
        self.esclavos
            .values()
            .map(|e| EsclavoInfo {
                nombre: e.registro.nombre.clone(),
                url: e.registro.url.clone(),
                nodo: e.registro.nodo.clone(),
                capacidad: e.registro.capacidad,
                ejecutando: e.propios + e.ajenos,
                vivo: e.vivo,
                ultimo_latido_hace_ms: ahora.duration_since(e.ultimo_latido).as_millis() as u64,
                carga: e.carga,
                capacidades: e.registro.capacidades.clone(),
                completados: e.completados,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use comun::nodo::Capacidades;
    use comun::trabajo::ParamsEspera;
    use comun::{Algoritmo, Parametros};

    fn estado() -> Estado {
        let recuperado = Recuperado {
            siguiente_id: 1,
            ..Recuperado::default()
        };
        Estado::new(
            recuperado,
            Reglas {
                reintento_base: Duration::ZERO,
                ..Reglas::new(2, Duration::from_secs(5))
            },
        )
    }

    fn registro(nombre: &str, instancia: u64, capacidad: u32) -> Registro {
        Registro {
            nombre: nombre.into(),
            instancia,
            url: format!("http://{nombre}"),
            nodo: "n".into(),
            capacidad,
            capacidades: Capacidades::default(),
        }
    }

    fn nuevo(prioridad: Prioridad) -> (NuevoTrabajo, Origen, Option<LineaCargada>) {
        let t = NuevoTrabajo {
            parametros: Parametros::Espera(ParamsEspera { ms: 1 }),
            algoritmo: Algoritmo::Secuencial,
            prioridad,
            plazo_s: None,
        };
        (t, Origen::Api, None)
    }

    fn con_trabajos(e: &mut Estado, n: usize) -> Vec<TrabajoId> {
        let (filas, cambios) = e.admitir((0..n).map(|_| nuevo(Prioridad::MEDIA)).collect(), 0);
        assert_eq!(cambios.len(), n);
        e.encolar(&filas);
        filas.iter().map(|f| f.id).collect()
    }

    fn completado() -> Final {
        Final::Completado {
            resultado: "{}".into(),
            png: None,
        }
    }

    #[test]
    fn a_result_is_recorded_once_whatever_arrives_later() {
        let mut e = estado();
        e.registrar(registro("a", 1, 1), Instant::now(), 0);
        let ids = con_trabajos(&mut e, 1);
        let (envios, cambios) = e.planificar(Instant::now(), 0);
        assert_eq!((envios.len(), cambios.len()), (1, 1));
        let (r, c) = e.terminar(ids[0], 1, "a", completado(), Instant::now(), 5);
        assert_eq!((r, c.len()), (Registrado::Si, 1));
        for _ in 0..3 {
            let (r, c) = e.terminar(ids[0], 1, "a", completado(), Instant::now(), 6);
            assert_eq!((r, c.len()), (Registrado::Ignorado, 0));
        }
        let s = e.resumen();
        assert_eq!((s.completados, s.asignados, s.pendientes), (1, 0, 0));
        assert_eq!(e.esclavos["a"].propios, 0);
    }

    #[test]
    fn a_lost_esclavo_s_jobs_run_again_and_its_late_result_still_counts_once() {
        let mut e = estado();
        let t0 = Instant::now();
        e.registrar(registro("a", 1, 1), t0, 0);
        let ids = con_trabajos(&mut e, 1);
        e.planificar(Instant::now(), 0);
        let cambios = e.revisar_perdidos(Duration::from_secs(1), t0 + Duration::from_secs(2), 0);
        assert!(matches!(
            cambios[..],
            [Cambio::Fallar {
                definitivo: false,
                ..
            }]
        ));
        assert_eq!(e.donde(ids[0]), Some(EstadoTrabajo::Pendiente));
        e.registrar(registro("b", 2, 1), t0, 0);
        let (envios, _) = e.planificar(Instant::now(), 0);
        assert_eq!(envios[0].esclavo, "b");
        assert_eq!(envios[0].trabajos[0].intento, 2);
        // The lost esclavo's answer for attempt 1 arrives first: it wins.
        assert_eq!(
            e.terminar(ids[0], 1, "a", completado(), Instant::now(), 1)
                .0,
            Registrado::Si
        );
        assert_eq!(
            e.terminar(ids[0], 2, "b", completado(), Instant::now(), 2)
                .0,
            Registrado::Ignorado
        );
        assert_eq!(e.resumen().completados, 1);
    }

    #[test]
    fn too_many_failures_fail_the_job_for_good() {
        let mut e = estado();
        e.registrar(registro("a", 1, 1), Instant::now(), 0);
        let ids = con_trabajos(&mut e, 1);
        e.planificar(Instant::now(), 0);
        e.terminar(
            ids[0],
            1,
            "a",
            Final::Fallido("boom".into()),
            Instant::now(),
            0,
        );
        assert_eq!(e.donde(ids[0]), Some(EstadoTrabajo::Pendiente));
        e.planificar(Instant::now(), 0);
        let (_, c) = e.terminar(
            ids[0],
            2,
            "a",
            Final::Fallido("boom".into()),
            Instant::now(),
            0,
        );
        assert!(matches!(
            c[..],
            [Cambio::Fallar {
                definitivo: true,
                fallos: 2,
                ..
            }]
        ));
        assert_eq!(e.donde(ids[0]), None);
        assert_eq!(e.resumen().fallidos, 1);
    }

    #[test]
    fn a_restarted_esclavo_s_jobs_run_again() {
        let mut e = estado();
        e.registrar(registro("a", 1, 2), Instant::now(), 0);
        con_trabajos(&mut e, 2);
        e.planificar(Instant::now(), 0);
        assert_eq!(e.resumen().asignados, 2);
        let cambios = e.registrar(registro("a", 2, 2), Instant::now(), 0);
        assert_eq!(cambios.len(), 2);
        assert_eq!(e.resumen().pendientes, 2);
        let (envios, _) = e.planificar(Instant::now(), 0);
        assert_eq!(
            envios[0].trabajos.len(),
            2,
            "the new instance has both slots free"
        );
    }

    #[test]
    fn refused_jobs_keep_their_place_and_the_esclavo_counts_as_full() {
        let mut e = estado();
        e.registrar(registro("a", 1, 2), Instant::now(), 0);
        let ids = con_trabajos(&mut e, 3);
        let (envios, _) = e.planificar(Instant::now(), 0);
        assert_eq!(envios[0].trabajos.len(), 2);
        e.devolver(ids[0], 1);
        assert_eq!(e.cola.primero(crate::cola::Clase::Cpu).unwrap().id, ids[0]);
        assert!(
            e.planificar(Instant::now(), 0).0.is_empty(),
            "full until its next heartbeat"
        );
        let latido = Latido {
            nombre: "a".into(),
            instancia: 1,
            carga: Carga::default(),
            ejecutando: vec![ids[1]],
        };
        assert_eq!(e.latido(&latido, Instant::now()), Some(vec![]));
        let (envios, _) = e.planificar(Instant::now(), 0);
        assert_eq!(envios[0].trabajos[0].id, ids[0]);
        assert_eq!(
            envios[0].trabajos[0].intento, 1,
            "a refusal is not an attempt"
        );
    }

    #[test]
    fn cancelling_a_running_job_ignores_its_result_and_frees_the_slot_when_it_ends() {
        let mut e = estado();
        e.registrar(registro("a", 1, 1), Instant::now(), 0);
        let ids = con_trabajos(&mut e, 2);
        e.planificar(Instant::now(), 0);
        assert!(e.cancelar(ids[0], 0).is_some());
        assert!(e.cancelar(ids[0], 0).is_none());
        assert!(
            e.planificar(Instant::now(), 0).0.is_empty(),
            "its slot is busy until it ends"
        );
        assert_eq!(
            e.terminar(ids[0], 1, "a", completado(), Instant::now(), 0)
                .0,
            Registrado::Ignorado
        );
        assert_eq!(e.planificar(Instant::now(), 0).0[0].trabajos[0].id, ids[1]);
        let s = e.resumen();
        assert_eq!((s.cancelados, s.completados, s.asignados), (1, 0, 1));
    }

    #[test]
    fn heartbeats_of_unknown_instances_ask_for_registration() {
        let mut e = estado();
        let l = Latido {
            nombre: "a".into(),
            instancia: 1,
            carga: Carga::default(),
            ejecutando: vec![],
        };
        assert!(e.latido(&l, Instant::now()).is_none());
        e.registrar(registro("a", 2, 1), Instant::now(), 0);
        assert!(e.latido(&l, Instant::now()).is_none());
        e.registrar(registro("a", 1, 1), Instant::now(), 0);
        assert!(e.latido(&l, Instant::now()).is_some());
    }

    fn con_reglas(reglas: Reglas) -> Estado {
        let recuperado = Recuperado {
            siguiente_id: 1,
            ..Recuperado::default()
        };
        Estado::new(recuperado, reglas)
    }

    fn latido(nombre: &str, instancia: u64, ejecutando: &[TrabajoId]) -> Latido {
        Latido {
            nombre: nombre.into(),
            instancia,
            carga: Carga::default(),
            ejecutando: ejecutando.to_vec(),
        }
    }

    fn fallido(error: &str) -> Final {
        Final::Fallido(error.into())
    }

    #[test]
    fn a_failed_attempt_waits_for_its_retry_and_the_delay_doubles() {
        let s = Duration::from_secs;
        let mut e = con_reglas(Reglas::new(10, s(5)));
        let t0 = Instant::now();
        e.registrar(registro("a", 1, 1), t0, 0);
        let id = con_trabajos(&mut e, 1)[0];
        assert_eq!(e.planificar(t0, 0).0.len(), 1);
        let (r, _) = e.terminar(id, 1, "a", fallido("boom"), t0, 0);
        assert_eq!(r, Registrado::Si);
        assert_eq!(e.donde(id), Some(EstadoTrabajo::Pendiente));
        assert_eq!((e.resumen().pendientes, e.resumen().asignados), (1, 0));
        assert_eq!(e.cola_por_prioridad()[1].pendientes, 1);
        let motivo = e.explicar(id).unwrap();
        assert!(
            motivo.starts_with("retry 1 after an error, in ") && motivo.contains("boom"),
            "{motivo}"
        );
        assert_eq!(e.proximo_reintento(), Some(t0 + s(1)));
        assert!(
            e.planificar(t0 + s(1) - Duration::from_millis(1), 0)
                .0
                .is_empty()
        );
        let (envios, _) = e.planificar(t0 + s(1), 0);
        assert_eq!(envios[0].trabajos[0].intento, 2);
        assert!(e.proximo_reintento().is_none());
        // The second failure waits twice as long.
        let t1 = t0 + s(5);
        e.terminar(id, 2, "a", fallido("boom"), t1, 0);
        assert_eq!(e.proximo_reintento(), Some(t1 + s(2)));
        assert!(
            e.planificar(t1 + s(2) - Duration::from_millis(1), 0)
                .0
                .is_empty()
        );
        assert_eq!(e.planificar(t1 + s(2), 0).0[0].trabajos[0].intento, 3);
    }

    #[test]
    fn a_lost_or_restarted_esclavo_s_jobs_go_back_at_once_but_count_as_failed() {
        let mut e = con_reglas(Reglas::new(10, Duration::from_secs(5)));
        let t0 = Instant::now();
        e.registrar(registro("a", 1, 1), t0, 0);
        e.registrar(registro("b", 1, 1), t0, 0);
        let ids = con_trabajos(&mut e, 2);
        e.planificar(t0, 0);
        let cambios = e.perder("a", "gone", t0, 0);
        assert!(matches!(cambios[..], [Cambio::Fallar { fallos: 1, .. }]));
        let cambios = e.registrar(registro("b", 2, 1), t0, 0);
        assert!(matches!(cambios[..], [Cambio::Fallar { fallos: 1, .. }]));
        assert!(
            e.reintentos.is_empty(),
            "no delay for the esclavo's failures"
        );
        let (envios, _) = e.planificar(t0, 0);
        let enviados: Vec<TrabajoId> = envios[0].trabajos.iter().map(|a| a.id).collect();
        assert_eq!((envios[0].esclavo.as_str(), enviados), ("b", vec![ids[0]]));
    }

    #[test]
    fn a_job_waiting_for_its_retry_can_be_cancelled_cleared_or_finished_by_a_late_result() {
        let mut e = con_reglas(Reglas::new(10, Duration::from_secs(5)));
        let t0 = Instant::now();
        e.registrar(registro("a", 1, 3), t0, 0);
        let ids = con_trabajos(&mut e, 3);
        e.planificar(t0, 0);
        for &id in &ids {
            e.terminar(id, 1, "a", fallido("boom"), t0, 0);
        }
        assert_eq!(e.reintentos.len(), 3);
        assert!(matches!(
            e.cancelar(ids[0], 0),
            Some(Cambio::Cancelar { .. })
        ));
        assert!(
            e.tomar_paradas().is_empty(),
            "nothing runs: nothing to stop"
        );
        assert_eq!(e.donde(ids[0]), None);
        // A result of the failed attempt (a time limit the esclavo overran) still counts.
        let (r, _) = e.terminar(ids[1], 1, "a", completado(), t0, 0);
        assert_eq!(r, Registrado::Si);
        assert_eq!(e.limpiar(0).len(), 1);
        assert!(e.reintentos.is_empty() && e.proximo_reintento().is_none());
        let s = e.resumen();
        assert_eq!((s.pendientes, s.cancelados, s.completados), (0, 2, 1));
    }

    #[test]
    fn attempts_carry_their_time_limit_and_the_watchdog_fails_them_past_the_grace() {
        let s = Duration::from_secs;
        let mut e = con_reglas(Reglas {
            plazo_trabajo: s(10),
            gracia_plazo: s(2),
            ..Reglas::new(3, s(5))
        });
        let t0 = Instant::now();
        e.registrar(registro("a", 1, 2), t0, 0);
        let (mut con_plazo, sin_plazo) = (nuevo(Prioridad::ALTA), nuevo(Prioridad::MEDIA));
        con_plazo.0.plazo_s = Some(1);
        let (filas, _) = e.admitir(vec![con_plazo, sin_plazo], 0);
        e.encolar(&filas);
        let (envios, _) = e.planificar(t0, 0);
        let plazos: Vec<u64> = envios[0].trabajos.iter().map(|a| a.plazo_ms).collect();
        assert_eq!(plazos, vec![1_000, 10_000]);
        let id = filas[0].id;
        assert!(!e.hay_plazos_vencidos(t0 + Duration::from_millis(2_900)));
        let tarde = t0 + Duration::from_millis(3_100);
        assert!(e.hay_plazos_vencidos(tarde));
        let cambios = e.vencer_plazos(tarde, 0);
        match &cambios[..] {
            [
                Cambio::Fallar {
                    id: i,
                    intento: 1,
                    error,
                    definitivo: false,
                    ..
                },
            ] => {
                assert_eq!(*i, id);
                assert_eq!(
                    error,
                    "time limit of 1 s exceeded (no answer from esclavo a)"
                );
            }
            otro => panic!("{otro:?}"),
        }
        let paradas = e.tomar_paradas();
        assert_eq!(paradas.len(), 1);
        assert_eq!((paradas[0].id, paradas[0].url.as_str()), (id, "http://a"));
        assert_eq!(paradas[0].motivo, "time limit of 1 s exceeded");
        assert!(e.reintentos.contiene(id), "retried after the backoff");
        assert!(!e.hay_plazos_vencidos(tarde), "the other job has 10 s");
        // The esclavo's own late report of the stopped attempt changes nothing; a late result
        // of it would still win.
        let (r, _) = e.terminar(id, 1, "a", fallido("time limit of 1 s exceeded"), tarde, 0);
        assert_eq!(r, Registrado::Ignorado);
        assert_eq!(
            e.terminar(id, 1, "a", completado(), tarde, 0).0,
            Registrado::Si
        );
    }

    #[test]
    fn without_a_default_limit_a_job_without_its_own_runs_unlimited() {
        let mut e = con_reglas(Reglas {
            plazo_trabajo: Duration::ZERO,
            ..Reglas::new(3, Duration::from_secs(5))
        });
        let t0 = Instant::now();
        e.registrar(registro("a", 1, 1), t0, 0);
        con_trabajos(&mut e, 1);
        let (envios, _) = e.planificar(t0, 0);
        assert_eq!(envios[0].trabajos[0].plazo_ms, 0);
        assert!(!e.hay_plazos_vencidos(t0 + Duration::from_secs(1_000_000)));
    }

    #[test]
    fn cancelling_a_running_job_tells_its_esclavo_and_its_heartbeat_answer() {
        let mut e = estado();
        let t0 = Instant::now();
        e.registrar(registro("a", 1, 3), t0, 0);
        let ids = con_trabajos(&mut e, 4);
        e.planificar(t0, 0);
        assert!(e.cancelar(ids[0], 0).is_some());
        let paradas = e.tomar_paradas();
        assert_eq!(
            paradas,
            vec![Parada {
                esclavo: "a".into(),
                url: "http://a".into(),
                id: ids[0],
                motivo: "cancelled by a user".into(),
            }]
        );
        e.terminar(ids[1], 1, "a", completado(), t0, 0);
        let desconocido = TrabajoId(999);
        // ids[3] waits in the queue (3 slots): still wanted, like the running ids[2].
        let l = latido("a", 1, &[ids[0], ids[1], ids[2], ids[3], desconocido]);
        assert_eq!(e.latido(&l, t0), Some(vec![ids[0], ids[1], desconocido]));
        // The cancelled attempt frees its slot once the esclavo reports it stopped.
        let (r, _) = e.terminar(ids[0], 1, "a", fallido("cancelled: by a user"), t0, 0);
        assert_eq!(r, Registrado::Ignorado);
        assert_eq!(e.esclavos["a"].propios, 1);
    }

    #[test]
    fn after_a_restart_jobs_an_esclavo_still_runs_are_wanted_while_pending() {
        let t0 = Instant::now();
        let p = Pendiente {
            id: TrabajoId(5),
            parametros: Parametros::Espera(ParamsEspera { ms: 1 }),
            algoritmo: Algoritmo::Secuencial,
            prioridad: Prioridad::MEDIA,
            intentos: 1,
            fallos: 0,
            plazo_s: None,
        };
        let recuperado = Recuperado {
            pendientes: vec![p],
            siguiente_id: 6,
            ..Recuperado::default()
        };
        let mut e = Estado::new(recuperado, Reglas::new(3, Duration::from_secs(5)));
        e.registrar(registro("a", 1, 1), t0, 0);
        e.registrar(registro("b", 1, 1), t0, 0);
        let id = TrabajoId(5);
        let l = latido("a", 1, &[id]);
        assert_eq!(
            e.latido(&l, t0),
            Some(vec![]),
            "pending: its result is wanted"
        );
        let (envios, _) = e.planificar(t0, 0);
        assert_eq!(envios[0].esclavo, "b", "a's slot holds the old attempt");
        assert_eq!(
            e.latido(&latido("b", 1, &[id]), t0),
            Some(vec![]),
            "b runs it now"
        );
        assert_eq!(
            e.latido(&l, t0),
            Some(vec![id]),
            "a's old attempt is superseded"
        );
        // Should a's old attempt still end first, it wins, and b is told to stop the other.
        let (r, _) = e.terminar(id, 1, "a", completado(), t0, 0);
        assert_eq!(r, Registrado::Si);
        let paradas = e.tomar_paradas();
        assert_eq!(paradas.len(), 1);
        assert_eq!((paradas[0].esclavo.as_str(), paradas[0].id), ("b", id));
        assert_eq!(paradas[0].motivo, "attempt 1 finished the job first");
        assert_eq!(e.latido(&latido("b", 1, &[id]), t0), Some(vec![id]));
    }
}

//! The jobs the maestro holds in memory: pending ones (in the queue, or waiting for a retry),
//! running ones (each with its esclavo, attempt and time limit), and the counts of every
//! state. The steps of a job's life that need nothing but the jobs live here; those that touch
//! an esclavo too are composed in `transiciones`.
//!
//! **Invariant: the maestro's memory is the authority for pending and running jobs**; the
//! store is the authority for everything else, and the two are reconciled only at start
//! ([`Trabajos::new`] takes what the store recovered).

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use comun::api::{ColaPrioridad, Origen, Resumen, Trabajo};
use comun::nodo::Asignacion;
use comun::{Estado as EstadoTrabajo, NuevoTrabajo, Prioridad, TrabajoId};

use super::Reglas;
use crate::almacen::{Cambio, FilaNueva, LineaCargada, Recuperado};
use crate::cola::{Cola, Pendiente};
use crate::ids::{EsclavoId, IntentoId};
use crate::planificador;
use crate::reintentos::{self, Reintentos};

/// A job sent to an esclavo.
#[derive(Debug, Clone)]
pub struct EnCurso {
    /// The job as it waited, with `intentos` counting this attempt.
    pub trabajo: Pendiente,
    /// The esclavo process it went to: a restart under the same name is a different one.
    pub esclavo: EsclavoId,
    pub intento: u32,
    /// Cancelled by a user while it ran: its result will be ignored, its slot is still busy.
    pub cancelado: bool,
    /// When it was sent: its time limit counts from here.
    pub inicio: Instant,
    /// Its time limit (the job's own or the maestro's default); zero: none.
    pub plazo: Duration,
    /// Whether it runs on its esclavo's GPU (a `Cuda` job, or an `Auto` one made `Cuda`),
    /// holding a GPU slot there.
    pub gpu: bool,
}

impl EnCurso {
    /// Which attempt this is.
    pub fn id(&self) -> IntentoId {
        IntentoId::new(self.trabajo.id, self.intento)
    }
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

/// Why a job cannot be retried now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rechazo {
    /// Only failed or cancelled jobs can be retried; it is in this state.
    Estado(EstadoTrabajo),
    /// Cancelled while it ran, and its esclavo has not stopped that attempt yet.
    Parando { esclavo: String, intento: u32 },
}

impl std::fmt::Display for Rechazo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rechazo::Estado(e) => {
                write!(f, "is {e}: only fallido or cancelado jobs can be retried")
            }
            Rechazo::Parando { esclavo, intento } => write!(
                f,
                "is cancelado, but esclavo {esclavo} has not stopped its attempt {intento} \
                 yet: retry it once it has"
            ),
        }
    }
}

/// How many jobs are in each state, and the version of the counts.
#[derive(Debug, Default)]
struct Contadores {
    /// Running (not cancelled) jobs per priority (index [`Prioridad::indice`]).
    asignados: [u64; 3],
    completados: u64,
    fallidos: u64,
    cancelados: u64,
    /// Bumped by every change the summary shows.
    version: u64,
}

/// The jobs in memory.
#[derive(Debug)]
pub struct Trabajos {
    pub cola: Cola,
    /// Pending jobs waiting out the delay before their retry.
    pub reintentos: Reintentos,
    pub en_curso: HashMap<TrabajoId, EnCurso>,
    siguiente_id: u64,
    /// Every job's `task_id`, with the job: each is unique in the cluster.
    task_ids: HashMap<String, TrabajoId>,
    contadores: Contadores,
    reglas: Reglas,
}

/// New jobs refused because their `task_id`s are taken: each with the job that has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskIdsRepetidos(pub Vec<(String, TrabajoId)>);

impl std::fmt::Display for TaskIdsRepetidos {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let lista: Vec<String> = self
            .0
            .iter()
            .map(|(t, id)| format!("'{t}' (job {id})"))
            .collect();
        write!(
            f,
            "task_id already taken, nothing queued: {}",
            lista.join(", ")
        )
    }
}

impl std::error::Error for TaskIdsRepetidos {}

impl Trabajos {
    /// The jobs the store recovered at start: its pending ones queued, its counts.
    pub fn new(recuperado: Recuperado, reglas: Reglas) -> Self {
        let mut cola = Cola::default();
        recuperado
            .pendientes
            .into_iter()
            .for_each(|p| cola.insertar(p));
        let contar = |e| recuperado.por_estado.get(&e).copied().unwrap_or(0);
        Trabajos {
            cola,
            reintentos: Reintentos::default(),
            en_curso: HashMap::new(),
            siguiente_id: recuperado.siguiente_id,
            task_ids: recuperado.task_ids,
            contadores: Contadores {
                completados: contar(EstadoTrabajo::Completado),
                fallidos: contar(EstadoTrabajo::Fallido),
                cancelados: contar(EstadoTrabajo::Cancelado),
                version: 1,
                ..Contadores::default()
            },
            reglas,
        }
    }

    /// A change the summary shows: its version moves on.
    pub fn cambiado(&mut self) {
        self.contadores.version += 1;
    }

    pub fn resumen(&self) -> Resumen {
        let c = &self.contadores;
        Resumen {
            version: c.version,
            pendientes: self.cola.len() + self.reintentos.len(),
            asignados: c.asignados.iter().sum(),
            completados: c.completados,
            fallidos: c.fallidos,
            cancelados: c.cancelados,
        }
    }

    pub fn cola_por_prioridad(&self) -> Vec<ColaPrioridad> {
        Prioridad::TODAS
            .into_iter()
            .map(|p| ColaPrioridad {
                prioridad: p,
                pendientes: self.cola.pendientes_de(p) + self.reintentos.pendientes_de(p),
                asignados: self.contadores.asignados[p.indice()],
            })
            .collect()
    }

    /// The job with this `task_id`.
    pub fn por_task_id(&self, task_id: &str) -> Option<TrabajoId> {
        self.task_ids.get(task_id).copied()
    }

    /// Forgets the `task_id`s of jobs whose rows were never committed.
    pub fn olvidar_task_ids(&mut self, filas: &[FilaNueva]) {
        for f in filas {
            if let Some(t) = &f.trabajo.etiquetas.task_id {
                self.task_ids.remove(t);
            }
        }
    }

    /// Gives new jobs their ids and rows; they join the queue with [`Trabajos::encolar`] once
    /// the rows are committed. All or none: none when a `task_id` among them is taken (the
    /// caller has already refused one given twice among them).
    pub fn admitir(
        &mut self,
        nuevos: Vec<(NuevoTrabajo, Origen, Option<LineaCargada>)>,
        ahora_ms: u64,
    ) -> (Result<Vec<FilaNueva>, TaskIdsRepetidos>, Vec<Cambio>) {
        let repetidos: Vec<(String, TrabajoId)> = nuevos
            .iter()
            .filter_map(|(t, _, _)| t.etiquetas.task_id.as_ref())
            .filter_map(|t| self.task_ids.get(t).map(|id| (t.clone(), *id)))
            .collect();
        if !repetidos.is_empty() {
            return (Err(TaskIdsRepetidos(repetidos)), Vec::new());
        }
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
            if let Some(t) = &fila.trabajo.etiquetas.task_id {
                self.task_ids.insert(t.clone(), id);
            }
            cambios.push(Cambio::Insertar(fila.clone()));
            if let Some(l) = linea {
                cambios.push(Cambio::MarcarLinea(l, id));
            }
            filas.push(fila);
        }
        (Ok(filas), cambios)
    }

    /// Queues jobs whose rows are committed.
    pub fn encolar(&mut self, filas: &[FilaNueva]) {
        for f in filas {
            self.cola.insertar(Pendiente {
                id: f.id,
                parametros: f.trabajo.parametros.clone(),
                algoritmo: f.trabajo.algoritmo,
                prioridad: f.trabajo.prioridad,
                intentos: 0,
                fallos: 0,
                plazo_s: f.trabajo.plazo_s.and_then(NonZeroU32::new),
            });
        }
        self.cambiado();
    }

    /// Retries due at `ahora` join the queue.
    pub fn reintentos_vencidos(&mut self, ahora: Instant) {
        for p in self.reintentos.vencidos(ahora) {
            self.cola.insertar(p);
        }
    }

    /// Marks a planned job running on `esclavo` (on its GPU or not) as its next attempt:
    /// what to send the esclavo, and the row to write ahead of sending it.
    pub fn lanzar(
        &mut self,
        mut trabajo: Pendiente,
        esclavo: &EsclavoId,
        gpu: bool,
        ahora: Instant,
        ahora_ms: u64,
    ) -> (Asignacion, Cambio) {
        trabajo.intentos += 1;
        let intento = trabajo.intentos;
        self.contadores.asignados[trabajo.prioridad.indice()] += 1;
        let plazo = trabajo.plazo_s.map_or(self.reglas.plazo_trabajo, |s| {
            Duration::from_secs(s.get().into())
        });
        self.en_curso.insert(
            trabajo.id,
            EnCurso {
                trabajo: trabajo.clone(),
                esclavo: esclavo.clone(),
                intento,
                cancelado: false,
                inicio: ahora,
                plazo,
                gpu,
            },
        );
        let cambio = Cambio::Asignar {
            intento: IntentoId::new(trabajo.id, intento),
            esclavo: esclavo.clone(),
            inicio_ms: ahora_ms,
        };
        let asignacion = Asignacion {
            id: trabajo.id,
            intento,
            parametros: trabajo.parametros,
            algoritmo: planificador::resolver(trabajo.algoritmo, gpu),
            plazo_ms: u64::try_from(plazo.as_millis()).unwrap_or(u64::MAX),
        };
        (asignacion, cambio)
    }

    /// Takes a job off the running set if it runs as attempt `intento` (any attempt if
    /// `None`). Its esclavo's slot is the caller's to free.
    pub fn sacar_en_curso(&mut self, id: TrabajoId, intento: Option<u32>) -> Option<EnCurso> {
        let actual = self.en_curso.get(&id)?;
        if intento.is_some_and(|i| i != actual.intento) {
            return None;
        }
        let e = self.en_curso.remove(&id)?;
        if !e.cancelado {
            self.contadores.asignados[e.trabajo.prioridad.indice()] -= 1;
        }
        self.cambiado();
        Some(e)
    }

    /// A refused attempt (its esclavo was busy): the job waits again in its place, as if never
    /// sent. Nothing for a cancelled one.
    pub fn devolver(&mut self, e: EnCurso) -> Option<Cambio> {
        if e.cancelado {
            return None;
        }
        let intento = e.id();
        let mut trabajo = e.trabajo;
        trabajo.intentos -= 1;
        self.cola.insertar(trabajo);
        Some(Cambio::Devolver { intento })
    }

    /// An attempt its esclavo handed back as it left the cluster (drained, past its grace
    /// period): the attempt ends with `motivo` and the job is queued again at once, in its
    /// place. It does **not** count as a failure: scaling down burns no attempt. Nothing for a
    /// cancelled one.
    pub fn ceder(&mut self, e: EnCurso, motivo: String, ahora_ms: u64) -> Option<Cambio> {
        if e.cancelado {
            return None;
        }
        let intento = e.id();
        tracing::info!(id = %intento.trabajo, intento = intento.numero, "attempt handed back, job queued again: {motivo}");
        self.cola.insertar(e.trabajo);
        Some(Cambio::Ceder {
            intento,
            fin_ms: ahora_ms,
            motivo,
        })
    }

    /// A failed attempt: the job is pending again, or fails for good after too many failures.
    /// After a failure of the job's own ([`Fallo::DelTrabajo`]) it waits for its retry until
    /// `ahora` plus [`reintentos::demora`]; after one of the esclavo's it is queued at once.
    /// Nothing for a cancelled one.
    pub fn fallar(
        &mut self,
        e: EnCurso,
        error: String,
        fallo: Fallo,
        ahora: Instant,
        ahora_ms: u64,
    ) -> Option<Cambio> {
        if e.cancelado {
            return None;
        }
        let intento = e.id();
        let mut trabajo = e.trabajo;
        trabajo.fallos += 1;
        let fallos = trabajo.fallos;
        let definitivo = fallos >= self.reglas.max_fallos;
        let demora = match fallo {
            Fallo::DelTrabajo => reintentos::demora(
                self.reglas.reintento_base,
                self.reglas.reintento_max,
                trabajo.fallos,
            ),
            Fallo::DelEsclavo => Duration::ZERO,
        };
        let (id, numero) = (intento.trabajo, intento.numero);
        if definitivo {
            self.contadores.fallidos += 1;
            tracing::warn!(%id, fallos = trabajo.fallos, "job failed for good: {error}");
        } else if demora.is_zero() {
            tracing::info!(%id, intento = numero, "attempt failed, job queued again: {error}");
            self.cola.insertar(trabajo);
        } else {
            tracing::info!(%id, intento = numero, "attempt failed, retry in {demora:?}: {error}");
            self.reintentos
                .insertar(trabajo, error.clone(), ahora + demora);
        }
        Some(Cambio::Fallar {
            intento,
            fin_ms: ahora_ms,
            error,
            fallos,
            definitivo,
        })
    }

    /// Takes a pending job (queued or waiting for a retry) out of memory; false if it is not
    /// pending.
    pub fn quitar_pendiente(&mut self, id: TrabajoId) -> bool {
        self.cola.quitar(id).is_some() || self.reintentos.quitar(id).is_some()
    }

    /// Records a result of attempt `intento`, reported by `esclavo`, of a job already taken
    /// out of memory: **a result is recorded exactly once**, because only the caller that took
    /// the job out of the pending or running set gets here.
    pub fn completar(
        &mut self,
        intento: IntentoId,
        esclavo: EsclavoId,
        resultado: String,
        png: Option<Vec<u8>>,
        ahora_ms: u64,
    ) -> Cambio {
        self.contadores.completados += 1;
        self.cambiado();
        Cambio::Completar {
            intento,
            esclavo,
            fin_ms: ahora_ms,
            resultado,
            png,
        }
    }

    /// Cancels a pending job, or marks a running one cancelled (returned, for its esclavo to
    /// be told). `None` if the job is neither (finished, or unknown).
    pub fn cancelar(
        &mut self,
        id: TrabajoId,
        motivo: &str,
        ahora_ms: u64,
    ) -> Option<(Cambio, Option<EnCurso>)> {
        let mut corriendo = None;
        if !self.quitar_pendiente(id) {
            let e = self.en_curso.get_mut(&id).filter(|e| !e.cancelado)?;
            e.cancelado = true;
            self.contadores.asignados[e.trabajo.prioridad.indice()] -= 1;
            corriendo = Some(e.clone());
        }
        self.contadores.cancelados += 1;
        self.cambiado();
        let cambio = Cambio::Cancelar {
            id,
            fin_ms: ahora_ms,
            motivo: motivo.into(),
        };
        Some((cambio, corriendo))
    }

    /// Cancels every pending job (waiting for a retry or not); running ones keep running.
    pub fn limpiar(&mut self, ahora_ms: u64) -> Vec<Cambio> {
        let mut todos = self.cola.vaciar();
        todos.extend(self.reintentos.vaciar());
        self.contadores.cancelados += todos.len() as u64;
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

    /// Queues again a job the store holds as `t`, failed or cancelled: a new attempt of the
    /// same job (numbered after its earlier ones, which are kept), its failures forgotten.
    /// Refused, saying why, for a job in any other state, and for a cancelled one whose
    /// esclavo has not stopped its attempt yet (it still holds the slot and the job's entry).
    pub fn reintentar(&mut self, t: &Trabajo) -> Result<Cambio, Rechazo> {
        if let Some(e) = self.en_memoria(t.id) {
            return Err(Rechazo::Estado(e));
        }
        if let Some(e) = self.en_curso.get(&t.id) {
            return Err(Rechazo::Parando {
                esclavo: e.esclavo.nombre.clone(),
                intento: e.intento,
            });
        }
        let contador = match t.estado {
            EstadoTrabajo::Fallido => &mut self.contadores.fallidos,
            EstadoTrabajo::Cancelado => &mut self.contadores.cancelados,
            e => return Err(Rechazo::Estado(e)),
        };
        *contador = contador.saturating_sub(1);
        self.cola.insertar(Pendiente {
            id: t.id,
            parametros: t.parametros.clone(),
            algoritmo: t.algoritmo,
            prioridad: t.prioridad,
            intentos: t.intentos.iter().map(|i| i.numero).max().unwrap_or(0),
            fallos: 0,
            plazo_s: t.plazo_s.and_then(NonZeroU32::new),
        });
        self.cambiado();
        Ok(Cambio::Reintentar { id: t.id })
    }

    /// Gives a pending job (queued or waiting for a retry) a new priority: it takes its place
    /// among the jobs of that priority, by id, as if it had been queued with it. `None` if
    /// the job is not pending.
    pub fn priorizar(&mut self, id: TrabajoId, prioridad: Prioridad) -> Option<Cambio> {
        if let Some(mut p) = self.cola.quitar(id) {
            p.prioridad = prioridad;
            self.cola.insertar(p);
        } else if !self.reintentos.priorizar(id, prioridad) {
            return None;
        }
        self.cambiado();
        Some(Cambio::Priorizar { id, prioridad })
    }

    /// Whether attempt `e` ran longer than its time limit plus the grace at `ahora`.
    fn vencido(&self, e: &EnCurso, ahora: Instant) -> bool {
        !e.plazo.is_zero()
            && ahora.saturating_duration_since(e.inicio) > e.plazo + self.reglas.gracia_plazo
    }

    /// Whether some attempt ran longer than its time limit plus the grace.
    pub fn hay_plazos_vencidos(&self, ahora: Instant) -> bool {
        self.en_curso.values().any(|e| self.vencido(e, ahora))
    }

    /// The attempts past their time limit and grace, in id order.
    pub fn vencidos(&self, ahora: Instant) -> Vec<EnCurso> {
        let mut vencidos: Vec<EnCurso> = self
            .en_curso
            .values()
            .filter(|e| self.vencido(e, ahora))
            .cloned()
            .collect();
        vencidos.sort_by_key(|e| e.trabajo.id);
        vencidos
    }

    /// The attempts running on the esclavo `nombre`.
    /// The attempts running on the esclavo process `esclavo` (not those of an earlier or
    /// later process under its name).
    pub fn intentos_de(&self, esclavo: &EsclavoId) -> Vec<IntentoId> {
        self.en_curso
            .values()
            .filter(|e| e.esclavo == *esclavo)
            .map(EnCurso::id)
            .collect()
    }

    pub fn intentos_en(&self, nombre: &str) -> Vec<IntentoId> {
        self.en_curso
            .values()
            .filter(|e| e.esclavo.nombre == nombre)
            .map(EnCurso::id)
            .collect()
    }

    /// Whether the job `id` runs on `esclavo` as the attempt we sent it.
    pub fn corre_en(&self, id: TrabajoId, esclavo: &EsclavoId) -> bool {
        self.en_curso
            .get(&id)
            .is_some_and(|e| e.esclavo == *esclavo)
    }

    /// The jobs among `ids`, which `esclavo` runs, that the maestro no longer wants from it:
    /// cancelled, finished, or running elsewhere as the current attempt. Wanted are the
    /// pending ones (in the queue or waiting for a retry: after a maestro restart, the jobs
    /// recovered as pending that an esclavo still runs, whose result still counts) and the
    /// live attempts it runs for the maestro.
    pub fn no_queridos(&self, esclavo: &EsclavoId, ids: &[TrabajoId]) -> Vec<TrabajoId> {
        ids.iter()
            .copied()
            .filter(|&id| {
                let pendiente = self.cola.buscar(id).is_some() || self.reintentos.contiene(id);
                let aqui = self
                    .en_curso
                    .get(&id)
                    .is_some_and(|e| !e.cancelado && e.esclavo == *esclavo);
                !pendiente && !aqui
            })
            .collect()
    }

    /// A job's state as memory holds it: pending, running, or neither (finished or unknown).
    pub fn en_memoria(&self, id: TrabajoId) -> Option<EstadoTrabajo> {
        if self.cola.buscar(id).is_some() || self.reintentos.contiene(id) {
            Some(EstadoTrabajo::Pendiente)
        } else if self.en_curso.get(&id).is_some_and(|e| !e.cancelado) {
            Some(EstadoTrabajo::Asignado)
        } else {
            None
        }
    }

    /// When the earliest retry is due: the dispatcher wakes then.
    pub fn proximo_reintento(&self) -> Option<Instant> {
        self.reintentos.proximo()
    }
}

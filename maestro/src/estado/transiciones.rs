//! Every step of a job's life that touches an esclavo too: dispatch, refusal, failure, result,
//! cancel, registration, heartbeat, a lost esclavo, a time limit past its grace; a user's
//! retry of a finished job and new priority of a pending one; and the memoria reports. Each
//! returns the store changes that make it durable.
//!
//! **Invariant: a result is recorded exactly once.** A result is taken only for a job that
//! memory holds as pending or running; taking it removes the job from both, so every later
//! report for it is ignored ([`Estado::terminar`]). The first result of any attempt wins:
//! kernels are deterministic.
//!
//! **Invariant:** an esclavo's refusal (busy) is not an attempt; a lost esclavo, an error
//! result, a time limit exceeded, or a restart of the esclavo under the same name (new
//! `instancia`) is a failed attempt, and `max_intentos` of them make the job `fallido`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use comun::api::{EsclavoInfo, Origen, Trabajo};
use comun::memoria::ReporteMemoria;
use comun::nodo::{Latido, Registro};
use comun::{NuevoTrabajo, Prioridad, TrabajoId};

use super::trabajos::{EnCurso, Fallo, Rechazo, TaskIdsRepetidos};
use super::{Envio, Estado};
use crate::almacen::{Cambio, FilaNueva, LineaCargada};
use crate::ids::{EsclavoId, IntentoId};
use crate::planificador;

#[cfg(test)]
mod tests;

/// Why a job cancelled through the API stopped.
const MOTIVO_CANCELADO: &str = "cancelled by a user";

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

/// A time limit in words: `30 s`, `0.5 s`.
fn texto_plazo(plazo: Duration) -> String {
    if plazo.subsec_millis() == 0 {
        format!("{} s", plazo.as_secs())
    } else {
        format!("{} s", plazo.as_secs_f64())
    }
}

impl Estado {
    /// Gives new jobs their ids and rows; they join the queue with [`Estado::encolar`] once
    /// the rows are committed.
    pub fn admitir(
        &mut self,
        nuevos: Vec<(NuevoTrabajo, Origen, Option<LineaCargada>)>,
        ahora_ms: u64,
    ) -> (Result<Vec<FilaNueva>, TaskIdsRepetidos>, Vec<Cambio>) {
        self.trabajos.admitir(nuevos, ahora_ms)
    }

    /// The job with this `task_id`.
    pub fn por_task_id(&self, task_id: &str) -> Option<TrabajoId> {
        self.trabajos.por_task_id(task_id)
    }

    /// Forgets the `task_id`s of jobs whose rows were never committed.
    pub fn olvidar_task_ids(&mut self, filas: &[FilaNueva]) {
        self.trabajos.olvidar_task_ids(filas);
    }

    /// Queues jobs whose rows are committed.
    pub fn encolar(&mut self, filas: &[FilaNueva]) {
        self.trabajos.encolar(filas);
        self.estadisticas.encolados(filas);
        self.despertar();
    }

    /// Decides which pending jobs go where now, and marks them running. Retries due at `ahora`
    /// join the queue first.
    pub fn planificar(&mut self, ahora: Instant, ahora_ms: u64) -> (Vec<Envio>, Vec<Cambio>) {
        self.trabajos.reintentos_vencidos(ahora);
        let mut candidatos = self.esclavos.candidatos(&self.nodos, ahora);
        let decisiones = planificador::planificar(&mut self.trabajos.cola, &mut candidatos);
        if decisiones.is_empty() {
            return (Vec::new(), Vec::new());
        }
        let ids = self.esclavos.ids();
        let mut envios: BTreeMap<usize, Envio> = BTreeMap::new();
        let mut cambios = Vec::with_capacity(decisiones.len());
        for d in decisiones {
            let id = &ids[d.esclavo];
            let esclavo = self.esclavos.ocupar(&id.nombre, d.gpu);
            let envio = envios.entry(d.esclavo).or_insert_with(|| Envio {
                esclavo: id.clone(),
                url: esclavo.url.clone(),
                trabajos: Vec::new(),
            });
            let (asignacion, cambio) = self.trabajos.lanzar(d.trabajo, id, d.gpu, ahora, ahora_ms);
            envio.trabajos.push(asignacion);
            cambios.push(cambio);
        }
        self.trabajos.cambiado();
        (envios.into_values().collect(), cambios)
    }

    /// Takes a job off the running set if it runs as attempt `intento` (any attempt if
    /// `None`), freeing its esclavo's slot.
    fn sacar_en_curso(&mut self, id: TrabajoId, intento: Option<u32>) -> Option<EnCurso> {
        let e = self.trabajos.sacar_en_curso(id, intento)?;
        self.esclavos.liberar(&e.esclavo, e.gpu);
        self.estadisticas
            .ocupacion(&e.esclavo.nombre, e.inicio, Instant::now());
        self.despertar();
        Some(e)
    }

    /// The esclavo refused the attempt (no free slot): the job waits again in its place, and
    /// the esclavo counts as full until its next heartbeat.
    pub fn devolver(&mut self, intento: IntentoId) -> Vec<Cambio> {
        let Some(e) = self.sacar_en_curso(intento.trabajo, Some(intento.numero)) else {
            return Vec::new();
        };
        self.esclavos.llenar(&e.esclavo.nombre);
        self.trabajos.devolver(e).into_iter().collect()
    }

    /// An attempt failed: the job is pending again (at once, or after its retry's delay), or
    /// fails for good after too many failures.
    pub fn fallar(
        &mut self,
        intento: IntentoId,
        error: String,
        fallo: Fallo,
        ahora: Instant,
        ahora_ms: u64,
    ) -> Vec<Cambio> {
        let Some(e) = self.sacar_en_curso(intento.trabajo, Some(intento.numero)) else {
            return Vec::new();
        };
        let copia = e.clone();
        let cambio = self
            .trabajos
            .fallar(e, error.clone(), fallo, ahora, ahora_ms);
        if let Some(Cambio::Fallar { definitivo, .. }) = cambio {
            let fin = self.fin_intento(&copia, None, Some(error));
            self.estadisticas.fallado(fin, definitivo, ahora, ahora_ms);
        }
        cambio.into_iter().collect()
    }

    /// A finished attempt's report, from `esclavo`. Records a result only if the job is
    /// still pending or running: the first result wins, from whichever attempt; the esclavo
    /// running another attempt of it is told to stop.
    pub fn terminar(
        &mut self,
        intento: IntentoId,
        esclavo: EsclavoId,
        final_: Final,
        ahora: Instant,
        ahora_ms: u64,
    ) -> (Registrado, Vec<Cambio>) {
        let (resultado, png) = match final_ {
            Final::Fallido(error) => {
                let cambios = self.fallar(intento, error, Fallo::DelTrabajo, ahora, ahora_ms);
                let r = if cambios.is_empty() {
                    Registrado::Ignorado
                } else {
                    Registrado::Si
                };
                return (r, cambios);
            }
            Final::Completado { resultado, png } => (resultado, png),
        };
        let mut propio = None;
        let vigente = match self.sacar_en_curso(intento.trabajo, None) {
            Some(e) => {
                let otro = e.intento != intento.numero || e.esclavo != esclavo;
                if otro && !e.cancelado {
                    let motivo = format!("attempt {} finished the job first", intento.numero);
                    self.parar(&e, motivo);
                }
                let cancelado = e.cancelado;
                propio = (!otro).then_some(e);
                !cancelado
            }
            None => self.trabajos.quitar_pendiente(intento.trabajo),
        };
        if !vigente {
            return (Registrado::Ignorado, Vec::new());
        }
        self.despertar();
        self.esclavos.contar_completado(&esclavo.nombre);
        let kernel = crate::estadisticas::kernel_s(&resultado);
        let fin = propio.as_ref().map(|e| self.fin_intento(e, kernel, None));
        self.estadisticas.completado(fin, ahora, ahora_ms);
        let cambio = self
            .trabajos
            .completar(intento, esclavo, resultado, png, ahora_ms);
        (Registrado::Si, vec![cambio])
    }

    /// Cancels a pending or running job; `None` if it is neither (finished, or unknown). A
    /// running one keeps its slot until its esclavo, told to stop it, reports it.
    pub fn cancelar(&mut self, id: TrabajoId, ahora_ms: u64) -> Option<Cambio> {
        let (cambio, corriendo) = self.trabajos.cancelar(id, MOTIVO_CANCELADO, ahora_ms)?;
        if let Some(e) = corriendo {
            self.parar(&e, MOTIVO_CANCELADO.into());
        }
        self.despertar();
        Some(cambio)
    }

    /// Queues again a failed or cancelled job, as the store holds it (`t`): a new attempt of
    /// the same job, its earlier attempts kept
    /// ([`Trabajos::reintentar`](super::trabajos::Trabajos::reintentar)).
    pub fn reintentar(&mut self, t: &Trabajo) -> Result<Cambio, Rechazo> {
        let cambio = self.trabajos.reintentar(t)?;
        self.despertar();
        Ok(cambio)
    }

    /// Gives a pending job a new priority, and so its new place in the queue; `None` if it is
    /// not pending.
    pub fn priorizar(&mut self, id: TrabajoId, prioridad: Prioridad) -> Option<Cambio> {
        let cambio = self.trabajos.priorizar(id, prioridad)?;
        self.despertar();
        Some(cambio)
    }

    /// Cancels every pending job (waiting for a retry or not); running ones keep running.
    pub fn limpiar(&mut self, ahora_ms: u64) -> Vec<Cambio> {
        self.despertar();
        self.trabajos.limpiar(ahora_ms)
    }

    /// Registers an esclavo. A new instance under a known name means the old process died: what
    /// it was running is queued again.
    pub fn registrar(&mut self, registro: Registro, ahora: Instant, ahora_ms: u64) -> Vec<Cambio> {
        let mut cambios = Vec::new();
        if self.esclavos.es_reinicio(&registro) {
            let error = format!("esclavo {} restarted while it ran", registro.nombre);
            cambios = self.fallar_los_de(&registro.nombre, &error, ahora, ahora_ms);
        }
        self.estadisticas.registrado(&registro.nombre, ahora);
        self.esclavos.registrar(registro, ahora);
        self.trabajos.cambiado();
        self.despertar();
        cambios
    }

    /// A heartbeat. Returns the jobs it says it runs that it should stop (see
    /// [`super::trabajos::Trabajos::no_queridos`]), or `None` if the esclavo (this instance of
    /// it) is unknown and must register.
    pub fn latido(&mut self, l: &Latido, ahora: Instant) -> Option<Vec<TrabajoId>> {
        let id = EsclavoId::de_latido(l);
        let huerfanos = l
            .ejecutando
            .iter()
            .filter(|&&t| !self.trabajos.corre_en(t, &id))
            .count() as u32;
        if !self
            .esclavos
            .latido(&id, l.carga, huerfanos, l.drenando, ahora)
        {
            return None;
        }
        self.despertar();
        Some(self.trabajos.no_queridos(&id, &l.ejecutando))
    }

    /// Drains the esclavo `nombre` (an operator's `POST /esclavos/{nombre}/drenar`): no new
    /// job goes to it; what it runs finishes there. Its description, or `None` if unknown.
    pub fn drenar(&mut self, nombre: &str, ahora: Instant) -> Option<EsclavoInfo> {
        let info = self.esclavos.drenar(nombre)?.info(ahora);
        self.trabajos.cambiado();
        Some(info)
    }

    /// The esclavo process `id` leaves the cluster (drained, `POST /esclavos/{nombre}/baja`):
    /// every attempt still running there is handed back ([`Trabajos::ceder`]: queued again at
    /// once, not a failure) and the esclavo is forgotten. The jobs handed back, or `None` if
    /// that process is not the one registered under its name.
    ///
    /// [`Trabajos::ceder`]: super::trabajos::Trabajos::ceder
    pub fn baja(
        &mut self,
        id: &EsclavoId,
        motivo: &str,
        ahora_ms: u64,
    ) -> Option<(Vec<TrabajoId>, Vec<Cambio>)> {
        self.esclavos.vigente(id)?;
        let mut devueltos = Vec::new();
        let mut cambios = Vec::new();
        for intento in self.trabajos.intentos_de(id) {
            let Some(e) = self.sacar_en_curso(intento.trabajo, Some(intento.numero)) else {
                continue;
            };
            let motivo = format!("handed back by esclavo {}: {motivo}", id.nombre);
            if let Some(c) = self.trabajos.ceder(e, motivo, ahora_ms) {
                devueltos.push(intento.trabajo);
                cambios.push(c);
            }
        }
        self.esclavos.dar_de_baja(id);
        self.trabajos.cambiado();
        self.despertar();
        Some((devueltos, cambios))
    }

    /// The watchdog's tick: stale memoria reports, lost esclavos, attempts past their time
    /// limit and its grace.
    pub fn vigilar(&mut self, ahora: Instant, ahora_ms: u64) -> Vec<Cambio> {
        self.caducar_memoria(ahora);
        let mut cambios = self.revisar_perdidos(ahora, ahora_ms);
        cambios.extend(self.vencer_plazos(ahora, ahora_ms));
        cambios
    }

    /// Fails every attempt that ran longer than its time limit plus the grace, as its esclavo
    /// did not report it (counted like any failed attempt, and the retry waits), and asks that
    /// esclavo to stop it. A cancelled attempt that overstays only gives its slot back.
    pub fn vencer_plazos(&mut self, ahora: Instant, ahora_ms: u64) -> Vec<Cambio> {
        let mut cambios = Vec::new();
        for e in self.trabajos.vencidos(ahora) {
            let plazo = texto_plazo(e.plazo);
            if e.cancelado {
                self.sacar_en_curso(e.trabajo.id, Some(e.intento));
                self.parar(&e, MOTIVO_CANCELADO.into());
                continue;
            }
            let error = format!(
                "time limit of {plazo} exceeded (no answer from esclavo {})",
                e.esclavo.nombre
            );
            tracing::warn!(id = %e.trabajo.id, intento = e.intento, "{error}");
            cambios.extend(self.fallar(e.id(), error, Fallo::DelTrabajo, ahora, ahora_ms));
            self.parar(&e, format!("time limit of {plazo} exceeded"));
        }
        cambios
    }

    /// Declares lost every esclavo silent for longer than the limit, and queues its jobs again.
    pub fn revisar_perdidos(&mut self, ahora: Instant, ahora_ms: u64) -> Vec<Cambio> {
        let plazo = self.esclavos.plazo();
        let mut cambios = Vec::new();
        for nombre in self.esclavos.perdidos(ahora) {
            tracing::warn!(esclavo = %nombre, "esclavo lost: no heartbeat for {plazo:?}");
            let error = format!(
                "esclavo {nombre} lost: no heartbeat for {} s",
                plazo.as_secs_f32()
            );
            cambios.extend(self.perder(&nombre, &error, ahora, ahora_ms));
        }
        cambios
    }

    /// The esclavo registered as `nombre` could not be reached: it gets nothing until its next
    /// heartbeat, and what it was given is queued again at once (a failed attempt, but not the
    /// job's fault: no delay).
    pub fn perder(
        &mut self,
        nombre: &str,
        error: &str,
        ahora: Instant,
        ahora_ms: u64,
    ) -> Vec<Cambio> {
        self.esclavos.perder(nombre);
        self.estadisticas.perdido(nombre, ahora);
        self.trabajos.cambiado();
        self.despertar();
        self.fallar_los_de(nombre, error, ahora, ahora_ms)
    }

    /// Fails every attempt running on the esclavo `nombre`, lost or restarted: each counts as
    /// a failed attempt of its job ([`Fallo::DelEsclavo`]), which is queued again at once.
    fn fallar_los_de(
        &mut self,
        nombre: &str,
        error: &str,
        ahora: Instant,
        ahora_ms: u64,
    ) -> Vec<Cambio> {
        let mut cambios = Vec::new();
        for intento in self.trabajos.intentos_en(nombre) {
            let error = error.to_string();
            cambios.extend(self.fallar(intento, error, Fallo::DelEsclavo, ahora, ahora_ms));
        }
        cambios
    }

    /// Keeps a memoria node's latest report; if what it says about the node changed, the
    /// dispatcher looks again.
    pub fn reportar_memoria(&mut self, reporte: ReporteMemoria, ahora: Instant) {
        if self.nodos.reportar(reporte, ahora) {
            self.despertar();
        }
    }

    /// Marks memoria reports that went stale; if any did, the dispatcher looks again (their
    /// alerts no longer steer).
    pub fn caducar_memoria(&mut self, ahora: Instant) {
        if self.nodos.caducar(ahora) {
            self.despertar();
        }
    }
}

//! The maestro's statistics since it started, in memory and bounded whatever runs: wait, run
//! and kernel time per (tipo, backend) as fixed histograms ([`histograma`]), jobs finished per
//! second over the last minute ([`ventana`]), GPU-versus-CPU kernel times per size
//! ([`aceleracion`]), and each esclavo's history ([`esclavo`]). [`informe`] turns them, with
//! the live state, into the bodies of `GET /estadisticas` and `GET /esclavos/{nombre}`.
//!
//! [`Estadisticas`] lives in the state ([`crate::estado::Estado`]) and is fed by its
//! transitions, under the same lock: a job queued, an attempt's slot freed, a job completed, an
//! attempt failed, an esclavo registered or lost. What grows with the jobs is only the
//! acceptance time of each pending job (forgotten when it ends, is cancelled, or is found no
//! longer pending by [`Estadisticas::podar`]); everything else has a fixed size per (tipo,
//! backend), per size (at most [`aceleracion::MAX_TAMANOS`]) or per esclavo (at most
//! [`MAX_ESCLAVOS`]).

pub mod aceleracion;
pub mod esclavo;
pub mod histograma;
pub mod informe;
pub mod ventana;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use comun::estadisticas::IntentoReciente;
use comun::{Algoritmo, Estado as EstadoTrabajo, Tipo, TrabajoId};

use crate::almacen::FilaNueva;
use crate::estado::EnCurso;
use aceleracion::Aceleraciones;
use esclavo::HistoriaEsclavo;
use histograma::Histograma;
use ventana::Ventana;

/// Most esclavos remembered; past it, the one idle the longest is forgotten.
pub const MAX_ESCLAVOS: usize = 1024;

/// The place of a tipo in listings.
pub fn orden_tipo(t: Tipo) -> usize {
    Tipo::TODOS
        .iter()
        .position(|&x| x == t)
        .unwrap_or(usize::MAX)
}

/// The place of a backend in listings.
pub fn orden_algoritmo(a: Algoritmo) -> usize {
    match a {
        Algoritmo::Secuencial => 0,
        Algoritmo::Paralelo => 1,
        Algoritmo::Cuda => 2,
        Algoritmo::Auto => 3,
    }
}

/// Times of the completed jobs of one (tipo, backend).
#[derive(Debug, Default)]
struct Grupo {
    espera: Histograma,
    ejecucion: Histograma,
    kernel: Histograma,
}

/// An attempt that ended, as the statistics take it.
pub struct FinIntento<'a> {
    pub en_curso: &'a EnCurso,
    /// The backend it ran on (`Auto` resolved by the esclavo's GPU).
    pub algoritmo: Algoritmo,
    /// Kernel time, as its esclavo measured it (a completed attempt).
    pub kernel_s: Option<f64>,
    /// Why it failed (a failed attempt).
    pub error: Option<String>,
}

/// The statistics.
#[derive(Debug)]
pub struct Estadisticas {
    /// The maestro's start: every instant inside is counted in ms from here.
    origen: Instant,
    inicio_ms: u64,
    /// Acceptance time (Unix ms) of each job accepted since start and not finished.
    encolados: HashMap<TrabajoId, u64>,
    grupos: HashMap<(Tipo, Algoritmo), Grupo>,
    aceleraciones: Aceleraciones,
    /// Jobs finished per second.
    terminados: Ventana,
    completados: u64,
    fallidos: u64,
    esclavos: HashMap<String, HistoriaEsclavo>,
}

impl Estadisticas {
    pub fn new(origen: Instant, inicio_ms: u64) -> Self {
        Estadisticas {
            origen,
            inicio_ms,
            encolados: HashMap::new(),
            grupos: HashMap::new(),
            aceleraciones: Aceleraciones::default(),
            terminados: Ventana::default(),
            completados: 0,
            fallidos: 0,
            esclavos: HashMap::new(),
        }
    }

    /// Milliseconds from the maestro's start to `t`.
    fn ms(&self, t: Instant) -> u64 {
        t.saturating_duration_since(self.origen).as_millis() as u64
    }

    /// Jobs finished (completed, failed for good) since start.
    pub fn terminados(&self) -> u64 {
        self.completados + self.fallidos
    }

    /// Each (tipo, backend)'s wait and run times of completed jobs, for `GET /metrics`.
    pub fn tiempos(&self) -> impl Iterator<Item = (Tipo, Algoritmo, &Histograma, &Histograma)> {
        self.grupos
            .iter()
            .map(|(&(t, a), g)| (t, a, &g.espera, &g.ejecucion))
    }

    /// Jobs accepted and queued: their wait counts from their acceptance.
    pub fn encolados(&mut self, filas: &[FilaNueva]) {
        self.encolados
            .extend(filas.iter().map(|f| (f.id, f.creado_ms)));
    }

    /// A job that left the queue without running to an end (cancelled).
    pub fn olvidar(&mut self, id: TrabajoId) {
        self.encolados.remove(&id);
    }

    /// Forgets the acceptance time of every job that is no longer pending or running.
    pub fn podar(&mut self, vivo: impl Fn(TrabajoId) -> bool) {
        self.encolados.retain(|&id, _| vivo(id));
    }

    /// How many acceptance times are kept (one per pending or running job).
    pub fn en_espera(&self) -> usize {
        self.encolados.len()
    }

    /// An esclavo registered.
    pub fn registrado(&mut self, nombre: &str, ahora: Instant) {
        self.esclavo(nombre, ahora);
    }

    /// An esclavo was declared lost.
    pub fn perdido(&mut self, nombre: &str, ahora: Instant) {
        self.esclavo(nombre, ahora).perdidas += 1;
    }

    /// A slot of `nombre` was busy from `inicio` to `fin` (any attempt's end, refusals too).
    pub fn ocupacion(&mut self, nombre: &str, inicio: Instant, fin: Instant) {
        let (desde, hasta) = (self.ms(inicio), self.ms(fin));
        let h = self.esclavo(nombre, fin);
        h.ocupacion.sumar_intervalo(desde, hasta);
        h.actividad_ms = hasta;
    }

    /// A job completed by the attempt `fin` (`None`: by a report of an attempt no longer
    /// running, which says nothing of times).
    pub fn completado(&mut self, fin: Option<FinIntento<'_>>, ahora: Instant, ahora_ms: u64) {
        self.terminado(true, ahora);
        let Some(fin) = fin else { return };
        let e = fin.en_curso;
        let ejecucion = ahora.saturating_duration_since(e.inicio);
        let creado = self.encolados.remove(&e.trabajo.id);
        let tipo = e.trabajo.parametros.tipo();
        let g = self.grupos.entry((tipo, fin.algoritmo)).or_default();
        if let Some(creado) = creado {
            let total = Duration::from_millis(ahora_ms.saturating_sub(creado));
            g.espera.agregar(total.saturating_sub(ejecucion));
        }
        g.ejecucion.agregar(ejecucion);
        if let Some(k) = fin.kernel_s.filter(|k| k.is_finite() && *k >= 0.0) {
            g.kernel.agregar(Duration::from_secs_f64(k));
            self.aceleraciones
                .agregar(&e.trabajo.parametros, fin.algoritmo, k);
        }
        self.anotar(fin, EstadoTrabajo::Completado, ahora, ahora_ms);
    }

    /// A job completed, but not by the attempt that ran it here: it counts, nothing else.
    fn terminado(&mut self, completado: bool, ahora: Instant) {
        if completado {
            self.completados += 1;
        } else {
            self.fallidos += 1;
        }
        let segundo = self.ms(ahora) / 1000;
        self.terminados.sumar(segundo, 1);
    }

    /// An attempt failed; `definitivo`: the job failed for good with it.
    pub fn fallado(
        &mut self,
        fin: FinIntento<'_>,
        definitivo: bool,
        ahora: Instant,
        ahora_ms: u64,
    ) {
        if definitivo {
            self.encolados.remove(&fin.en_curso.trabajo.id);
            self.terminado(false, ahora);
        }
        self.anotar(fin, EstadoTrabajo::Fallido, ahora, ahora_ms);
    }

    /// Adds an ended attempt to its esclavo's history.
    fn anotar(
        &mut self,
        fin: FinIntento<'_>,
        estado: EstadoTrabajo,
        ahora: Instant,
        ahora_ms: u64,
    ) {
        let e = fin.en_curso;
        let ejecucion = ahora.saturating_duration_since(e.inicio);
        let reciente = IntentoReciente {
            id: e.trabajo.id,
            intento: e.intento,
            tipo: e.trabajo.parametros.tipo(),
            algoritmo: fin.algoritmo,
            estado,
            fin_ms: ahora_ms,
            ejecucion_s: ejecucion.as_secs_f64(),
            error: fin.error,
        };
        self.esclavo(&e.esclavo.nombre, ahora)
            .anotar(reciente, ejecucion);
    }

    /// The history of `nombre`, made if new; the map never holds more than [`MAX_ESCLAVOS`].
    /// Called at every attempt's end: a known name allocates nothing.
    fn esclavo(&mut self, nombre: &str, ahora: Instant) -> &mut HistoriaEsclavo {
        if !self.esclavos.contains_key(nombre) {
            if self.esclavos.len() >= MAX_ESCLAVOS {
                let viejo = self
                    .esclavos
                    .iter()
                    .min_by_key(|(_, h)| h.actividad_ms)
                    .map(|(n, _)| n.clone());
                if let Some(n) = viejo {
                    self.esclavos.remove(&n);
                }
            }
            let nueva = HistoriaEsclavo::nueva(self.ms(ahora));
            self.esclavos.insert(nombre.to_owned(), nueva);
        }
        self.esclavos
            .get_mut(nombre)
            .expect("inserted above if it was missing")
    }

    /// How many esclavos are remembered.
    pub fn esclavos_recordados(&self) -> usize {
        self.esclavos.len()
    }
}

/// The kernel time in a completed attempt's stored result (`duracion_s`), if it has one.
pub fn kernel_s(resultado: &str) -> Option<f64> {
    #[derive(serde::Deserialize)]
    struct Duracion {
        duracion_s: f64,
    }
    serde_json::from_str::<Duracion>(resultado)
        .ok()
        .map(|d| d.duracion_s)
}

impl crate::estado::Estado {
    /// An attempt's end as the statistics take it: its backend as it was sent (`Auto` made
    /// `Cuda` where it took a GPU slot).
    pub(crate) fn fin_intento<'a>(
        &self,
        e: &'a EnCurso,
        kernel_s: Option<f64>,
        error: Option<String>,
    ) -> FinIntento<'a> {
        FinIntento {
            en_curso: e,
            algoritmo: crate::planificador::resolver(e.trabajo.algoritmo, e.gpu),
            kernel_s,
            error,
        }
    }

    /// Forgets the acceptance times of jobs no longer pending or running (cancelled, cleared,
    /// or ended some way the statistics did not see), when there are more than such jobs.
    pub fn podar_estadisticas(&mut self) {
        let t = &self.trabajos;
        let vivos = t.cola.len() + t.reintentos.len() + t.en_curso.len() as u64;
        if self.estadisticas.en_espera() as u64 <= vivos {
            return;
        }
        self.estadisticas.podar(|id| {
            t.en_curso.contains_key(&id)
                || t.cola.buscar(id).is_some()
                || t.reintentos.buscar(id).is_some()
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_esclavos_coming_and_going_keep_the_histories_bounded() {
        let origen = Instant::now();
        let mut s = Estadisticas::new(origen, 0);
        for i in 0..(3 * MAX_ESCLAVOS as u64) {
            let ahora = origen + Duration::from_millis(i);
            s.registrado(&format!("e{i}"), ahora);
            s.perdido(&format!("e{i}"), ahora);
        }
        assert_eq!(s.esclavos_recordados(), MAX_ESCLAVOS);
        let ultimo = format!("e{}", 3 * MAX_ESCLAVOS - 1);
        assert_eq!(s.esclavos[&ultimo].perdidas, 1, "the newest are kept");
    }

    #[test]
    fn acceptance_times_are_forgotten_once_their_jobs_are_not_pending() {
        let mut s = Estadisticas::new(Instant::now(), 0);
        s.encolados.extend((0..100).map(|i| (TrabajoId(i), i)));
        s.olvidar(TrabajoId(0));
        s.podar(|id| id.0 % 10 == 0);
        assert_eq!(s.en_espera(), 9);
    }
}

//! Jobs waiting out the delay before their next attempt, after an attempt that failed through
//! the job's own fault (an error reported by its esclavo, its time limit exceeded).
//!
//! The delay doubles with every failure of the job: `base · 2^(fallos − 1)`, at most `maximo`
//! ([`demora`]). Waiting jobs are kept by due instant, so the earliest is the first entry: the
//! dispatcher sleeps until then ([`Reintentos::proximo`]) and moves the due ones to the queue
//! ([`Reintentos::vencidos`]); nothing polls. They count as pending everywhere the user looks,
//! and can be cancelled like any pending job. Only memory holds them: after a maestro restart
//! they are simply pending.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use comun::{Prioridad, TrabajoId};

use crate::cola::Pendiente;

/// A job waiting for its retry.
#[derive(Debug, Clone)]
pub struct EnEspera {
    /// The job, with its attempts and failures so far.
    pub trabajo: Pendiente,
    /// Why its last attempt failed, to say so while it waits.
    pub error: String,
}

/// Jobs waiting for their retry, earliest due first.
#[derive(Debug, Default)]
pub struct Reintentos {
    /// By due instant (ties by id): the first entry is the next one due.
    por_vencimiento: BTreeMap<(Instant, TrabajoId), EnEspera>,
    /// Each waiting job's due instant, to find it by id.
    vencimientos: HashMap<TrabajoId, Instant>,
    /// Waiting jobs per priority (index [`Prioridad::indice`]).
    por_prioridad: [u64; 3],
}

impl Reintentos {
    /// How many jobs wait.
    pub fn len(&self) -> u64 {
        self.vencimientos.len() as u64
    }

    /// Whether none waits.
    pub fn is_empty(&self) -> bool {
        self.vencimientos.is_empty()
    }

    /// How many jobs of a priority wait.
    pub fn pendientes_de(&self, prioridad: Prioridad) -> u64 {
        self.por_prioridad[prioridad.indice()]
    }

    /// Makes a job wait until `vence` (replacing any earlier wait of the same job).
    pub fn insertar(&mut self, trabajo: Pendiente, error: String, vence: Instant) {
        self.quitar(trabajo.id);
        self.vencimientos.insert(trabajo.id, vence);
        self.por_prioridad[trabajo.prioridad.indice()] += 1;
        self.por_vencimiento
            .insert((vence, trabajo.id), EnEspera { trabajo, error });
    }

    /// Takes a waiting job out by id.
    pub fn quitar(&mut self, id: TrabajoId) -> Option<Pendiente> {
        let vence = self.vencimientos.remove(&id)?;
        let e = self
            .por_vencimiento
            .remove(&(vence, id))
            .expect("both maps hold the same jobs");
        self.por_prioridad[e.trabajo.prioridad.indice()] -= 1;
        Some(e.trabajo)
    }

    /// Gives a waiting job a new priority (it stays due when it was); false if it does not
    /// wait here.
    pub fn priorizar(&mut self, id: TrabajoId, prioridad: Prioridad) -> bool {
        let Some(&vence) = self.vencimientos.get(&id) else {
            return false;
        };
        let e = self
            .por_vencimiento
            .get_mut(&(vence, id))
            .expect("both maps hold the same jobs");
        self.por_prioridad[e.trabajo.prioridad.indice()] -= 1;
        self.por_prioridad[prioridad.indice()] += 1;
        e.trabajo.prioridad = prioridad;
        true
    }

    /// The id of the oldest job waiting (the lowest), if any. O(n): for a scrape, not the
    /// job path.
    pub fn mas_antiguo(&self) -> Option<TrabajoId> {
        self.vencimientos.keys().min().copied()
    }

    /// A waiting job by id, and when it is due.
    pub fn buscar(&self, id: TrabajoId) -> Option<(&EnEspera, Instant)> {
        let vence = *self.vencimientos.get(&id)?;
        self.por_vencimiento.get(&(vence, id)).map(|e| (e, vence))
    }

    /// Whether a job waits here.
    pub fn contiene(&self, id: TrabajoId) -> bool {
        self.vencimientos.contains_key(&id)
    }

    /// When the next job is due.
    pub fn proximo(&self) -> Option<Instant> {
        self.por_vencimiento.keys().next().map(|&(vence, _)| vence)
    }

    /// Takes every job due at `ahora`, earliest first.
    pub fn vencidos(&mut self, ahora: Instant) -> Vec<Pendiente> {
        let mut vencidos = Vec::new();
        while let Some(entrada) = self.por_vencimiento.first_entry() {
            if entrada.key().0 > ahora {
                break;
            }
            let e = entrada.remove();
            self.vencimientos.remove(&e.trabajo.id);
            self.por_prioridad[e.trabajo.prioridad.indice()] -= 1;
            vencidos.push(e.trabajo);
        }
        vencidos
    }

    /// Takes every waiting job.
    pub fn vaciar(&mut self) -> Vec<Pendiente> {
        self.vencimientos.clear();
        self.por_prioridad = [0; 3];
        std::mem::take(&mut self.por_vencimiento)
            .into_values()
            .map(|e| e.trabajo)
            .collect()
    }
}

/// The delay before the retry of a job that has failed `fallos` times: `base` after the first
/// failure, doubling with each one after it, never more than `maximo`.
pub fn demora(base: Duration, maximo: Duration, fallos: u32) -> Duration {
    let doblajes = fallos.saturating_sub(1).min(31);
    base.saturating_mul(1 << doblajes).min(maximo)
}

/// Why a waiting job is not running yet, in words.
pub fn explicar(e: &EnEspera, falta: Duration) -> String {
    format!(
        "retry {} after an error, in {:.1} s (last error: {})",
        e.trabajo.fallos,
        falta.as_secs_f64(),
        e.error
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use comun::trabajo::ParamsEspera;
    use comun::{Algoritmo, Parametros};

    fn pendiente(id: u64, prioridad: Prioridad) -> Pendiente {
        Pendiente {
            id: TrabajoId(id),
            parametros: Parametros::Espera(ParamsEspera { ms: 0 }),
            algoritmo: Algoritmo::Secuencial,
            prioridad,
            intentos: 1,
            fallos: 1,
            plazo_s: None,
        }
    }

    #[test]
    fn the_delay_doubles_per_failure_up_to_the_cap() {
        let s = Duration::from_secs;
        let demoras: Vec<Duration> = (1..=8).map(|f| demora(s(1), s(60), f)).collect();
        let esperadas = [1, 2, 4, 8, 16, 32, 60, 60].map(s);
        assert_eq!(demoras, esperadas);
        assert_eq!(demora(s(1), s(60), u32::MAX), s(60), "no overflow");
        assert_eq!(demora(Duration::ZERO, s(60), 5), Duration::ZERO);
        assert_eq!(
            demora(Duration::from_millis(200), s(60), 3),
            Duration::from_millis(800)
        );
    }

    #[test]
    fn jobs_come_out_when_due_earliest_first_and_can_be_taken_out_before() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut r = Reintentos::default();
        r.insertar(pendiente(1, Prioridad::BAJA), "a".into(), t0 + ms(300));
        r.insertar(pendiente(2, Prioridad::ALTA), "b".into(), t0 + ms(100));
        r.insertar(pendiente(3, Prioridad::ALTA), "c".into(), t0 + ms(200));
        assert_eq!((r.len(), r.pendientes_de(Prioridad::ALTA)), (3, 2));
        assert_eq!(r.proximo(), Some(t0 + ms(100)));
        assert!(r.vencidos(t0 + ms(99)).is_empty());
        assert_eq!(r.quitar(TrabajoId(3)).map(|p| p.id), Some(TrabajoId(3)));
        assert!(r.quitar(TrabajoId(3)).is_none());
        let ids: Vec<u64> = r.vencidos(t0 + ms(300)).iter().map(|p| p.id.0).collect();
        assert_eq!(ids, vec![2, 1]);
        assert!(r.is_empty() && r.proximo().is_none());
        assert_eq!(r.pendientes_de(Prioridad::ALTA), 0);
    }

    #[test]
    fn the_explanation_says_which_retry_when_and_why() {
        let e = EnEspera {
            trabajo: Pendiente {
                fallos: 2,
                ..pendiente(1, Prioridad::MEDIA)
            },
            error: "boom".into(),
        };
        let texto = explicar(&e, Duration::from_millis(1500));
        assert_eq!(texto, "retry 2 after an error, in 1.5 s (last error: boom)");
    }
}

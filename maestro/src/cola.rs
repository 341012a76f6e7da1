//! The in-memory priority queue of pending jobs.
//!
//! Jobs wait in one ordered map per *clase* (what kind of esclavo can run them), keyed by
//! `(prioridad, id)`: the first entry is the most urgent, and ids grow in order of acceptance, so
//! the order is priority first and first-in first-out within a priority. Every operation is
//! O(log n). Keeping the classes apart means a `Cuda` job that no esclavo can take never blocks
//! the CPU jobs behind it.

use std::collections::BTreeMap;
use std::num::NonZeroU32;

use comun::{Algoritmo, Parametros, Prioridad, TrabajoId};

/// What kind of esclavo a job needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Clase {
    /// Any esclavo.
    Cpu,
    /// An esclavo with a GPU.
    Gpu,
}

impl Clase {
    pub const TODAS: [Clase; 2] = [Clase::Cpu, Clase::Gpu];

    pub fn de(algoritmo: Algoritmo) -> Clase {
        if algoritmo.necesita_gpu() {
            Clase::Gpu
        } else {
            Clase::Cpu
        }
    }

    fn indice(self) -> usize {
        match self {
            Clase::Cpu => 0,
            Clase::Gpu => 1,
        }
    }
}

/// A job waiting for a slot: everything needed to dispatch it, nothing more (a million of these
/// must fit comfortably in memory).
#[derive(Debug, Clone, PartialEq)]
pub struct Pendiente {
    pub id: TrabajoId,
    pub parametros: Parametros,
    pub algoritmo: Algoritmo,
    pub prioridad: Prioridad,
    /// Dispatches so far: the next one is attempt `intentos + 1`.
    pub intentos: u32,
    /// Attempts that failed (error, time limit, esclavo lost): the job fails when this reaches
    /// the limit.
    pub fallos: u32,
    /// The job's own time limit per attempt, in seconds (`None`: the maestro's default). Four
    /// bytes, so the entry stays within its 48.
    pub plazo_s: Option<NonZeroU32>,
}

impl Pendiente {
    pub fn clase(&self) -> Clase {
        Clase::de(self.algoritmo)
    }

    /// Whether it is an `Auto` job that runs on a GPU where one is free: its tipo has a GPU
    /// version. Any other `Auto` job runs on a CPU, as `Paralelo`.
    pub fn auto_en_gpu(&self) -> bool {
        self.algoritmo == Algoritmo::Auto && self.parametros.tipo().tiene_cuda()
    }

    fn clave(&self) -> Clave {
        (self.prioridad, self.id)
    }
}

type Clave = (Prioridad, TrabajoId);

/// Pending jobs, most urgent first.
#[derive(Debug, Default)]
pub struct Cola {
    clases: [BTreeMap<Clave, Pendiente>; 2],
    /// Pending jobs per priority (index [`Prioridad::indice`]), kept so `/estado` is O(1).
    por_prioridad: [u64; 3],
}

impl Cola {
    pub fn len(&self) -> u64 {
        self.por_prioridad.iter().sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn pendientes_de(&self, prioridad: Prioridad) -> u64 {
        self.por_prioridad[prioridad.indice()]
    }

    /// Queues a job (again, if it comes back from an esclavo: it keeps its place by id).
    pub fn insertar(&mut self, p: Pendiente) {
        let prioridad = p.prioridad;
        if self.clases[p.clase().indice()]
            .insert(p.clave(), p)
            .is_none()
        {
            self.por_prioridad[prioridad.indice()] += 1;
        }
    }

    /// The most urgent job of a class, without taking it.
    pub fn primero(&self, clase: Clase) -> Option<&Pendiente> {
        self.clases[clase.indice()].values().next()
    }

    /// Takes the most urgent job of a class.
    pub fn sacar_primero(&mut self, clase: Clase) -> Option<Pendiente> {
        let (_, p) = self.clases[clase.indice()].pop_first()?;
        self.por_prioridad[p.prioridad.indice()] -= 1;
        Some(p)
    }

    /// Takes a job by id, wherever it waits.
    pub fn quitar(&mut self, id: TrabajoId) -> Option<Pendiente> {
        for mapa in &mut self.clases {
            for prioridad in Prioridad::TODAS {
                if let Some(p) = mapa.remove(&(prioridad, id)) {
                    self.por_prioridad[prioridad.indice()] -= 1;
                    return Some(p);
                }
            }
        }
        None
    }

    /// A job by id, wherever it waits.
    pub fn buscar(&self, id: TrabajoId) -> Option<&Pendiente> {
        self.clases
            .iter()
            .flat_map(|mapa| {
                Prioridad::TODAS
                    .into_iter()
                    .filter_map(move |p| mapa.get(&(p, id)))
            })
            .next()
    }

    /// How many jobs of the same class wait ahead of this one.
    pub fn delante_de(&self, p: &Pendiente) -> usize {
        self.clases[p.clase().indice()].range(..p.clave()).count()
    }

    /// The id of the oldest job waiting (the lowest: ids grow in order of acceptance), whatever
    /// its class and priority: the first entry of each priority of each class, O(log n).
    pub fn mas_antiguo(&self) -> Option<TrabajoId> {
        let desde = |p| (p, TrabajoId(0))..=(p, TrabajoId(u64::MAX));
        self.clases
            .iter()
            .flat_map(|mapa| Prioridad::TODAS.map(|p| mapa.range(desde(p)).next()))
            .filter_map(|e| e.map(|((_, id), _)| *id))
            .min()
    }

    /// Empties the queue, returning every job in it.
    pub fn vaciar(&mut self) -> Vec<Pendiente> {
        self.por_prioridad = [0; 3];
        let mut todos: Vec<Pendiente> = Vec::new();
        for mapa in &mut self.clases {
            todos.extend(std::mem::take(mapa).into_values());
        }
        todos
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use comun::trabajo::ParamsEspera;

    pub(crate) fn pendiente(id: u64, prioridad: u8, algoritmo: Algoritmo) -> Pendiente {
        Pendiente {
            id: TrabajoId(id),
            parametros: Parametros::Espera(ParamsEspera { ms: 0 }),
            algoritmo,
            prioridad: Prioridad::new(prioridad.into()).unwrap(),
            intentos: 0,
            fallos: 0,
            plazo_s: None,
        }
    }

    /// A million pending jobs must fit comfortably in memory: keep the entry small.
    #[test]
    fn a_pending_job_takes_at_most_48_bytes() {
        assert!(
            std::mem::size_of::<Pendiente>() <= 48,
            "{}",
            std::mem::size_of::<Pendiente>()
        );
        let mut c = Cola::default();
        for id in 0..1_000_000 {
            c.insertar(pendiente(id, (id % 3 + 1) as u8, Algoritmo::Paralelo));
        }
        assert_eq!(c.len(), 1_000_000);
        assert_eq!(c.primero(Clase::Cpu).unwrap().id, TrabajoId(0));
        assert_eq!(
            c.quitar(TrabajoId(999_999)).unwrap().prioridad,
            Prioridad::ALTA
        );
    }

    #[test]
    fn priority_first_then_fifo() {
        let mut c = Cola::default();
        for (id, p) in [(1, 3), (2, 2), (3, 1), (4, 2), (5, 1), (6, 3)] {
            c.insertar(pendiente(id, p, Algoritmo::Paralelo));
        }
        assert_eq!(c.len(), 6);
        assert_eq!(c.pendientes_de(Prioridad::MEDIA), 2);
        let orden: Vec<u64> = std::iter::from_fn(|| c.sacar_primero(Clase::Cpu))
            .map(|p| p.id.0)
            .collect();
        assert_eq!(orden, vec![3, 5, 2, 4, 1, 6]);
        assert!(c.is_empty());
    }

    #[test]
    fn classes_do_not_block_each_other_and_removal_by_id_works() {
        let mut c = Cola::default();
        c.insertar(pendiente(1, 1, Algoritmo::Cuda));
        c.insertar(pendiente(2, 3, Algoritmo::Secuencial));
        assert_eq!(c.primero(Clase::Cpu).unwrap().id, TrabajoId(2));
        assert_eq!(c.primero(Clase::Gpu).unwrap().id, TrabajoId(1));
        assert_eq!(c.delante_de(&pendiente(9, 3, Algoritmo::Secuencial)), 1);
        assert_eq!(c.quitar(TrabajoId(1)).unwrap().algoritmo, Algoritmo::Cuda);
        assert!(c.quitar(TrabajoId(1)).is_none());
        assert_eq!(c.len(), 1);
        assert_eq!(c.vaciar().len(), 1);
        assert_eq!(c.len(), 0);
    }

    #[test]
    fn the_oldest_is_the_lowest_id_whatever_its_class_and_priority() {
        let mut c = Cola::default();
        assert_eq!(c.mas_antiguo(), None);
        for (id, p, a) in [
            (7, 1, Algoritmo::Paralelo),
            (5, 3, Algoritmo::Cuda),
            (6, 2, Algoritmo::Paralelo),
        ] {
            c.insertar(pendiente(id, p, a));
        }
        assert_eq!(c.mas_antiguo(), Some(TrabajoId(5)));
        c.quitar(TrabajoId(5));
        assert_eq!(c.mas_antiguo(), Some(TrabajoId(6)));
    }
}

//! The maestro's time series of the last hour, so that charts have something to draw as soon
//! as a page loads: pending jobs by priority, jobs finished per second, esclavos alive, and the
//! load of each node (esclavos' heartbeats, memoria nodes' fresh reports).
//!
//! [`muestrear`], a task started with the maestro, takes one [`Punto`] every
//! [`Config::paso_series`](crate::Config::paso_series) (5 s by default) and [`Series`] keeps
//! the last [`CAPACIDAD`] of them (an hour at 5 s). **Memory is bounded whatever runs**: every
//! list is capped at [`CAPACIDAD`]; a node that has not reported for [`CAPACIDAD`] samples is
//! dropped, and at most [`MAX_NODOS`] nodes are kept (the one silent the longest goes first).
//!
//! Shape of `GET /estadisticas/series` ([`comun::estadisticas::Series`]), every list oldest
//! first and as long as `instantes_ms`:
//!
//! ```json
//! {"paso_s": 5.0, "capacidad": 720, "instantes_ms": [1700000000000, …],
//!  "cola": {"alta": [0, …], "media": [3, …], "baja": [0, …]},
//!  "terminados_por_s": [0.0, …], "esclavos_vivos": [2, …],
//!  "nodos": [{"nombre": "e1", "fuente": "esclavo", "cpu": [12.5, null, …],
//!             "memoria": [40.1, …], "gpu": [null, …]}]}
//! ```

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use comun::estadisticas::{self as api, Fuente, SerieCarga, SerieCola, SerieNodo};
use tokio::sync::watch;

use crate::estado::Estado;
use crate::servicio::Servicio;

/// Samples kept: an hour at the default 5 s step.
pub const CAPACIDAD: usize = 720;
/// Most nodes kept.
pub const MAX_NODOS: usize = 256;

/// A node's load at one instant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CargaNodo {
    /// Percent of all cores.
    pub cpu: f32,
    /// Percent of memory in use, if known.
    pub memoria: Option<f32>,
    /// Mean utilisation of its GPUs, percent, if it has any.
    pub gpu: Option<f32>,
}

/// One sample.
#[derive(Debug, Clone, Default)]
pub struct Punto {
    pub instante_ms: u64,
    /// Pending jobs by priority (alta, media, baja).
    pub cola: [u64; 3],
    /// Jobs finished since the maestro started: the series keeps the rate.
    pub terminados: u64,
    pub vivos: u32,
    pub nodos: Vec<(Fuente, String, CargaNodo)>,
}

/// One node's load, aligned with the instants.
#[derive(Debug, Default)]
struct SerieInterna {
    cpu: VecDeque<Option<f32>>,
    memoria: VecDeque<Option<f32>>,
    gpu: VecDeque<Option<f32>>,
    /// The number of the last sample it was in.
    visto: u64,
}

/// The last [`CAPACIDAD`] samples.
#[derive(Debug)]
pub struct Series {
    paso: Duration,
    capacidad: usize,
    instantes: VecDeque<u64>,
    cola: [VecDeque<u64>; 3],
    terminados_por_s: VecDeque<f64>,
    vivos: VecDeque<u32>,
    nodos: BTreeMap<(Fuente, String), SerieInterna>,
    /// Samples taken so far.
    muestras: u64,
    /// The previous sample's `(instante_ms, terminados)`.
    anterior: Option<(u64, u64)>,
}

/// Pushes `x`, dropping the oldest past `capacidad`.
fn empujar<T>(v: &mut VecDeque<T>, x: T, capacidad: usize) {
    v.push_back(x);
    while v.len() > capacidad {
        v.pop_front();
    }
}

impl Series {
    pub fn new(paso: Duration, capacidad: usize) -> Self {
        Series {
            paso,
            capacidad: capacidad.max(1),
            instantes: VecDeque::new(),
            cola: Default::default(),
            terminados_por_s: VecDeque::new(),
            vivos: VecDeque::new(),
            nodos: BTreeMap::new(),
            muestras: 0,
            anterior: None,
        }
    }

    /// Samples kept.
    pub fn len(&self) -> usize {
        self.instantes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.instantes.is_empty()
    }

    /// Nodes kept.
    pub fn nodos(&self) -> usize {
        self.nodos.len()
    }

    /// Adds a sample, dropping what falls out of the window.
    pub fn agregar(&mut self, p: Punto) {
        let cap = self.capacidad;
        let ritmo = match self.anterior {
            Some((t, n)) if p.instante_ms > t => {
                p.terminados.saturating_sub(n) as f64 * 1000.0 / (p.instante_ms - t) as f64
            }
            _ => 0.0,
        };
        self.anterior = Some((p.instante_ms, p.terminados));
        self.muestras += 1;
        empujar(&mut self.instantes, p.instante_ms, cap);
        for (serie, valor) in self.cola.iter_mut().zip(p.cola) {
            empujar(serie, valor, cap);
        }
        empujar(&mut self.terminados_por_s, ritmo, cap);
        empujar(&mut self.vivos, p.vivos, cap);
        self.agregar_nodos(p.nodos);
    }

    /// Each node's value of this sample (`None` for those absent), then the bounds.
    fn agregar_nodos(&mut self, presentes: Vec<(Fuente, String, CargaNodo)>) {
        let (cap, muestra, largo) = (self.capacidad, self.muestras, self.instantes.len());
        let mut presentes: BTreeMap<_, _> =
            presentes.into_iter().map(|(f, n, c)| ((f, n), c)).collect();
        for (clave, serie) in self.nodos.iter_mut() {
            let c = presentes.remove(clave);
            if c.is_some() {
                serie.visto = muestra;
            }
            empujar(&mut serie.cpu, c.map(|c| c.cpu), cap);
            empujar(&mut serie.memoria, c.and_then(|c| c.memoria), cap);
            empujar(&mut serie.gpu, c.and_then(|c| c.gpu), cap);
        }
        for (clave, c) in presentes {
            let relleno = || std::iter::repeat_n(None, largo - 1).collect::<VecDeque<_>>();
            let mut serie = SerieInterna {
                cpu: relleno(),
                memoria: relleno(),
                gpu: relleno(),
                visto: muestra,
            };
            serie.cpu.push_back(Some(c.cpu));
            serie.memoria.push_back(c.memoria);
            serie.gpu.push_back(c.gpu);
            self.nodos.insert(clave, serie);
        }
        // Silent for the whole window: nothing left to draw.
        self.nodos.retain(|_, s| s.visto + cap as u64 > muestra);
        while self.nodos.len() > MAX_NODOS {
            let viejo = self
                .nodos
                .iter()
                .min_by_key(|(_, s)| s.visto)
                .map(|(k, _)| k.clone());
            if let Some(k) = viejo {
                self.nodos.remove(&k);
            }
        }
    }

    /// The body of `GET /estadisticas/series`.
    pub fn vista(&self) -> api::Series {
        let v = |d: &VecDeque<u64>| d.iter().copied().collect();
        api::Series {
            paso_s: self.paso.as_secs_f64(),
            capacidad: self.capacidad as u32,
            instantes_ms: v(&self.instantes),
            cola: SerieCola {
                alta: v(&self.cola[0]),
                media: v(&self.cola[1]),
                baja: v(&self.cola[2]),
            },
            terminados_por_s: self.terminados_por_s.iter().copied().collect(),
            esclavos_vivos: self.vivos.iter().copied().collect(),
            nodos: self
                .nodos
                .iter()
                .map(|((fuente, nombre), s)| SerieNodo {
                    nombre: nombre.clone(),
                    fuente: *fuente,
                    cpu: s.cpu.iter().copied().collect(),
                    memoria: s.memoria.iter().copied().collect(),
                    gpu: s.gpu.iter().copied().collect(),
                })
                .collect(),
        }
    }

    /// One node's load over the window (empty lists if it is not kept).
    pub fn carga(&self, fuente: Fuente, nombre: &str) -> SerieCarga {
        let Some(s) = self.nodos.get(&(fuente, nombre.to_owned())) else {
            return SerieCarga::default();
        };
        SerieCarga {
            instantes_ms: self.instantes.iter().copied().collect(),
            cpu: s.cpu.iter().copied().collect(),
            memoria: s.memoria.iter().copied().collect(),
            gpu: s.gpu.iter().copied().collect(),
        }
    }
}

/// The sample of the state now.
pub fn punto(estado: &Estado, ahora: Instant, ahora_ms: u64) -> Punto {
    let mut cola = [0; 3];
    for c in estado.cola_por_prioridad() {
        cola[c.prioridad.indice()] = c.pendientes;
    }
    let esclavos = estado.esclavos_info(ahora);
    let mut nodos: Vec<_> = esclavos
        .iter()
        .filter(|e| e.vivo)
        .map(|e| {
            let memoria = comun::memoria::porcentaje(e.carga.memoria_usada, e.carga.memoria_total);
            let carga = CargaNodo {
                cpu: e.carga.cpu,
                memoria: memoria.map(|m| m as f32),
                gpu: None,
            };
            (Fuente::Esclavo, e.nombre.clone(), carga)
        })
        .collect();
    for n in estado.nodos.vista(ahora).nodos {
        if n.obsoleto {
            continue;
        }
        let m = &n.reporte.muestra;
        let gpus = &m.gpus;
        let gpu = (!gpus.is_empty())
            .then(|| gpus.iter().map(|g| g.utilizacion).sum::<f64>() / gpus.len() as f64);
        let carga = CargaNodo {
            cpu: m.cpu_porcentaje as f32,
            memoria: comun::memoria::porcentaje(m.memoria_usada, m.memoria_total).map(|x| x as f32),
            gpu: gpu.map(|g| g as f32),
        };
        nodos.push((Fuente::Memoria, n.nodo, carga));
    }
    Punto {
        instante_ms: ahora_ms,
        cola,
        terminados: estado.estadisticas.terminados(),
        vivos: esclavos.iter().filter(|e| e.vivo).count() as u32,
        nodos,
    }
}

/// Samples the state every `paso_series`, the first at once, until `parar` flips; also
/// forgets what the statistics no longer need ([`Estado::podar_estadisticas`]).
pub async fn muestrear(s: Arc<Servicio>, mut parar: watch::Receiver<bool>) {
    let mut reloj = tokio::time::interval(s.config.paso_series);
    reloj.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = reloj.tick() => {}
            _ = parar.changed() => return,
        }
        let p = {
            let mut estado = s.estado();
            estado.podar_estadisticas();
            punto(&estado, Instant::now(), comun::ahora_ms())
        };
        s.series().agregar(p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn punto(i: u64, nodos: &[&str]) -> Punto {
        let carga = CargaNodo {
            cpu: i as f32,
            memoria: Some(50.0),
            gpu: None,
        };
        Punto {
            instante_ms: 1_000_000 + i * 5_000,
            cola: [i, 2 * i, 0],
            terminados: 10 * i,
            vivos: nodos.len() as u32,
            nodos: nodos
                .iter()
                .map(|n| (Fuente::Esclavo, n.to_string(), carga))
                .collect(),
        }
    }

    #[test]
    fn many_samples_keep_every_list_at_its_cap() {
        let mut s = Series::new(Duration::from_secs(5), 10);
        for i in 0..1000 {
            s.agregar(punto(i, &["a", "b"]));
        }
        let v = s.vista();
        assert_eq!(v.instantes_ms.len(), 10);
        assert_eq!(
            v.instantes_ms[0],
            1_000_000 + 990 * 5_000,
            "the oldest kept"
        );
        for lista in [&v.cola.alta, &v.cola.media, &v.cola.baja] {
            assert_eq!(lista.len(), 10);
        }
        assert_eq!(v.terminados_por_s, vec![2.0; 10], "10 jobs per 5 s");
        assert_eq!(v.esclavos_vivos, vec![2; 10]);
        assert_eq!(v.nodos.len(), 2);
        assert!(
            v.nodos
                .iter()
                .all(|n| n.cpu.len() == 10 && n.gpu.len() == 10)
        );
    }

    #[test]
    fn nodes_coming_and_going_keep_the_map_bounded_and_aligned() {
        let mut s = Series::new(Duration::from_secs(5), 20);
        for i in 0..5_000u64 {
            // Three new nodes every sample, each seen once.
            let nombres: Vec<String> = (0..3).map(|k| format!("n{}", 3 * i + k)).collect();
            let refs: Vec<&str> = nombres.iter().map(String::as_str).collect();
            s.agregar(punto(i, &refs));
            assert!(
                s.nodos() <= MAX_NODOS.min(3 * 20),
                "{} nodes at {i}",
                s.nodos()
            );
        }
        assert_eq!(s.nodos(), 60, "the last 20 samples' nodes");
        let v = s.vista();
        assert!(v.nodos.iter().all(|n| n.cpu.len() == v.instantes_ms.len()));
        // A node that joined last has nulls before its one value.
        let ultimo = v.nodos.iter().find(|n| n.nombre == "n14999").unwrap();
        assert_eq!(ultimo.cpu.last(), Some(&Some(4999.0)));
        assert!(ultimo.cpu[..19].iter().all(Option::is_none));
    }

    #[test]
    fn at_most_max_nodos_are_kept_even_at_once() {
        let mut s = Series::new(Duration::from_secs(5), 720);
        let nombres: Vec<String> = (0..2 * MAX_NODOS).map(|k| format!("n{k}")).collect();
        let refs: Vec<&str> = nombres.iter().map(String::as_str).collect();
        for i in 0..3 {
            s.agregar(punto(i, &refs));
        }
        assert_eq!(s.nodos(), MAX_NODOS);
    }

    #[test]
    fn a_node_load_series_follows_the_instants() {
        let mut s = Series::new(Duration::from_secs(5), 720);
        s.agregar(punto(0, &[]));
        s.agregar(punto(1, &["e1"]));
        s.agregar(punto(2, &[]));
        let c = s.carga(Fuente::Esclavo, "e1");
        assert_eq!(c.instantes_ms.len(), 3);
        assert_eq!(c.cpu, vec![None, Some(1.0), None]);
        assert_eq!(s.carga(Fuente::Memoria, "e1"), SerieCarga::default());
    }
}

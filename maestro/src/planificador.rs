//! The scheduling decision, as pure code: given the queue and a view of the esclavos, which job
//! goes where. No I/O, no clock, no locks: the dispatcher calls it under the state lock and does
//! the HTTP afterwards, and the tests drive it exhaustively without a network.
//!
//! The rule:
//! 1. The next job is the most urgent head (`(prioridad, id)`) among the classes that some live
//!    esclavo with a free slot can run; a class nobody can run (a `Cuda` job without a GPU
//!    esclavo) never blocks the others.
//! 2. Among the esclavos that can run it, the one with the most free slots wins; then the one
//!    running fewer jobs; CPU jobs prefer esclavos without a GPU (keeping GPUs for `Cuda` jobs);
//!    then the earlier in the caller's order (the caller sorts by name), so equal inputs give equal
//!    decisions.
//! 3. Repeat until no job can be placed.

use std::cmp::Reverse;

use crate::cola::{Clase, Cola, Pendiente};

/// What the planner needs to know of one esclavo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hueco {
    /// Free job slots now.
    pub libres: u32,
    /// Jobs it runs now (ours and any left from before a maestro restart).
    pub ejecutando: u32,
    /// Whether it can run `Cuda` jobs.
    pub gpu: bool,
    /// Whether its heartbeats are on time.
    pub vivo: bool,
}

impl Hueco {
    fn puede(&self, clase: Clase) -> bool {
        self.vivo && self.libres > 0 && (clase == Clase::Cpu || self.gpu)
    }
}

/// One job for one esclavo (an index into the caller's slice).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub esclavo: usize,
    pub trabajo: Pendiente,
}

/// Takes from the queue every job that can be placed now and says where each goes; updates the
/// slot counts in `esclavos` accordingly.
pub fn planificar(cola: &mut Cola, esclavos: &mut [Hueco]) -> Vec<Decision> {
    let mut decisiones = Vec::new();
    while let Some(clase) = siguiente_clase(cola, esclavos) {
        let Some(elegido) = elegir(esclavos, clase) else {
            break;
        };
        let Some(trabajo) = cola.sacar_primero(clase) else {
            break;
        };
        let hueco = &mut esclavos[elegido];
        hueco.libres -= 1;
        hueco.ejecutando += 1;
        decisiones.push(Decision {
            esclavo: elegido,
            trabajo,
        });
    }
    decisiones
}

fn siguiente_clase(cola: &Cola, esclavos: &[Hueco]) -> Option<Clase> {
    Clase::TODAS
        .into_iter()
        .filter(|&c| esclavos.iter().any(|h| h.puede(c)))
        .filter_map(|c| cola.primero(c).map(|p| (c, (p.prioridad, p.id))))
        .min_by_key(|&(_, clave)| clave)
        .map(|(c, _)| c)
}

fn elegir(esclavos: &[Hueco], clase: Clase) -> Option<usize> {
    esclavos
        .iter()
        .enumerate()
        .filter(|(_, h)| h.puede(clase))
        .min_by_key(|&(i, h)| {
            let gpu_desperdiciada = clase == Clase::Cpu && h.gpu;
            (Reverse(h.libres), h.ejecutando, gpu_desperdiciada, i)
        })
        .map(|(i, _)| i)
}

/// Why a pending job is not running yet, in words. `delante` is how many jobs of its class wait
/// ahead of it.
pub fn explicar(p: &Pendiente, delante: usize, esclavos: &[Hueco]) -> String {
    let vivos: Vec<&Hueco> = esclavos.iter().filter(|h| h.vivo).collect();
    if vivos.is_empty() {
        return "no esclavo is registered and alive: it runs as soon as one registers".into();
    }
    let clase = p.clase();
    let aptos: Vec<&&Hueco> = vivos
        .iter()
        .filter(|h| clase == Clase::Cpu || h.gpu)
        .collect();
    if aptos.is_empty() {
        return format!(
            "algoritmo {} needs an esclavo with a GPU, and none of the {} live esclavos has one: \
             it waits until a GPU esclavo registers",
            p.algoritmo,
            vivos.len()
        );
    }
    let libres: u32 = aptos.iter().map(|h| h.libres).sum();
    let ocupados: u32 = aptos.iter().map(|h| h.ejecutando).sum();
    if libres > 0 {
        return format!("being dispatched ({libres} free slots; {delante} jobs ahead of it)");
    }
    format!(
        "every eligible esclavo is busy ({} esclavos, {ocupados} jobs running, no free slot); \
         {delante} jobs wait ahead of it",
        aptos.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use comun::trabajo::ParamsEspera;
    use comun::{Algoritmo, Parametros, Prioridad, TrabajoId};

    fn job(id: u64, prioridad: u8, gpu: bool) -> Pendiente {
        Pendiente {
            id: TrabajoId(id),
            parametros: Parametros::Espera(ParamsEspera { ms: 0 }),
            algoritmo: if gpu {
                Algoritmo::Cuda
            } else {
                Algoritmo::Paralelo
            },
            prioridad: Prioridad::new(prioridad.into()).unwrap(),
            intentos: 0,
            fallos: 0,
        }
    }

    fn hueco(libres: u32, gpu: bool) -> Hueco {
        Hueco {
            libres,
            ejecutando: 0,
            gpu,
            vivo: true,
        }
    }

    #[test]
    fn most_urgent_first_and_fifo_within_a_priority() {
        let mut cola = Cola::default();
        for (id, p) in [(1, 3), (2, 2), (3, 1), (4, 2), (5, 1)] {
            cola.insertar(job(id, p, false));
        }
        let mut esclavos = vec![hueco(3, false)];
        let ids: Vec<u64> = planificar(&mut cola, &mut esclavos)
            .iter()
            .map(|d| d.trabajo.id.0)
            .collect();
        assert_eq!(ids, vec![3, 5, 2]);
        assert_eq!(esclavos[0].libres, 0);
        assert_eq!(cola.len(), 2);
    }

    #[test]
    fn a_cuda_job_without_a_gpu_does_not_block_cpu_jobs() {
        let mut cola = Cola::default();
        cola.insertar(job(1, 1, true));
        cola.insertar(job(2, 3, false));
        let mut esclavos = vec![hueco(4, false)];
        let d = planificar(&mut cola, &mut esclavos);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].trabajo.id, TrabajoId(2));
        assert_eq!(cola.primero(Clase::Gpu).unwrap().id, TrabajoId(1));
    }

    #[test]
    fn spreads_over_the_freest_esclavo_and_keeps_gpus_for_cuda() {
        let mut cola = Cola::default();
        for id in 1..=4 {
            cola.insertar(job(id, 2, false));
        }
        let mut esclavos = vec![hueco(2, true), hueco(2, false), hueco(1, false)];
        let d: Vec<usize> = planificar(&mut cola, &mut esclavos)
            .iter()
            .map(|d| d.esclavo)
            .collect();
        assert_eq!(d, vec![1, 0, 2, 1]);
    }

    #[test]
    fn dead_esclavos_get_nothing() {
        let mut cola = Cola::default();
        cola.insertar(job(1, 2, false));
        let mut esclavos = vec![Hueco {
            vivo: false,
            ..hueco(5, false)
        }];
        assert!(planificar(&mut cola, &mut esclavos).is_empty());
        assert_eq!(cola.len(), 1);
    }

    /// Every queue of up to 5 jobs (each of 3 priorities, CPU or GPU) against every set of up to
    /// 3 esclavos (0–2 free slots, with or without GPU, alive or not): the decision respects the
    /// slots and capabilities, takes a priority-ordered prefix of each class, and leaves nothing
    /// pending that some esclavo could still take.
    #[test]
    fn exhaustive_small_cases_keep_every_invariant() {
        let tipos_job: Vec<(u8, bool)> = (1..=3).flat_map(|p| [(p, false), (p, true)]).collect();
        let tipos_hueco: Vec<Hueco> = (0..=2)
            .flat_map(|l| {
                [(false, true), (true, true), (false, false)].map(|(gpu, vivo)| Hueco {
                    libres: l,
                    ejecutando: 0,
                    gpu,
                    vivo,
                })
            })
            .collect();
        let mut casos = 0;
        for n_jobs in 0..=4 {
            for combo_j in combinaciones(tipos_job.len(), n_jobs) {
                for n_esc in 0..=3 {
                    for combo_e in combinaciones(tipos_hueco.len(), n_esc) {
                        let jobs: Vec<Pendiente> = combo_j
                            .iter()
                            .enumerate()
                            .map(|(i, &t)| job(i as u64 + 1, tipos_job[t].0, tipos_job[t].1))
                            .collect();
                        let esclavos: Vec<Hueco> =
                            combo_e.iter().map(|&t| tipos_hueco[t].clone()).collect();
                        comprobar(&jobs, &esclavos);
                        casos += 1;
                    }
                }
            }
        }
        assert!(casos > 10_000, "only {casos} cases");
    }

    /// All sequences (with repetition) of `k` indices below `n`.
    fn combinaciones(n: usize, k: usize) -> Vec<Vec<usize>> {
        (0..k).fold(vec![vec![]], |acc, _| {
            acc.into_iter()
                .flat_map(|v| {
                    (0..n).map(move |i| {
                        let mut w = v.clone();
                        w.push(i);
                        w
                    })
                })
                .collect()
        })
    }

    fn comprobar(jobs: &[Pendiente], esclavos: &[Hueco]) {
        let mut cola = Cola::default();
        jobs.iter().for_each(|&j| cola.insertar(j));
        let mut despues = esclavos.to_vec();
        let decisiones = planificar(&mut cola, &mut despues);
        for (i, antes) in esclavos.iter().enumerate() {
            let asignados = decisiones.iter().filter(|d| d.esclavo == i).count() as u32;
            assert!(asignados <= antes.libres, "{jobs:?} {esclavos:?}");
            assert!(asignados == 0 || antes.vivo);
            assert_eq!(despues[i].libres, antes.libres - asignados);
        }
        for d in &decisiones {
            assert!(d.trabajo.clase() == Clase::Cpu || esclavos[d.esclavo].gpu);
        }
        for clase in Clase::TODAS {
            let mut de_clase: Vec<&Pendiente> =
                jobs.iter().filter(|j| j.clase() == clase).collect();
            de_clase.sort_by_key(|j| (j.prioridad, j.id));
            let tomados: Vec<TrabajoId> = decisiones
                .iter()
                .filter(|d| d.trabajo.clase() == clase)
                .map(|d| d.trabajo.id)
                .collect();
            let prefijo: Vec<TrabajoId> =
                de_clase.iter().take(tomados.len()).map(|j| j.id).collect();
            let mut ordenados = tomados.clone();
            ordenados.sort_by_key(|id| {
                jobs.iter()
                    .find(|j| j.id == *id)
                    .map(|j| (j.prioridad, j.id))
            });
            assert_eq!(ordenados, prefijo, "{jobs:?} {esclavos:?}");
            assert_eq!(tomados, prefijo, "dispatch order {jobs:?} {esclavos:?}");
            if cola.primero(clase).is_some() {
                assert!(!despues.iter().any(|h| h.puede(clase)), "work left undone");
            }
        }
    }

    #[test]
    fn explanations_name_the_real_cause() {
        let cuda = job(1, 2, true);
        assert!(explicar(&cuda, 0, &[]).contains("no esclavo is registered"));
        assert!(explicar(&cuda, 0, &[hueco(2, false)]).contains("GPU"));
        let cpu = job(2, 2, false);
        let ocupado = Hueco {
            libres: 0,
            ejecutando: 3,
            gpu: false,
            vivo: true,
        };
        let texto = explicar(&cpu, 7, &[ocupado]);
        assert!(
            texto.contains("busy") && texto.contains("7 jobs"),
            "{texto}"
        );
    }
}

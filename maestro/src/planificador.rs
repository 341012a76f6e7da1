//! The scheduling decision, as pure code: given the queue and a view of the esclavos, which job
//! goes where. No I/O, no clock, no locks: the dispatcher calls it under the state lock and does
//! the HTTP afterwards, and the tests drive it exhaustively without a network.
//!
//! The rule:
//! 1. The next job is the most urgent head (`(prioridad, id)`) among the classes that some
//!    esclavo can take now (rule 2); a class nobody can run (a `Cuda` job without a GPU
//!    esclavo) never blocks the others.
//! 2. An esclavo is *eligible* for a job when it is alive and has the capability the job needs
//!    (a GPU for `Cuda`). It can take the job when it also has a free slot (for `Cuda`, a free
//!    GPU slot too: each of its GPUs runs `--ranuras-por-gpu` `Cuda` jobs at once), and is not
//!    on a node in **crítico** alert while any eligible esclavo on a healthy node exists (busy
//!    or not): a node in trouble gets new work only when nothing else could ever run it.
//! 3. Among those that can take it, the lowest score wins, where
//!    `score = avisos + busy slots / slots + CPU use / 100 + memory use / 100`
//!    (each `aviso` alert on its node is a penalty of 1, as much as a fully busy esclavo); ties go
//!    to esclavos without a GPU for CPU jobs (keeping GPUs for `Cuda` jobs), then to the earlier
//!    in the caller's order (the caller sorts by name). Equal inputs give equal decisions.
//!    An `Auto` job goes to an esclavo with a free GPU slot whenever one can take it (it runs
//!    as `Cuda` there), otherwise to the best esclavo (as `Paralelo`); an `Auto` job of a tipo
//!    without a GPU version (`Tipo::tiene_cuda`) is a CPU job like any other.
//! 4. Repeat, with the chosen esclavo one slot busier (and one GPU slot, for a job that runs
//!    on its GPU: [`Decision::gpu`]), until no job can be placed.

use comun::Algoritmo;

use crate::cola::{Clase, Cola, Pendiente};

/// An esclavo as a candidate for the next job: what the planner needs to know of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidato {
    /// Free job slots now.
    pub libres: u32,
    /// Free GPU slots now: how many more jobs may run on its GPUs (each takes one of `libres`
    /// too); 0 without a GPU.
    pub libres_gpu: u32,
    /// Jobs it runs now (ours and any left from before a maestro restart).
    pub ejecutando: u32,
    /// Whether it has GPUs to run `Cuda` jobs on (free or not).
    pub gpu: bool,
    /// Whether its heartbeats are on time.
    pub vivo: bool,
    /// Whether its node has a fresh `crítico` alert.
    pub critico: bool,
    /// Fresh `aviso` alerts of its node.
    pub avisos: u32,
    /// CPU use of its host, percent (from its heartbeat).
    pub cpu: f32,
    /// Memory use of its host, percent (from its heartbeat).
    pub memoria: f32,
}

impl Candidato {
    /// An idle, healthy, alive esclavo with `libres` slots, any of which may run on its GPUs
    /// when it has them (`gpu`).
    pub fn libre(libres: u32, gpu: bool) -> Self {
        Candidato {
            libres,
            libres_gpu: if gpu { libres } else { 0 },
            ejecutando: 0,
            gpu,
            vivo: true,
            critico: false,
            avisos: 0,
            cpu: 0.0,
            memoria: 0.0,
        }
    }

    fn elegible(&self, clase: Clase) -> bool {
        self.vivo && (clase == Clase::Cpu || self.gpu)
    }

    /// Whether it has the free slots a job of `clase` takes.
    fn hay_sitio(&self, clase: Clase) -> bool {
        self.libres > 0 && (clase == Clase::Cpu || self.libres_gpu > 0)
    }

    /// Whether a job may start on one of its GPUs now.
    fn gpu_libre(&self) -> bool {
        self.gpu && self.libres_gpu > 0 && self.libres > 0
    }

    fn puntos(&self) -> f64 {
        let slots = self.libres + self.ejecutando;
        let ocupacion = if slots == 0 {
            1.0
        } else {
            f64::from(self.ejecutando) / f64::from(slots)
        };
        f64::from(self.avisos)
            + ocupacion
            + f64::from(self.cpu) / 100.0
            + f64::from(self.memoria) / 100.0
    }
}

/// One job for one esclavo (an index into the caller's slice).
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub esclavo: usize,
    pub trabajo: Pendiente,
    /// Whether it runs on the esclavo's GPU, taking a GPU slot: a `Cuda` job, or an `Auto` one
    /// sent where a GPU slot is free ([`resolver`] makes it `Cuda`).
    pub gpu: bool,
}

/// Takes from the queue every job that can be placed now and says where each goes; updates the
/// slot counts in `esclavos` accordingly.
pub fn planificar(cola: &mut Cola, esclavos: &mut [Candidato]) -> Vec<Decision> {
    let mut decisiones = Vec::new();
    while let Some((clase, elegido)) = siguiente(cola, esclavos) {
        let Some(trabajo) = cola.sacar_primero(clase) else {
            break;
        };
        let candidato = &mut esclavos[elegido];
        let gpu = clase == Clase::Gpu || (trabajo.auto_en_gpu() && candidato.gpu_libre());
        candidato.libres -= 1;
        candidato.libres_gpu -= u32::from(gpu);
        candidato.ejecutando += 1;
        decisiones.push(Decision {
            esclavo: elegido,
            trabajo,
            gpu,
        });
    }
    decisiones
}

/// The class of the next job to place, and the esclavo it goes to.
fn siguiente(cola: &Cola, esclavos: &[Candidato]) -> Option<(Clase, usize)> {
    Clase::TODAS
        .into_iter()
        .filter_map(|c| cola.primero(c).map(|p| (c, p)))
        .filter_map(|(c, p)| {
            let e = elegir(esclavos, c, p.auto_en_gpu())?;
            Some(((p.prioridad, p.id), c, e))
        })
        .min_by_key(|&(clave, _, _)| clave)
        .map(|(_, c, e)| (c, e))
}

/// The esclavo that takes the next job of `clase`, if any can (rules 2 and 3); `auto` for an
/// `Auto` job, which prefers a GPU.
pub fn elegir(esclavos: &[Candidato], clase: Clase, auto: bool) -> Option<usize> {
    let hay_sano = esclavos.iter().any(|h| h.elegible(clase) && !h.critico);
    esclavos
        .iter()
        .enumerate()
        .filter(|(_, h)| h.elegible(clase) && h.hay_sitio(clase) && !(h.critico && hay_sano))
        .min_by(|(i, a), (j, b)| {
            let sin_gpu_para_auto = |h: &Candidato| auto && !h.gpu_libre();
            let gpu_desperdiciada = |h: &Candidato| !auto && clase == Clase::Cpu && h.gpu;
            sin_gpu_para_auto(a)
                .cmp(&sin_gpu_para_auto(b))
                .then(a.puntos().total_cmp(&b.puntos()))
                .then(gpu_desperdiciada(a).cmp(&gpu_desperdiciada(b)))
                .then(i.cmp(j))
        })
        .map(|(i, _)| i)
}

/// The backend a job runs with on an esclavo: `Auto` becomes `Cuda` on a GPU esclavo and
/// `Paralelo` elsewhere; every other algoritmo stays as asked.
pub fn resolver(algoritmo: Algoritmo, gpu: bool) -> Algoritmo {
    match algoritmo {
        Algoritmo::Auto if gpu => Algoritmo::Cuda,
        Algoritmo::Auto => Algoritmo::Paralelo,
        otro => otro,
    }
}

/// Why a pending job is not running yet, in words. `delante` is how many jobs of its class wait
/// ahead of it.
pub fn explicar(p: &Pendiente, delante: usize, esclavos: &[Candidato]) -> String {
    let vivos = esclavos.iter().filter(|h| h.vivo).count();
    if vivos == 0 {
        return "no esclavo is registered and alive: it runs as soon as one registers".into();
    }
    let clase = p.clase();
    let aptos: Vec<&Candidato> = esclavos.iter().filter(|h| h.elegible(clase)).collect();
    if aptos.is_empty() {
        return format!(
            "algoritmo {} needs an esclavo with a GPU, and none of the {vivos} live esclavos has \
             one: it waits until a GPU esclavo registers",
            p.algoritmo
        );
    }
    if elegir(esclavos, clase, p.auto_en_gpu()).is_some() {
        return format!("being dispatched ({delante} jobs ahead of it)");
    }
    let sanos: Vec<&&Candidato> = aptos.iter().filter(|h| !h.critico).collect();
    let criticos_libres = aptos
        .iter()
        .filter(|h| h.critico && h.hay_sitio(clase))
        .count();
    let ocupados: u32 = aptos.iter().map(|h| h.ejecutando).sum();
    if sanos.is_empty() {
        return format!(
            "the only eligible esclavos ({}) are on nodes in critical alert, and all are busy \
             ({ocupados} jobs running); {delante} jobs wait ahead of it",
            aptos.len()
        );
    }
    if criticos_libres > 0 {
        return format!(
            "the {criticos_libres} eligible esclavos with a free slot are on nodes in critical \
             alert; it waits for a slot on one of the {} esclavos on healthy nodes (all busy); \
             {delante} jobs wait ahead of it",
            sanos.len()
        );
    }
    if clase == Clase::Gpu && sanos.iter().any(|h| h.libres > 0) {
        return format!(
            "every GPU of the {} esclavos with one is busy (each runs --ranuras-por-gpu Cuda \
             jobs at once); {delante} jobs wait ahead of it",
            aptos.len()
        );
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
            plazo_s: None,
        }
    }

    fn candidato(libres: u32, gpu: bool) -> Candidato {
        Candidato::libre(libres, gpu)
    }

    fn destinos(cola: &mut Cola, esclavos: &mut [Candidato]) -> Vec<usize> {
        planificar(cola, esclavos)
            .iter()
            .map(|d| d.esclavo)
            .collect()
    }

    fn cola_de(n: u64) -> Cola {
        let mut cola = Cola::default();
        (1..=n).for_each(|id| cola.insertar(job(id, 2, false)));
        cola
    }

    #[test]
    fn most_urgent_first_and_fifo_within_a_priority() {
        let mut cola = Cola::default();
        for (id, p) in [(1, 3), (2, 2), (3, 1), (4, 2), (5, 1)] {
            cola.insertar(job(id, p, false));
        }
        let mut esclavos = vec![candidato(3, false)];
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
        let mut esclavos = vec![candidato(4, false)];
        let d = planificar(&mut cola, &mut esclavos);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].trabajo.id, TrabajoId(2));
        assert_eq!(cola.primero(Clase::Gpu).unwrap().id, TrabajoId(1));
    }

    #[test]
    fn spreads_by_occupancy_and_keeps_gpus_for_cuda() {
        let mut esclavos = vec![candidato(2, true), candidato(2, false), candidato(1, false)];
        // All idle: the GPU esclavo is the last resort; then the least occupied fraction wins.
        assert_eq!(destinos(&mut cola_de(4), &mut esclavos), vec![1, 2, 0, 1]);
    }

    #[test]
    fn prefers_lower_cpu_more_free_memory_and_fewer_avisos() {
        let cargado = Candidato {
            cpu: 90.0,
            ..candidato(1, false)
        };
        let sin_memoria = Candidato {
            memoria: 95.0,
            ..candidato(1, false)
        };
        let con_aviso = Candidato {
            avisos: 1,
            ..candidato(1, false)
        };
        let tranquilo = candidato(1, false);
        let mut esclavos = vec![con_aviso, cargado, sin_memoria, tranquilo];
        assert_eq!(destinos(&mut cola_de(4), &mut esclavos), vec![3, 1, 2, 0]);
    }

    #[test]
    fn a_critical_node_gets_nothing_while_a_healthy_eligible_esclavo_exists() {
        let critico = Candidato {
            critico: true,
            ..candidato(4, false)
        };
        // A healthy esclavo with one slot: it takes one job, the rest wait for it.
        let mut esclavos = vec![critico.clone(), candidato(1, false)];
        let mut cola = cola_de(3);
        assert_eq!(destinos(&mut cola, &mut esclavos), vec![1]);
        assert_eq!(cola.len(), 2);
        let texto = explicar(cola.primero(Clase::Cpu).unwrap(), 0, &esclavos);
        assert!(
            texto.contains("critical alert") && texto.contains("healthy"),
            "{texto}"
        );
        // Only critical nodes can run it: they take it rather than leave it forever.
        let mut solo_criticos = vec![critico.clone()];
        assert_eq!(destinos(&mut cola_de(2), &mut solo_criticos), vec![0, 0]);
        // A dead healthy esclavo does not hold work back from a live critical one.
        let muerto = Candidato {
            vivo: false,
            ..candidato(1, false)
        };
        assert_eq!(destinos(&mut cola_de(1), &mut [critico, muerto]), vec![0]);
    }

    #[test]
    fn auto_jobs_take_a_free_gpu_and_otherwise_the_cpu() {
        let mut cola = Cola::default();
        for id in 1..=3 {
            cola.insertar(Pendiente {
                algoritmo: Algoritmo::Auto,
                ..job(id, 2, false)
            });
        }
        let mut esclavos = vec![candidato(2, false), candidato(1, true)];
        let d = planificar(&mut cola, &mut esclavos);
        let destinos: Vec<usize> = d.iter().map(|d| d.esclavo).collect();
        assert_eq!(destinos, vec![1, 0, 0]);
        assert_eq!(resolver(Algoritmo::Auto, true), Algoritmo::Cuda);
        assert_eq!(resolver(Algoritmo::Auto, false), Algoritmo::Paralelo);
        assert_eq!(resolver(Algoritmo::Secuencial, true), Algoritmo::Secuencial);
    }

    #[test]
    fn cuda_jobs_wait_for_a_free_gpu_slot_while_cpu_jobs_take_the_other_slots() {
        let mut cola = Cola::default();
        for id in 1..=3 {
            cola.insertar(job(id, 1, true));
        }
        cola.insertar(job(4, 2, false));
        let mut esclavos = vec![Candidato {
            libres_gpu: 1,
            ..candidato(4, true)
        }];
        let d = planificar(&mut cola, &mut esclavos);
        let hechas: Vec<(u64, bool)> = d.iter().map(|d| (d.trabajo.id.0, d.gpu)).collect();
        assert_eq!(hechas, [(1, true), (4, false)]);
        assert_eq!((esclavos[0].libres, esclavos[0].libres_gpu), (2, 0));
        let texto = explicar(cola.primero(Clase::Gpu).unwrap(), 1, &esclavos);
        assert!(
            texto.contains("every GPU") && texto.contains("1 jobs"),
            "{texto}"
        );
    }

    #[test]
    fn an_auto_job_runs_on_the_cpu_where_every_gpu_slot_is_taken() {
        let mut cola = Cola::default();
        for id in 1..=2 {
            cola.insertar(Pendiente {
                algoritmo: Algoritmo::Auto,
                ..job(id, 2, false)
            });
        }
        let mut esclavos = vec![Candidato {
            libres_gpu: 1,
            ..candidato(3, true)
        }];
        let d = planificar(&mut cola, &mut esclavos);
        let hechas: Vec<(usize, bool)> = d.iter().map(|d| (d.esclavo, d.gpu)).collect();
        assert_eq!(
            hechas,
            [(0, true), (0, false)],
            "the second runs as Paralelo"
        );
        assert_eq!(esclavos[0].libres_gpu, 0);
    }

    /// Every tipo's `Auto` job, with a free GPU: on the GPU exactly when the tipo has a GPU
    /// version; otherwise on the CPU esclavo, keeping the GPU free.
    #[test]
    fn an_auto_job_goes_to_a_gpu_only_if_its_tipo_has_a_gpu_version() {
        let catalogo = comun::Tipo::TODOS
            .into_iter()
            .filter_map(Parametros::por_defecto);
        for parametros in catalogo.chain([Parametros::Espera(ParamsEspera { ms: 0 })]) {
            let tipo = parametros.tipo();
            let mut cola = Cola::default();
            cola.insertar(Pendiente {
                parametros,
                algoritmo: Algoritmo::Auto,
                ..job(1, 2, false)
            });
            let mut esclavos = vec![candidato(1, true), candidato(1, false)];
            let d = planificar(&mut cola, &mut esclavos);
            assert_eq!(d.len(), 1, "{tipo}");
            assert_eq!(d[0].gpu, tipo.tiene_cuda(), "{tipo}");
            assert_eq!(d[0].esclavo == 0, tipo.tiene_cuda(), "{tipo}");
        }
    }

    #[test]
    fn dead_esclavos_get_nothing() {
        let mut cola = Cola::default();
        cola.insertar(job(1, 2, false));
        let mut esclavos = vec![Candidato {
            vivo: false,
            ..candidato(5, false)
        }];
        assert!(planificar(&mut cola, &mut esclavos).is_empty());
        assert_eq!(cola.len(), 1);
    }

    /// Every queue of up to 3 jobs (each of 3 priorities, CPU or GPU) against every set of up to
    /// 3 esclavos (0–2 free slots, with or without GPU and 0–1 free GPU slots, alive or not,
    /// healthy or critical): the decision respects slots, GPU slots, capabilities and critical
    /// alerts, takes a priority-ordered prefix of each class, and leaves nothing pending that
    /// some esclavo could still take.
    #[test]
    fn exhaustive_small_cases_keep_every_invariant() {
        let tipos_job: Vec<(u8, bool)> = (1..=3).flat_map(|p| [(p, false), (p, true)]).collect();
        let mut tipos_hueco = Vec::new();
        for libres in 0..=2 {
            for (gpu, libres_gpu, vivo) in [
                (false, 0, true),
                (true, 0, true),
                (true, 1, true),
                (false, 0, false),
            ] {
                for critico in [false, true] {
                    tipos_hueco.push(Candidato {
                        vivo,
                        critico,
                        libres_gpu,
                        ..candidato(libres, gpu)
                    });
                }
            }
        }
        let mut casos = 0;
        for n_jobs in 0..=3 {
            for combo_j in combinaciones(tipos_job.len(), n_jobs) {
                for n_esc in 0..=3 {
                    for combo_e in combinaciones(tipos_hueco.len(), n_esc) {
                        let jobs: Vec<Pendiente> = combo_j
                            .iter()
                            .enumerate()
                            .map(|(i, &t)| job(i as u64 + 1, tipos_job[t].0, tipos_job[t].1))
                            .collect();
                        let esclavos: Vec<Candidato> =
                            combo_e.iter().map(|&t| tipos_hueco[t].clone()).collect();
                        comprobar(&jobs, &esclavos);
                        casos += 1;
                    }
                }
            }
        }
        assert!(casos > 1_000_000, "only {casos} cases");
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

    fn comprobar(jobs: &[Pendiente], esclavos: &[Candidato]) {
        let mut cola = Cola::default();
        jobs.iter().for_each(|j| cola.insertar(j.clone()));
        let mut despues = esclavos.to_vec();
        let decisiones = planificar(&mut cola, &mut despues);
        for (i, antes) in esclavos.iter().enumerate() {
            let asignados = decisiones.iter().filter(|d| d.esclavo == i).count() as u32;
            assert!(asignados <= antes.libres, "{jobs:?} {esclavos:?}");
            assert!(asignados == 0 || antes.vivo);
            assert_eq!(despues[i].libres, antes.libres - asignados);
            let en_gpu = decisiones
                .iter()
                .filter(|d| d.esclavo == i && d.gpu)
                .count() as u32;
            assert!(
                en_gpu <= antes.libres_gpu,
                "GPU slots: {jobs:?} {esclavos:?}"
            );
            assert_eq!(despues[i].libres_gpu, antes.libres_gpu - en_gpu);
        }
        for d in &decisiones {
            let clase = d.trabajo.clase();
            let h = &esclavos[d.esclavo];
            assert!(clase == Clase::Cpu || h.gpu);
            assert_eq!(d.gpu, clase == Clase::Gpu, "only Cuda jobs here");
            let sano_existe = esclavos.iter().any(|o| o.elegible(clase) && !o.critico);
            assert!(
                !(h.critico && sano_existe),
                "critical node used: {jobs:?} {esclavos:?}"
            );
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
            assert_eq!(tomados, prefijo, "dispatch order {jobs:?} {esclavos:?}");
            if cola.primero(clase).is_some() {
                assert!(elegir(&despues, clase, false).is_none(), "work left undone");
            }
        }
    }

    #[test]
    fn explanations_name_the_real_cause() {
        let cuda = job(1, 2, true);
        assert!(explicar(&cuda, 0, &[]).contains("no esclavo is registered"));
        assert!(explicar(&cuda, 0, &[candidato(2, false)]).contains("GPU"));
        let cpu = job(2, 2, false);
        let ocupado = Candidato {
            libres: 0,
            ejecutando: 3,
            ..candidato(0, false)
        };
        let texto = explicar(&cpu, 7, std::slice::from_ref(&ocupado));
        assert!(
            texto.contains("busy") && texto.contains("7 jobs"),
            "{texto}"
        );
        let critico_ocupado = Candidato {
            critico: true,
            ..ocupado
        };
        let texto = explicar(&cpu, 0, &[critico_ocupado]);
        assert!(
            texto.contains("only eligible esclavos") && texto.contains("critical"),
            "{texto}"
        );
    }
}

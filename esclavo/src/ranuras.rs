//! The job slots of an esclavo ([`Ranuras`]): which attempts run now, each with the
//! [`Parada`] that stops it, and the record of those that ended.
//!
//! A job takes a slot when `/ejecutar` accepts it and frees it the moment its kernel returns
//! (not when the maestro acknowledges the result). A `Cuda` job also takes a slot on one GPU,
//! the device it runs on ([`crate::gpus`] picks it), in the same step. Every attempt gets its own
//! [`kernels::Control`]: its time limit (`Asignacion::plazo_ms`, counted from when the slot is
//! taken) and the flag that `POST /cancelar`, the heartbeat's `cancelar` list and shutdown set.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use comun::nodo::{Asignacion, Gpu, RespuestaCancelar};
use comun::{Estado, TrabajoId};
use kernels::Control;
use tokio::sync::Notify;

use crate::gpus::{GpuEnUso, RanurasGpu};
use crate::vista::{EnCurso, HISTORIAL, Terminado};

/// A running attempt is known by its job and attempt number.
pub(crate) type Clave = (TrabajoId, u32);

/// How to stop one running attempt: shared by its slot (for `/cancelar`) and its task.
#[derive(Clone)]
pub(crate) struct Parada {
    /// The kernel's flag and time limit.
    pub(crate) control: Control,
    /// Wakes an `espera` timer when the flag is set (the kernels poll the flag themselves).
    pub(crate) aviso: Arc<Notify>,
}

impl Parada {
    /// A stop with the attempt's time limit (`plazo_ms`, 0 for none) starting now.
    pub(crate) fn new(plazo_ms: u64) -> Self {
        let control = if plazo_ms > 0 {
            Control::con_plazo(Duration::from_millis(plazo_ms))
        } else {
            Control::ninguno()
        };
        Self {
            control,
            aviso: Arc::default(),
        }
    }

    /// Sets the flag, for `motivo`, and wakes the attempt if it is a timer.
    pub(crate) fn parar(&self, motivo: &str) {
        self.control.cancelar(motivo);
        self.aviso.notify_one();
    }
}

/// One attempt in its slot.
struct Intento {
    /// What `/estado` shows of it.
    vista: EnCurso,
    /// When it took the slot (for its duration).
    inicio: Instant,
    /// How to stop it.
    parada: Parada,
    /// The GPU whose slot it holds (a `Cuda` job).
    gpu: Option<u32>,
}

/// The job slots of an esclavo and what passed through them.
pub(crate) struct Ranuras {
    /// How many attempts may run at once.
    capacidad: u32,
    /// Everything below changes together, in short critical sections (never across `.await`).
    ocupacion: Mutex<Ocupacion>,
}

/// The mutable part of [`Ranuras`].
struct Ocupacion {
    /// Attempts running now.
    en_curso: HashMap<Clave, Intento>,
    /// The `Cuda` jobs each GPU runs now.
    gpus: RanurasGpu,
    /// Attempts that ended with a result.
    completados: u64,
    /// Attempts that ended with an error (their time limit included).
    fallidos: u64,
    /// Attempts that were cancelled.
    cancelados: u64,
    /// The last [`HISTORIAL`] attempts that ended, oldest at the front.
    historial: VecDeque<Terminado>,
}

/// What `/estado` shows of the slots.
pub(crate) struct Actividad {
    /// Running attempts, oldest first.
    pub ejecutando: Vec<EnCurso>,
    /// Attempts that ended with a result.
    pub completados: u64,
    /// Attempts that ended with an error.
    pub fallidos: u64,
    /// Attempts that were cancelled.
    pub cancelados: u64,
    /// Attempts that ended, newest first.
    pub historial: Vec<Terminado>,
    /// Every GPU and the `Cuda` jobs it runs.
    pub gpus: Vec<GpuEnUso>,
}

/// Whether an attempt got a slot.
pub(crate) enum RanuraTomada {
    /// It got one and must be started, stopped through `parada`; a `Cuda` job runs on `gpu`.
    Nueva { parada: Parada, gpu: Option<u32> },
    /// It is already running (a repeated `/ejecutar`): accepted again, not started twice.
    YaEnCurso,
}

impl Ranuras {
    /// `capacidad` slots for any job, and `por_gpu` more on each of `gpus` that a `Cuda` job
    /// takes as well.
    pub(crate) fn new(capacidad: u32, gpus: &[Gpu], por_gpu: u32) -> Self {
        let ocupacion = Ocupacion {
            en_curso: HashMap::new(),
            gpus: RanurasGpu::new(gpus, por_gpu),
            completados: 0,
            fallidos: 0,
            cancelados: 0,
            historial: VecDeque::new(),
        };
        Self {
            capacidad,
            ocupacion: Mutex::new(ocupacion),
        }
    }

    /// How many attempts may run at once.
    pub(crate) fn capacidad(&self) -> u32 {
        self.capacidad
    }

    /// How many `Cuda` attempts may run at once, on all GPUs.
    pub(crate) fn capacidad_gpu(&self) -> u32 {
        self.ocupacion().gpus.capacidad()
    }

    /// Poisoning only means another thread panicked mid-update of plain counters and maps;
    /// the data is still usable, and an esclavo that stops serving would be worse.
    fn ocupacion(&self) -> MutexGuard<'_, Ocupacion> {
        self.ocupacion.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes a slot for `a` (and a GPU's for a `Cuda` job), or says why not.
    pub(crate) fn tomar(&self, a: &Asignacion) -> Result<RanuraTomada, String> {
        let mut i = self.ocupacion();
        if i.en_curso.contains_key(&(a.id, a.intento)) {
            return Ok(RanuraTomada::YaEnCurso);
        }
        let usadas = i.en_curso.len();
        if usadas >= self.capacidad as usize {
            return Err(format!("ocupado: {usadas}/{} slots in use", self.capacidad));
        }
        let gpu = if a.algoritmo.necesita_gpu() {
            Some(i.gpus.tomar()?)
        } else {
            None
        };
        let vista = EnCurso {
            id: a.id,
            intento: a.intento,
            descripcion: a.parametros.descripcion(),
            algoritmo: a.algoritmo,
            gpu,
            desde_ms: comun::ahora_ms(),
        };
        let parada = Parada::new(a.plazo_ms);
        let intento = Intento {
            vista,
            inicio: Instant::now(),
            parada: parada.clone(),
            gpu,
        };
        i.en_curso.insert((a.id, a.intento), intento);
        Ok(RanuraTomada::Nueva { parada, gpu })
    }

    /// Frees the slot of an attempt that ended, and records how it ended: `Completado`,
    /// `Fallido` or `Cancelado`.
    pub(crate) fn liberar(&self, clave: Clave, estado: Estado) {
        let mut i = self.ocupacion();
        let Some(Intento { inicio, gpu, .. }) = i.en_curso.remove(&clave) else {
            return;
        };
        if let Some(indice) = gpu {
            i.gpus.liberar(indice);
        }
        match estado {
            Estado::Completado => i.completados += 1,
            Estado::Cancelado => i.cancelados += 1,
            _ => i.fallidos += 1,
        }
        if i.historial.len() == HISTORIAL {
            i.historial.pop_front();
        }
        i.historial.push_back(Terminado {
            id: clave.0,
            intento: clave.1,
            estado,
            duracion_s: inicio.elapsed().as_secs_f64(),
            fin_ms: comun::ahora_ms(),
        });
    }

    /// Tells every running attempt of each job in `ids` to stop, for `motivo`; says which jobs
    /// were running (each listed once) and which were not.
    pub(crate) fn cancelar(&self, ids: &[TrabajoId], motivo: &str) -> RespuestaCancelar {
        let i = self.ocupacion();
        let mut respuesta = RespuestaCancelar::default();
        let mut vistos = HashSet::new();
        for &id in ids.iter().filter(|id| vistos.insert(**id)) {
            let mut alguno = false;
            for intento in i.en_curso.values().filter(|x| x.vista.id == id) {
                intento.parada.parar(motivo);
                alguno = true;
            }
            if alguno {
                respuesta.cancelados.push(id);
            } else {
                respuesta.desconocidos.push(id);
            }
        }
        respuesta
    }

    /// How many slots run an attempt now.
    pub(crate) fn ocupadas(&self) -> usize {
        self.ocupacion().en_curso.len()
    }

    /// Every GPU and the `Cuda` jobs it runs now.
    pub(crate) fn gpus(&self) -> Vec<GpuEnUso> {
        self.ocupacion().gpus.vista()
    }

    /// Ids of the jobs running now, for the heartbeat.
    pub(crate) fn ids_en_curso(&self) -> Vec<TrabajoId> {
        let mut ids: Vec<_> = self
            .ocupacion()
            .en_curso
            .keys()
            .map(|(id, _)| *id)
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    pub(crate) fn actividad(&self) -> Actividad {
        let i = self.ocupacion();
        let mut ejecutando: Vec<_> = i.en_curso.values().map(|x| x.vista.clone()).collect();
        ejecutando.sort_by_key(|v| (v.desde_ms, v.id, v.intento));
        Actividad {
            ejecutando,
            completados: i.completados,
            fallidos: i.fallidos,
            cancelados: i.cancelados,
            historial: i.historial.iter().rev().cloned().collect(),
            gpus: i.gpus.vista(),
        }
    }
}

#[cfg(test)]
mod tests {
    use comun::trabajo::ParamsEspera;
    use comun::{Algoritmo, Parametros};

    use super::*;

    fn cuda(id: u64) -> Asignacion {
        Asignacion {
            algoritmo: Algoritmo::Cuda,
            ..espera(id, 1)
        }
    }

    fn gpu(indice: u32) -> Gpu {
        Gpu {
            indice,
            nombre: "H100".into(),
            memoria_bytes: 80 << 30,
            capacidad_computo: "9.0".into(),
            driver: "550".into(),
            pci: String::new(),
            limites: None,
        }
    }

    fn dispositivo(t: Result<RanuraTomada, String>) -> Option<u32> {
        match t {
            Ok(RanuraTomada::Nueva { gpu, .. }) => gpu,
            Ok(RanuraTomada::YaEnCurso) => panic!("a new attempt"),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn a_cuda_job_takes_a_job_slot_and_a_gpu_slot_and_frees_both() {
        let r = Ranuras::new(3, &[gpu(0), gpu(1)], 1);
        assert_eq!(r.capacidad_gpu(), 2);
        assert_eq!(dispositivo(r.tomar(&cuda(1))), Some(0));
        assert_eq!(
            dispositivo(r.tomar(&espera(2, 1))),
            None,
            "a CPU job takes no GPU"
        );
        assert_eq!(dispositivo(r.tomar(&cuda(3))), Some(1));
        assert_eq!(r.ocupadas(), 3);
        r.liberar((TrabajoId(1), 1), Estado::Completado);
        let f = r.actividad();
        assert_eq!(
            f.gpus.iter().map(|g| g.ejecutando).collect::<Vec<_>>(),
            [0, 1]
        );
        let en_gpu: Vec<_> = f.ejecutando.iter().map(|e| (e.id.0, e.gpu)).collect();
        assert_eq!(en_gpu, [(2, None), (3, Some(1))]);
        assert_eq!(
            dispositivo(r.tomar(&cuda(4))),
            Some(0),
            "GPU 0 is free again"
        );
    }

    #[test]
    fn a_cuda_job_is_refused_when_every_gpu_is_busy_and_takes_no_job_slot() {
        let r = Ranuras::new(4, &[gpu(0)], 1);
        assert_eq!(dispositivo(r.tomar(&cuda(1))), Some(0));
        assert_eq!(
            r.tomar(&cuda(2)).err().unwrap(),
            "ocupado: 1/1 GPU slots in use"
        );
        assert_eq!(r.ocupadas(), 1, "the refused job holds nothing");
        assert!(matches!(
            r.tomar(&espera(3, 1)),
            Ok(RanuraTomada::Nueva { .. })
        ));
        let sin_gpu = Ranuras::new(4, &[], 1);
        assert_eq!(
            sin_gpu.tomar(&cuda(1)).err().unwrap(),
            "no GPU on this esclavo"
        );
        assert_eq!(sin_gpu.capacidad_gpu(), 0);
    }

    #[test]
    fn the_job_slots_bound_cuda_jobs_too() {
        let r = Ranuras::new(1, &[gpu(0), gpu(1)], 2);
        assert_eq!(dispositivo(r.tomar(&cuda(1))), Some(0));
        assert_eq!(
            r.tomar(&cuda(2)).err().unwrap(),
            "ocupado: 1/1 slots in use"
        );
        assert_eq!(r.gpus().iter().map(|g| g.ejecutando).sum::<u32>(), 1);
    }

    fn espera(id: u64, intento: u32) -> Asignacion {
        Asignacion {
            id: TrabajoId(id),
            intento,
            parametros: Parametros::Espera(ParamsEspera::new(1).unwrap()),
            algoritmo: Algoritmo::Secuencial,
            plazo_ms: 0,
        }
    }

    #[test]
    fn a_full_esclavo_refuses_and_says_how_full() {
        let r = Ranuras::new(2, &[], 1);
        assert!(matches!(
            r.tomar(&espera(1, 1)),
            Ok(RanuraTomada::Nueva { .. })
        ));
        assert!(matches!(
            r.tomar(&espera(2, 1)),
            Ok(RanuraTomada::Nueva { .. })
        ));
        assert_eq!(
            r.tomar(&espera(3, 1)).err().unwrap(),
            "ocupado: 2/2 slots in use"
        );
        r.liberar((TrabajoId(1), 1), Estado::Completado);
        assert!(matches!(
            r.tomar(&espera(3, 1)),
            Ok(RanuraTomada::Nueva { .. })
        ));
    }

    #[test]
    fn a_repeated_attempt_is_not_started_twice_but_a_new_attempt_is() {
        let r = Ranuras::new(3, &[], 1);
        assert!(matches!(
            r.tomar(&espera(1, 1)),
            Ok(RanuraTomada::Nueva { .. })
        ));
        assert!(matches!(
            r.tomar(&espera(1, 1)),
            Ok(RanuraTomada::YaEnCurso)
        ));
        assert!(matches!(
            r.tomar(&espera(1, 2)),
            Ok(RanuraTomada::Nueva { .. })
        ));
        assert_eq!(r.ids_en_curso(), [TrabajoId(1)]);
    }

    #[test]
    fn history_keeps_the_last_hundred_newest_first_and_counts_all() {
        let r = Ranuras::new(1, &[], 1);
        for id in 0..(HISTORIAL as u64 + 5) {
            r.tomar(&espera(id, 1)).unwrap();
            let estado = [Estado::Completado, Estado::Fallido, Estado::Cancelado][id as usize % 3];
            r.liberar((TrabajoId(id), 1), estado);
        }
        let f = r.actividad();
        assert_eq!(f.historial.len(), HISTORIAL);
        assert_eq!(f.historial[0].id, TrabajoId(HISTORIAL as u64 + 4));
        assert_eq!(f.historial[0].estado, Estado::Cancelado, "104 % 3 == 2");
        assert_eq!(f.historial[1].estado, Estado::Fallido);
        assert_eq!(f.historial[2].estado, Estado::Completado);
        assert_eq!(
            f.completados + f.fallidos + f.cancelados,
            HISTORIAL as u64 + 5
        );
        assert_eq!(f.cancelados, (HISTORIAL as u64 + 5) / 3);
        assert!(f.ejecutando.is_empty());
    }

    #[test]
    fn cancelling_stops_every_attempt_of_a_job_and_names_the_others() {
        let r = Ranuras::new(4, &[], 1);
        let paradas: Vec<Parada> = [espera(1, 1), espera(1, 2), espera(2, 1)]
            .iter()
            .map(|a| match r.tomar(a) {
                Ok(RanuraTomada::Nueva { parada, .. }) => parada,
                _ => panic!("a free slot"),
            })
            .collect();
        let ids = [TrabajoId(1), TrabajoId(9), TrabajoId(1)];
        let respuesta = r.cancelar(&ids, "cancelled by a user");
        assert_eq!(respuesta.cancelados, [TrabajoId(1)]);
        assert_eq!(respuesta.desconocidos, [TrabajoId(9)]);
        assert!(paradas[0].control.cancelado() && paradas[1].control.cancelado());
        assert!(!paradas[2].control.cancelado(), "job 2 was not named");
        let e = paradas[0].control.comprobar().unwrap_err();
        assert_eq!(e.to_string(), "cancelled: cancelled by a user");
    }
}

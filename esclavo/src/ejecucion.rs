//! Running jobs: the slots, the jobs in them, and the record of those that ended.
//!
//! A job takes a slot when `/ejecutar` accepts it and frees it the moment its kernel returns
//! (not when the maestro acknowledges the result). Kernels run on tokio's blocking pool;
//! `espera` jobs are timers, so thousands of them cost no threads.
//!
//! Every attempt gets its own [`kernels::Control`]: its time limit (`Asignacion::plazo_ms`,
//! counted from when the slot is taken) and the flag that `POST /cancelar`, the heartbeat's
//! `cancelar` list and shutdown set. The kernel checks it between chunks of work (within about
//! 100 ms; docs/kernels.md) and an `espera` timer wakes at once; the attempt then frees its
//! slot and reports `Fallido` with `cancelled: <motivo>` or `time limit of N s exceeded after
//! M s`, and `/estado` records it as `cancelado` or `fallido`.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use comun::nodo::{
    Asignacion, InformeResultado, Rechazo, RespuestaCancelar, RespuestaEjecutar, Salida,
};
use comun::trabajo::{Detalle, Resultado};
use comun::{Algoritmo, Estado, Parametros, TrabajoId};
use kernels::{Control, ErrorKernel};
use tokio::sync::Notify;

use crate::compartido::Esclavo;
use crate::estado::{EnCurso, HISTORIAL, Terminado};

/// A running attempt is known by its job and attempt number.
type Clave = (TrabajoId, u32);

/// Why running attempts stop when the esclavo shuts down (their thread finishes early; no
/// result is sent).
const MOTIVO_CIERRE: &str = "the esclavo is shutting down";

/// How to stop one running attempt: shared by its slot (for `/cancelar`) and its task.
#[derive(Clone)]
pub(crate) struct Parada {
    /// The kernel's flag and time limit.
    control: Control,
    /// Wakes an `espera` timer when the flag is set (the kernels poll the flag themselves).
    aviso: Arc<Notify>,
}

impl Parada {
    /// A stop with the attempt's time limit (`plazo_ms`, 0 for none) starting now.
    fn new(plazo_ms: u64) -> Self {
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
    fn parar(&self, motivo: &str) {
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
}

/// The job slots of an esclavo and what passed through them.
pub(crate) struct Ranuras {
    /// How many attempts may run at once.
    capacidad: u32,
    /// Everything below changes together, in short critical sections (never across `.await`).
    interior: Mutex<Interior>,
}

/// The mutable part of [`Ranuras`].
#[derive(Default)]
struct Interior {
    /// Attempts running now.
    en_curso: HashMap<Clave, Intento>,
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
pub(crate) struct Foto {
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
}

/// Whether an attempt got a slot.
enum Toma {
    /// It got one and must be started, stopped through this.
    Nueva(Parada),
    /// It is already running (a repeated `/ejecutar`): accepted again, not started twice.
    YaEnCurso,
}

impl Ranuras {
    pub(crate) fn new(capacidad: u32) -> Self {
        Self {
            capacidad,
            interior: Mutex::default(),
        }
    }

    /// How many attempts may run at once.
    pub(crate) fn capacidad(&self) -> u32 {
        self.capacidad
    }

    /// Poisoning only means another thread panicked mid-update of plain counters and maps;
    /// the data is still usable, and an esclavo that stops serving would be worse.
    fn interior(&self) -> MutexGuard<'_, Interior> {
        self.interior.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes a slot for `a`, or says why not.
    fn tomar(&self, a: &Asignacion) -> Result<Toma, String> {
        let mut i = self.interior();
        if i.en_curso.contains_key(&(a.id, a.intento)) {
            return Ok(Toma::YaEnCurso);
        }
        let usadas = i.en_curso.len();
        if usadas >= self.capacidad as usize {
            return Err(format!("ocupado: {usadas}/{} slots in use", self.capacidad));
        }
        let vista = EnCurso {
            id: a.id,
            intento: a.intento,
            descripcion: a.parametros.descripcion(),
            algoritmo: a.algoritmo,
            desde_ms: comun::ahora_ms(),
        };
        let parada = Parada::new(a.plazo_ms);
        let intento = Intento {
            vista,
            inicio: Instant::now(),
            parada: parada.clone(),
        };
        i.en_curso.insert((a.id, a.intento), intento);
        Ok(Toma::Nueva(parada))
    }

    /// Frees the slot of an attempt that ended, and records how it ended: `Completado`,
    /// `Fallido` or `Cancelado`.
    fn liberar(&self, clave: Clave, estado: Estado) {
        let mut i = self.interior();
        let Some(Intento { inicio, .. }) = i.en_curso.remove(&clave) else {
            return;
        };
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
        let i = self.interior();
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

    /// Ids of the jobs running now, for the heartbeat.
    pub(crate) fn ids_en_curso(&self) -> Vec<TrabajoId> {
        let mut ids: Vec<_> = self.interior().en_curso.keys().map(|(id, _)| *id).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    pub(crate) fn foto(&self) -> Foto {
        let i = self.interior();
        let mut ejecutando: Vec<_> = i.en_curso.values().map(|x| x.vista.clone()).collect();
        ejecutando.sort_by_key(|v| (v.desde_ms, v.id, v.intento));
        Foto {
            ejecutando,
            completados: i.completados,
            fallidos: i.fallidos,
            cancelados: i.cancelados,
            historial: i.historial.iter().rev().cloned().collect(),
        }
    }
}

/// Takes each job that finds a free slot and starts it; refuses the others, saying why.
/// Jobs are taken in the order of the request. The parameters must have been validated.
pub(crate) fn aceptar(esclavo: &Arc<Esclavo>, trabajos: Vec<Asignacion>) -> RespuestaEjecutar {
    let mut respuesta = RespuestaEjecutar::default();
    for a in trabajos {
        let toma = if esclavo.cerrado() {
            Err("shutting down".to_owned())
        } else if a.algoritmo.necesita_gpu() && esclavo.capacidades().gpu.is_none() {
            Err(format!(
                "no GPU on this esclavo ({})",
                kernels::dispositivo(Algoritmo::Cuda)
            ))
        } else {
            esclavo.ranuras.tomar(&a)
        };
        match toma {
            Ok(Toma::Nueva(parada)) => {
                respuesta.aceptados.push(a.id);
                tokio::spawn(correr(Arc::clone(esclavo), a, parada));
            }
            Ok(Toma::YaEnCurso) => respuesta.aceptados.push(a.id),
            Err(motivo) => respuesta.rechazados.push(Rechazo { id: a.id, motivo }),
        }
    }
    respuesta
}

/// Runs one attempt in its slot, frees the slot and queues the result for the maestro.
/// Abandoned (no result, slot left as is) when the esclavo shuts down; its kernel is told to
/// stop, so its thread ends soon.
async fn correr(esclavo: Arc<Esclavo>, a: Asignacion, parada: Parada) {
    let mut cierre = esclavo.aviso_de_cierre();
    let (salida, estado) = tokio::select! {
        _ = cierre.wait_for(|cerrado| *cerrado) => {
            parada.parar(MOTIVO_CIERRE);
            return;
        }
        fin = ejecutar(a.parametros, a.algoritmo, &parada) => fin,
    };
    match (&salida, estado) {
        (Salida::Fallido { error }, Estado::Cancelado) => {
            tracing::info!(id = %a.id, intento = a.intento, %error, "job stopped");
        }
        (Salida::Fallido { error }, _) => {
            tracing::warn!(id = %a.id, intento = a.intento, %error, "job failed");
        }
        _ => tracing::debug!(id = %a.id, intento = a.intento, "job completed"),
    }
    esclavo.ranuras.liberar((a.id, a.intento), estado);
    esclavo.informar(InformeResultado {
        id: a.id,
        intento: a.intento,
        esclavo: esclavo.nombre().to_owned(),
        instancia: esclavo.instancia(),
        salida,
    });
}

/// Computes a job under `parada`: `espera` on a timer, everything else on the blocking pool.
/// Returns what to report and how `/estado` records the end: `Completado`, `Fallido`, or
/// `Cancelado` when the attempt was cancelled (a time limit counts as `Fallido`).
async fn ejecutar(p: Parametros, algoritmo: Algoritmo, parada: &Parada) -> (Salida, Estado) {
    let fin = if let Parametros::Espera(e) = p {
        esperar(e.ms, parada).await
    } else {
        let control = parada.control.clone();
        let calculo =
            tokio::task::spawn_blocking(move || kernels::ejecutar_con(&p, algoritmo, &control));
        match calculo.await {
            Ok(fin) => fin.map(|e| Salida::Completado {
                resultado: e.resultado,
                imagen_png: e.imagen_png.map(|png| STANDARD.encode(png)),
            }),
            Err(e) => {
                let error = format!("kernel crashed: {e}");
                return (Salida::Fallido { error }, Estado::Fallido);
            }
        }
    };
    match fin {
        Ok(salida) => (salida, Estado::Completado),
        Err(e) => {
            let estado = match e {
                ErrorKernel::Cancelado { .. } => Estado::Cancelado,
                _ => Estado::Fallido,
            };
            let error = e.to_string();
            (Salida::Fallido { error }, estado)
        }
    }
}

/// An `espera` job: sleeps `ms` without holding a thread, waking early when `parada` is set or
/// its time limit comes.
async fn esperar(ms: u64, parada: &Parada) -> Result<Salida, ErrorKernel> {
    let inicio = Instant::now();
    let sueno = Duration::from_millis(ms);
    loop {
        let falta = sueno.saturating_sub(inicio.elapsed());
        if falta.is_zero() {
            break;
        }
        parada.control.comprobar()?;
        let tope = parada.control.restante().map_or(falta, |r| r.min(falta));
        tokio::select! {
            () = tokio::time::sleep(tope) => {}
            () = parada.aviso.notified() => {}
        }
    }
    Ok(Salida::Completado {
        resultado: Resultado {
            duracion_s: inicio.elapsed().as_secs_f64(),
            dispositivo: "cpu".into(),
            detalle: Detalle::Espera { ms },
            imagen: false,
        },
        imagen_png: None,
    })
}

#[cfg(test)]
mod tests {
    use comun::trabajo::ParamsEspera;

    use super::*;

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
        let r = Ranuras::new(2);
        assert!(matches!(r.tomar(&espera(1, 1)), Ok(Toma::Nueva(_))));
        assert!(matches!(r.tomar(&espera(2, 1)), Ok(Toma::Nueva(_))));
        assert_eq!(
            r.tomar(&espera(3, 1)).err().unwrap(),
            "ocupado: 2/2 slots in use"
        );
        r.liberar((TrabajoId(1), 1), Estado::Completado);
        assert!(matches!(r.tomar(&espera(3, 1)), Ok(Toma::Nueva(_))));
    }

    #[test]
    fn a_repeated_attempt_is_not_started_twice_but_a_new_attempt_is() {
        let r = Ranuras::new(3);
        assert!(matches!(r.tomar(&espera(1, 1)), Ok(Toma::Nueva(_))));
        assert!(matches!(r.tomar(&espera(1, 1)), Ok(Toma::YaEnCurso)));
        assert!(matches!(r.tomar(&espera(1, 2)), Ok(Toma::Nueva(_))));
        assert_eq!(r.ids_en_curso(), [TrabajoId(1)]);
    }

    #[test]
    fn history_keeps_the_last_hundred_newest_first_and_counts_all() {
        let r = Ranuras::new(1);
        for id in 0..(HISTORIAL as u64 + 5) {
            r.tomar(&espera(id, 1)).unwrap();
            let estado = [Estado::Completado, Estado::Fallido, Estado::Cancelado][id as usize % 3];
            r.liberar((TrabajoId(id), 1), estado);
        }
        let f = r.foto();
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
        let r = Ranuras::new(4);
        let paradas: Vec<Parada> = [espera(1, 1), espera(1, 2), espera(2, 1)]
            .iter()
            .map(|a| match r.tomar(a) {
                Ok(Toma::Nueva(p)) => p,
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

    fn espera_de(ms: u64) -> Parametros {
        Parametros::Espera(ParamsEspera { ms })
    }

    #[tokio::test]
    async fn an_espera_timer_wakes_at_once_when_cancelled() {
        let parada = Parada::new(0);
        let inicio = Instant::now();
        let (fin, ()) = tokio::join!(
            ejecutar(espera_de(60_000), Algoritmo::Secuencial, &parada),
            async {
                tokio::time::sleep(Duration::from_millis(20)).await;
                parada.parar("stop");
            }
        );
        assert!(inicio.elapsed() < Duration::from_secs(30), "it woke early");
        assert_eq!(
            fin,
            (
                Salida::Fallido {
                    error: "cancelled: stop".into()
                },
                Estado::Cancelado
            )
        );
    }

    #[tokio::test]
    async fn an_espera_timer_stops_at_its_time_limit() {
        let inicio = Instant::now();
        let (salida, estado) =
            ejecutar(espera_de(60_000), Algoritmo::Secuencial, &Parada::new(30)).await;
        assert!(inicio.elapsed() >= Duration::from_millis(30));
        assert!(inicio.elapsed() < Duration::from_secs(30));
        assert_eq!(estado, Estado::Fallido);
        let Salida::Fallido { error } = salida else {
            panic!("{salida:?}");
        };
        assert!(
            error.starts_with("time limit of 0.03 s exceeded after 0.03"),
            "{error}"
        );
        // A limit longer than the sleep changes nothing.
        let (salida, estado) =
            ejecutar(espera_de(5), Algoritmo::Secuencial, &Parada::new(60_000)).await;
        assert!(matches!(salida, Salida::Completado { .. }) && estado == Estado::Completado);
    }

    #[tokio::test]
    async fn espera_zero_finishes_at_once_with_the_kernel_shape() {
        let (
            Salida::Completado {
                resultado,
                imagen_png,
            },
            Estado::Completado,
        ) = ejecutar(espera_de(0), Algoritmo::Paralelo, &Parada::new(0)).await
        else {
            panic!("espera failed");
        };
        assert_eq!(resultado.detalle, Detalle::Espera { ms: 0 });
        assert_eq!(resultado.dispositivo, "cpu");
        assert!(!resultado.imagen && imagen_png.is_none());
    }
}

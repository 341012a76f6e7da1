//! Running jobs: the slots, the jobs in them, and the record of those that ended.
//!
//! A job takes a slot when `/ejecutar` accepts it and frees it the moment its kernel returns
//! (not when the maestro acknowledges the result). Kernels run on tokio's blocking pool;
//! `espera` jobs are timers, so thousands of them cost no threads.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use comun::api::{Detalle, Resultado};
use comun::nodo::{Asignacion, InformeResultado, Rechazo, RespuestaEjecutar, Salida};
use comun::{Algoritmo, Estado, Parametros, TrabajoId};

use crate::compartido::Esclavo;
use crate::estado::{EnCurso, HISTORIAL, Terminado};

/// A running attempt is known by its job and attempt number.
type Clave = (TrabajoId, u32);

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
    /// Attempts running now, each with the instant it started (for its duration).
    en_curso: HashMap<Clave, (EnCurso, Instant)>,
    /// Attempts that ended with a result.
    completados: u64,
    /// Attempts that ended with an error.
    fallidos: u64,
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
    /// Attempts that ended, newest first.
    pub historial: Vec<Terminado>,
}

/// Whether an attempt got a slot.
enum Toma {
    /// It got one and must be started.
    Nueva,
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
        i.en_curso
            .insert((a.id, a.intento), (vista, Instant::now()));
        Ok(Toma::Nueva)
    }

    /// Frees the slot of an attempt that ended, and records how it ended.
    fn liberar(&self, clave: Clave, completado: bool) {
        let mut i = self.interior();
        let Some((_, inicio)) = i.en_curso.remove(&clave) else {
            return;
        };
        let estado = if completado {
            i.completados += 1;
            Estado::Completado
        } else {
            i.fallidos += 1;
            Estado::Fallido
        };
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

    /// Ids of the jobs running now, for the heartbeat.
    pub(crate) fn ids_en_curso(&self) -> Vec<TrabajoId> {
        let mut ids: Vec<_> = self.interior().en_curso.keys().map(|(id, _)| *id).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    pub(crate) fn foto(&self) -> Foto {
        let i = self.interior();
        let mut ejecutando: Vec<_> = i.en_curso.values().map(|(v, _)| v.clone()).collect();
        ejecutando.sort_by_key(|v| (v.desde_ms, v.id, v.intento));
        Foto {
            ejecutando,
            completados: i.completados,
            fallidos: i.fallidos,
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
            Ok(Toma::Nueva) => {
                respuesta.aceptados.push(a.id);
                tokio::spawn(correr(Arc::clone(esclavo), a));
            }
            Ok(Toma::YaEnCurso) => respuesta.aceptados.push(a.id),
            Err(motivo) => respuesta.rechazados.push(Rechazo { id: a.id, motivo }),
        }
    }
    respuesta
}

/// Runs one attempt in its slot, frees the slot and queues the result for the maestro.
/// Abandoned (no result, slot left as is) when the esclavo shuts down.
async fn correr(esclavo: Arc<Esclavo>, a: Asignacion) {
    let mut cierre = esclavo.aviso_de_cierre();
    let salida = tokio::select! {
        _ = cierre.wait_for(|cerrado| *cerrado) => return,
        salida = ejecutar(a.parametros, a.algoritmo) => salida,
    };
    let completado = matches!(salida, Salida::Completado { .. });
    if let Salida::Fallido { error } = &salida {
        tracing::warn!(id = %a.id, intento = a.intento, %error, "job failed");
    } else {
        tracing::debug!(id = %a.id, intento = a.intento, "job completed");
    }
    esclavo.ranuras.liberar((a.id, a.intento), completado);
    esclavo.informar(InformeResultado {
        id: a.id,
        intento: a.intento,
        esclavo: esclavo.nombre().to_owned(),
        instancia: esclavo.instancia(),
        salida,
    });
}

/// Computes a job: `espera` on a timer, everything else on the blocking pool.
async fn ejecutar(p: Parametros, algoritmo: Algoritmo) -> Salida {
    if let Parametros::Espera(e) = p {
        return esperar(e.ms).await;
    }
    let calculo = tokio::task::spawn_blocking(move || match kernels::ejecutar(&p, algoritmo) {
        Ok(e) => Salida::Completado {
            resultado: e.resultado,
            imagen_png: e.imagen_png.map(|png| STANDARD.encode(png)),
        },
        Err(e) => Salida::Fallido {
            error: e.to_string(),
        },
    });
    match calculo.await {
        Ok(salida) => salida,
        Err(e) => Salida::Fallido {
            error: format!("kernel crashed: {e}"),
        },
    }
}

/// An `espera` job: sleeps `ms` without holding a thread.
async fn esperar(ms: u64) -> Salida {
    let inicio = Instant::now();
    if ms > 0 {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    Salida::Completado {
        resultado: Resultado {
            duracion_s: inicio.elapsed().as_secs_f64(),
            dispositivo: "cpu".into(),
            detalle: Detalle::Espera { ms },
            imagen: false,
        },
        imagen_png: None,
    }
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
        assert!(matches!(r.tomar(&espera(1, 1)), Ok(Toma::Nueva)));
        assert!(matches!(r.tomar(&espera(2, 1)), Ok(Toma::Nueva)));
        assert_eq!(
            r.tomar(&espera(3, 1)).err().unwrap(),
            "ocupado: 2/2 slots in use"
        );
        r.liberar((TrabajoId(1), 1), true);
        assert!(matches!(r.tomar(&espera(3, 1)), Ok(Toma::Nueva)));
    }

    #[test]
    fn a_repeated_attempt_is_not_started_twice_but_a_new_attempt_is() {
        let r = Ranuras::new(3);
        assert!(matches!(r.tomar(&espera(1, 1)), Ok(Toma::Nueva)));
        assert!(matches!(r.tomar(&espera(1, 1)), Ok(Toma::YaEnCurso)));
        assert!(matches!(r.tomar(&espera(1, 2)), Ok(Toma::Nueva)));
        assert_eq!(r.ids_en_curso(), [TrabajoId(1)]);
    }

    #[test]
    fn history_keeps_the_last_hundred_newest_first_and_counts_all() {
        let r = Ranuras::new(1);
        for id in 0..(HISTORIAL as u64 + 5) {
            r.tomar(&espera(id, 1)).unwrap();
            r.liberar((TrabajoId(id), 1), id % 2 == 0);
        }
        let f = r.foto();
        assert_eq!(f.historial.len(), HISTORIAL);
        assert_eq!(f.historial[0].id, TrabajoId(HISTORIAL as u64 + 4));
        assert_eq!(f.completados + f.fallidos, HISTORIAL as u64 + 5);
        assert!(f.ejecutando.is_empty());
    }

    #[tokio::test]
    async fn espera_zero_finishes_at_once_with_the_kernel_shape() {
        let Salida::Completado {
            resultado,
            imagen_png,
        } = ejecutar(
            Parametros::Espera(ParamsEspera { ms: 0 }),
            Algoritmo::Paralelo,
        )
        .await
        else {
            panic!("espera failed");
        };
        assert_eq!(resultado.detalle, Detalle::Espera { ms: 0 });
        assert_eq!(resultado.dispositivo, "cpu");
        assert!(!resultado.imagen && imagen_png.is_none());
    }
}

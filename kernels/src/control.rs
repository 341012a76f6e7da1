//! Stopping a kernel that is running: a cancellation flag and a time limit, both checked by
//! every kernel between chunks of its work.
//!
//! A [`Control`] is cheap to clone; every clone shares the one flag, so the esclavo keeps a
//! clone per running attempt and sets it from an HTTP handler while a blocking thread runs the
//! kernel with another. Kernels call [`Control::comprobar`] between chunks sized so that a stop
//! takes effect within about 100 ms even for the largest jobs (docs/kernels.md gives each
//! kernel's chunks); the check is an atomic load and, with a time limit, a monotonic clock
//! read. A kernel that stops answers [`ErrorKernel::Cancelado`] or
//! [`ErrorKernel::PlazoExcedido`] and discards its partial result.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::ErrorKernel;

/// The means of stopping one run of a kernel: a shared cancellation flag, and optionally a
/// time limit counted from the control's creation.
#[derive(Debug, Clone, Default)]
pub struct Control {
    /// Shared by every clone; set once, by [`Control::cancelar`].
    parada: Arc<Parada>,
    /// The time limit, when there is one.
    plazo: Option<Plazo>,
}

/// The shared flag, its reason, and the wake-up of [`Control::dormir`].
#[derive(Debug, Default)]
struct Parada {
    /// Set with the reason; read without the lock on every check.
    cancelado: AtomicBool,
    /// Why it was cancelled: the first reason given wins.
    motivo: Mutex<Option<String>>,
    /// Wakes sleepers when the flag is set.
    aviso: Condvar,
}

/// A time limit and when it started counting.
#[derive(Debug, Clone, Copy)]
struct Plazo {
    /// When the run started.
    inicio: Instant,
    /// How long it may run.
    limite: Duration,
}

impl Control {
    /// No time limit, and not cancelled unless [`Control::cancelar`] is called: what
    /// [`ejecutar`](crate::ejecutar()) uses.
    pub fn ninguno() -> Self {
        Self::default()
    }

    /// A control whose time limit of `limite` starts counting now.
    pub fn con_plazo(limite: Duration) -> Self {
        Self {
            parada: Arc::default(),
            plazo: Some(Plazo {
                inicio: Instant::now(),
                limite,
            }),
        }
    }

    /// Asks every holder of this control (and of its clones) to stop, for `motivo`
    /// (`"cancelled by a user"`). Returns whether this call set the flag: the first reason is
    /// the one kept and reported.
    pub fn cancelar(&self, motivo: &str) -> bool {
        let mut guardado = self.parada.motivo();
        if guardado.is_some() {
            return false;
        }
        *guardado = Some(motivo.to_owned());
        self.parada.cancelado.store(true, Ordering::Release);
        self.parada.aviso.notify_all();
        true
    }

    /// Whether [`Control::cancelar`] was called (the time limit does not count).
    pub fn cancelado(&self) -> bool {
        self.parada.cancelado.load(Ordering::Acquire)
    }

    /// The time limit, if any.
    pub fn limite(&self) -> Option<Duration> {
        self.plazo.map(|p| p.limite)
    }

    /// Time left before the limit (zero once past it); `None` without a limit.
    pub fn restante(&self) -> Option<Duration> {
        self.plazo
            .map(|p| p.limite.saturating_sub(p.inicio.elapsed()))
    }

    /// `Ok` while the run may go on; otherwise why it must stop: cancelled (checked first), or
    /// past its time limit.
    pub fn comprobar(&self) -> Result<(), ErrorKernel> {
        if self.cancelado() {
            return Err(self.error_de_cancelacion());
        }
        match self.plazo {
            Some(p) => {
                let transcurrido = p.inicio.elapsed();
                if transcurrido >= p.limite {
                    Err(ErrorKernel::PlazoExcedido {
                        plazo: p.limite,
                        transcurrido,
                    })
                } else {
                    Ok(())
                }
            }
            None => Ok(()),
        }
    }

    /// Sleeps `duracion` on this thread, waking at once when cancelled and at the time limit.
    pub fn dormir(&self, duracion: Duration) -> Result<(), ErrorKernel> {
        let fin = Instant::now() + duracion;
        let mut motivo = self.parada.motivo();
        loop {
            if motivo.is_some() {
                drop(motivo);
                return Err(self.error_de_cancelacion());
            }
            let ahora = Instant::now();
            let tope = match self.plazo {
                Some(p) if p.inicio + p.limite < fin => {
                    if ahora >= p.inicio + p.limite {
                        drop(motivo);
                        return self.comprobar();
                    }
                    p.inicio + p.limite
                }
                _ if ahora >= fin => return Ok(()),
                _ => fin,
            };
            motivo = self
                .parada
                .aviso
                .wait_timeout(motivo, tope - ahora)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// [`ErrorKernel::Cancelado`] with the reason given.
    fn error_de_cancelacion(&self) -> ErrorKernel {
        let motivo = self.parada.motivo().clone().unwrap_or_default();
        ErrorKernel::Cancelado { motivo }
    }
}

impl Parada {
    /// Poisoning only means a thread panicked while holding a plain `Option<String>`.
    fn motivo(&self) -> MutexGuard<'_, Option<String>> {
        self.motivo.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Calls [`Control::comprobar`] once every `cada` units of work: for loops whose steps are
/// too small to pay for a clock read each (one pixel, one row of a small matrix).
#[derive(Debug)]
pub(crate) struct Contador<'a> {
    /// What is checked.
    control: &'a Control,
    /// Work done since the last check.
    hecho: u64,
    /// Work between two checks.
    cada: u64,
}

impl<'a> Contador<'a> {
    /// A counter that checks `control` once every `cada` units of work.
    pub(crate) fn new(control: &'a Control, cada: u64) -> Self {
        Self {
            control,
            hecho: 0,
            cada,
        }
    }

    /// Counts `trabajo` more units, and checks the control when enough have passed.
    #[inline(always)]
    pub(crate) fn avanzar(&mut self, trabajo: u64) -> Result<(), ErrorKernel> {
        self.hecho += trabajo;
        if self.hecho >= self.cada {
            self.hecho = 0;
            self.control.comprobar()?;
        }
        Ok(())
    }
}

/// A duration in seconds as people read it: `2.0`, `0.25`, `1.234` (to the millisecond, at
/// least one decimal).
pub(crate) fn segundos(d: &Duration) -> Segundos {
    Segundos(*d)
}

/// [`Display`](fmt::Display) of [`segundos`].
pub(crate) struct Segundos(Duration);

impl fmt::Display for Segundos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_millis();
        let (enteros, milesimas) = (ms / 1000, ms % 1000);
        let decimales = format!("{milesimas:03}");
        let decimales = decimales.trim_end_matches('0');
        let decimales = if decimales.is_empty() { "0" } else { decimales };
        write!(f, "{enteros}.{decimales}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_read_naturally() {
        let s = |ms| segundos(&Duration::from_millis(ms)).to_string();
        assert_eq!(s(2000), "2.0");
        assert_eq!(s(250), "0.25");
        assert_eq!(s(1234), "1.234");
        assert_eq!(s(0), "0.0");
        assert_eq!(s(604_800_000), "604800.0");
    }

    #[test]
    fn the_first_reason_wins_and_every_clone_sees_it() {
        let c = Control::ninguno();
        let otro = c.clone();
        assert!(c.comprobar().is_ok() && !otro.cancelado());
        assert!(otro.cancelar("cancelled by a user"));
        assert!(!c.cancelar("a second reason"));
        assert!(c.cancelado());
        let e = c.comprobar().unwrap_err();
        assert!(matches!(&e, ErrorKernel::Cancelado { motivo } if motivo == "cancelled by a user"));
        assert_eq!(e.to_string(), "cancelled: cancelled by a user");
    }

    #[test]
    fn a_past_limit_is_reported_with_the_limit_and_the_time_taken() {
        let c = Control::con_plazo(Duration::ZERO);
        let e = c.comprobar().unwrap_err();
        let ErrorKernel::PlazoExcedido { plazo, .. } = &e else {
            panic!("{e:?}");
        };
        assert_eq!(*plazo, Duration::ZERO);
        assert!(
            e.to_string()
                .starts_with("time limit of 0.0 s exceeded after "),
            "{e}"
        );
        assert_eq!(c.restante(), Some(Duration::ZERO));
        assert_eq!(Control::ninguno().restante(), None);
    }

    #[test]
    fn sleeping_wakes_at_once_on_cancellation() {
        let c = Control::ninguno();
        let inicio = Instant::now();
        let e = std::thread::scope(|s| {
            let dormido = s.spawn(|| c.dormir(Duration::from_secs(60)));
            std::thread::sleep(Duration::from_millis(20));
            c.cancelar("stop");
            dormido.join().unwrap()
        });
        assert!(matches!(e, Err(ErrorKernel::Cancelado { .. })), "{e:?}");
        assert!(inicio.elapsed() < Duration::from_secs(30), "it woke early");
    }

    #[test]
    fn sleeping_stops_at_the_limit_or_ends_before_it() {
        let inicio = Instant::now();
        let c = Control::con_plazo(Duration::from_millis(30));
        let e = c.dormir(Duration::from_secs(60));
        assert!(matches!(e, Err(ErrorKernel::PlazoExcedido { .. })), "{e:?}");
        assert!(inicio.elapsed() >= Duration::from_millis(30));
        assert!(inicio.elapsed() < Duration::from_secs(30));
        let c = Control::con_plazo(Duration::from_secs(60));
        assert!(c.dormir(Duration::from_millis(5)).is_ok());
        assert!(Control::ninguno().dormir(Duration::ZERO).is_ok());
    }
}

//! The alert engine: pure code, without a clock or any I/O. The sampler hands it each sample
//! and the time; it answers which alerts started and which ended.
//!
//! # Semantics
//!
//! Each resource has two independent levels, aviso and crítico, each with its threshold `U`
//! and the resource's hysteresis `h`:
//!
//! - a level **starts** when the value is `>= U` (exactly at the threshold counts);
//! - it **ends** only when the value is `< U - h` (exactly at `U - h` it holds).
//!
//! So a value hovering around `U` (within `h` below it) starts the alert once and never ends
//! it. Because aviso ≤ crítico, crítico active implies aviso active.
//!
//! A resource shows **one alert**, at the highest active level: its `desde_ms` is when that
//! level started. Escalation aviso → crítico ends the aviso alert and starts the crítico one
//! (`desde_ms` = now). De-escalation crítico → aviso ends the crítico alert and starts the aviso
//! one again *with the aviso's original `desde_ms`*: the resource never left aviso. A resource
//! that disappears from the samples (a filesystem unmounted, a GPU gone) ends its alert.

use std::collections::BTreeMap;

use comun::memoria::{Alerta, Muestra, Nivel, Recurso};

/// Thresholds of one kind of resource, in percent: `0 < aviso <= critico <= 100` and
/// `0 <= histeresis < aviso`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Umbrales {
    /// Where the aviso level starts.
    aviso: f64,
    /// Where the crítico level starts.
    critico: f64,
    /// How far below a threshold the value must fall for that level to end.
    histeresis: f64,
}

/// Thresholds that make no sense, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ErrorUmbrales(String);

impl Umbrales {
    /// Checks the thresholds: both in `(0, 100]`, aviso not above crítico, the hysteresis
    /// below aviso (else an aviso would never end).
    pub fn new(aviso: f64, critico: f64, histeresis: f64) -> Result<Self, ErrorUmbrales> {
        let porcentaje = |x: f64| x > 0.0 && x <= 100.0;
        if !porcentaje(aviso) || !porcentaje(critico) {
            return Err(ErrorUmbrales(format!(
                "thresholds are percentages above 0 and at most 100; got aviso {aviso}, \
                 critico {critico}"
            )));
        }
        if aviso > critico {
            return Err(ErrorUmbrales(format!(
                "the aviso threshold ({aviso}) is above the critico one ({critico})"
            )));
        }
        if !(histeresis >= 0.0 && histeresis < aviso) {
            return Err(ErrorUmbrales(format!(
                "the hysteresis ({histeresis}) must be at least 0 and below the aviso \
                 threshold ({aviso})"
            )));
        }
        Ok(Self {
            aviso,
            critico,
            histeresis,
        })
    }

    /// The threshold of `nivel`.
    pub fn umbral(&self, nivel: Nivel) -> f64 {
        match nivel {
            Nivel::Aviso => self.aviso,
            Nivel::Critico => self.critico,
        }
    }

    pub fn histeresis(&self) -> f64 {
        self.histeresis
    }

    /// The next state of one level: when it started, or `None` when it is not active.
    fn paso(&self, nivel: Nivel, desde: Option<u64>, valor: f64, ahora_ms: u64) -> Option<u64> {
        let umbral = self.umbral(nivel);
        match desde {
            None if valor >= umbral => Some(ahora_ms),
            Some(_) if valor < umbral - self.histeresis => None,
            sigue => sigue,
        }
    }
}

/// Which thresholds apply to which resource; `None` disables a resource's alerts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Politica {
    /// CPU use of all cores.
    pub cpu: Option<Umbrales>,
    /// RAM in use.
    pub memoria: Option<Umbrales>,
    /// Swap in use.
    pub swap: Option<Umbrales>,
    /// Every filesystem's use.
    pub disco: Option<Umbrales>,
    /// Every GPU's memory in use.
    pub gpu_memoria: Option<Umbrales>,
}

impl Politica {
    /// The thresholds of `recurso`, if its alerts are enabled.
    pub fn para(&self, recurso: &Recurso) -> Option<&Umbrales> {
        match recurso {
            Recurso::Cpu => self.cpu.as_ref(),
            Recurso::Memoria => self.memoria.as_ref(),
            Recurso::Swap => self.swap.as_ref(),
            Recurso::Disco { .. } => self.disco.as_ref(),
            Recurso::GpuMemoria { .. } => self.gpu_memoria.as_ref(),
        }
    }
}

/// What one evaluation changed, in terms of the alerts shown (one per resource).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cambios {
    /// Alerts shown now that were not before (a new resource in trouble, or a level change).
    pub iniciadas: Vec<Alerta>,
    /// Alerts shown before that are not now, each with the value that ended it.
    pub terminadas: Vec<Alerta>,
}

impl Cambios {
    pub fn is_empty(&self) -> bool {
        self.iniciadas.is_empty() && self.terminadas.is_empty()
    }
}

/// The alert state of one resource with at least one active level.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Estado {
    /// When the aviso level started; `None` when it is not active.
    aviso: Option<u64>,
    /// When the crítico level started; `None` when it is not active.
    critico: Option<u64>,
    /// The resource's latest value, percent.
    valor: f64,
}

impl Estado {
    fn activo(&self) -> bool {
        self.aviso.is_some() || self.critico.is_some()
    }

    /// The alert this state shows: the highest active level.
    fn alerta(&self, recurso: &Recurso, umbrales: &Umbrales) -> Option<Alerta> {
        let (nivel, desde_ms) = match (self.critico, self.aviso) {
            (Some(desde), _) => (Nivel::Critico, desde),
            (None, Some(desde)) => (Nivel::Aviso, desde),
            (None, None) => return None,
        };
        Some(Alerta {
            recurso: recurso.clone(),
            nivel,
            valor: self.valor,
            umbral: umbrales.umbral(nivel),
            desde_ms,
        })
    }
}

/// Turns samples into alerts, remembering which levels are active since when.
#[derive(Debug, Clone)]
pub struct Evaluador {
    /// The thresholds, fixed for the evaluator's life.
    politica: Politica,
    /// Resources with an active level; the others are absent.
    estados: BTreeMap<Recurso, Estado>,
}

impl Evaluador {
    pub fn new(politica: Politica) -> Self {
        Self {
            politica,
            estados: BTreeMap::new(),
        }
    }

    /// Takes in a sample taken at `ahora_ms` and says which alerts started and ended.
    /// A value that is not a finite number leaves its resource's state as it was.
    pub fn evaluar(&mut self, muestra: &Muestra, ahora_ms: u64) -> Cambios {
        let usos = muestra.usos();
        let mut cambios = Cambios::default();
        self.terminar_ausentes(&usos, &mut cambios);
        for (recurso, valor) in usos {
            let Some(umbrales) = self.politica.para(&recurso).copied() else {
                continue;
            };
            if !valor.is_finite() {
                continue;
            }
            let antes = self.estados.remove(&recurso).unwrap_or_default();
            let despues = Estado {
                aviso: umbrales.paso(Nivel::Aviso, antes.aviso, valor, ahora_ms),
                critico: umbrales.paso(Nivel::Critico, antes.critico, valor, ahora_ms),
                valor,
            };
            let mostrada_antes = Estado { valor, ..antes }.alerta(&recurso, &umbrales);
            let mostrada_despues = despues.alerta(&recurso, &umbrales);
            if despues.activo() {
                self.estados.insert(recurso, despues);
            }
            let mismo_nivel = matches!(
                (&mostrada_antes, &mostrada_despues),
                (Some(a), Some(d)) if a.nivel == d.nivel
            );
            if !mismo_nivel {
                cambios.terminadas.extend(mostrada_antes);
                cambios.iniciadas.extend(mostrada_despues);
            }
        }
        cambios
    }

    /// The alerts shown now, one per resource, in [`Recurso`] order, with the latest values.
    pub fn activas(&self) -> Vec<Alerta> {
        self.estados
            .iter()
            .filter_map(|(recurso, estado)| {
                let umbrales = self.politica.para(recurso)?;
                estado.alerta(recurso, umbrales)
            })
            .collect()
    }

    /// Ends the alerts of resources the sample no longer has.
    fn terminar_ausentes(&mut self, usos: &[(Recurso, f64)], cambios: &mut Cambios) {
        let politica = self.politica;
        self.estados.retain(|recurso, estado| {
            let presente = usos.iter().any(|(r, _)| r == recurso);
            if !presente && let Some(umbrales) = politica.para(recurso) {
                cambios.terminadas.extend(estado.alerta(recurso, umbrales));
            }
            presente
        });
    }
}

#[cfg(test)]
mod tests;

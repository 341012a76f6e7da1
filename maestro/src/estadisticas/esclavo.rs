//! [`HistoriaEsclavo`]: what the maestro remembers of one esclavo's work since it started, in
//! bounded space: its busy slot-time over the last minute, counts, mean run time by tipo and
//! backend, and its latest finished attempts.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use comun::estadisticas::{HistorialEsclavo, IntentoReciente, PromedioGrupo};
use comun::{Algoritmo, Tipo};

use super::ventana::Ventana;
use super::{orden_algoritmo, orden_tipo};

/// One esclavo's history.
#[derive(Debug, Clone, Default)]
pub struct HistoriaEsclavo {
    /// When it was first seen, in ms since the maestro started.
    pub visto_ms: u64,
    /// When it last ended an attempt (ms since start): the stalest is forgotten first.
    pub actividad_ms: u64,
    /// Busy slot-milliseconds per second.
    pub ocupacion: Ventana,
    pub completados: u64,
    pub fallidos: u64,
    pub perdidas: u64,
    /// `(jobs, sum, max)` of run times by tipo and backend.
    promedios: HashMap<(Tipo, Algoritmo), (u64, Duration, Duration)>,
    /// Newest last; at most [`HistorialEsclavo::MAX_RECIENTES`].
    recientes: VecDeque<IntentoReciente>,
}

impl HistoriaEsclavo {
    pub fn nueva(visto_ms: u64) -> Self {
        HistoriaEsclavo {
            visto_ms,
            actividad_ms: visto_ms,
            ..Self::default()
        }
    }

    /// An attempt that ended on it.
    pub fn anotar(&mut self, intento: IntentoReciente, ejecucion: Duration) {
        match intento.estado {
            comun::Estado::Completado => {
                self.completados += 1;
                let p = self
                    .promedios
                    .entry((intento.tipo, intento.algoritmo))
                    .or_default();
                p.0 += 1;
                p.1 += ejecucion;
                p.2 = p.2.max(ejecucion);
            }
            _ => self.fallidos += 1,
        }
        if self.recientes.len() == HistorialEsclavo::MAX_RECIENTES {
            self.recientes.pop_front();
        }
        self.recientes.push_back(intento);
    }

    /// Its latest attempts, newest first.
    pub fn recientes(&self) -> Vec<IntentoReciente> {
        self.recientes.iter().rev().cloned().collect()
    }

    /// Mean and longest run time by tipo and backend, in tipo then backend order.
    pub fn promedios(&self) -> Vec<PromedioGrupo> {
        let mut v: Vec<PromedioGrupo> = self
            .promedios
            .iter()
            .map(|(&(tipo, algoritmo), &(n, suma, max))| PromedioGrupo {
                tipo,
                algoritmo,
                trabajos: n,
                media_s: suma.as_secs_f64() / n.max(1) as f64,
                max_s: max.as_secs_f64(),
            })
            .collect();
        v.sort_by_key(|p| (orden_tipo(p.tipo), orden_algoritmo(p.algoritmo)));
        v
    }
}

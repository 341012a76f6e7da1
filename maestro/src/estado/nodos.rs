//! The memoria nodes as the maestro knows them: each node's latest report, and what its fresh
//! alerts say about the esclavos on that node.
//!
//! A report older than the limit (`--plazo-memoria-ms`) is **stale**: it is still shown, but
//! its alerts steer nothing ([`NodoMemoria::obsoleto`], the one rule). Going stale is logged
//! once, and wakes the dispatcher ([`Nodos::caducar`]).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use comun::api::{AlertaNodo, EstadoMemoria, NodoMemoriaInfo};
use comun::memoria::{Nivel, ReporteMemoria};

/// The latest report of a memoria node.
#[derive(Debug, Clone)]
pub struct NodoMemoria {
    pub reporte: ReporteMemoria,
    pub recibido: Instant,
    /// Set once the report is older than the limit (so its going stale is logged once).
    pub caducado: bool,
}

impl NodoMemoria {
    /// Whether the report is older than `plazo` at `ahora`: its alerts steer nothing.
    pub fn obsoleto(&self, ahora: Instant, plazo: Duration) -> bool {
        ahora.duration_since(self.recibido) > plazo
    }
}

/// What a node's fresh alerts say about it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Salud {
    pub critico: bool,
    pub avisos: u32,
}

/// The latest report of each memoria node.
#[derive(Debug)]
pub struct Nodos {
    /// By node name.
    por_nodo: BTreeMap<String, NodoMemoria>,
    /// A report older than this is stale.
    plazo: Duration,
}

impl Nodos {
    pub fn new(plazo: Duration) -> Self {
        Nodos {
            por_nodo: BTreeMap::new(),
            plazo,
        }
    }

    /// What the fresh alerts of a node say; a node without a fresh report is healthy.
    pub fn salud(&self, nodo: &str, ahora: Instant) -> Salud {
        let Some(n) = self.por_nodo.get(nodo) else {
            return Salud::default();
        };
        if n.obsoleto(ahora, self.plazo) {
            return Salud::default();
        }
        let alertas = &n.reporte.alertas;
        Salud {
            critico: alertas.iter().any(|a| a.nivel == Nivel::Critico),
            avisos: alertas.iter().filter(|a| a.nivel == Nivel::Aviso).count() as u32,
        }
    }

    /// Keeps a node's latest report; true if what it says about the node changed.
    pub fn reportar(&mut self, reporte: ReporteMemoria, ahora: Instant) -> bool {
        let nodo = reporte.nodo.clone();
        let antes = self.salud(&nodo, ahora);
        let era_caducado = self.por_nodo.get(&nodo).is_some_and(|n| n.caducado);
        if era_caducado {
            tracing::info!(nodo = %nodo, "memoria node reports again");
        }
        self.por_nodo.insert(
            nodo.clone(),
            NodoMemoria {
                reporte,
                recibido: ahora,
                caducado: false,
            },
        );
        era_caducado || self.salud(&nodo, ahora) != antes
    }

    /// Marks reports that went stale since the last call; true if any did (its alerts no
    /// longer steer, so the dispatcher should look again).
    pub fn caducar(&mut self, ahora: Instant) -> bool {
        let plazo = self.plazo;
        let mut alguno = false;
        for (nodo, n) in &mut self.por_nodo {
            if !n.caducado && n.obsoleto(ahora, plazo) {
                n.caducado = true;
                alguno = true;
                tracing::warn!(nodo = %nodo, "memoria node silent for {plazo:?}: its alerts are stale and steer nothing");
            }
        }
        alguno
    }

    /// `GET /memoria`: every node's latest report, and the active alerts of the fresh ones.
    pub fn vista(&self, ahora: Instant) -> EstadoMemoria {
        let mut nodos = Vec::new();
        let mut alertas = Vec::new();
        for (nodo, n) in &self.por_nodo {
            let obsoleto = n.obsoleto(ahora, self.plazo);
            if !obsoleto {
                alertas.extend(n.reporte.alertas.iter().map(|a| AlertaNodo {
                    nodo: nodo.clone(),
                    alerta: a.clone(),
                }));
            }
            nodos.push(NodoMemoriaInfo {
                nodo: nodo.clone(),
                reporte: n.reporte.clone(),
                hace_ms: ahora.duration_since(n.recibido).as_millis() as u64,
                obsoleto,
            });
        }
        EstadoMemoria {
            nodos,
            alertas,
            plazo_ms: self.plazo.as_millis() as u64,
        }
    }
}

#[cfg(test)]
mod tests {
    use comun::memoria::{Alerta, Muestra, Recurso};

    use super::*;

    fn reporte(nodo: &str, niveles: &[Nivel]) -> ReporteMemoria {
        let alerta = |nivel| Alerta {
            recurso: Recurso::Cpu,
            nivel,
            valor: 97.0,
            umbral: 95.0,
            desde_ms: 0,
        };
        ReporteMemoria {
            nodo: nodo.into(),
            instancia: 1,
            muestra: Muestra {
                nodo: nodo.into(),
                ..Muestra::default()
            },
            alertas: niveles.iter().map(|&n| alerta(n)).collect(),
            intervalo_ms: 1000,
        }
    }

    #[test]
    fn a_stale_report_is_shown_but_steers_nothing_and_going_stale_is_noticed_once() {
        let s = Duration::from_secs;
        let mut n = Nodos::new(s(5));
        let t0 = Instant::now();
        assert!(n.reportar(reporte("n1", &[Nivel::Critico, Nivel::Aviso]), t0));
        let sana = Salud::default();
        let grave = Salud {
            critico: true,
            avisos: 1,
        };
        assert_eq!(n.salud("n1", t0 + s(5)), grave);
        assert!(!n.caducar(t0 + s(5)));
        let tarde = t0 + s(5) + Duration::from_millis(1);
        assert_eq!(n.salud("n1", tarde), sana);
        assert_eq!(n.salud("otro", t0), sana);
        let vista = n.vista(tarde);
        assert!(vista.nodos[0].obsoleto && vista.alertas.is_empty());
        assert!(n.caducar(tarde));
        assert!(!n.caducar(tarde), "noticed once");
        // The same alerts again: fresh once more, which is a change.
        assert!(n.reportar(reporte("n1", &[Nivel::Critico, Nivel::Aviso]), tarde));
        assert!(!n.reportar(reporte("n1", &[Nivel::Critico, Nivel::Aviso]), tarde));
        assert_eq!(n.vista(tarde).alertas.len(), 2);
    }
}

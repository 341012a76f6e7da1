//! The statistics as the API shows them: [`Estado::estadisticas`] (`GET /estadisticas`) and
//! [`Estado::historial_esclavo`] (`GET /esclavos/{nombre}`), from the figures kept since start
//! and the live state (running attempts count towards utilisation up to now).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use comun::estadisticas::{
    self as api, Caudal, HistorialEsclavo, Rendimiento, SerieCarga, TiemposGrupo, UsoEsclavo,
};

use super::ventana::SEGUNDOS;
use super::{Estadisticas, orden_algoritmo, orden_tipo};
use crate::estado::Estado;
use crate::estado::esclavos::Esclavo;

impl Estadisticas {
    /// Throughput, times by tipo and backend, and speedups.
    pub fn rendimiento(&self, ahora: Instant) -> Rendimiento {
        let vida = ahora.saturating_duration_since(self.origen).as_secs_f64();
        let minuto = vida.clamp(1.0, SEGUNDOS as f64);
        let ultimo_minuto = self.terminados.total(self.ms(ahora) / 1000);
        let mut tiempos: Vec<TiemposGrupo> = self
            .grupos
            .iter()
            .map(|(&(tipo, algoritmo), g)| TiemposGrupo {
                tipo,
                algoritmo,
                espera: g.espera.distribucion(),
                ejecucion: g.ejecucion.distribucion(),
                kernel: g.kernel.distribucion(),
            })
            .collect();
        tiempos.sort_by_key(|t| (orden_tipo(t.tipo), orden_algoritmo(t.algoritmo)));
        Rendimiento {
            caudal: Caudal {
                ultimo_minuto_por_s: ultimo_minuto as f64 / minuto,
                desde_inicio_por_s: self.terminados() as f64 / vida.max(1.0),
                terminados_ultimo_minuto: ultimo_minuto,
                completados_desde_inicio: self.completados,
                fallidos_desde_inicio: self.fallidos,
            },
            tiempos,
            aceleracion: self.aceleraciones.informe(),
        }
    }

    /// An esclavo's use of its slots over the last minute; `corriendo_ms`: the busy time of
    /// its running attempts within that minute.
    fn uso(&self, e: &Esclavo, corriendo_ms: u64, ahora: Instant) -> UsoEsclavo {
        let ahora_ms = self.ms(ahora);
        let h = self.esclavos.get(&e.id.nombre);
        let visto_ms = h.map_or(0, |h| h.visto_ms);
        let ventana_ms = ahora_ms.saturating_sub(visto_ms).min(SEGUNDOS * 1000);
        let terminado_ms = h.map_or(0, |h| h.ocupacion.total(ahora_ms / 1000));
        let disponible = (ventana_ms * u64::from(e.capacidad)) as f64;
        let ocupado = (terminado_ms + corriendo_ms) as f64;
        UsoEsclavo {
            nombre: e.id.nombre.clone(),
            vivo: e.vivo,
            capacidad: e.capacidad,
            ejecutando: e.enviados + e.huerfanos,
            utilizacion: if disponible > 0.0 {
                (ocupado / disponible).min(1.0)
            } else {
                0.0
            },
            ventana_s: ventana_ms as f64 / 1000.0,
            completados: h.map_or(0, |h| h.completados),
            fallidos: h.map_or(0, |h| h.fallidos),
        }
    }
}

impl Estado {
    /// Busy milliseconds within the last minute of the attempts running now, by esclavo.
    fn corriendo_ms(&self, ahora: Instant) -> HashMap<&str, u64> {
        let desde = ahora.checked_sub(Duration::from_secs(SEGUNDOS));
        let mut por_esclavo: HashMap<&str, u64> = HashMap::new();
        for e in self.trabajos.en_curso.values() {
            let inicio = desde.map_or(e.inicio, |d| e.inicio.max(d));
            let ms = ahora.saturating_duration_since(inicio).as_millis() as u64;
            *por_esclavo.entry(e.esclavo.nombre.as_str()).or_default() += ms;
        }
        por_esclavo
    }

    /// The body of `GET /estadisticas`.
    pub fn estadisticas(&self, ahora: Instant, ahora_ms: u64) -> api::Estadisticas {
        let s = &self.estadisticas;
        let corriendo = self.corriendo_ms(ahora);
        let esclavos = self
            .esclavos
            .todos()
            .map(|e| {
                let c = corriendo.get(e.id.nombre.as_str()).copied().unwrap_or(0);
                s.uso(e, c, ahora)
            })
            .collect();
        api::Estadisticas {
            inicio_ms: s.inicio_ms,
            ahora_ms,
            trabajos: self.resumen(),
            rendimiento: s.rendimiento(ahora),
            esclavos,
        }
    }

    /// The body of `GET /esclavos/{nombre}` but its load over time (the series hold it);
    /// `None` if no esclavo registered under `nombre`.
    pub fn historial_esclavo(&self, nombre: &str, ahora: Instant) -> Option<HistorialEsclavo> {
        let e = self.esclavos.get(nombre)?;
        let s = &self.estadisticas;
        let info = self
            .esclavos
            .info(ahora)
            .into_iter()
            .find(|i| i.nombre == nombre)?;
        let corriendo = self.corriendo_ms(ahora).get(nombre).copied().unwrap_or(0);
        let h = s.esclavos.get(nombre);
        Some(HistorialEsclavo {
            esclavo: info,
            uso: s.uso(e, corriendo, ahora),
            perdidas: h.map_or(0, |h| h.perdidas),
            promedios: h.map(|h| h.promedios()).unwrap_or_default(),
            recientes: h.map(|h| h.recientes()).unwrap_or_default(),
            carga: SerieCarga::default(),
        })
    }
}

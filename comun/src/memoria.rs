//! Bodies of the memoria service: what a node's resource monitor measures, the alerts it raises
//! and the report it sends to the maestro.
//!
//! - `POST {maestro}/reporte_memoria` [`ReporteMemoria`] → [`RespuestaReporte`]: sent every
//!   `intervalo_ms` and at once when an alert starts or ends.
//! - `GET {memoria}/metricas` → [`Muestra`] (503 with a `CuerpoError` before the first sample)
//! - `GET {memoria}/historial?desde=<ms>` → [`Historial`]
//! - `GET {memoria}/alertas` → [`Alertas`]
//!
//! Percentages are `0.0..=100.0`; sizes are bytes; instants are milliseconds since the Unix
//! epoch, as everywhere on the wire.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One reading of a node's resources.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Muestra {
    /// The host it was taken on; memoria reports of a node apply to the esclavos on that node.
    pub nodo: String,
    /// When it was taken.
    pub instante_ms: u64,
    /// CPU use over the interval since the previous sample, in percent of all cores.
    pub cpu_porcentaje: f64,
    /// Load average over 1 minute (0 where the platform has none).
    pub carga_1: f64,
    /// Load average over 5 minutes.
    pub carga_5: f64,
    /// Load average over 15 minutes.
    pub carga_15: f64,
    /// RAM in use, bytes.
    pub memoria_usada: u64,
    /// RAM installed (or allowed to this container), bytes.
    pub memoria_total: u64,
    /// Swap in use, bytes.
    pub swap_usada: u64,
    /// Swap configured, bytes; 0 where there is none (swap then raises no alert).
    pub swap_total: u64,
    /// Each mounted filesystem, once.
    pub discos: Vec<Disco>,
    /// Each NVIDIA GPU; empty where no driver is present.
    #[serde(default)]
    pub gpus: Vec<GpuMuestra>,
}

/// Use of one mounted filesystem.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Disco {
    /// Where it is mounted (`/`, `/datos`): it names the filesystem in alerts.
    pub punto_montaje: String,
    /// Bytes in use (total less available).
    pub usado: u64,
    /// Size of the filesystem, bytes.
    pub total: u64,
}

/// One GPU's memory, utilisation and temperature.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GpuMuestra {
    /// The driver's index of the device (`nvidia-smi`'s numbering).
    pub indice: u32,
    /// Product name, `NVIDIA H100 80GB HBM3`.
    pub nombre: String,
    /// Device memory in use, bytes.
    pub memoria_usada: u64,
    /// Device memory installed, bytes.
    pub memoria_total: u64,
    /// Percent of the last sample period during which a kernel was running.
    pub utilizacion: f64,
    /// Core temperature, degrees Celsius; absent where the driver does not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperatura_c: Option<f64>,
    /// PCI address, `0000:17:00.0`: the same device in an esclavo's registration (`pci` of its
    /// GPU there), whose indices follow CUDA's order, not the driver's; empty where the driver
    /// does not say.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub pci: String,
}

/// A resource an alert can be about. Serialized with a `tipo` tag:
/// `{"tipo":"cpu"}`, `{"tipo":"disco","punto_montaje":"/"}`, `{"tipo":"gpu_memoria","indice":0}`.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(tag = "tipo", rename_all = "snake_case")]
pub enum Recurso {
    /// CPU use of all cores.
    Cpu,
    /// RAM in use.
    Memoria,
    /// Swap in use.
    Swap,
    /// One filesystem's use.
    Disco {
        /// Its mount point, as in [`Disco::punto_montaje`].
        punto_montaje: String,
    },
    /// One GPU's memory in use.
    GpuMemoria {
        /// Its index, as in [`GpuMuestra::indice`].
        indice: u32,
    },
}

impl fmt::Display for Recurso {
    /// `cpu`, `memoria`, `swap`, `disco /datos`, `gpu_memoria 0`: for logs and tables.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Recurso::Cpu => f.write_str("cpu"),
            Recurso::Memoria => f.write_str("memoria"),
            Recurso::Swap => f.write_str("swap"),
            Recurso::Disco { punto_montaje } => write!(f, "disco {punto_montaje}"),
            Recurso::GpuMemoria { indice } => write!(f, "gpu_memoria {indice}"),
        }
    }
}

/// How serious an alert is; `Critico` is greater than `Aviso`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Nivel {
    /// Warning: worth steering new work elsewhere when there is a choice.
    Aviso,
    /// Critical: the node is in trouble.
    Critico,
}

impl fmt::Display for Nivel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Nivel::Aviso => "aviso",
            Nivel::Critico => "critico",
        })
    }
}

/// A resource over a threshold. A node has at most one alert per resource, at the highest level
/// it is in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Alerta {
    /// What is over the threshold.
    pub recurso: Recurso,
    /// Which threshold.
    pub nivel: Nivel,
    /// The resource's use in the latest sample, percent (in an alert that just ended: the value
    /// that ended it).
    pub valor: f64,
    /// The threshold of `nivel` that was crossed, percent.
    pub umbral: f64,
    /// When the resource reached this level. A crítico that falls back to aviso shows the
    /// aviso's original start, since the resource never left aviso in between.
    pub desde_ms: u64,
}

/// Body of `POST /reporte_memoria`: a node's latest sample and its active alerts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReporteMemoria {
    /// The host reported on (same as `muestra.nodo`): it applies to the esclavos whose `nodo` is
    /// this.
    pub nodo: String,
    /// Changes every time the memoria process starts, so the maestro can tell a restart.
    pub instancia: u64,
    /// The latest sample.
    pub muestra: Muestra,
    /// The alerts active now, one per resource at most; empty when all is well.
    pub alertas: Vec<Alerta>,
    /// How often a report comes when nothing changes: the maestro may take a node silent for a
    /// few of these as unmonitored, and its alerts as stale.
    pub intervalo_ms: u64,
}

/// Answer to `POST /reporte_memoria`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RespuestaReporte {
    /// The report was taken.
    pub ok: bool,
}

/// Body of `GET /historial`: the samples a memoria keeps, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Historial {
    /// The node they were taken on.
    pub nodo: String,
    /// Most samples kept; older ones are dropped.
    pub capacidad: usize,
    /// Samples taken at or after the `desde` of the request (all kept ones without it).
    pub muestras: Vec<Muestra>,
}

/// Body of `GET /alertas`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Alertas {
    /// The node they are about.
    pub nodo: String,
    /// The active alerts, one per resource at most, in [`Recurso`] order.
    pub alertas: Vec<Alerta>,
}

impl Muestra {
    /// The use of every resource an alert can be about, in percent. A resource with a total of
    /// zero (no swap, an empty pseudo-filesystem) has no use and is left out.
    pub fn usos(&self) -> Vec<(Recurso, f64)> {
        let mut usos = vec![(Recurso::Cpu, self.cpu_porcentaje)];
        usos.extend(
            porcentaje(self.memoria_usada, self.memoria_total).map(|p| (Recurso::Memoria, p)),
        );
        usos.extend(porcentaje(self.swap_usada, self.swap_total).map(|p| (Recurso::Swap, p)));
        for d in &self.discos {
            let recurso = Recurso::Disco {
                punto_montaje: d.punto_montaje.clone(),
            };
            usos.extend(porcentaje(d.usado, d.total).map(|p| (recurso, p)));
        }
        for g in &self.gpus {
            let recurso = Recurso::GpuMemoria { indice: g.indice };
            usos.extend(porcentaje(g.memoria_usada, g.memoria_total).map(|p| (recurso, p)));
        }
        usos
    }
}

/// `usado` as a percentage of `total`; `None` when `total` is 0.
pub fn porcentaje(usado: u64, total: u64) -> Option<f64> {
    (total > 0).then(|| usado as f64 * 100.0 / total as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_serialize_readably_and_back() {
        let casos = [
            (Recurso::Cpu, r#"{"tipo":"cpu"}"#),
            (Recurso::Swap, r#"{"tipo":"swap"}"#),
            (
                Recurso::Disco {
                    punto_montaje: "/datos".into(),
                },
                r#"{"tipo":"disco","punto_montaje":"/datos"}"#,
            ),
            (
                Recurso::GpuMemoria { indice: 1 },
                r#"{"tipo":"gpu_memoria","indice":1}"#,
            ),
        ];
        for (recurso, json) in casos {
            assert_eq!(serde_json::to_string(&recurso).unwrap(), json);
            assert_eq!(serde_json::from_str::<Recurso>(json).unwrap(), recurso);
        }
        assert_eq!(
            serde_json::to_string(&Nivel::Critico).unwrap(),
            r#""critico""#
        );
        assert!(Nivel::Critico > Nivel::Aviso);
    }

    #[test]
    fn usos_leave_out_resources_without_a_total() {
        let m = Muestra {
            cpu_porcentaje: 12.5,
            memoria_usada: 1,
            memoria_total: 4,
            discos: vec![
                Disco {
                    punto_montaje: "/".into(),
                    usado: 9,
                    total: 10,
                },
                Disco {
                    punto_montaje: "/vacio".into(),
                    usado: 0,
                    total: 0,
                },
            ],
            gpus: vec![GpuMuestra {
                indice: 0,
                memoria_usada: 1,
                memoria_total: 2,
                ..GpuMuestra::default()
            }],
            ..Muestra::default()
        };
        let disco = Recurso::Disco {
            punto_montaje: "/".into(),
        };
        assert_eq!(
            m.usos(),
            vec![
                (Recurso::Cpu, 12.5),
                (Recurso::Memoria, 25.0),
                (disco, 90.0),
                (Recurso::GpuMemoria { indice: 0 }, 50.0),
            ]
        );
    }
}

//! Bodies of the maestro's statistics: `GET /estadisticas` (alias `/stats`), its performance
//! part `GET /stats/performance`, one esclavo's history `GET /esclavos/{nombre}`, and the
//! time series of the last hour `GET /estadisticas/series`.
//!
//! Times are in seconds (`_s`), instants in milliseconds since the Unix epoch (`_ms`),
//! percentages from 0 to 100, utilisation from 0 to 1.

use serde::{Deserialize, Serialize};

use crate::api::{EsclavoInfo, Resumen};
use crate::trabajo::{Algoritmo, Estado, Tipo, TrabajoId};

/// Answer to `GET /estadisticas` and `GET /stats`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Estadisticas {
    /// When the maestro started.
    pub inicio_ms: u64,
    /// When these figures were taken.
    pub ahora_ms: u64,
    /// Jobs by state (all of the store's history, as `/resumen`).
    pub trabajos: Resumen,
    pub rendimiento: Rendimiento,
    /// Every registered esclavo's use of its slots.
    pub esclavos: Vec<UsoEsclavo>,
}

/// Answer to `GET /stats/performance`: throughput, times and speedups since the maestro
/// started.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Rendimiento {
    pub caudal: Caudal,
    /// Wait and run times of the jobs completed since the maestro started, by tipo and the
    /// backend that ran them (`Auto` resolved), in tipo then backend order.
    pub tiempos: Vec<TiemposGrupo>,
    /// GPU-versus-CPU speedup per tipo, where both ran jobs of the same size.
    pub aceleracion: Vec<Aceleracion>,
}

/// Jobs finished (`completado` or `fallido` for good) per second.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Caudal {
    /// Over the last 60 s (or since start, if the maestro is younger).
    pub ultimo_minuto_por_s: f64,
    /// Since the maestro started.
    pub desde_inicio_por_s: f64,
    pub terminados_ultimo_minuto: u64,
    pub completados_desde_inicio: u64,
    pub fallidos_desde_inicio: u64,
}

/// A distribution of durations, in seconds. Percentiles come from a fixed histogram of
/// buckets 19% wide (4 per doubling), clamped to the exact minimum and maximum; the mean and
/// the maximum are exact.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Distribucion {
    pub muestras: u64,
    pub media_s: f64,
    pub p50_s: f64,
    pub p95_s: f64,
    pub max_s: f64,
}

/// The times of the jobs of one tipo that one backend ran to completion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TiemposGrupo {
    pub tipo: Tipo,
    /// The backend that ran them: `Auto` is counted as what it resolved to.
    pub algoritmo: Algoritmo,
    /// From acceptance to the start of the attempt that completed the job (earlier failed
    /// attempts and retry delays included); only for jobs accepted since the maestro started
    /// (not those recovered from the store, nor those queued again by a user's retry), so
    /// `muestras` may be lower than the run time's.
    pub espera: Distribucion,
    /// From the dispatch of that attempt to the maestro receiving its result.
    pub ejecucion: Distribucion,
    /// Kernel time, as the esclavo measured it.
    pub kernel: Distribucion,
}

/// How much faster `Cuda` ran a tipo than a CPU backend.
///
/// Only jobs of the same tipo **and size** are compared (the size is what sets the work:
/// Julia's width × height × iterations, matmul's n and repetitions, vector_add's n and
/// repetitions, montecarlo's samples, nbody's particles and steps). For each size both
/// backends completed, the ratio is mean CPU kernel time / mean GPU kernel time; `factor` is
/// the geometric mean of those ratios, so every size weighs the same whatever its duration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Aceleracion {
    pub tipo: Tipo,
    /// The CPU backend compared: `Paralelo` or `Secuencial`.
    pub cpu: Algoritmo,
    /// Sizes both ran.
    pub tamanos: u32,
    /// Jobs on the GPU and on the CPU behind the compared sizes.
    pub trabajos_gpu: u64,
    pub trabajos_cpu: u64,
    /// Greater than 1: the GPU was faster.
    pub factor: f64,
}

/// An esclavo's use of its slots.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UsoEsclavo {
    pub nombre: String,
    pub vivo: bool,
    pub capacidad: u32,
    pub ejecutando: u32,
    /// Busy slot-time over available slot-time (slots × the part of the window it was
    /// registered), over the last [`UsoEsclavo::ventana_s`] seconds; running attempts count
    /// up to now.
    pub utilizacion: f64,
    pub ventana_s: f64,
    /// Jobs it completed and attempts that failed on it, since the maestro started.
    pub completados: u64,
    pub fallidos: u64,
}

/// Answer to `GET /esclavos/{nombre}`: one esclavo and its history since the maestro started.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HistorialEsclavo {
    pub esclavo: EsclavoInfo,
    pub uso: UsoEsclavo,
    /// Times it was declared lost (no heartbeat in time, or unreachable).
    pub perdidas: u64,
    /// Mean and longest run time of what it completed, by tipo and backend.
    pub promedios: Vec<PromedioGrupo>,
    /// Its latest finished attempts, newest first (at most [`HistorialEsclavo::MAX_RECIENTES`]).
    pub recientes: Vec<IntentoReciente>,
    /// Its heartbeats' load over the last hour, at the series' resolution.
    pub carga: SerieCarga,
}

impl HistorialEsclavo {
    /// Most recent attempts kept per esclavo.
    pub const MAX_RECIENTES: usize = 50;
}

/// Mean and longest run time of one tipo on one backend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PromedioGrupo {
    pub tipo: Tipo,
    pub algoritmo: Algoritmo,
    pub trabajos: u64,
    pub media_s: f64,
    pub max_s: f64,
}

/// An attempt that ended on an esclavo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IntentoReciente {
    pub id: TrabajoId,
    pub intento: u32,
    pub tipo: Tipo,
    pub algoritmo: Algoritmo,
    /// `completado` or `fallido` (the attempt, not necessarily the job).
    pub estado: Estado,
    pub fin_ms: u64,
    /// From dispatch to its end.
    pub ejecucion_s: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A node's load over time, aligned with [`SerieCarga::instantes_ms`]; `null` where it did
/// not report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SerieCarga {
    pub instantes_ms: Vec<u64>,
    /// CPU use, percent of all cores.
    pub cpu: Vec<Option<f32>>,
    /// Memory in use, percent.
    pub memoria: Vec<Option<f32>>,
    /// Mean utilisation of its GPUs, percent (memoria nodes with GPUs only).
    pub gpu: Vec<Option<f32>>,
}

/// Answer to `GET /estadisticas/series`: the last hour at a few seconds' resolution, oldest
/// first. Every list has one value per instant of `instantes_ms`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Series {
    /// Seconds between samples.
    pub paso_s: f64,
    /// Most samples kept (the lists never grow past it).
    pub capacidad: u32,
    pub instantes_ms: Vec<u64>,
    /// Pending jobs (queued or waiting for a retry) by priority.
    pub cola: SerieCola,
    /// Jobs finished per second during each step.
    pub terminados_por_s: Vec<f64>,
    pub esclavos_vivos: Vec<u32>,
    /// Each esclavo's heartbeat load and each memoria node's reported load, by name.
    pub nodos: Vec<SerieNodo>,
}

/// Pending jobs by priority over time.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SerieCola {
    pub alta: Vec<u64>,
    pub media: Vec<u64>,
    pub baja: Vec<u64>,
}

/// Where a node's load came from.
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
#[serde(rename_all = "lowercase")]
pub enum Fuente {
    /// An esclavo's heartbeats.
    Esclavo,
    /// A memoria node's reports.
    Memoria,
}

/// One node's load over time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SerieNodo {
    pub nombre: String,
    pub fuente: Fuente,
    /// CPU use, percent; `null` where it did not report.
    pub cpu: Vec<Option<f32>>,
    /// Memory in use, percent.
    pub memoria: Vec<Option<f32>>,
    /// Mean GPU utilisation, percent (memoria nodes with GPUs).
    pub gpu: Vec<Option<f32>>,
}

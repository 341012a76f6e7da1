//! The body of `GET /estado`: what this esclavo is doing, for people and dashboards.
//!
//! These types are the esclavo's own (the maestro never reads them), so they live here and not
//! in `comun`.

use comun::{Algoritmo, Estado, TrabajoId};
use serde::{Deserialize, Serialize};

use crate::gpus::GpuEnUso;

/// Answer to `GET /estado`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EstadoEsclavo {
    /// The name it registered under.
    pub nombre: String,
    /// This process's instance number, to tell restarts apart.
    pub instancia: u64,
    /// The URL it gave the maestro.
    pub url: String,
    /// The maestro it reports to.
    pub maestro: String,
    /// The host it runs on.
    pub nodo: String,
    /// How many jobs it runs at once.
    pub capacidad: u32,
    /// Its GPUs, each with its `Cuda` slots and the jobs running on it; empty without a GPU.
    #[serde(default)]
    pub gpus: Vec<GpuEnUso>,
    /// Jobs running now, oldest first.
    pub ejecutando: Vec<EnCurso>,
    /// Attempts that finished with a result since the process started.
    pub completados: u64,
    /// Attempts that finished with an error since the process started (a time limit
    /// included).
    pub fallidos: u64,
    /// Attempts stopped by `POST /cancelar` or the heartbeat's `cancelar` list since the
    /// process started.
    #[serde(default)]
    pub cancelados: u64,
    /// The last finished attempts (at most [`HISTORIAL`]), newest first.
    pub historial: Vec<Terminado>,
    /// Whether the maestro accepted its registration and has not forgotten it since.
    pub registrado: bool,
    /// Draining (it got SIGTERM): it takes no new job and leaves once the running ones
    /// finish or its grace period (`--gracia-s`) ends.
    #[serde(default)]
    pub drenando: bool,
    /// Finished attempts whose results the maestro has not acknowledged yet.
    pub resultados_por_enviar: u64,
}

/// How many finished attempts `/estado` remembers.
pub const HISTORIAL: usize = 100;

/// A job running now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EnCurso {
    /// The maestro's id of the job.
    pub id: TrabajoId,
    /// Which attempt at the job this is (1 for the first).
    pub intento: u32,
    /// What it computes, in words: `julia 800×600×100`, `espera 50 ms`.
    pub descripcion: String,
    /// The backend it runs on.
    pub algoritmo: Algoritmo,
    /// The GPU it runs on (its index), for a `Cuda` job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu: Option<u32>,
    /// When it started, in ms since the Unix epoch.
    pub desde_ms: u64,
}

/// An attempt that finished.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Terminado {
    /// The maestro's id of the job.
    pub id: TrabajoId,
    /// Which attempt at the job this was.
    pub intento: u32,
    /// `completado`, `fallido` (an error, or its time limit) or `cancelado`.
    pub estado: Estado,
    /// Wall time from accepting the job to its end, in seconds.
    pub duracion_s: f64,
    /// When it ended, in ms since the Unix epoch.
    pub fin_ms: u64,
}

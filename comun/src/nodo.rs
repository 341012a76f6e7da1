//! Bodies exchanged between the maestro and its esclavos.
//!
//! - `POST {maestro}/registrar_esclavo` [`Registro`] → [`RespuestaRegistro`]
//! - `POST {maestro}/latido` [`Latido`] → [`RespuestaLatido`] (404 when the maestro does not know
//!   the esclavo: it registers again)
//! - `POST {esclavo}/ejecutar` [`PeticionEjecutar`] → [`RespuestaEjecutar`] (503 when it took none)
//! - `POST {esclavo}/cancelar` [`PeticionCancelar`] → [`RespuestaCancelar`]: stop running jobs
//! - `POST {maestro}/resultado` [`LoteResultados`] → [`RespuestaResultados`]

use serde::{Deserialize, Serialize};

use crate::trabajo::{Algoritmo, Parametros, Resultado, TrabajoId};

/// A GPU an esclavo can run `Cuda` jobs on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Gpu {
    pub nombre: String,
    pub memoria_bytes: u64,
    /// Compute capability, `9.0` for Hopper.
    pub capacidad_computo: String,
    pub driver: String,
}

/// What an esclavo's hardware offers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Capacidades {
    pub nucleos: u32,
    pub memoria_bytes: u64,
    /// Present only on an esclavo built with `cuda` that found a usable GPU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu: Option<Gpu>,
}

/// Body of `POST /registrar_esclavo`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Registro {
    /// Unique name in the cluster (`ESCLAVO`).
    pub nombre: String,
    /// Changes every time the esclavo process starts: a new instance under a known name means
    /// the old one died, and what it was running must run again.
    pub instancia: u64,
    /// How the maestro reaches it: `http://host:port`.
    pub url: String,
    /// The host it runs on; memoria reports of that node apply to it.
    pub nodo: String,
    /// Concurrent job slots.
    pub capacidad: u32,
    pub capacidades: Capacidades,
}

/// Answer to `POST /registrar_esclavo`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RespuestaRegistro {
    /// How often the maestro expects a heartbeat.
    pub latido_ms: u64,
    pub mensaje: String,
}

/// An esclavo's load, sent with each heartbeat.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Carga {
    /// CPU use in percent of all cores.
    pub cpu: f32,
    pub memoria_usada: u64,
    pub memoria_total: u64,
}

/// Body of `POST /latido`, sent every couple of seconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Latido {
    pub nombre: String,
    pub instancia: u64,
    pub carga: Carga,
    /// Jobs it is running now.
    pub ejecutando: Vec<TrabajoId>,
}

/// Answer to `POST /latido`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RespuestaLatido {
    pub ok: bool,
    /// Jobs of [`Latido::ejecutando`] the maestro no longer wants (cancelled, or finished by
    /// another attempt): the esclavo stops them. The backstop of `POST /cancelar`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cancelar: Vec<TrabajoId>,
}

/// Body of `POST {esclavo}/cancelar`: stop every attempt of these jobs running there.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PeticionCancelar {
    pub trabajos: Vec<TrabajoId>,
    /// Why, for the esclavo's log and the attempt's error (`"cancelled by a user"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub motivo: Option<String>,
}

/// Answer to `POST {esclavo}/cancelar`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RespuestaCancelar {
    /// Jobs that were running there and have been told to stop.
    pub cancelados: Vec<TrabajoId>,
    /// Jobs that were not running there (already finished, or never sent).
    pub desconocidos: Vec<TrabajoId>,
}

/// One job sent to an esclavo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Asignacion {
    pub id: TrabajoId,
    /// 1 for the first attempt; results carry it back.
    pub intento: u32,
    #[serde(flatten)]
    pub parametros: Parametros,
    pub algoritmo: Algoritmo,
    /// Time limit of this attempt in milliseconds, from when the esclavo starts it; 0: none.
    /// Past it the esclavo stops the kernel and reports a failed attempt.
    #[serde(default)]
    pub plazo_ms: u64,
}

/// Body of `POST /ejecutar`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PeticionEjecutar {
    pub trabajos: Vec<Asignacion>,
}

/// A job an esclavo did not take, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Rechazo {
    pub id: TrabajoId,
    pub motivo: String,
}

/// Answer to `POST /ejecutar`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RespuestaEjecutar {
    pub aceptados: Vec<TrabajoId>,
    pub rechazados: Vec<Rechazo>,
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "estado", rename_all = "lowercase")]
pub enum Salida {
    Completado {
        resultado: Resultado,
        /// The PNG of a Julia job, base64-encoded.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        imagen_png: Option<String>,
    },
    Fallido {
        error: String,
    },
}

/// One finished attempt, as an esclavo reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct InformeResultado {
    pub id: TrabajoId,
    pub intento: u32,
    pub esclavo: String,
    pub instancia: u64,
    pub salida: Salida,
}

/// Body of `POST /resultado`: one or more finished attempts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LoteResultados {
    pub resultados: Vec<InformeResultado>,
}

/// Answer to `POST /resultado`: every report in it is durably handled when this is sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RespuestaResultados {
    /// Reports that recorded a result or a failed attempt.
    pub registrados: u32,
    /// Reports for jobs already finished (a late or repeated answer): ignored.
    pub ignorados: u32,
}

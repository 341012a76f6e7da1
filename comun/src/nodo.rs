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
    /// The CUDA driver's ordinal of the device on that esclavo (after `CUDA_VISIBLE_DEVICES`),
    /// `0` for the first; `Cuda` jobs and `/estado` name the device by it.
    #[serde(default)]
    pub indice: u32,
    pub nombre: String,
    pub memoria_bytes: u64,
    /// Compute capability, `9.0` for Hopper.
    pub capacidad_computo: String,
    pub driver: String,
    /// PCI address, `0000:17:00.0`: the same device in a memoria node's samples, whose indices
    /// follow another order (NVML's); empty where the driver does not say.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub pci: String,
    /// What bounds its speed, where the esclavo could tell (a `cuda` build reads it from the
    /// device); `cliente benchmark` draws each kernel's throughput against it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limites: Option<LimitesGpu>,
}

/// A GPU's peak rates: from its attributes (SMs, clocks, memory bus) and NVIDIA's tables of
/// lanes per SM by compute capability. Each is absent where the table does not know.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LimitesGpu {
    /// f32 FLOP/s without tensor cores (SMs × FP32 lanes × 2 × clock), in 10⁹.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pico_gflops_f32: Option<u64>,
    /// f64 FLOP/s without tensor cores (SMs × FP64 lanes × 2 × clock), in 10⁹.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pico_gflops_f64: Option<u64>,
    /// Memory bandwidth (2 × memory clock × bus width), in 10⁹ bytes per second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ancho_banda_gb_s: Option<u64>,
}

/// A GPU's PCI address as [`Gpu::pci`] and memoria's samples write it, from its domain, bus and
/// device numbers: `0000:17:00.0` (function 0: a GPU is its device's function 0).
pub fn direccion_pci(dominio: u32, bus: u32, dispositivo: u32) -> String {
    format!("{dominio:04x}:{bus:02x}:{dispositivo:02x}.0")
}

/// What an esclavo's hardware offers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Capacidades {
    pub nucleos: u32,
    pub memoria_bytes: u64,
    /// Every usable GPU, in index order; empty on an esclavo built without `cuda` or that
    /// found none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gpus: Vec<Gpu>,
}

impl Capacidades {
    /// The GPUs in a few words, identical ones counted: `NVIDIA H100 80GB HBM3`,
    /// `2 × NVIDIA H100 80GB HBM3`, `NVIDIA A100-SXM4-40GB, NVIDIA T4`; `None` without any.
    pub fn resumen_gpus(&self) -> Option<String> {
        let mut grupos: Vec<(&str, usize)> = Vec::new();
        for g in &self.gpus {
            match grupos.iter_mut().find(|(nombre, _)| *nombre == g.nombre) {
                Some((_, n)) => *n += 1,
                None => grupos.push((&g.nombre, 1)),
            }
        }
        let partes: Vec<String> = grupos
            .into_iter()
            .map(|(nombre, n)| match n {
                1 => nombre.to_owned(),
                n => format!("{n} × {nombre}"),
            })
            .collect();
        (!partes.is_empty()).then(|| partes.join(", "))
    }
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
    /// Of those, how many may run `Cuda` jobs at once: its slots per GPU (`--ranuras-por-gpu`,
    /// 1 by default) times its GPUs; 0 without a GPU. A `Cuda` job takes one of these and one
    /// of `capacidad`.
    #[serde(default)]
    pub capacidad_gpu: u32,
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
    /// It is draining (it got SIGTERM): it takes no new job, finishes those it runs within
    /// its grace period and hands the rest back (`POST /esclavos/{nombre}/baja`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub drenando: bool,
}

/// Body of `POST /esclavos/{nombre}/baja`: the esclavo process `instancia` leaves the cluster.
/// Whatever it still runs is handed back to the queue at once, without counting as a failed
/// attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Baja {
    /// The process leaving (a newer process under the same name is not removed).
    pub instancia: u64,
    /// Why, for the handed-back attempts' history (`"SIGTERM: grace period of 20 s over"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub motivo: Option<String>,
}

/// Answer to `POST /esclavos/{nombre}/baja`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RespuestaBaja {
    /// The jobs it was running, handed back to the queue.
    pub devueltos: Vec<TrabajoId>,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn gpu(indice: u32, nombre: &str) -> Gpu {
        Gpu {
            indice,
            nombre: nombre.into(),
            memoria_bytes: 80 << 30,
            capacidad_computo: "9.0".into(),
            driver: "550.54.15 (CUDA 12.4)".into(),
            pci: String::new(),
            limites: None,
        }
    }

    #[test]
    fn pci_addresses_are_written_with_a_four_digit_domain() {
        assert_eq!(direccion_pci(0, 0x17, 0), "0000:17:00.0");
        assert_eq!(direccion_pci(1, 0xc1, 3), "0001:c1:03.0");
    }

    #[test]
    fn several_gpus_are_summed_up_by_model() {
        let mut c = Capacidades::default();
        assert_eq!(c.resumen_gpus(), None);
        c.gpus = vec![gpu(0, "H100")];
        assert_eq!(c.resumen_gpus().as_deref(), Some("H100"));
        c.gpus = vec![gpu(0, "H100"), gpu(1, "T4"), gpu(2, "H100")];
        assert_eq!(c.resumen_gpus().as_deref(), Some("2 × H100, T4"));
    }

    #[test]
    fn an_esclavo_without_gpus_sends_none_and_old_fields_default() {
        let c = Capacidades {
            nucleos: 2,
            memoria_bytes: 1,
            gpus: Vec::new(),
        };
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(json, r#"{"nucleos":2,"memoria_bytes":1}"#);
        let una = r#"{"nucleos":2,"memoria_bytes":1,"gpus":[{"nombre":"H100",
            "memoria_bytes":85899345920,"capacidad_computo":"9.0","driver":"550.54.15 (CUDA 12.4)"}]}"#;
        let leida: Capacidades = serde_json::from_str(una).unwrap();
        assert_eq!(
            leida.gpus,
            [gpu(0, "H100")],
            "index 0 and no PCI address by default"
        );
    }
}

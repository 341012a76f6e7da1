//! Bodies of the maestro's public API: what clients send and what they get back, and the
//! limits the maestro puts on them ([`MAX_LOTE`], [`MAX_LISTA`], [`MAX_ESPERA`]).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::nodo::Capacidades;
use crate::trabajo::{Algoritmo, Estado, Parametros, Prioridad, TrabajoId};

mod lista;
mod peticion;
pub use lista::{Cursor, FiltroTrabajos, MAX_CUENTA, PeticionPrioridad, RespuestaAccion, Via};
pub use peticion::{ALIAS, PeticionTrabajo, tipo_de_job_type};

// Parts of these bodies defined with the bodies that carry them first: an esclavo's load
// (its heartbeat) and a job's result (its esclavo's report).
pub use crate::nodo::Carga;
pub use crate::trabajo::{Detalle, Resultado};

/// Answer to an accepted job: it is in the database when this is sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RespuestaAgregar {
    pub id: TrabajoId,
    pub estado: Estado,
    pub prioridad: Prioridad,
    pub mensaje: String,
}

/// Most jobs in one `POST /trabajos` ([`PeticionLote`]); more are refused whole, naming the
/// limit.
pub const MAX_LOTE: usize = 100_000;

/// Body of `POST /trabajos`: many jobs in one request, all accepted or none.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PeticionLote {
    pub trabajos: Vec<PeticionTrabajo>,
}

/// Answer to `POST /trabajos`: the ids, in the order of the request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RespuestaLote {
    pub ids: Vec<TrabajoId>,
}

/// Body of `POST /cargar_trabajos`: either the text of a jobs file, or the name of a file
/// inside the maestro's jobs folder.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PeticionCarga {
    /// The text of a jobs file, uploaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contenido: Option<String>,
    /// A file name relative to the maestro's jobs folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archivo: Option<String>,
}

/// A line of a jobs file that was not loaded, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LineaRechazada {
    /// 1-based line number.
    pub linea: usize,
    /// The line as written (trimmed).
    pub texto: String,
    /// Why it was rejected, naming the field.
    pub motivo: String,
}

/// Answer to `POST /cargar_trabajos`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RespuestaCarga {
    /// Jobs queued.
    pub cargados: usize,
    /// Their ids, in line order.
    pub ids: Vec<TrabajoId>,
    /// Lines that were not loaded.
    pub rechazadas: Vec<LineaRechazada>,
}

/// Answer to `POST /limpiar_cola`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RespuestaLimpiar {
    /// Pending jobs that were cancelled.
    pub eliminados: usize,
    pub mensaje: String,
}

/// One attempt at running a job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Intento {
    /// 1 for the first attempt.
    pub numero: u32,
    pub esclavo: String,
    pub inicio_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fin_ms: Option<u64>,
    /// Why the attempt failed, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Where a job came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "via", rename_all = "lowercase")]
pub enum Origen {
    /// `POST /agregar_trabajo`, `POST /trabajos` or `POST /tasks`.
    Api,
    /// A line of a jobs file: the watched file, a named file or an upload (`archivo` is
    /// `"(subido)"` for uploads).
    Archivo { archivo: String, linea: usize },
    /// A task of a JSON file dropped into the task folder (`task_queues/`): the file's name
    /// and the task's place in its `tasks`, from 0.
    Carpeta { archivo: String, tarea: usize },
}

impl std::fmt::Display for Origen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origen::Api => f.write_str("api"),
            Origen::Archivo { archivo, linea } => write!(f, "{archivo}:{linea}"),
            Origen::Carpeta { archivo, tarea } => write!(f, "{archivo} tasks[{tarea}]"),
        }
    }
}

/// A job as `GET /trabajos/{id}` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Trabajo {
    pub id: TrabajoId,
    #[serde(flatten)]
    pub parametros: Parametros,
    pub algoritmo: Algoritmo,
    pub prioridad: Prioridad,
    pub estado: Estado,
    pub intentos: Vec<Intento>,
    /// The esclavo running it, or the one that finished it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub esclavo: Option<String>,
    pub creado_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iniciado_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terminado_ms: Option<u64>,
    pub origen: Origen,
    /// The job's own time limit per attempt, in seconds, if it set one (else the maestro's
    /// default applies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plazo_s: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resultado: Option<Resultado>,
    /// For a pending job, why it is not running yet; for a failed or cancelled one, why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub motivo: Option<String>,
    /// The orchestrator's `task_id` it was submitted with: `GET /trabajos/{task_id}` and
    /// `/tasks/{task_id}` find it by that too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_id: Option<String>,
    /// The orchestrator's `description` of the task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub descripcion: Option<String>,
    /// The backend as the user named it, when that was an original system's name (`Numpy`,
    /// `juliaCython`); `algoritmo` is the one that ran it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algoritmo_pedido: Option<String>,
}

/// Most jobs one `GET /trabajos?limite=N` lists ([`ListaTrabajos`]); a larger `limite` gets
/// this many.
pub const MAX_LISTA: u32 = 10_000;

/// Answer to `GET /trabajos`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ListaTrabajos {
    /// Jobs matching the filter, newest first, at most `limite`.
    pub trabajos: Vec<Trabajo>,
    /// How many match the filter in all (at most [`MAX_CUENTA`] when it filters by more than
    /// the state: see `total_exacto`).
    pub total: u64,
    /// False when `total` stopped counting at [`MAX_CUENTA`]: at least that many match.
    #[serde(default = "verdadero")]
    pub total_exacto: bool,
    /// Pass it back as `cursor` for the next page (older jobs); absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub siguiente: Option<Cursor>,
}

fn verdadero() -> bool {
    true
}

/// Longest one long poll waits (`esperar_ms` of `GET /trabajos/{id}`, `espera_ms` of
/// `GET /resumen`); a longer wait asked for gets this one. Not the `espera` job's limit
/// ([`MAX_ESPERA_MS`](crate::trabajo::MAX_ESPERA_MS)).
pub const MAX_ESPERA: Duration = Duration::from_secs(60);

/// Job counts by state; `version` changes whenever any count does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Resumen {
    pub version: u64,
    pub pendientes: u64,
    pub asignados: u64,
    pub completados: u64,
    pub fallidos: u64,
    pub cancelados: u64,
}

impl Resumen {
    /// Jobs not finished yet.
    pub fn activos(&self) -> u64 {
        self.pendientes + self.asignados
    }

    pub fn total(&self) -> u64 {
        self.activos() + self.completados + self.fallidos + self.cancelados
    }
}

/// Queue counts of one priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ColaPrioridad {
    pub prioridad: Prioridad,
    pub pendientes: u64,
    pub asignados: u64,
}

/// An esclavo as the maestro sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EsclavoInfo {
    pub nombre: String,
    pub url: String,
    pub nodo: String,
    pub capacidad: u32,
    pub ejecutando: u32,
    /// Of `capacidad`, the slots for jobs on its GPUs (`--ranuras-por-gpu` × GPUs); 0 without.
    #[serde(default)]
    pub capacidad_gpu: u32,
    /// Of `ejecutando`, the jobs on its GPUs.
    #[serde(default)]
    pub ejecutando_gpu: u32,
    /// False once heartbeats stopped for longer than the maestro's limit.
    pub vivo: bool,
    pub ultimo_latido_hace_ms: u64,
    pub carga: Carga,
    pub capacidades: Capacidades,
    /// Jobs it completed since it registered.
    pub completados: u64,
    /// Draining: it gets no new job (an operator's `POST /esclavos/{nombre}/drenar`, or the
    /// esclavo itself on SIGTERM); what it runs finishes there.
    #[serde(default)]
    pub drenando: bool,
}

/// What the maestro made of its watched jobs file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct InformeArchivo {
    pub archivo: String,
    /// When it was last read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leido_ms: Option<u64>,
    /// Jobs queued from it, since the maestro started.
    pub cargados: u64,
    /// Malformed lines of its current text.
    pub rechazadas: Vec<LineaRechazada>,
    /// Why it could not be read, if it could not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Answer to `GET /estado`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EstadoCluster {
    pub resumen: Resumen,
    pub cola: Vec<ColaPrioridad>,
    pub esclavos: Vec<EsclavoInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archivo: Option<InformeArchivo>,
    /// Where the maestro keeps the jobs, and whether that store takes its writes.
    pub almacen: InfoAlmacen,
    /// The maestro replicas sharing a PostgreSQL database, seen in the last ten minutes; empty
    /// for a maestro on its own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replicas: Vec<InfoReplica>,
}

/// The maestro's store, as its writer last found it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct InfoAlmacen {
    /// `sqlite` or `postgresql`.
    pub tipo: String,
    /// The SQLite file, or the PostgreSQL server and database (never the password).
    pub ubicacion: String,
    /// Whether the last commit went through (false while the store cannot be reached).
    pub sano: bool,
    /// Changes the maestro made in memory and holds until the store can be reached again.
    pub retenidos: u64,
    /// The last commit that went through, in milliseconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ultimo_commit_ms: Option<u64>,
    /// The last failed commit's error, and when it happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_ms: Option<u64>,
}

/// One maestro replica, as the shared database knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct InfoReplica {
    pub nombre: String,
    /// Where the other replicas forward requests to while it leads.
    pub url: String,
    /// Whether it holds the leadership now (plans and dispatches).
    pub lider: bool,
    /// Since when it leads, in milliseconds since the epoch (the leader only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lider_desde_ms: Option<u64>,
    /// The leadership's fencing number (the leader only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoca: Option<i64>,
    /// When it last announced itself, in milliseconds since the epoch.
    pub visto_ms: u64,
    /// Whether it announced itself within two lease times.
    pub viva: bool,
}

impl InfoReplica {
    /// `leader`, `follower`, or `silent` (not seen within two lease times).
    pub fn papel(&self) -> &'static str {
        match (self.lider, self.viva) {
            (true, _) => "leader",
            (false, true) => "follower",
            (false, false) => "silent",
        }
    }
}

/// Answer to `GET /ping` of every service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Ping {
    pub estado: String,
    pub servicio: String,
    pub version: String,
    /// The host's figures; only an esclavo sends them, as the original system's did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sistema: Option<SistemaPing>,
}

impl Ping {
    pub fn ok(servicio: &str) -> Self {
        Self {
            estado: "ok".into(),
            servicio: servicio.into(),
            version: env!("CARGO_PKG_VERSION").into(),
            sistema: None,
        }
    }
}

/// An esclavo's host and slots, as its `GET /ping` reports them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SistemaPing {
    /// CPU use since the previous ping (since start for the first), percent of all cores.
    pub cpu_porcentaje: f32,
    pub memoria_usada: u64,
    pub memoria_total: u64,
    pub memoria_porcentaje: f64,
    pub nucleos: u32,
    /// Job slots, and how many run a job now.
    pub ranuras: u32,
    pub ocupadas: u32,
    /// The GPUs `Cuda` jobs run on, if it has any, identical ones counted:
    /// `2 × NVIDIA H100 80GB HBM3`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu: Option<String>,
}

/// A memoria node as the maestro sees it (`GET /memoria`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NodoMemoriaInfo {
    pub nodo: String,
    /// Its latest report.
    pub reporte: crate::memoria::ReporteMemoria,
    /// How long ago it arrived.
    pub hace_ms: u64,
    /// Older than the maestro's limit: shown, but its alerts steer nothing.
    pub obsoleto: bool,
}

/// An alert of a node, as `GET /memoria` lists them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AlertaNodo {
    pub nodo: String,
    #[serde(flatten)]
    pub alerta: crate::memoria::Alerta,
}

/// Answer to `GET /memoria`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EstadoMemoria {
    /// The latest report of each node that ever reported.
    pub nodos: Vec<NodoMemoriaInfo>,
    /// Every active alert of the nodes whose report is fresh.
    pub alertas: Vec<AlertaNodo>,
    /// After how long without a report a node is stale.
    pub plazo_ms: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trabajo::{ParamsEspera, ParamsJulia};

    #[test]
    fn the_original_flat_body_works_as_is() {
        let p: PeticionTrabajo = serde_json::from_str(
            r#"{"algoritmo":"Numpy","width":800,"height":600,"iteraciones":100,"prioridad":1}"#,
        )
        .unwrap();
        let t = p.validar().unwrap();
        assert_eq!(t.algoritmo, Algoritmo::Paralelo);
        assert_eq!(t.prioridad, Prioridad::ALTA);
        assert_eq!(
            t.parametros,
            Parametros::Julia(ParamsJulia::new(800, 600, 100).unwrap())
        );
    }

    #[test]
    fn missing_and_foreign_fields_are_named() {
        let p: PeticionTrabajo = serde_json::from_str(r#"{"width":8,"height":6}"#).unwrap();
        assert_eq!(p.validar().unwrap_err().campo, "iteraciones");
        let p: PeticionTrabajo =
            serde_json::from_str(r#"{"tipo":"espera","ms":5,"width":3}"#).unwrap();
        assert_eq!(p.validar().unwrap_err().campo, "width");
        let p: PeticionTrabajo = serde_json::from_str(r#"{"tipo":"espera"}"#).unwrap();
        assert_eq!(p.validar().unwrap_err().campo, "ms");
        assert!(serde_json::from_str::<PeticionTrabajo>(r#"{"anchura":8}"#).is_err());
    }

    #[test]
    fn a_job_reads_back_what_it_wrote() {
        let t = Trabajo {
            id: TrabajoId(7),
            parametros: Parametros::Espera(ParamsEspera::new(5).unwrap()),
            algoritmo: Algoritmo::Secuencial,
            prioridad: Prioridad::BAJA,
            estado: Estado::Completado,
            intentos: vec![],
            esclavo: Some("e1".into()),
            creado_ms: 1,
            iniciado_ms: Some(2),
            terminado_ms: Some(3),
            origen: Origen::Archivo {
                archivo: "trabajos.txt".into(),
                linea: 4,
            },
            plazo_s: Some(30),
            resultado: Some(Resultado::nuevo(
                0.005,
                None,
                "cpu".into(),
                Detalle::Espera { ms: 5 },
                false,
            )),
            motivo: None,
            task_id: None,
            descripcion: None,
            algoritmo_pedido: None,
        };
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(serde_json::from_str::<Trabajo>(&json).unwrap(), t);
    }
}

//! What every backend reads and writes the same way, whatever its SQL: a job's row as plain
//! columns ([`FilaTrabajo`], [`FilaPendiente`]) turned into the API's types, the filters of a
//! page as `(column, value)` terms, and the `via` column of a new job.

use std::num::NonZeroU32;

use anyhow::Context;
use comun::api::{FiltroTrabajos, Origen, Trabajo, Via};
use comun::{Algoritmo, Estado as EstadoTrabajo, Parametros, Prioridad, TrabajoId};

use crate::cola::Pendiente;

/// The columns of a job's row that the API shows, in the order of [`COLUMNAS`].
pub const COLUMNAS: &str = "id, parametros, algoritmo, prioridad, estado, esclavo, creado_ms, \
                            iniciado_ms, terminado_ms, origen, resultado, motivo, plazo_s, \
                            task_id, descripcion, algoritmo_pedido";

/// A job's row as read, before its text columns are parsed.
pub struct FilaTrabajo {
    pub id: i64,
    pub parametros: String,
    pub algoritmo: String,
    pub prioridad: i64,
    pub estado: String,
    pub esclavo: Option<String>,
    pub creado_ms: i64,
    pub iniciado_ms: Option<i64>,
    pub terminado_ms: Option<i64>,
    pub origen: String,
    pub resultado: Option<String>,
    pub motivo: Option<String>,
    pub plazo_s: Option<i64>,
    pub task_id: Option<String>,
    pub descripcion: Option<String>,
    pub algoritmo_pedido: Option<String>,
}

impl FilaTrabajo {
    /// The job (without its attempts), or which column of which job could not be read.
    pub fn trabajo(self) -> anyhow::Result<Trabajo> {
        let id = self.id;
        let columna = |c: &str| format!("job {id}: unreadable {c}");
        Ok(Trabajo {
            id: TrabajoId(id as u64),
            parametros: serde_json::from_str(&self.parametros)
                .with_context(|| columna("parametros"))?,
            algoritmo: self
                .algoritmo
                .parse()
                .with_context(|| columna("algoritmo"))?,
            prioridad: Prioridad::new(self.prioridad).with_context(|| columna("prioridad"))?,
            estado: self.estado.parse().with_context(|| columna("estado"))?,
            intentos: Vec::new(),
            esclavo: self.esclavo,
            creado_ms: self.creado_ms as u64,
            iniciado_ms: self.iniciado_ms.map(|v| v as u64),
            terminado_ms: self.terminado_ms.map(|v| v as u64),
            origen: serde_json::from_str(&self.origen).with_context(|| columna("origen"))?,
            plazo_s: self
                .plazo_s
                .map(u32::try_from)
                .transpose()
                .with_context(|| columna("plazo_s"))?,
            resultado: self
                .resultado
                .map(|r| serde_json::from_str(&r))
                .transpose()
                .with_context(|| columna("resultado"))?,
            motivo: self.motivo,
            task_id: self.task_id,
            descripcion: self.descripcion,
            algoritmo_pedido: self.algoritmo_pedido,
        })
    }
}

/// The columns of a pending job that the queue needs, in the order of [`COLUMNAS_PENDIENTE`].
pub const COLUMNAS_PENDIENTE: &str =
    "id, parametros, algoritmo, prioridad, intentos, fallos, plazo_s";

/// A pending job's row as read at start.
pub struct FilaPendiente {
    pub id: i64,
    pub parametros: String,
    pub algoritmo: String,
    pub prioridad: i64,
    pub intentos: i64,
    pub fallos: i64,
    pub plazo_s: Option<i64>,
}

impl FilaPendiente {
    /// The queue's entry, or which column of which job could not be read.
    pub fn pendiente(self) -> anyhow::Result<Pendiente> {
        let id = self.id;
        let columna = |c: &str| format!("job {id}: unreadable {c}");
        let parametros: Parametros =
            serde_json::from_str(&self.parametros).with_context(|| columna("parametros"))?;
        let algoritmo: Algoritmo = self
            .algoritmo
            .parse()
            .with_context(|| columna("algoritmo"))?;
        Ok(Pendiente {
            id: TrabajoId(id as u64),
            parametros,
            algoritmo,
            prioridad: Prioridad::new(self.prioridad).with_context(|| columna("prioridad"))?,
            intentos: u32::try_from(self.intentos).with_context(|| columna("intentos"))?,
            fallos: u32::try_from(self.fallos).with_context(|| columna("fallos"))?,
            plazo_s: self
                .plazo_s
                .and_then(|p| u32::try_from(p).ok())
                .and_then(NonZeroU32::new),
        })
    }
}

/// A value a filter compares a column with.
#[derive(Debug, Clone, PartialEq)]
pub enum Valor {
    Texto(String),
    Entero(i64),
}

/// The terms of `filtro` other than the state, `(column, value)`, in a fixed order. The state
/// is each backend's own matter: written into the statement so partial indexes of completed
/// jobs apply.
pub fn terminos(filtro: &FiltroTrabajos) -> Vec<(&'static str, Valor)> {
    let texto = |s: &str| Valor::Texto(s.to_owned());
    [
        ("tipo", filtro.tipo.map(|t| texto(t.nombre()))),
        (
            "prioridad",
            filtro.prioridad.map(|p| Valor::Entero(p.valor().into())),
        ),
        ("esclavo", filtro.esclavo.as_deref().map(texto)),
        ("via", filtro.origen.map(|o| texto(o.nombre()))),
        ("algoritmo_pedido", filtro.algoritmo_pedido.map(texto)),
    ]
    .into_iter()
    .filter_map(|(columna, valor)| valor.map(|v| (columna, v)))
    .collect()
}

/// Whether a filter of this state with other terms reads the state's own index: any state but
/// completed, whose jobs (the queue, the running, the failures) are few beside those of any
/// other filter in a long history.
pub fn por_estado(estado: EstadoTrabajo) -> bool {
    estado != EstadoTrabajo::Completado
}

/// The row of a job after a failed attempt: `(estado, terminado_ms, motivo)`, pending again or,
/// when `definitivo`, failed for good with why.
pub fn tras_fallo(
    fin_ms: u64,
    error: &str,
    fallos: u32,
    definitivo: bool,
) -> (&'static str, Option<i64>, Option<String>) {
    if definitivo {
        (
            "fallido",
            Some(fin_ms as i64),
            Some(format!("failed {fallos} times; last: {error}")),
        )
    } else {
        ("pendiente", None, None)
    }
}

/// How a job came in, the `via` column that `GET /trabajos?origen=` filters on.
pub fn via(origen: &Origen) -> Via {
    match origen {
        Origen::Api => Via::Api,
        Origen::Archivo { .. } => Via::Archivo,
        Origen::Carpeta { .. } => Via::Carpeta,
    }
}

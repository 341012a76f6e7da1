//! The orchestrator's task files: what its users drop into `task_queues/`, and what they send
//! to `POST /tasks`.
//!
//! ```json
//! { "metadata": { "creation_date": "2024-01-15", "description": "…", "total_tasks": 2, "created_by": "…" },
//!   "tasks": [
//!     { "task_id": "task_001", "algorithm": "python", "priority": "high", "description": "…",
//!       "parameters": { "num_particles": 100, "num_steps": 500, "seed": 123 } } ] }
//! ```
//!
//! - `algorithm` `python` and `cython` are the orchestrator's particle simulation: this
//!   cluster's `nbody` on `Secuencial` and `Paralelo`, with `num_particles`, `num_steps` and
//!   `seed` (or `particulas`, `pasos`, `semilla`). Any tipo of this cluster (`matmul`, `fft`…,
//!   or a GPU cluster's job type) may be named instead, with its own parameters, as
//!   `POST /trabajos` takes them (`algoritmo` among them).
//! - `priority`: `high`, `medium`, `low` (1, 2, 3), or this cluster's `1`–`3` / `alta`,
//!   `media`, `baja`; `medium` when absent.
//! - `task_id` (optional) is kept with the job and must be unique in the cluster; `description`
//!   is kept too. `metadata` is optional; its `total_tasks`, when given, must match.
//!
//! A file is all or nothing: [`leer_archivo`] gives every job, or every fault, each naming its
//! task by index and `task_id`, and the field, as `tasks[3].parameters.num_particles`.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::api::PeticionTrabajo;
use crate::trabajo::{Etiquetas, NuevoTrabajo, Prioridad};

/// Most tasks one file or one `POST /tasks` holds.
pub const MAX_TAREAS: usize = 10_000;

/// The fields a task may have.
const CAMPOS: [&str; 5] = [
    "task_id",
    "algorithm",
    "priority",
    "description",
    "parameters",
];

/// The orchestrator's parameter names of its particle simulation, and this cluster's.
const NOMBRES_NBODY: [(&str, &str); 3] = [
    ("num_particles", "particulas"),
    ("num_steps", "pasos"),
    ("seed", "semilla"),
];

/// One fault of a task file, as the `<name>.error.json` beside a refused file lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErrorTarea {
    /// The task's place in `tasks`, from 0; absent for a fault of the file as a whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<usize>,
    /// The task's `task_id`, when it has a readable one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_id: Option<String>,
    /// Where: `tasks[3].parameters.num_particles`, `metadata.total_tasks`, `(file)`.
    pub field: String,
    pub reason: String,
}

impl std::fmt::Display for ErrorTarea {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.field)?;
        if let Some(id) = &self.task_id {
            write!(f, " (task_id {id})")?;
        }
        write!(f, ": {}", self.reason)
    }
}

fn error(
    indice: Option<usize>,
    task_id: Option<&str>,
    campo: String,
    motivo: String,
) -> ErrorTarea {
    ErrorTarea {
        index: indice,
        task_id: task_id.map(str::to_string),
        field: campo,
        reason: motivo,
    }
}

/// `1 fault`, `3 faults`.
pub fn fallos(n: usize) -> String {
    format!("{n} fault{}", if n == 1 { "" } else { "s" })
}

/// A whole task file: every task as a job, in order, or every fault found.
pub fn leer_archivo(texto: &str) -> Result<Vec<NuevoTrabajo>, Vec<ErrorTarea>> {
    let texto = texto.strip_prefix(crate::archivo::BOM).unwrap_or(texto);
    let raiz: Value = serde_json::from_str(texto).map_err(|e| {
        let motivo = format!("not JSON: {e}");
        vec![error(None, None, "(file)".into(), motivo)]
    })?;
    let Value::Object(mut raiz) = raiz else {
        let motivo = "expected an object with a \"tasks\" list".to_string();
        return Err(vec![error(None, None, "(file)".into(), motivo)]);
    };
    let mut errores = Vec::new();
    for clave in raiz.keys() {
        if clave != "metadata" && clave != "tasks" {
            let motivo = "unknown field (a task file has metadata and tasks)".to_string();
            errores.push(error(None, None, clave.clone(), motivo));
        }
    }
    let Some(Value::Array(tareas)) = raiz.remove("tasks") else {
        errores.push(error(
            None,
            None,
            "tasks".into(),
            "missing, or not a list".into(),
        ));
        return Err(errores);
    };
    if let Some(metadata) = raiz.get("metadata") {
        match metadata {
            Value::Object(m) => {
                if let Some(total) = m.get("total_tasks")
                    && total.as_u64() != Some(tareas.len() as u64)
                {
                    let motivo = format!("says {total}, but the file has {} tasks", tareas.len());
                    errores.push(error(None, None, "metadata.total_tasks".into(), motivo));
                }
            }
            _ => errores.push(error(None, None, "metadata".into(), "not an object".into())),
        }
    }
    match leer_tareas(&tareas) {
        Ok(t) if errores.is_empty() => Ok(t),
        Ok(_) => Err(errores),
        Err(e) => {
            errores.extend(e);
            Err(errores)
        }
    }
}

/// What `POST /tasks` takes: one task, or `{"tasks": [...]}` (with `metadata` or not).
pub fn leer_cuerpo(cuerpo: &Value) -> Result<Vec<NuevoTrabajo>, Vec<ErrorTarea>> {
    match cuerpo {
        Value::Object(o) if o.contains_key("tasks") => leer_archivo(&cuerpo.to_string()),
        Value::Object(_) => leer_tareas(std::slice::from_ref(cuerpo)),
        _ => Err(vec![error(
            None,
            None,
            "(body)".into(),
            "expected a task object, or {\"tasks\": [...]}".into(),
        )]),
    }
}

/// Every task of a list, or every fault; a `task_id` given twice is a fault of the second.
pub fn leer_tareas(tareas: &[Value]) -> Result<Vec<NuevoTrabajo>, Vec<ErrorTarea>> {
    if tareas.is_empty() {
        let motivo = "the list is empty: nothing to queue".to_string();
        return Err(vec![error(None, None, "tasks".into(), motivo)]);
    }
    if tareas.len() > MAX_TAREAS {
        let motivo = format!("{} tasks; at most {MAX_TAREAS} in one file", tareas.len());
        return Err(vec![error(None, None, "tasks".into(), motivo)]);
    }
    let mut trabajos = Vec::with_capacity(tareas.len());
    let mut errores = Vec::new();
    let mut vistos: HashMap<String, usize> = HashMap::new();
    for (i, t) in tareas.iter().enumerate() {
        match leer_tarea(i, t) {
            Ok(trabajo) => {
                if let Some(id) = &trabajo.etiquetas.task_id
                    && let Some(antes) = vistos.insert(id.clone(), i)
                {
                    let motivo = format!("'{id}' is also the task_id of tasks[{antes}]");
                    errores.push(error(
                        Some(i),
                        Some(id),
                        format!("tasks[{i}].task_id"),
                        motivo,
                    ));
                }
                trabajos.push(trabajo);
            }
            Err(e) => errores.push(e),
        }
    }
    if errores.is_empty() {
        Ok(trabajos)
    } else {
        Err(errores)
    }
}

/// One task as a job, or its first fault.
fn leer_tarea(i: usize, tarea: &Value) -> Result<NuevoTrabajo, ErrorTarea> {
    let campo = |c: &str| format!("tasks[{i}].{c}");
    let Value::Object(t) = tarea else {
        return Err(error(
            Some(i),
            None,
            format!("tasks[{i}]"),
            "not an object".into(),
        ));
    };
    let task_id = match t.get("task_id") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.as_str()),
        Some(_) => {
            let motivo = "not a string".to_string();
            return Err(error(Some(i), None, campo("task_id"), motivo));
        }
    };
    let falla = |c: &str, motivo: String| error(Some(i), task_id, campo(c), motivo);
    if let Some(id) = task_id {
        Etiquetas::validar_task_id(id).map_err(|e| falla("task_id", e.mensaje))?;
    }
    if let Some(desconocido) = t.keys().find(|k| !CAMPOS.contains(&k.as_str())) {
        let motivo = format!("unknown field (a task has {})", CAMPOS.join(", "));
        return Err(falla(desconocido, motivo));
    }
    let descripcion = match t.get("description") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => {
            Etiquetas::validar_descripcion(s).map_err(|e| falla("description", e.mensaje))?;
            Some(s.clone())
        }
        Some(_) => return Err(falla("description", "not a string".into())),
    };
    let prioridad = match t.get("priority") {
        None | Some(Value::Null) => Prioridad::MEDIA,
        Some(p) => prioridad(p).map_err(|m| falla("priority", m))?,
    };
    let algoritmo = match t.get("algorithm") {
        Some(Value::String(a)) => a.trim().to_ascii_lowercase(),
        Some(_) => return Err(falla("algorithm", "not a string".into())),
        None => {
            let motivo = "missing: python, cython, or a tipo of this cluster".to_string();
            return Err(falla("algorithm", motivo));
        }
    };
    let mut parametros = match t.get("parameters") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(p)) => p.clone(),
        Some(_) => return Err(falla("parameters", "not an object".into())),
    };
    for reservado in ["tipo", "job_type", "prioridad"] {
        if parametros.contains_key(reservado) {
            let motivo = "is set by the task's algorithm and priority, not in parameters";
            return Err(falla(&format!("parameters.{reservado}"), motivo.into()));
        }
    }
    // The user's name of each parameter, to name it back in an error.
    let mut suyos: HashMap<&str, &str> = HashMap::new();
    match algoritmo.as_str() {
        "python" | "cython" => {
            if parametros.contains_key("algoritmo") {
                let motivo = format!("'{algoritmo}' chooses the backend already");
                return Err(falla("parameters.algoritmo", motivo));
            }
            for (original, nuestro) in NOMBRES_NBODY {
                if let Some(v) = parametros.remove(original) {
                    if parametros.contains_key(nuestro) {
                        let motivo = format!("given twice, as {original} and {nuestro}");
                        return Err(falla(&format!("parameters.{original}"), motivo));
                    }
                    parametros.insert(nuestro.into(), v);
                }
                suyos.insert(nuestro, original);
            }
            let backend = if algoritmo == "python" {
                "Secuencial"
            } else {
                "Paralelo"
            };
            parametros.insert("tipo".into(), "nbody".into());
            parametros.insert("algoritmo".into(), backend.into());
        }
        _ => {
            let tipo = match algoritmo.parse::<crate::Tipo>() {
                Ok(_) => "tipo",
                Err(_) if crate::api::tipo_de_job_type(&algoritmo).is_ok() => "job_type",
                Err(_) => {
                    let motivo = format!(
                        "unknown algorithm '{algoritmo}' (expected python, cython, or a tipo of \
                         this cluster: {})",
                        crate::Tipo::TODOS.map(|t| t.nombre()).join(", ")
                    );
                    return Err(falla("algorithm", motivo));
                }
            };
            parametros.insert(tipo.into(), algoritmo.clone().into());
        }
    }
    parametros.insert("prioridad".into(), u8::from(prioridad).into());
    let peticion: PeticionTrabajo = serde_json::from_value(Value::Object(parametros))
        .map_err(|e| falla("parameters", e.to_string()))?;
    let mut trabajo = peticion.validar().map_err(|e| {
        let nombre = suyos.get(e.campo.as_str()).copied().unwrap_or(&e.campo);
        falla(&format!("parameters.{nombre}"), e.mensaje)
    })?;
    trabajo.etiquetas.task_id = task_id.map(str::to_string);
    trabajo.etiquetas.descripcion = descripcion;
    Ok(trabajo)
}

/// `high`, `medium`, `low`, or this cluster's `1`–`3`, `alta`, `media`, `baja`.
fn prioridad(p: &Value) -> Result<Prioridad, String> {
    let texto = match p {
        Value::String(s) => s.trim().to_ascii_lowercase(),
        Value::Number(n) => n.to_string(),
        _ => return Err("expected high, medium, low (or 1, 2, 3)".into()),
    };
    match texto.as_str() {
        "high" => Ok(Prioridad::ALTA),
        "medium" => Ok(Prioridad::MEDIA),
        "low" => Ok(Prioridad::BAJA),
        _ => texto.parse().map_err(|_| {
            format!("'{texto}' is not a priority (expected high, medium, low, or 1, 2, 3)")
        }),
    }
}

/// The orchestrator's name of a priority.
pub fn nombre_prioridad(p: Prioridad) -> &'static str {
    match u8::from(p) {
        1 => "high",
        2 => "medium",
        _ => "low",
    }
}

/// An example task file of `n` tasks (what `cliente tareas generar` writes): particle
/// simulations on both backends, then one of each other kind of door, all valid.
pub fn ejemplo(n: usize, fecha: &str, autor: &str) -> Value {
    let mut tareas = Vec::with_capacity(n);
    let prioridades = ["high", "medium", "low"];
    for i in 0..n {
        let algoritmo = if i % 2 == 0 { "python" } else { "cython" };
        let particulas = 64 + 32 * (i % 4);
        tareas.push(serde_json::json!({
            "task_id": format!("task_{:03}", i + 1),
            "algorithm": algoritmo,
            "priority": prioridades[i % 3],
            "description": format!("{particulas} particles, 100 steps ({algoritmo})"),
            "parameters": { "num_particles": particulas, "num_steps": 100, "seed": i + 1 },
        }));
    }
    serde_json::json!({
        "metadata": {
            "creation_date": fecha,
            "description": "Example tasks written by cliente tareas generar",
            "total_tasks": n,
            "created_by": autor,
        },
        "tasks": tareas,
    })
}

/// A job as the orchestrator's API showed a task (`GET /tasks`, `/tasks/{task_id}`): its
/// field names, ISO 8601 instants, its status words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct VistaTarea {
    /// The `task_id` it was submitted with; the job's id, as text, when it had none.
    pub task_id: String,
    /// This cluster's id of the job.
    pub id: crate::TrabajoId,
    /// `python` (`nbody` on `Secuencial`) or `cython` (`nbody` on `Paralelo`), or the tipo.
    pub algorithm: String,
    /// This cluster's backend: `Secuencial`, `Paralelo`, `Cuda` or `Auto`.
    pub backend: crate::Algoritmo,
    /// `pending`, `running`, `completed`, `failed` or `cancelled`.
    pub status: String,
    /// `high`, `medium` or `low`.
    pub priority: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The job's parameters, in this cluster's names.
    pub parameters: Value,
    /// The esclavo running it, or the one that finished it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker_id: Option<String>,
    pub attempts: usize,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<String>,
    /// Seconds its kernel ran, once completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_time: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<crate::api::Resultado>,
    /// Why it failed or was cancelled; why it waits, while pending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The orchestrator's word for a state, and back.
pub const ESTADOS: [(crate::Estado, &str); 5] = [
    (crate::Estado::Pendiente, "pending"),
    (crate::Estado::Asignado, "running"),
    (crate::Estado::Completado, "completed"),
    (crate::Estado::Fallido, "failed"),
    (crate::Estado::Cancelado, "cancelled"),
];

/// The state an orchestrator's `status` names (in any case), or an error listing them.
pub fn estado_de_status(status: &str) -> Result<crate::Estado, crate::ErrorCampo> {
    let s = status.trim().to_ascii_lowercase();
    ESTADOS
        .iter()
        .find(|(_, n)| *n == s || (s == "canceled" && *n == "cancelled"))
        .map(|(e, _)| *e)
        .ok_or_else(|| {
            let nombres: Vec<&str> = ESTADOS.iter().map(|(_, n)| *n).collect();
            let motivo = format!(
                "unknown status '{status}' (expected {})",
                nombres.join(", ")
            );
            crate::ErrorCampo::new("status", motivo)
        })
}

impl VistaTarea {
    pub fn de(t: &crate::api::Trabajo) -> Self {
        let algorithm = match (&t.parametros, t.algoritmo) {
            (crate::Parametros::Nbody(_), crate::Algoritmo::Secuencial) => "python".into(),
            (crate::Parametros::Nbody(_), crate::Algoritmo::Paralelo) => "cython".into(),
            (p, _) => p.tipo().nombre().to_string(),
        };
        let status = ESTADOS
            .iter()
            .find(|(e, _)| *e == t.estado)
            .map_or("pending", |(_, n)| n);
        let mut parameters = serde_json::to_value(&t.parametros).unwrap_or(Value::Null);
        if let Value::Object(o) = &mut parameters {
            o.remove("tipo");
        }
        let terminado = t.terminado_ms.filter(|_| t.estado.es_final());
        VistaTarea {
            task_id: t.task_id.clone().unwrap_or_else(|| t.id.0.to_string()),
            id: t.id,
            algorithm,
            backend: t.algoritmo,
            status: status.to_string(),
            priority: nombre_prioridad(t.prioridad).to_string(),
            description: t.descripcion.clone(),
            parameters,
            worker_id: t.esclavo.clone(),
            attempts: t.intentos.len(),
            created_at: crate::fecha::iso8601(t.creado_ms),
            started_at: t.iniciado_ms.map(crate::fecha::iso8601),
            completed_at: terminado.map(crate::fecha::iso8601),
            execution_time: t.resultado.as_ref().map(|r| r.duracion_s),
            result: t.resultado.clone(),
            error: t.motivo.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Algoritmo, Parametros, Tipo};

    fn campos(e: &[ErrorTarea]) -> Vec<&str> {
        e.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn the_orchestrators_example_file_reads_as_nbody_jobs() {
        let texto = r#"{ "metadata": { "creation_date": "2024-01-15", "description": "d", "total_tasks": 2, "created_by": "ana" },
          "tasks": [
            { "task_id": "task_001", "algorithm": "python", "priority": "high", "description": "first",
              "parameters": { "num_particles": 100, "num_steps": 500, "seed": 123 } },
            { "task_id": "task_002", "algorithm": "cython", "priority": "low",
              "parameters": { "num_particles": 50, "num_steps": 10 } } ] }"#;
        let t = leer_archivo(texto).unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].algoritmo, Algoritmo::Secuencial);
        assert_eq!(t[1].algoritmo, Algoritmo::Paralelo);
        assert_eq!(t[0].prioridad, Prioridad::ALTA);
        assert_eq!(t[1].prioridad, Prioridad::BAJA);
        let Parametros::Nbody(b) = &t[0].parametros else {
            panic!("{:?}", t[0].parametros)
        };
        assert_eq!((b.particulas, b.pasos, b.semilla), (100, 500, 123));
        assert_eq!(t[0].etiquetas.task_id.as_deref(), Some("task_001"));
        assert_eq!(t[0].etiquetas.descripcion.as_deref(), Some("first"));
        assert_eq!(t[1].etiquetas.descripcion, None);
    }

    #[test]
    fn any_tipo_can_be_named_with_its_own_parameters() {
        let t = leer_tareas(&[
            serde_json::json!({"algorithm": "matmul", "parameters": {"n": 64, "iteraciones": 1, "algoritmo": "Secuencial"}}),
            serde_json::json!({"algorithm": "matrix-multiply", "priority": 1, "parameters": {"size": 32}}),
            serde_json::json!({"algorithm": "FFT"}),
        ])
        .unwrap();
        assert_eq!(t[0].parametros.tipo(), Tipo::Matmul);
        assert_eq!(t[0].algoritmo, Algoritmo::Secuencial);
        assert_eq!(t[1].parametros.tipo(), Tipo::Matmul);
        assert_eq!(t[1].algoritmo, Algoritmo::Auto);
        assert_eq!(t[1].prioridad, Prioridad::ALTA);
        assert_eq!(t[2].parametros.tipo(), Tipo::Fft);
        assert_eq!(t[2].etiquetas.task_id, None);
    }

    #[test]
    fn every_bad_task_is_named_by_index_task_id_and_field() {
        let texto = r#"{"metadata": {"total_tasks": 5}, "tasks": [
            {"task_id": "a", "algorithm": "python", "parameters": {"num_particles": 100, "num_steps": 1}},
            {"task_id": "b", "algorithm": "python", "parameters": {"num_particles": 0, "num_steps": 1}},
            {"task_id": "c", "algorithm": "fortran"},
            {"task_id": "d", "algorithm": "python", "parameters": {"num_steps": 1}},
            {"task_id": "a2", "algorithm": "cython", "priority": "urgent"},
            {"task_id": "e", "algorithm": "cython", "colour": "red"}
        ]}"#;
        let e = leer_archivo(texto).unwrap_err();
        assert_eq!(
            campos(&e),
            [
                "metadata.total_tasks",
                "tasks[1].parameters.num_particles",
                "tasks[2].algorithm",
                "tasks[3].parameters.num_particles",
                "tasks[4].priority",
                "tasks[5].colour"
            ]
        );
        assert_eq!(e[1].index, Some(1));
        assert_eq!(e[1].task_id.as_deref(), Some("b"));
        assert!(e[2].reason.contains("fortran"), "{}", e[2]);
        assert!(e[4].reason.contains("urgent"), "{}", e[4]);
    }

    #[test]
    fn a_task_id_given_twice_is_refused_by_name() {
        let e = leer_tareas(&[
            serde_json::json!({"task_id": "x1", "algorithm": "python", "parameters": {"num_particles": 8, "num_steps": 1}}),
            serde_json::json!({"task_id": "x1", "algorithm": "cython", "parameters": {"num_particles": 8, "num_steps": 1}}),
        ])
        .unwrap_err();
        assert_eq!(campos(&e), ["tasks[1].task_id"]);
        assert!(e[0].reason.contains("x1") && e[0].reason.contains("tasks[0]"));
    }

    #[test]
    fn whole_file_faults_are_named() {
        for (texto, campo) in [
            ("{", "(file)"),
            ("[]", "(file)"),
            (r#"{"metadata": {}}"#, "tasks"),
            (r#"{"tasks": []}"#, "tasks"),
            (
                r#"{"tasks": [{"algorithm": "python"}], "extra": 1}"#,
                "extra",
            ),
        ] {
            let e = leer_archivo(texto).unwrap_err();
            assert_eq!(e[0].field, campo, "{texto}: {e:?}");
        }
        let e = leer_tareas(&[serde_json::json!({"task_id": "12", "algorithm": "python"})]);
        assert_eq!(campos(&e.unwrap_err()), ["tasks[0].task_id"]);
    }

    #[test]
    fn a_leading_bom_is_ignored() {
        let texto = format!(
            "{}{}",
            crate::archivo::BOM,
            r#"{"tasks": [{"algorithm": "fft"}]}"#
        );
        assert_eq!(leer_archivo(&texto).unwrap().len(), 1);
    }

    #[test]
    fn the_example_file_reads_back_whole() {
        let v = ejemplo(7, "2026-11-29", "prueba");
        let t = leer_archivo(&v.to_string()).unwrap();
        assert_eq!(t.len(), 7);
        assert_eq!(t[6].etiquetas.task_id.as_deref(), Some("task_007"));
    }
}

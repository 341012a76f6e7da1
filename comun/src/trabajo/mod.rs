//! A job (*trabajo*): which kernel, with which parameters, on which backend, how urgent, and
//! what it computed. One file a part: [`tipo`] and [`algoritmo`] (what runs, on what),
//! [`parametros`] (each kernel's parameters and their [limits](parametros#limits)),
//! [`prioridad`], [`estado`] (where a job is in its life), [`resultado`] (what a kernel
//! reports); here, the id and the validated job that every way in produces.
//!
//! Every value that comes from a user goes through a validating constructor, so the rest of
//! the system only ever sees parameters within the documented limits.

pub mod algoritmo;
pub mod estado;
pub mod parametros;
pub mod prioridad;
pub mod resultado;
pub mod tipo;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ErrorCampo;
pub use algoritmo::{Algoritmo, AlgoritmoPedido};
pub use estado::Estado;
pub use parametros::{
    Conjunto, Filtro, MAX_CAPAS, MAX_CLASES, MAX_DATOS, MAX_DIMENSIONES, MAX_EPOCAS, MAX_ESPERA_MS,
    MAX_FILTROS, MAX_FLOTANTES_LOTE, MAX_ITERACIONES, MAX_ITERACIONES_KMEANS, MAX_K, MAX_LADO,
    MAX_MUESTRAS, MAX_MUESTRAS_KMEANS, MAX_MUESTRAS_RED, MAX_N_AUTOVALORES, MAX_N_MATMUL,
    MAX_N_VECTOR, MAX_NEURONAS, MAX_PARTICULAS, MAX_PASOS, MAX_PIXELES, MAX_PLAZO_S,
    MAX_PUNTOS_FFT, MAX_REPETICIONES, MAX_SIGMA, MAX_TASA, Optimizador, Parametros,
    ParamsAutovalores, ParamsEspera, ParamsFft, ParamsImagen, ParamsJulia, ParamsKmeans,
    ParamsMatmul, ParamsMontecarlo, ParamsNbody, ParamsRedNeuronal, ParamsVectorAdd, validar_plazo,
};
pub use prioridad::Prioridad;
pub use resultado::{Detalle, Resultado, TipoTrabajador};
pub use tipo::Tipo;

/// A job's id: assigned by the maestro, increasing in order of acceptance.
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
#[serde(transparent)]
pub struct TrabajoId(pub u64);

impl fmt::Display for TrabajoId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for TrabajoId {
    type Err = ErrorCampo;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.trim()
            .parse()
            .map(TrabajoId)
            .map_err(|_| ErrorCampo::new("id", format!("'{s}' is not a job id (a whole number)")))
    }
}

/// A validated job, ready to be queued.
#[derive(Debug, Clone, PartialEq)]
pub struct NuevoTrabajo {
    pub parametros: Parametros,
    pub algoritmo: Algoritmo,
    pub prioridad: Prioridad,
    /// Time limit of each attempt, in seconds (1 ..= [`MAX_PLAZO_S`]); `None`: the maestro's
    /// default (`--plazo-trabajo-s`).
    pub plazo_s: Option<u32>,
    /// The names the original systems' users gave it, kept beside it.
    pub etiquetas: Etiquetas,
}

/// What a job keeps of how its submitter named it: nothing runs differently for them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Etiquetas {
    /// The orchestrator's `task_id`: unique in the cluster, usable wherever a job id is.
    pub task_id: Option<String>,
    /// The orchestrator's `description` of the task.
    pub descripcion: Option<String>,
    /// The backend's name as the user wrote it when it was an original system's name for one
    /// of ours (`Numpy`, `juliaCython`: both run as `Paralelo`).
    pub algoritmo_pedido: Option<&'static str>,
}

/// Longest `task_id`, in bytes.
pub const MAX_TASK_ID: usize = 128;
/// Longest `description`, in bytes.
pub const MAX_DESCRIPCION: usize = 4096;

impl Etiquetas {
    /// Checks a `task_id`: 1 to [`MAX_TASK_ID`] bytes of letters, digits, `-`, `_`, `.`, not
    /// all digits (a number is a job id).
    pub fn validar_task_id(id: &str) -> Result<(), ErrorCampo> {
        let motivo = if id.is_empty() || id.len() > MAX_TASK_ID {
            format!("must be 1 to {MAX_TASK_ID} bytes long")
        } else if !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        {
            format!("'{id}' may hold only letters, digits, '-', '_' and '.'")
        } else if id.bytes().all(|b| b.is_ascii_digit()) {
            format!("'{id}' is all digits, which is how job ids are written: add a letter")
        } else {
            return Ok(());
        };
        Err(ErrorCampo::new("task_id", motivo))
    }

    /// Checks a `description`'s length.
    pub fn validar_descripcion(d: &str) -> Result<(), ErrorCampo> {
        if d.len() > MAX_DESCRIPCION {
            let motivo = format!("is {} bytes long; at most {MAX_DESCRIPCION}", d.len());
            return Err(ErrorCampo::new("description", motivo));
        }
        Ok(())
    }
}

/// One of `todos` by its `nombre`, in any case and with blanks around; an unknown name is an
/// error naming `campo` and listing the known ones.
pub(crate) fn por_nombre<T: Copy>(
    campo: &str,
    todos: &[T],
    nombre: fn(T) -> &'static str,
    texto: &str,
) -> Result<T, ErrorCampo> {
    por_nombre_o_alias(campo, todos, nombre, |_| None, texto)
}

/// [`por_nombre`], also accepting each value's `alias` (the original system's name for it);
/// the error lists the names, then the aliases.
pub(crate) fn por_nombre_o_alias<T: Copy>(
    campo: &str,
    todos: &[T],
    nombre: fn(T) -> &'static str,
    alias: fn(T) -> Option<&'static str>,
    texto: &str,
) -> Result<T, ErrorCampo> {
    let buscado = texto.trim().to_ascii_lowercase();
    if let Some(&x) = todos
        .iter()
        .find(|&&x| nombre(x) == buscado || alias(x) == Some(buscado.as_str()))
    {
        return Ok(x);
    }
    let nombres: Vec<&str> = todos.iter().map(|&x| nombre(x)).collect();
    let lista = match nombres.split_last() {
        Some((ultimo, resto)) if !resto.is_empty() => format!("{} or {ultimo}", resto.join(", ")),
        _ => nombres.join(""),
    };
    let alias: Vec<String> = todos
        .iter()
        .filter_map(|&x| alias(x).map(|a| format!("{a} = {}", nombre(x))))
        .collect();
    let alias = if alias.is_empty() {
        String::new()
    } else {
        format!("; also {}", alias.join(", "))
    };
    Err(ErrorCampo::new(
        campo,
        format!("unknown {campo} '{texto}' (expected {lista}{alias})"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_read_in_any_case_and_an_unknown_one_lists_the_known() {
        assert_eq!(" Vector_Add ".parse::<Tipo>().unwrap(), Tipo::VectorAdd);
        assert_eq!("CANCELADO".parse::<Estado>().unwrap(), Estado::Cancelado);
        assert_eq!("Neural_Network".parse::<Tipo>().unwrap(), Tipo::RedNeuronal);
        let e = "svd".parse::<Tipo>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "tipo: unknown tipo 'svd' (expected julia, espera, matmul, vector_add, montecarlo, \
             nbody, red_neuronal, imagen, fft, autovalores or kmeans; also neural_network = \
             red_neuronal, image_processing = imagen, eigenvalue = autovalores, \
             kmeans_clustering = kmeans)"
        );
        let e = "perdido".parse::<Estado>().unwrap_err();
        assert_eq!(
            e.mensaje,
            "unknown estado 'perdido' (expected pendiente, asignado, completado, fallido or \
             cancelado)"
        );
    }
}

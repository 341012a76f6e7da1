//! The JSON error body of every 4xx/5xx answer, and the validation error behind most of them.

use serde::{Deserialize, Serialize};

/// Body of every error answer: what is wrong, and where.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CuerpoError {
    /// Human-readable message; always present.
    pub error: String,
    /// The request field at fault (`width`, `trabajos[3].prioridad`), when one is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campo: Option<String>,
    /// The 1-based line of an uploaded jobs file at fault, when one is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linea: Option<usize>,
    /// The limit that was exceeded, when a limit was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limite: Option<u64>,
}

impl CuerpoError {
    pub fn new(error: impl Into<String>) -> Self {
        Self {
            error: error.into(),
            campo: None,
            linea: None,
            limite: None,
        }
    }

    /// The same body, naming the field at fault.
    pub fn con_campo(mut self, campo: impl Into<String>) -> Self {
        self.campo = Some(campo.into());
        self
    }
}

/// A parameter that failed validation: which one, why, and the limit if one applies.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{campo}: {mensaje}")]
pub struct ErrorCampo {
    /// The field's name as the user wrote it (`width`, `prioridad`).
    pub campo: String,
    /// What is wrong with it, in words.
    pub mensaje: String,
    /// The documented limit it broke, when it broke one.
    pub limite: Option<u64>,
}

impl ErrorCampo {
    pub fn new(campo: impl Into<String>, mensaje: impl Into<String>) -> Self {
        Self {
            campo: campo.into(),
            mensaje: mensaje.into(),
            limite: None,
        }
    }

    pub fn con_limite(mut self, limite: u64) -> Self {
        self.limite = Some(limite);
        self
    }
}

impl From<ErrorCampo> for CuerpoError {
    fn from(e: ErrorCampo) -> Self {
        Self {
            error: e.to_string(),
            campo: Some(e.campo),
            linea: None,
            limite: e.limite,
        }
    }
}

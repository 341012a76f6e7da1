//! [`Estado`]: where a job is in its life, `pendiente` to `completado`, `fallido` or
//! `cancelado`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ErrorCampo;

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Estado {
    /// In the queue, waiting for a slot.
    Pendiente,
    /// Sent to an esclavo, running there.
    Asignado,
    /// Finished with a result.
    Completado,
    /// Every attempt failed.
    Fallido,
    /// Cancelled by a user before it finished.
    Cancelado,
}

impl Estado {
    pub const TODOS: [Estado; 5] = [
        Estado::Pendiente,
        Estado::Asignado,
        Estado::Completado,
        Estado::Fallido,
        Estado::Cancelado,
    ];

    pub fn nombre(self) -> &'static str {
        match self {
            Estado::Pendiente => "pendiente",
            Estado::Asignado => "asignado",
            Estado::Completado => "completado",
            Estado::Fallido => "fallido",
            Estado::Cancelado => "cancelado",
        }
    }

    /// Whether the job will never change again.
    pub fn es_final(self) -> bool {
        matches!(
            self,
            Estado::Completado | Estado::Fallido | Estado::Cancelado
        )
    }
}

impl fmt::Display for Estado {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.nombre())
    }
}

impl FromStr for Estado {
    type Err = ErrorCampo;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        super::por_nombre("estado", &Estado::TODOS, Estado::nombre, s)
    }
}

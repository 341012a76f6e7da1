//! The identities the maestro's modules pass each other: an esclavo process ([`EsclavoId`])
//! and an attempt of a job ([`IntentoId`]). Each is compared in one place: its `Eq`.

use std::fmt;

use comun::TrabajoId;
use comun::nodo::{Latido, Registro};

/// One esclavo process: its name in the cluster and the instance number it drew when it
/// started. A restart under the same name is a different esclavo: what the old process was
/// running is lost with it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EsclavoId {
    pub nombre: String,
    pub instancia: u64,
}

impl EsclavoId {
    pub fn new(nombre: impl Into<String>, instancia: u64) -> Self {
        EsclavoId {
            nombre: nombre.into(),
            instancia,
        }
    }

    /// The esclavo that registers.
    pub fn de_registro(r: &Registro) -> Self {
        EsclavoId::new(r.nombre.clone(), r.instancia)
    }

    /// The esclavo that sends a heartbeat.
    pub fn de_latido(l: &Latido) -> Self {
        EsclavoId::new(l.nombre.clone(), l.instancia)
    }
}

impl fmt::Display for EsclavoId {
    /// `e1 (instance 7)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (instance {})", self.nombre, self.instancia)
    }
}

/// An attempt of a job: the job, and which dispatch of it (1 for the first). Results, refusals
/// and failures name the attempt they end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IntentoId {
    pub trabajo: TrabajoId,
    pub numero: u32,
}

impl IntentoId {
    pub fn new(trabajo: TrabajoId, numero: u32) -> Self {
        IntentoId { trabajo, numero }
    }
}

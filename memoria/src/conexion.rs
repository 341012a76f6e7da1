//! The memoria's side of the maestro's API: the shared client of `plataforma`, with the memoria's
//! time limit per call.

use std::time::Duration;

pub use plataforma::maestro::{ClienteMaestro, en_una_linea};

/// How long to wait for a whole answer.
pub const TIEMPO_PETICION: Duration = Duration::from_secs(10);

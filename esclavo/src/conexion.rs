//! The esclavo's side of the maestro's API: the shared client of `plataforma` (one keep-alive HTTP
//! client, typed calls, an error that says whether trying again can help), with the esclavo's
//! time limit per call.

use std::time::Duration;

pub use plataforma::maestro::{ClienteMaestro, ErrorMaestro, en_una_linea};

/// How long to wait for a whole answer (a batch of big PNGs takes a while to upload).
pub const TIEMPO_PETICION: Duration = Duration::from_secs(30);

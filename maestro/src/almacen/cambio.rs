//! What the maestro writes to its store, as it decided it: one [`Cambio`] per step of a job's
//! life (and per uploaded image), and [`Recuperado`], what the store held when the maestro
//! started.

use std::collections::HashMap;

use comun::api::Origen;
use comun::imagenes::FormaPng;
use comun::{Estado as EstadoTrabajo, NuevoTrabajo, Prioridad, TrabajoId};

use crate::cola::Pendiente;
use crate::ids::{EsclavoId, IntentoId};

/// A new job's row.
#[derive(Debug, Clone)]
pub struct FilaNueva {
    pub id: TrabajoId,
    pub trabajo: NuevoTrabajo,
    pub origen: Origen,
    pub creado_ms: u64,
}

/// An uploaded PNG's row (`POST /imagenes`), checked before it gets here.
#[derive(Clone)]
pub struct EntradaNueva {
    pub id: u64,
    pub png: Vec<u8>,
    pub forma: FormaPng,
    pub creado_ms: u64,
}

impl std::fmt::Debug for EntradaNueva {
    /// Without the PNG's bytes.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EntradaNueva")
            .field("id", &self.id)
            .field("bytes", &self.png.len())
            .field("forma", &self.forma)
            .field("creado_ms", &self.creado_ms)
            .finish()
    }
}

/// A line of a watched file, identified by its text and which occurrence of that text it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LineaCargada {
    /// The watched file, by its absolute path.
    pub archivo: String,
    pub texto: String,
    /// 1 for the first line with this text in the file, 2 for the second…
    pub ocurrencia: u32,
}

/// One change to the store, as the maestro decided it. The store applies the changes it is
/// handed in the order they were decided, each batch in one transaction.
#[derive(Debug)]
pub enum Cambio {
    /// A job accepted: its row, in `pendiente`.
    Insertar(FilaNueva),
    /// A line of a watched file became this job (in the same transaction as its row, so each
    /// line is queued exactly once, across restarts too).
    MarcarLinea(LineaCargada, TrabajoId),
    /// A task folder's file whose tasks are queued in this same transaction, by its name and
    /// the SHA-256 of its bytes: found again after a crash before it was moved to
    /// `processed/`, it is moved without being queued twice.
    MarcarArchivoTareas { nombre: String, sha256: String },
    /// Sent to an esclavo as attempt `intento`: the attempt's row, written ahead of the
    /// request that tells the esclavo.
    Asignar {
        intento: IntentoId,
        esclavo: EsclavoId,
        inicio_ms: u64,
    },
    /// The esclavo refused it (busy): back to pending, as if never sent.
    Devolver { intento: IntentoId },
    /// Its esclavo handed the attempt back as it left (drained): the attempt ends with
    /// `motivo`, the job is pending again, and its failures stay as they were.
    Ceder {
        intento: IntentoId,
        fin_ms: u64,
        motivo: String,
    },
    /// An attempt failed; the job is pending again, or failed for good.
    Fallar {
        intento: IntentoId,
        fin_ms: u64,
        error: String,
        fallos: u32,
        definitivo: bool,
    },
    /// A result: the job is completado, and every other open attempt of it is closed. Applied
    /// only to a job still pending or running in the store.
    Completar {
        intento: IntentoId,
        /// The esclavo that reported it.
        esclavo: EsclavoId,
        fin_ms: u64,
        resultado: String,
        png: Option<Vec<u8>>,
    },
    /// Cancelled (by a user or `limpiar_cola`): every open attempt of it is closed. Applied
    /// only to a job still pending or running in the store.
    Cancelar {
        id: TrabajoId,
        fin_ms: u64,
        motivo: String,
    },
    /// A failed or cancelled job queued again by a user: pending, its failures forgotten, its
    /// attempts kept (the next one goes on numbering them). Applied only to a job the store
    /// holds as fallido or cancelado.
    Reintentar { id: TrabajoId },
    /// A pending job's new priority. Applied only to a job still pending in the store.
    Priorizar { id: TrabajoId, prioridad: Prioridad },
    /// An uploaded image, for jobs to name as `entrada`.
    GuardarEntrada(EntradaNueva),
}

/// What the store held when the maestro started, once brought back to a consistent state.
#[derive(Debug, Default)]
pub struct Recuperado {
    /// Pending jobs, including those that were running when the maestro stopped.
    pub pendientes: Vec<Pendiente>,
    /// How many of those were running when the maestro stopped.
    pub reencolados: usize,
    /// How many jobs the store holds in each state.
    pub por_estado: HashMap<EstadoTrabajo, u64>,
    /// The id the next accepted job gets.
    pub siguiente_id: u64,
    /// The id the next uploaded image gets.
    pub siguiente_entrada: u64,
    /// Every job's `task_id`, with the job.
    pub task_ids: HashMap<String, TrabajoId>,
}

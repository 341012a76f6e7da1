//! The SQLite backend's writing half: each [`Cambio`] as SQL, a batch in one transaction.
//!
//! **A result is recorded exactly once**, here too: completing or cancelling a job changes
//! its row only while it is `pendiente` or `asignado`, and its image is stored only when the
//! row changed. A retry changes only a `fallido` or `cancelado` row, a new priority only a
//! `pendiente` one.

use comun::TrabajoId;
use rusqlite::{Connection, Transaction, params};

use crate::almacen::filas::via;
use crate::almacen::{Cambio, Escritura};
use crate::ids::IntentoId;

/// The connection the writer thread owns.
pub struct EscrituraSqlite(Connection);

impl EscrituraSqlite {
    pub(super) fn new(conexion: Connection) -> Self {
        EscrituraSqlite(conexion)
    }
}

impl Escritura for EscrituraSqlite {
    fn confirmar<'a>(&mut self, cambios: impl Iterator<Item = &'a Cambio>) -> anyhow::Result<()> {
        let t = self.0.transaction()?;
        for c in cambios {
            aplicar(&t, c)?;
        }
        t.commit()?;
        Ok(())
    }
}

fn aplicar(t: &Transaction<'_>, c: &Cambio) -> anyhow::Result<()> {
    match c {
        Cambio::Insertar(f) => {
            t.prepare_cached(
                "INSERT INTO trabajos (id, parametros, algoritmo, prioridad, estado, creado_ms, origen,
                 plazo_s, tipo, via, task_id, descripcion, algoritmo_pedido)
                 VALUES (?1, ?2, ?3, ?4, 'pendiente', ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )?
            .execute(params![
                f.id.0 as i64,
                serde_json::to_string(&f.trabajo.parametros)?,
                f.trabajo.algoritmo.nombre(),
                f.trabajo.prioridad.valor(),
                f.creado_ms as i64,
                serde_json::to_string(&f.origen)?,
                f.trabajo.plazo_s,
                f.trabajo.parametros.tipo().nombre(),
                via(&f.origen).nombre(),
                f.trabajo.etiquetas.task_id,
                f.trabajo.etiquetas.descripcion,
                f.trabajo.etiquetas.algoritmo_pedido,
            ])?;
        }
        Cambio::MarcarArchivoTareas { nombre, sha256 } => {
            t.prepare_cached(
                "INSERT OR IGNORE INTO archivos_tareas (nombre, sha256, cargado_ms)
                 VALUES (?1, ?2, ?3)",
            )?
            .execute(params![nombre, sha256, comun::ahora_ms() as i64])?;
        }
        Cambio::MarcarLinea(l, id) => {
            t.prepare_cached(
                "INSERT OR IGNORE INTO lineas_cargadas (archivo, texto, ocurrencia, trabajo)
                 VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![l.archivo, l.texto, l.ocurrencia, id.0 as i64])?;
        }
        Cambio::Asignar {
            intento:
                IntentoId {
                    trabajo: id,
                    numero: intento,
                },
            esclavo,
            inicio_ms,
        } => {
            let esclavo = &esclavo.nombre;
            t.prepare_cached(
                "UPDATE trabajos SET estado = 'asignado', esclavo = ?2, intentos = ?3,
                 iniciado_ms = COALESCE(iniciado_ms, ?4), motivo = NULL
                 WHERE id = ?1 AND estado = 'pendiente'",
            )?
            .execute(params![id.0 as i64, esclavo, intento, *inicio_ms as i64])?;
            t.prepare_cached(
                "INSERT OR REPLACE INTO intentos (trabajo, numero, esclavo, inicio_ms)
                 VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![id.0 as i64, intento, esclavo, *inicio_ms as i64])?;
        }
        Cambio::Devolver {
            intento:
                IntentoId {
                    trabajo: id,
                    numero: intento,
                },
        } => {
            t.prepare_cached(
                "UPDATE trabajos SET estado = 'pendiente', esclavo = NULL, intentos = ?2 - 1
                 WHERE id = ?1 AND estado = 'asignado'",
            )?
            .execute(params![id.0 as i64, intento])?;
            t.prepare_cached("DELETE FROM intentos WHERE trabajo = ?1 AND numero = ?2")?
                .execute(params![id.0 as i64, intento])?;
        }
        Cambio::Ceder {
            intento:
                IntentoId {
                    trabajo: id,
                    numero: intento,
                },
            fin_ms,
            motivo,
        } => {
            cerrar_intento(t, *id, *intento, *fin_ms, Some(motivo))?;
            t.prepare_cached(
                "UPDATE trabajos SET estado = 'pendiente', esclavo = NULL
                 WHERE id = ?1 AND estado = 'asignado'",
            )?
            .execute(params![id.0 as i64])?;
        }
        Cambio::Fallar {
            intento:
                IntentoId {
                    trabajo: id,
                    numero: intento,
                },
            fin_ms,
            error,
            fallos,
            definitivo,
        } => {
            cerrar_intento(t, *id, *intento, *fin_ms, Some(error))?;
            let (estado, terminado, motivo) =
                crate::almacen::filas::tras_fallo(*fin_ms, error, *fallos, *definitivo);
            t.prepare_cached(
                "UPDATE trabajos SET estado = ?2, esclavo = NULL, fallos = ?3, terminado_ms = ?4,
                 motivo = ?5 WHERE id = ?1 AND estado IN ('pendiente', 'asignado')",
            )?
            .execute(params![id.0 as i64, estado, fallos, terminado, motivo])?;
        }
        Cambio::Completar {
            intento:
                IntentoId {
                    trabajo: id,
                    numero: intento,
                },
            esclavo,
            fin_ms,
            resultado,
            png,
        } => {
            let esclavo = &esclavo.nombre;
            cerrar_intento(t, *id, *intento, *fin_ms, None)?;
            // Another attempt still running (re-dispatched after a lost esclavo or a restart)
            // ends here too: its esclavo is told to stop it, and its report will be ignored.
            let superado = format!("superseded: attempt {intento} finished the job first");
            cerrar_abiertos(t, *id, *fin_ms, &superado)?;
            let cambiadas = t
                .prepare_cached(
                    "UPDATE trabajos SET estado = 'completado', esclavo = ?2, terminado_ms = ?3,
                     resultado = ?4, motivo = NULL
                     WHERE id = ?1 AND estado IN ('pendiente', 'asignado')",
                )?
                .execute(params![id.0 as i64, esclavo, *fin_ms as i64, resultado])?;
            if let (1, Some(png)) = (cambiadas, png) {
                t.prepare_cached("INSERT OR REPLACE INTO imagenes (trabajo, png) VALUES (?1, ?2)")?
                    .execute(params![id.0 as i64, png])?;
            }
        }
        Cambio::Cancelar { id, fin_ms, motivo } => {
            t.prepare_cached(
                "UPDATE trabajos SET estado = 'cancelado', terminado_ms = ?2, motivo = ?3
                 WHERE id = ?1 AND estado IN ('pendiente', 'asignado')",
            )?
            .execute(params![id.0 as i64, *fin_ms as i64, motivo])?;
            cerrar_abiertos(t, *id, *fin_ms, &format!("cancelled: {motivo}"))?;
        }
        Cambio::Reintentar { id } => {
            t.prepare_cached(
                "UPDATE trabajos SET estado = 'pendiente', esclavo = NULL, fallos = 0,
                 terminado_ms = NULL, resultado = NULL, motivo = NULL
                 WHERE id = ?1 AND estado IN ('fallido', 'cancelado')",
            )?
            .execute([id.0 as i64])?;
        }
        Cambio::Priorizar { id, prioridad } => {
            t.prepare_cached(
                "UPDATE trabajos SET prioridad = ?2 WHERE id = ?1 AND estado = 'pendiente'",
            )?
            .execute(params![id.0 as i64, prioridad.valor()])?;
        }
        Cambio::GuardarEntrada(e) => {
            t.prepare_cached(
                "INSERT INTO entradas (id, png, width, height, canales, creado_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                e.id as i64,
                e.png,
                e.forma.width,
                e.forma.height,
                e.forma.canales,
                e.creado_ms as i64
            ])?;
        }
    }
    Ok(())
}

/// Closes every attempt of a job that is still open, with `error`.
fn cerrar_abiertos(
    t: &Transaction<'_>,
    id: TrabajoId,
    fin_ms: u64,
    error: &str,
) -> rusqlite::Result<usize> {
    t.prepare_cached(
        "UPDATE intentos SET fin_ms = ?2, error = ?3 WHERE trabajo = ?1 AND fin_ms IS NULL",
    )?
    .execute(params![id.0 as i64, fin_ms as i64, error])
}

fn cerrar_intento(
    t: &Transaction<'_>,
    id: TrabajoId,
    intento: u32,
    fin_ms: u64,
    error: Option<&String>,
) -> rusqlite::Result<usize> {
    t.prepare_cached(
        "UPDATE intentos SET fin_ms = ?3, error = ?4 WHERE trabajo = ?1 AND numero = ?2",
    )?
    .execute(params![id.0 as i64, intento, fin_ms as i64, error])
}

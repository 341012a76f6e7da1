//! The durable side of the queue: an embedded SQLite database (WAL) in the data folder.
//!
//! One writer thread owns the only writing connection. Changes reach it over a channel in the
//! order the maestro decided them; it applies whatever has piled up in **one transaction** (group
//! commit) and then answers the callers that wait for durability. A job is acknowledged to its
//! submitter, and a result to its esclavo, only after that commit. With the default
//! [`Sincronizacion::Completa`] (`synchronous = FULL`) a commit survives the machine; with
//! [`Sincronizacion::Normal`] it survives the process (SIGKILL) but the last commits may be lost
//! with the machine, for several times the throughput on a disk with slow fsync. Reads use a
//! second connection.
//!
//! Tables: `trabajos` (one row per job, its current state), `intentos` (one row per dispatch),
//! `imagenes` (PNG of finished Julia jobs), `lineas_cargadas` (which lines of a watched jobs
//! file were already queued, so each is queued exactly once, across restarts too).
//!
//! Columns added after the first release are added to an existing database when it is opened
//! ([`MIGRACIONES`]), so a data folder of an older maestro keeps working.

use std::collections::{HashMap, HashSet};
use std::num::NonZeroU32;
use std::path::Path;
use std::sync::{Arc, Mutex, mpsc};

use anyhow::Context;
use comun::api::{Intento, Origen, Trabajo};
use comun::{Algoritmo, Estado, NuevoTrabajo, Parametros, Prioridad, TrabajoId};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use tokio::sync::{oneshot, watch};

use crate::cola::Pendiente;
use crate::config::Sincronizacion;

const ESQUEMA: &str = "
CREATE TABLE IF NOT EXISTS trabajos (
    id INTEGER PRIMARY KEY,
    parametros TEXT NOT NULL,
    algoritmo TEXT NOT NULL,
    prioridad INTEGER NOT NULL,
    estado TEXT NOT NULL,
    intentos INTEGER NOT NULL DEFAULT 0,
    fallos INTEGER NOT NULL DEFAULT 0,
    esclavo TEXT,
    creado_ms INTEGER NOT NULL,
    iniciado_ms INTEGER,
    terminado_ms INTEGER,
    origen TEXT NOT NULL,
    resultado TEXT,
    motivo TEXT,
    plazo_s INTEGER
);
CREATE INDEX IF NOT EXISTS trabajos_por_estado ON trabajos (estado, id);
CREATE TABLE IF NOT EXISTS intentos (
    trabajo INTEGER NOT NULL,
    numero INTEGER NOT NULL,
    esclavo TEXT NOT NULL,
    inicio_ms INTEGER NOT NULL,
    fin_ms INTEGER,
    error TEXT,
    PRIMARY KEY (trabajo, numero)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS imagenes (trabajo INTEGER PRIMARY KEY, png BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS lineas_cargadas (
    archivo TEXT NOT NULL,
    texto TEXT NOT NULL,
    ocurrencia INTEGER NOT NULL,
    trabajo INTEGER NOT NULL,
    PRIMARY KEY (archivo, texto, ocurrencia)
) WITHOUT ROWID;
";

/// Columns added after the first release: `(table, column, definition)`. A database made
/// before gets each one that it lacks (`ALTER TABLE ... ADD COLUMN`) when it is opened.
const MIGRACIONES: &[(&str, &str, &str)] = &[("trabajos", "plazo_s", "INTEGER")];

/// Adds to an existing database the columns it lacks.
fn migrar(c: &Connection) -> anyhow::Result<()> {
    for (tabla, columna, definicion) in MIGRACIONES {
        let existe = c
            .prepare("SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2")?
            .exists([tabla, columna])?;
        if !existe {
            c.execute_batch(&format!(
                "ALTER TABLE {tabla} ADD COLUMN {columna} {definicion}"
            ))
            .with_context(|| format!("adding column {columna} to table {tabla}"))?;
            tracing::info!("database upgraded: column {tabla}.{columna} added");
        }
    }
    Ok(())
}

/// A new job's row.
#[derive(Debug, Clone)]
pub struct FilaNueva {
    pub id: TrabajoId,
    pub trabajo: NuevoTrabajo,
    pub origen: Origen,
    pub creado_ms: u64,
}

/// A line of a watched file, and the job it became.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LineaCargada {
    pub archivo: String,
    pub texto: String,
    /// 1 for the first line with this text in the file, 2 for the second…
    pub ocurrencia: u32,
}

/// One change to the database, as the maestro decided it.
#[derive(Debug)]
pub enum Cambio {
    Insertar(FilaNueva),
    MarcarLinea(LineaCargada, TrabajoId),
    /// Sent to an esclavo as attempt `intento`.
    Asignar {
        id: TrabajoId,
        intento: u32,
        esclavo: String,
        inicio_ms: u64,
    },
    /// The esclavo refused it (busy): back to pending, as if never sent.
    Devolver {
        id: TrabajoId,
        intento: u32,
    },
    /// An attempt failed; the job is pending again, or failed for good.
    Fallar {
        id: TrabajoId,
        intento: u32,
        fin_ms: u64,
        error: String,
        fallos: u32,
        definitivo: bool,
    },
    Completar {
        id: TrabajoId,
        intento: u32,
        esclavo: String,
        fin_ms: u64,
        resultado: String,
        png: Option<Vec<u8>>,
    },
    Cancelar {
        id: TrabajoId,
        fin_ms: u64,
        motivo: String,
    },
}

struct Orden {
    /// Its place in the order of sending: the writer reports the last one it has handled.
    secuencia: u64,
    cambios: Vec<Cambio>,
    listo: Option<oneshot::Sender<Result<(), String>>>,
}

/// The sending end of the writer's channel, with the number of the last order sent: numbering
/// and sending happen together, so orders are numbered in the order the writer receives them.
struct Buzon {
    ultima: u64,
    escritor: mpsc::Sender<Orden>,
}

/// What the database held when the maestro started.
#[derive(Debug, Default)]
pub struct Recuperado {
    /// Pending jobs, including those that were running when the maestro stopped.
    pub pendientes: Vec<Pendiente>,
    /// How many of those were running when the maestro stopped.
    pub reencolados: usize,
    pub por_estado: HashMap<Estado, u64>,
    pub siguiente_id: u64,
}

/// Handle to the database: cheap to clone.
#[derive(Clone)]
pub struct Db {
    buzon: Arc<Mutex<Buzon>>,
    lector: Arc<Mutex<Connection>>,
    /// The number of the last order the writer has handled (committed, or failed and logged).
    confirmado: watch::Receiver<u64>,
}

impl Db {
    /// Opens (or creates) `datos/maestro.db`, brings it back to a consistent state after a
    /// crash, and starts the writer thread.
    pub fn abrir(datos: &Path, sincronizacion: Sincronizacion) -> anyhow::Result<(Db, Recuperado)> {
        std::fs::create_dir_all(datos)
            .with_context(|| format!("creating the data folder {}", datos.display()))?;
        let ruta = datos.join("maestro.db");
        let mut conexion = abrir_conexion(&ruta, sincronizacion)?;
        conexion
            .execute_batch(ESQUEMA)
            .context("creating the schema")?;
        migrar(&conexion).context("upgrading the schema")?;
        let recuperado = recuperar(&mut conexion).context("recovering the queue")?;
        let lector = abrir_conexion(&ruta, sincronizacion)?;
        let (tx, rx) = mpsc::channel();
        let (confirmado_tx, confirmado) = watch::channel(0);
        std::thread::Builder::new()
            .name("maestro-db".into())
            .spawn(move || escribir(conexion, rx, confirmado_tx))
            .context("starting the database writer")?;
        let buzon = Buzon {
            ultima: 0,
            escritor: tx,
        };
        Ok((
            Db {
                buzon: Arc::new(Mutex::new(buzon)),
                lector: Arc::new(Mutex::new(lector)),
                confirmado,
            },
            recuperado,
        ))
    }

    /// Numbers and sends an order; false if the writer is gone.
    fn mandar(
        &self,
        cambios: Vec<Cambio>,
        listo: Option<oneshot::Sender<Result<(), String>>>,
    ) -> bool {
        let mut buzon = self.buzon.lock().unwrap_or_else(|e| e.into_inner());
        buzon.ultima += 1;
        let orden = Orden {
            secuencia: buzon.ultima,
            cambios,
            listo,
        };
        buzon.escritor.send(orden).is_ok()
    }

    /// The number of the last order sent: once [`Db::esperar_confirmado`] of it returns, every
    /// change sent until now is in the database.
    pub fn secuencia(&self) -> u64 {
        self.buzon.lock().unwrap_or_else(|e| e.into_inner()).ultima
    }

    /// Waits until the writer has handled order `secuencia` and every one before it.
    pub async fn esperar_confirmado(&self, secuencia: u64) {
        let mut rx = self.confirmado.clone();
        let _ = rx.wait_for(|c| *c >= secuencia).await;
    }

    /// Queues changes without waiting for them to be durable (they are applied in order).
    pub fn enviar(&self, cambios: Vec<Cambio>) {
        if !self.mandar(cambios, None) {
            tracing::error!("database writer is gone: changes dropped");
        }
    }

    /// Queues changes and returns a future that resolves once they are committed. Call it while
    /// holding the state lock (so changes reach the writer in the order they were decided) and
    /// await the future after releasing it.
    pub fn aplicar(
        &self,
        cambios: Vec<Cambio>,
    ) -> impl Future<Output = anyhow::Result<()>> + use<> {
        let (tx, rx) = oneshot::channel();
        let enviado = self.mandar(cambios, Some(tx));
        async move {
            anyhow::ensure!(enviado, "database writer is gone");
            rx.await
                .map_err(|_| anyhow::anyhow!("database writer is gone"))?
                .map_err(|e| anyhow::anyhow!("database write failed: {e}"))
        }
    }

    /// Runs a read on the reading connection, off the async runtime.
    pub async fn leer<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        let lector = self.lector.clone();
        tokio::task::spawn_blocking(move || {
            let conexion = lector.lock().unwrap_or_else(|e| e.into_inner());
            f(&conexion)
        })
        .await
        .context("database reader panicked")?
        .context("reading the database")
    }
}

fn abrir_conexion(ruta: &Path, sincronizacion: Sincronizacion) -> anyhow::Result<Connection> {
    let c = Connection::open(ruta).with_context(|| format!("opening {}", ruta.display()))?;
    c.busy_timeout(std::time::Duration::from_secs(10))?;
    c.pragma_update(None, "journal_mode", "WAL")?;
    let modo = match sincronizacion {
        Sincronizacion::Completa => "FULL",
        Sincronizacion::Normal => "NORMAL",
    };
    c.pragma_update(None, "synchronous", modo)?;
    Ok(c)
}

fn escribir(mut conexion: Connection, rx: mpsc::Receiver<Orden>, confirmado: watch::Sender<u64>) {
    const MAX_LOTE: usize = 4096;
    while let Ok(primera) = rx.recv() {
        let mut lote = vec![primera];
        while lote.len() < MAX_LOTE {
            match rx.try_recv() {
                Ok(o) => lote.push(o),
                Err(_) => break,
            }
        }
        let ultima = lote.last().map_or(0, |o| o.secuencia);
        match transaccion(&mut conexion, lote.iter().flat_map(|o| &o.cambios)) {
            Ok(()) => lote.into_iter().for_each(|o| responder(o, Ok(()))),
            Err(e) => {
                tracing::error!("group commit failed ({e:#}); retrying each change on its own");
                for o in lote {
                    let r = transaccion(&mut conexion, o.cambios.iter());
                    if let Err(e) = &r {
                        tracing::error!("database change failed: {e:#}");
                    }
                    responder(o, r.map_err(|e| format!("{e:#}")));
                }
            }
        }
        confirmado.send_replace(ultima);
    }
}

fn responder(o: Orden, r: Result<(), String>) {
    if let Some(listo) = o.listo {
        let _ = listo.send(r);
    }
}

fn transaccion<'a>(
    conexion: &mut Connection,
    cambios: impl Iterator<Item = &'a Cambio>,
) -> anyhow::Result<()> {
    let t = conexion.transaction()?;
    for c in cambios {
        aplicar(&t, c)?;
    }
    t.commit()?;
    Ok(())
}

fn aplicar(t: &Transaction<'_>, c: &Cambio) -> anyhow::Result<()> {
    match c {
        Cambio::Insertar(f) => {
            t.prepare_cached(
                "INSERT INTO trabajos (id, parametros, algoritmo, prioridad, estado, creado_ms, origen,
                 plazo_s) VALUES (?1, ?2, ?3, ?4, 'pendiente', ?5, ?6, ?7)",
            )?
            .execute(params![
                f.id.0 as i64,
                serde_json::to_string(&f.trabajo.parametros)?,
                f.trabajo.algoritmo.nombre(),
                f.trabajo.prioridad.valor(),
                f.creado_ms as i64,
                serde_json::to_string(&f.origen)?,
                f.trabajo.plazo_s,
            ])?;
        }
        Cambio::MarcarLinea(l, id) => {
            t.prepare_cached(
                "INSERT OR IGNORE INTO lineas_cargadas (archivo, texto, ocurrencia, trabajo)
                 VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![l.archivo, l.texto, l.ocurrencia, id.0 as i64])?;
        }
        Cambio::Asignar {
            id,
            intento,
            esclavo,
            inicio_ms,
        } => {
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
        Cambio::Devolver { id, intento } => {
            t.prepare_cached(
                "UPDATE trabajos SET estado = 'pendiente', esclavo = NULL, intentos = ?2 - 1
                 WHERE id = ?1 AND estado = 'asignado'",
            )?
            .execute(params![id.0 as i64, intento])?;
            t.prepare_cached("DELETE FROM intentos WHERE trabajo = ?1 AND numero = ?2")?
                .execute(params![id.0 as i64, intento])?;
        }
        Cambio::Fallar {
            id,
            intento,
            fin_ms,
            error,
            fallos,
            definitivo,
        } => {
            cerrar_intento(t, *id, *intento, *fin_ms, Some(error))?;
            let (estado, terminado, motivo) = if *definitivo {
                (
                    "fallido",
                    Some(*fin_ms as i64),
                    Some(format!("failed {fallos} times; last: {error}")),
                )
            } else {
                ("pendiente", None, None)
            };
            t.prepare_cached(
                "UPDATE trabajos SET estado = ?2, esclavo = NULL, fallos = ?3, terminado_ms = ?4,
                 motivo = ?5 WHERE id = ?1 AND estado IN ('pendiente', 'asignado')",
            )?
            .execute(params![id.0 as i64, estado, fallos, terminado, motivo])?;
        }
        Cambio::Completar {
            id,
            intento,
            esclavo,
            fin_ms,
            resultado,
            png,
        } => {
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

fn recuperar(c: &mut Connection) -> anyhow::Result<Recuperado> {
    let ahora = comun::ahora_ms() as i64;
    let t = c.transaction()?;
    t.execute(
        "UPDATE intentos SET fin_ms = ?1, error = 'the maestro stopped while it ran'
         WHERE fin_ms IS NULL",
        [ahora],
    )?;
    let reencolados = t.execute(
        "UPDATE trabajos SET estado = 'pendiente', esclavo = NULL WHERE estado = 'asignado'",
        [],
    )?;
    t.commit()?;

    let mut r = Recuperado {
        reencolados,
        ..Recuperado::default()
    };
    let mut consulta = c.prepare(
        "SELECT id, parametros, algoritmo, prioridad, intentos, fallos, plazo_s
         FROM trabajos WHERE estado = 'pendiente' ORDER BY id",
    )?;
    let filas = consulta.query_map([], |f| {
        Ok((
            f.get::<_, i64>(0)?,
            f.get::<_, String>(1)?,
            f.get::<_, String>(2)?,
            f.get::<_, i64>(3)?,
            f.get::<_, u32>(4)?,
            f.get::<_, u32>(5)?,
            f.get::<_, Option<u32>>(6)?,
        ))
    })?;
    for fila in filas {
        let (id, parametros, algoritmo, prioridad, intentos, fallos, plazo_s) = fila?;
        r.pendientes.push(Pendiente {
            id: TrabajoId(id as u64),
            parametros: serde_json::from_str(&parametros)
                .with_context(|| format!("job {id}: unreadable parametros"))?,
            algoritmo: algoritmo.parse()?,
            prioridad: Prioridad::new(prioridad)?,
            intentos,
            fallos,
            plazo_s: plazo_s.and_then(NonZeroU32::new),
        });
    }
    let mut consulta = c.prepare("SELECT estado, COUNT(*) FROM trabajos GROUP BY estado")?;
    for fila in consulta.query_map([], |f| Ok((f.get::<_, String>(0)?, f.get::<_, i64>(1)?)))? {
        let (estado, n) = fila?;
        r.por_estado.insert(estado.parse()?, n as u64);
    }
    let max: Option<i64> = c.query_row("SELECT MAX(id) FROM trabajos", [], |f| f.get(0))?;
    r.siguiente_id = max.map_or(1, |m| m as u64 + 1);
    Ok(r)
}

/// The lines of a watched file that were already queued.
pub fn lineas_cargadas(c: &Connection, archivo: &str) -> rusqlite::Result<HashSet<(String, u32)>> {
    let mut consulta =
        c.prepare_cached("SELECT texto, ocurrencia FROM lineas_cargadas WHERE archivo = ?1")?;
    consulta
        .query_map([archivo], |f| Ok((f.get(0)?, f.get(1)?)))?
        .collect()
}

const COLUMNAS: &str = "id, parametros, algoritmo, prioridad, estado, esclavo, creado_ms, \
                        iniciado_ms, terminado_ms, origen, resultado, motivo, plazo_s";

/// One job with its attempts.
pub fn trabajo(c: &Connection, id: TrabajoId) -> rusqlite::Result<Option<Trabajo>> {
    let fila = c
        .prepare_cached(&format!("SELECT {COLUMNAS} FROM trabajos WHERE id = ?1"))?
        .query_row([id.0 as i64], leer_fila)
        .optional()?;
    fila.map(|t| con_intentos(c, t)).transpose()
}

/// Jobs newest first, optionally of one state, at most `limite`; and how many match in all.
pub fn listar(
    c: &Connection,
    estado: Option<Estado>,
    limite: u32,
) -> rusqlite::Result<(Vec<Trabajo>, u64)> {
    // `?1 = ?1` keeps one statement shape for both cases; with a state, the index serves it.
    let (donde, filtro) = match estado {
        Some(e) => ("estado = ?1", e.nombre()),
        None => ("?1 = ?1", ""),
    };
    let total: i64 = c
        .prepare_cached(&format!("SELECT COUNT(*) FROM trabajos WHERE {donde}"))?
        .query_row([filtro], |f| f.get(0))?;
    let trabajos = c
        .prepare_cached(&format!(
            "SELECT {COLUMNAS} FROM trabajos WHERE {donde} ORDER BY id DESC LIMIT ?2"
        ))?
        .query_map(params![filtro, limite], leer_fila)?
        .map(|t| t.and_then(|t| con_intentos(c, t)))
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((trabajos, total as u64))
}

/// The PNG of a finished Julia job.
pub fn imagen(c: &Connection, id: TrabajoId) -> rusqlite::Result<Option<Vec<u8>>> {
    c.prepare_cached("SELECT png FROM imagenes WHERE trabajo = ?1")?
        .query_row([id.0 as i64], |f| f.get(0))
        .optional()
}

fn con_intentos(c: &Connection, mut t: Trabajo) -> rusqlite::Result<Trabajo> {
    t.intentos = c
        .prepare_cached(
            "SELECT numero, esclavo, inicio_ms, fin_ms, error FROM intentos
             WHERE trabajo = ?1 ORDER BY numero",
        )?
        .query_map([t.id.0 as i64], |f| {
            Ok(Intento {
                numero: f.get(0)?,
                esclavo: f.get(1)?,
                inicio_ms: f.get::<_, i64>(2)? as u64,
                fin_ms: f.get::<_, Option<i64>>(3)?.map(|v| v as u64),
                error: f.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(t)
}

fn leer_fila(f: &rusqlite::Row<'_>) -> rusqlite::Result<Trabajo> {
    fn json<T: serde::de::DeserializeOwned>(i: usize, texto: String) -> rusqlite::Result<T> {
        serde_json::from_str(&texto).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
        })
    }
    let texto = |i: usize, e: comun::ErrorCampo| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
    };
    let parametros: Parametros = json(1, f.get(1)?)?;
    let algoritmo: Algoritmo = f.get::<_, String>(2)?.parse().map_err(|e| texto(2, e))?;
    let prioridad = Prioridad::new(f.get(3)?).map_err(|e| texto(3, e))?;
    let estado: Estado = f.get::<_, String>(4)?.parse().map_err(|e| texto(4, e))?;
    let resultado = match f.get::<_, Option<String>>(10)? {
        Some(r) => Some(json(10, r)?),
        None => None,
    };
    Ok(Trabajo {
        id: TrabajoId(f.get::<_, i64>(0)? as u64),
        parametros,
        algoritmo,
        prioridad,
        estado,
        intentos: Vec::new(),
        esclavo: f.get(5)?,
        creado_ms: f.get::<_, i64>(6)? as u64,
        iniciado_ms: f.get::<_, Option<i64>>(7)?.map(|v| v as u64),
        terminado_ms: f.get::<_, Option<i64>>(8)?.map(|v| v as u64),
        origen: json(9, f.get(9)?)?,
        plazo_s: f.get(12)?,
        resultado,
        motivo: f.get(11)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `trabajos` table as maestros before per-job time limits made it.
    const TRABAJOS_SIN_PLAZO: &str = "
    CREATE TABLE trabajos (
        id INTEGER PRIMARY KEY, parametros TEXT NOT NULL, algoritmo TEXT NOT NULL,
        prioridad INTEGER NOT NULL, estado TEXT NOT NULL, intentos INTEGER NOT NULL DEFAULT 0,
        fallos INTEGER NOT NULL DEFAULT 0, esclavo TEXT, creado_ms INTEGER NOT NULL,
        iniciado_ms INTEGER, terminado_ms INTEGER, origen TEXT NOT NULL, resultado TEXT,
        motivo TEXT
    );
    INSERT INTO trabajos (id, parametros, algoritmo, prioridad, estado, intentos, creado_ms, origen)
    VALUES (7, '{\"tipo\":\"espera\",\"ms\":5}', 'Secuencial', 2, 'asignado', 1, 0, '{\"via\":\"api\"}');
    ";

    #[test]
    fn a_database_without_the_time_limit_column_is_upgraded_and_keeps_its_jobs() {
        let datos = tempfile::tempdir().unwrap();
        Connection::open(datos.path().join("maestro.db"))
            .unwrap()
            .execute_batch(TRABAJOS_SIN_PLAZO)
            .unwrap();
        let (db, recuperado) = Db::abrir(datos.path(), Sincronizacion::Normal).unwrap();
        assert_eq!(recuperado.pendientes.len(), 1);
        assert_eq!(recuperado.pendientes[0].id, TrabajoId(7));
        assert_eq!(recuperado.pendientes[0].plazo_s, None);
        assert_eq!(recuperado.siguiente_id, 8);
        let nuevo = FilaNueva {
            id: TrabajoId(8),
            trabajo: NuevoTrabajo {
                parametros: Parametros::Espera(comun::trabajo::ParamsEspera { ms: 1 }),
                algoritmo: Algoritmo::Secuencial,
                prioridad: Prioridad::MEDIA,
                plazo_s: Some(9),
            },
            origen: Origen::Api,
            creado_ms: 1,
        };
        let commit = db.aplicar(vec![Cambio::Insertar(nuevo)]);
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(commit)
            .unwrap();
        let lector = db.lector.lock().unwrap();
        assert_eq!(
            trabajo(&lector, TrabajoId(7)).unwrap().unwrap().plazo_s,
            None
        );
        assert_eq!(
            trabajo(&lector, TrabajoId(8)).unwrap().unwrap().plazo_s,
            Some(9)
        );
        drop(lector);
        drop(db);
        // Opening it again finds the column there and recovers the new job's limit.
        let (_, recuperado) = Db::abrir(datos.path(), Sincronizacion::Normal).unwrap();
        let plazos: Vec<_> = recuperado.pendientes.iter().map(|p| p.plazo_s).collect();
        assert_eq!(plazos, vec![None, NonZeroU32::new(9)]);
    }
}

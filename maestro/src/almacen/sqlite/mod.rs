//! The SQLite backend: one file, `maestro.db`, in the data folder, in WAL mode.
//!
//! Tables: `trabajos` (one row per job, its current state), `intentos` (one row per dispatch),
//! `imagenes` (PNG of finished Julia and imagen jobs), `entradas` (PNGs uploaded with
//! `POST /imagenes`, never changed or deleted), `lineas_cargadas` (which lines of a watched jobs
//! file were already queued, so each is queued exactly once, across restarts too),
//! `archivos_tareas` (the task folder's files whose tasks were queued, by name and SHA-256, so a
//! file found again after a crash before its move is not queued twice). A table
//! added after the first release is created in an existing database when it is opened.
//!
//! The writer thread owns one connection (`escritura`); reads use a second one
//! (`lectura`). With [`Sincronizacion::Completa`] (`synchronous = FULL`) a commit survives
//! the machine; with [`Sincronizacion::Normal`] it survives the process (SIGKILL) but the last
//! commits may be lost with the machine. Columns added after the first release are added to
//! an existing database when it is opened (`MIGRACIONES`), so a data folder of an older
//! maestro keeps working.

mod escritura;
mod lectura;

use std::path::{Path, PathBuf};

use anyhow::Context;
use comun::TrabajoId;
use rusqlite::Connection;

use super::Recuperado;
use super::filas::{COLUMNAS_PENDIENTE, FilaPendiente};
use crate::config::Sincronizacion;
pub use escritura::EscrituraSqlite;
pub use lectura::LecturaSqlite;

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
CREATE TABLE IF NOT EXISTS entradas (
    id INTEGER PRIMARY KEY,
    png BLOB NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    canales INTEGER NOT NULL,
    creado_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS lineas_cargadas (
    archivo TEXT NOT NULL,
    texto TEXT NOT NULL,
    ocurrencia INTEGER NOT NULL,
    trabajo INTEGER NOT NULL,
    PRIMARY KEY (archivo, texto, ocurrencia)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS archivos_tareas (
    nombre TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    cargado_ms INTEGER NOT NULL,
    PRIMARY KEY (nombre, sha256)
) WITHOUT ROWID;
";

/// Columns added after the first release: `(table, column, definition, filling)`. A database
/// made before gets each one that it lacks (`ALTER TABLE ... ADD COLUMN`, then the filling
/// statement, if any, for the rows it already holds) when it is opened. `tipo` and `via` copy
/// a field of the JSON beside them, written by every insert, so the filters of
/// `GET /trabajos` have columns to index.
const MIGRACIONES: &[(&str, &str, &str, Option<&str>)] = &[
    ("trabajos", "plazo_s", "INTEGER", None),
    (
        "trabajos",
        "tipo",
        "TEXT",
        Some("UPDATE trabajos SET tipo = json_extract(parametros, '$.tipo')"),
    ),
    (
        "trabajos",
        "via",
        "TEXT",
        Some("UPDATE trabajos SET via = json_extract(origen, '$.via')"),
    ),
    ("trabajos", "task_id", "TEXT", None),
    ("trabajos", "descripcion", "TEXT", None),
    ("trabajos", "algoritmo_pedido", "TEXT", None),
];

/// The first release with filters computed `tipo` and `via` on every read and index write
/// (generated VIRTUAL columns, `json_extract` each time): a database it made has them
/// dropped, with their indexes, before [`MIGRACIONES`] adds them back as plain columns.
const GENERADAS_ANTES: &str = "
DROP INDEX IF EXISTS trabajos_por_tipo;
DROP INDEX IF EXISTS trabajos_por_estado_tipo;
DROP INDEX IF EXISTS trabajos_por_via;
DROP INDEX IF EXISTS trabajos_por_estado_via;
ALTER TABLE trabajos DROP COLUMN tipo;
ALTER TABLE trabajos DROP COLUMN via;
";

/// The indexes that page the job list newest first (keyset: `id < cursor ORDER BY id DESC`)
/// in time independent of the table's size, made once the columns of [`MIGRACIONES`] exist:
/// one per filter alone, and for completed jobs (nearly all of a long history) one per other
/// filter ([`indices_completados`]). A job enters those four once, when it completes. The
/// first version kept an index of each filter with the state over every job,
/// `trabajos_por_estado_*`: a job moved in each of them at every change of state, which took
/// about a tenth of `cliente carga`'s throughput; they are dropped here. Any other state with
/// more filters reads the state's own index (`lectura::desde`): its jobs are the queue, the
/// running ones or the failures, few beside the completed. Three filters or more read the
/// index of two of them and drop the rows the others refuse (docs/lista-trabajos.md).
const INDICES: &str = "
CREATE INDEX IF NOT EXISTS trabajos_por_estado ON trabajos (estado, id);
CREATE INDEX IF NOT EXISTS trabajos_por_tipo ON trabajos (tipo, id);
CREATE INDEX IF NOT EXISTS trabajos_por_prioridad ON trabajos (prioridad, id);
CREATE INDEX IF NOT EXISTS trabajos_por_esclavo ON trabajos (esclavo, id)
    WHERE esclavo IS NOT NULL;
CREATE INDEX IF NOT EXISTS trabajos_por_via ON trabajos (via, id);
CREATE UNIQUE INDEX IF NOT EXISTS trabajos_por_task_id ON trabajos (task_id)
    WHERE task_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS trabajos_por_algoritmo_pedido ON trabajos (algoritmo_pedido, id)
    WHERE algoritmo_pedido IS NOT NULL;
DROP INDEX IF EXISTS trabajos_por_estado_tipo;
DROP INDEX IF EXISTS trabajos_por_estado_prioridad;
DROP INDEX IF EXISTS trabajos_por_estado_esclavo;
DROP INDEX IF EXISTS trabajos_por_estado_via;
";

/// The indexes of completed jobs with one other filter: `trabajos_completado_por_<column>` on
/// `(column, id)`, over completed rows only. A partial index serves a query only when its
/// condition is in the query's own, so `lectura::desde` writes the state into the statement.
fn indices_completados() -> String {
    let mut sql = String::new();
    for columna in ["tipo", "prioridad", "esclavo", "via"] {
        sql.push_str(&format!(
            "CREATE INDEX IF NOT EXISTS trabajos_completado_por_{columna} \
             ON trabajos ({columna}, id) WHERE estado = 'completado';\n"
        ));
    }
    sql
}

/// The database file in the data folder `datos`.
pub fn ruta(datos: &Path) -> PathBuf {
    datos.join("maestro.db")
}

/// Opens (or creates) `datos/maestro.db` and brings it back to a consistent state after a
/// crash: the writing and the reading halves, and what it holds.
pub fn abrir(
    datos: &Path,
    sincronizacion: Sincronizacion,
) -> anyhow::Result<(EscrituraSqlite, LecturaSqlite, Recuperado)> {
    std::fs::create_dir_all(datos)
        .with_context(|| format!("creating the data folder {}", datos.display()))?;
    let ruta = ruta(datos);
    let mut conexion = abrir_conexion(&ruta, sincronizacion)?;
    conexion
        .execute_batch(ESQUEMA)
        .context("creating the schema")?;
    migrar(&conexion).context("upgrading the schema")?;
    conexion
        .execute_batch(INDICES)
        .and_then(|()| conexion.execute_batch(&indices_completados()))
        .context("creating the indexes")?;
    let recuperado = recuperar(&mut conexion).context("recovering the queue")?;
    let lector = abrir_conexion(&ruta, sincronizacion)?;
    Ok((
        EscrituraSqlite::new(conexion),
        LecturaSqlite::new(lector),
        recuperado,
    ))
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

/// Adds to an existing database the columns it lacks, filling them for the rows it holds.
fn migrar(c: &Connection) -> anyhow::Result<()> {
    let generada = c
        .prepare("SELECT 1 FROM pragma_table_xinfo('trabajos') WHERE name = 'tipo' AND hidden > 1")?
        .exists([])?;
    if generada {
        c.execute_batch(GENERADAS_ANTES)
            .context("replacing the generated columns tipo and via")?;
    }
    for (tabla, columna, definicion, relleno) in MIGRACIONES {
        let existe = c
            .prepare("SELECT 1 FROM pragma_table_xinfo(?1) WHERE name = ?2")?
            .exists([tabla, columna])?;
        if !existe {
            c.execute_batch(&format!(
                "ALTER TABLE {tabla} ADD COLUMN {columna} {definicion}"
            ))
            .with_context(|| format!("adding column {columna} to table {tabla}"))?;
            if let Some(relleno) = relleno {
                c.execute_batch(relleno)
                    .with_context(|| format!("filling column {tabla}.{columna}"))?;
            }
            tracing::info!("database upgraded: column {tabla}.{columna} added");
        }
    }
    Ok(())
}

/// Closes the attempts that were open when the maestro stopped, turns `asignado` rows back
/// into `pendiente`, and loads the pending jobs, the counts by state and the next ids.
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
    let mut consulta = c.prepare(&format!(
        "SELECT {COLUMNAS_PENDIENTE} FROM trabajos WHERE estado = 'pendiente' ORDER BY id"
    ))?;
    let filas = consulta.query_map([], |f| {
        Ok(FilaPendiente {
            id: f.get(0)?,
            parametros: f.get(1)?,
            algoritmo: f.get(2)?,
            prioridad: f.get(3)?,
            intentos: f.get(4)?,
            fallos: f.get(5)?,
            plazo_s: f.get(6)?,
        })
    })?;
    for fila in filas {
        r.pendientes.push(fila?.pendiente()?);
    }
    let mut consulta = c.prepare("SELECT estado, COUNT(*) FROM trabajos GROUP BY estado")?;
    for fila in consulta.query_map([], |f| Ok((f.get::<_, String>(0)?, f.get::<_, i64>(1)?)))? {
        let (estado, n) = fila?;
        r.por_estado.insert(estado.parse()?, n as u64);
    }
    let max: Option<i64> = c.query_row("SELECT MAX(id) FROM trabajos", [], |f| f.get(0))?;
    r.siguiente_id = max.map_or(1, |m| m as u64 + 1);
    let max: Option<i64> = c.query_row("SELECT MAX(id) FROM entradas", [], |f| f.get(0))?;
    r.siguiente_entrada = max.map_or(1, |m| m as u64 + 1);
    let mut consulta = c.prepare("SELECT task_id, id FROM trabajos WHERE task_id IS NOT NULL")?;
    for fila in consulta.query_map([], |f| Ok((f.get::<_, String>(0)?, f.get::<_, i64>(1)?)))? {
        let (task_id, id) = fila?;
        r.task_ids.insert(task_id, TrabajoId(id as u64));
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use comun::api::{FiltroTrabajos, Origen, Via};
    use std::num::NonZeroU32;

    use comun::{Algoritmo, NuevoTrabajo, Parametros, Prioridad};

    use super::*;
    use crate::almacen::{Almacen, Cambio, FilaNueva};

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

    fn abrir_almacen(datos: &Path) -> (Almacen, Recuperado) {
        let mut config = crate::Config::new(datos);
        config.sincronizacion = Sincronizacion::Normal;
        Almacen::abrir(&config).unwrap()
    }

    /// Opens a store on `datos` after writing there the database of [`TRABAJOS_SIN_PLAZO`].
    fn abrir_anterior(datos: &Path) -> (Almacen, Recuperado) {
        Connection::open(ruta(datos))
            .unwrap()
            .execute_batch(TRABAJOS_SIN_PLAZO)
            .unwrap();
        abrir_almacen(datos)
    }

    #[test]
    fn a_database_without_the_time_limit_column_is_upgraded_and_keeps_its_jobs() {
        let datos = tempfile::tempdir().unwrap();
        let (almacen, recuperado) = abrir_anterior(datos.path());
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
                etiquetas: comun::trabajo::Etiquetas::default(),
            },
            origen: Origen::Api,
            creado_ms: 1,
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(almacen.guardar(vec![Cambio::Insertar(nuevo)]).esperar())
            .unwrap();
        let plazo = |id| rt.block_on(almacen.trabajo(id)).unwrap().unwrap().plazo_s;
        assert_eq!(plazo(TrabajoId(7)), None);
        assert_eq!(plazo(TrabajoId(8)), Some(9));
        drop(almacen);
        // Opening it again finds the column there and recovers the new job's limit.
        let (_, recuperado) = abrir_almacen(datos.path());
        let plazos: Vec<_> = recuperado.pendientes.iter().map(|p| p.plazo_s).collect();
        assert_eq!(plazos, vec![None, NonZeroU32::new(9)]);
    }

    #[test]
    fn an_old_database_gets_the_filter_columns_and_its_rows_are_filtered_by_them() {
        let datos = tempfile::tempdir().unwrap();
        let (almacen, _) = abrir_anterior(datos.path());
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let ids = |filtro: FiltroTrabajos| {
            let lista = rt.block_on(almacen.pagina(filtro, None, 10)).unwrap();
            lista.trabajos.iter().map(|t| t.id).collect::<Vec<_>>()
        };
        let espera_api = FiltroTrabajos {
            tipo: Some(comun::Tipo::Espera),
            origen: Some(Via::Api),
            ..FiltroTrabajos::default()
        };
        assert_eq!(ids(espera_api), vec![TrabajoId(7)]);
        let julia = FiltroTrabajos {
            tipo: Some(comun::Tipo::Julia),
            ..FiltroTrabajos::default()
        };
        assert_eq!(ids(julia), vec![]);
    }

    /// A database of the first release with filters: `tipo` and `via` generated from the JSON,
    /// and an index of each filter with the state.
    const FILTROS_GENERADOS: &str = "
    ALTER TABLE trabajos ADD COLUMN plazo_s INTEGER;
    ALTER TABLE trabajos ADD COLUMN tipo TEXT
        GENERATED ALWAYS AS (json_extract(parametros, '$.tipo')) VIRTUAL;
    ALTER TABLE trabajos ADD COLUMN via TEXT
        GENERATED ALWAYS AS (json_extract(origen, '$.via')) VIRTUAL;
    CREATE INDEX trabajos_por_tipo ON trabajos (tipo, id);
    CREATE INDEX trabajos_por_estado_tipo ON trabajos (estado, tipo, id);
    CREATE INDEX trabajos_por_estado_via ON trabajos (estado, via, id);
    ";

    #[test]
    fn generated_filter_columns_become_plain_ones_filled_from_the_json() {
        let datos = tempfile::tempdir().unwrap();
        let db = Connection::open(datos.path().join("maestro.db")).unwrap();
        db.execute_batch(TRABAJOS_SIN_PLAZO).unwrap();
        db.execute_batch(FILTROS_GENERADOS).unwrap();
        drop(db);
        let (almacen, _) = abrir_almacen(datos.path());
        let db = Connection::open(datos.path().join("maestro.db")).unwrap();
        let columnas: Vec<(String, i64)> = db
            .prepare("SELECT name, hidden FROM pragma_table_xinfo('trabajos') WHERE name IN ('tipo', 'via')")
            .unwrap()
            .query_map([], |f| Ok((f.get(0)?, f.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(columnas, [("tipo".into(), 0), ("via".into(), 0)]);
        let fila: (String, String) = db
            .query_row("SELECT tipo, via FROM trabajos WHERE id = 7", [], |f| {
                Ok((f.get(0)?, f.get(1)?))
            })
            .unwrap();
        assert_eq!(fila, ("espera".into(), "api".into()));
        let compuestos: i64 = db
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name LIKE 'trabajos_por_estado_%'",
                [],
                |f| f.get(0),
            )
            .unwrap();
        assert_eq!(
            compuestos, 0,
            "the indexes of a filter with the state are dropped"
        );
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let espera = FiltroTrabajos {
            tipo: Some(comun::Tipo::Espera),
            origen: Some(Via::Api),
            ..FiltroTrabajos::default()
        };
        let lista = rt.block_on(almacen.pagina(espera, None, 10)).unwrap();
        assert_eq!(
            lista.trabajos.iter().map(|t| t.id).collect::<Vec<_>>(),
            [TrabajoId(7)]
        );
    }

    #[test]
    fn uploaded_images_are_kept_as_sent_across_a_restart_and_their_ids_go_on() {
        use comun::imagenes::FormaPng;
        use std::collections::HashSet;

        let datos = tempfile::tempdir().unwrap();
        // A database of an older maestro: the table of uploads is made when it is opened.
        let (almacen, recuperado) = abrir_anterior(datos.path());
        assert_eq!(recuperado.siguiente_entrada, 1);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let forma = FormaPng {
            width: 2,
            height: 1,
            canales: 3,
        };
        let guardar = |png: &[u8]| {
            let (id, commit) = almacen.guardar_entrada(png.to_vec(), forma);
            rt.block_on(commit.esperar()).unwrap();
            id
        };
        assert_eq!((guardar(b"uno"), guardar(b"dos")), (1, 2));
        let leer = |id| rt.block_on(almacen.entrada(id)).unwrap();
        assert_eq!(leer(2).as_deref(), Some(&b"dos"[..]));
        assert_eq!(leer(3), None);
        let ausentes = rt.block_on(almacen.entradas_ausentes(vec![1, 3, 2, 7]));
        assert_eq!(ausentes.unwrap(), HashSet::from([3, 7]));
        drop(almacen);

        let (almacen, recuperado) = abrir_almacen(datos.path());
        assert_eq!(recuperado.siguiente_entrada, 3);
        let (id, commit) = almacen.guardar_entrada(b"tres".to_vec(), forma);
        rt.block_on(commit.esperar()).unwrap();
        assert_eq!(id, 3);
        assert_eq!(
            rt.block_on(almacen.entrada(1)).unwrap().as_deref(),
            Some(&b"uno"[..])
        );
    }
}

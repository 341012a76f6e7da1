//! The SQLite backend: one file, `maestro.db`, in the data folder, in WAL mode.
//!
//! Tables: `trabajos` (one row per job, its current state), `intentos` (one row per dispatch),
//! `imagenes` (PNG of finished Julia jobs), `lineas_cargadas` (which lines of a watched jobs
//! file were already queued, so each is queued exactly once, across restarts too).
//!
//! The writer thread owns one connection (`escritura`); reads use a second one
//! (`lectura`). With [`Sincronizacion::Completa`] (`synchronous = FULL`) a commit survives
//! the machine; with [`Sincronizacion::Normal`] it survives the process (SIGKILL) but the last
//! commits may be lost with the machine. Columns added after the first release are added to
//! an existing database when it is opened (`MIGRACIONES`), so a data folder of an older
//! maestro keeps working.

mod escritura;
mod lectura;

use std::num::NonZeroU32;
use std::path::Path;

use anyhow::Context;
use comun::{Prioridad, TrabajoId};
use rusqlite::Connection;

use super::Recuperado;
use crate::cola::Pendiente;
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
/// `tipo` and `via` are computed from the JSON beside them (virtual: nothing to fill in for
/// old rows, nothing more to write), so the filters of `GET /trabajos` have columns to index.
const MIGRACIONES: &[(&str, &str, &str)] = &[
    ("trabajos", "plazo_s", "INTEGER"),
    (
        "trabajos",
        "tipo",
        "TEXT GENERATED ALWAYS AS (json_extract(parametros, '$.tipo')) VIRTUAL",
    ),
    (
        "trabajos",
        "via",
        "TEXT GENERATED ALWAYS AS (json_extract(origen, '$.via')) VIRTUAL",
    ),
];

/// The indexes that page the job list newest first (keyset: `id < cursor ORDER BY id DESC`)
/// in time independent of the table's size: one per filter alone, and one per filter with the
/// state; made once the columns of [`MIGRACIONES`] exist. Three filters or more at once use
/// the index of two of them and drop the rows the others refuse (docs/lista-trabajos.md).
const INDICES: &str = "
CREATE INDEX IF NOT EXISTS trabajos_por_estado ON trabajos (estado, id);
CREATE INDEX IF NOT EXISTS trabajos_por_tipo ON trabajos (tipo, id);
CREATE INDEX IF NOT EXISTS trabajos_por_prioridad ON trabajos (prioridad, id);
CREATE INDEX IF NOT EXISTS trabajos_por_esclavo ON trabajos (esclavo, id)
    WHERE esclavo IS NOT NULL;
CREATE INDEX IF NOT EXISTS trabajos_por_via ON trabajos (via, id);
CREATE INDEX IF NOT EXISTS trabajos_por_estado_tipo ON trabajos (estado, tipo, id);
CREATE INDEX IF NOT EXISTS trabajos_por_estado_prioridad ON trabajos (estado, prioridad, id);
CREATE INDEX IF NOT EXISTS trabajos_por_estado_esclavo ON trabajos (estado, esclavo, id)
    WHERE esclavo IS NOT NULL;
CREATE INDEX IF NOT EXISTS trabajos_por_estado_via ON trabajos (estado, via, id);
";

/// Opens (or creates) `datos/maestro.db` and brings it back to a consistent state after a
/// crash: the writing and the reading halves, and what it holds.
pub fn abrir(
    datos: &Path,
    sincronizacion: Sincronizacion,
) -> anyhow::Result<(EscrituraSqlite, LecturaSqlite, Recuperado)> {
    std::fs::create_dir_all(datos)
        .with_context(|| format!("creating the data folder {}", datos.display()))?;
    let ruta = datos.join("maestro.db");
    let mut conexion = abrir_conexion(&ruta, sincronizacion)?;
    conexion
        .execute_batch(ESQUEMA)
        .context("creating the schema")?;
    migrar(&conexion).context("upgrading the schema")?;
    conexion
        .execute_batch(INDICES)
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

/// Adds to an existing database the columns it lacks.
fn migrar(c: &Connection) -> anyhow::Result<()> {
    for (tabla, columna, definicion) in MIGRACIONES {
        let existe = c
            .prepare("SELECT 1 FROM pragma_table_xinfo(?1) WHERE name = ?2")?
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

/// Closes the attempts that were open when the maestro stopped, turns `asignado` rows back
/// into `pendiente`, and loads the pending jobs, the counts by state and the next id.
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

#[cfg(test)]
mod tests {
    use comun::api::{FiltroTrabajos, Origen, Via};
    use comun::{Algoritmo, NuevoTrabajo, Parametros};

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
        Connection::open(datos.join("maestro.db"))
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
}

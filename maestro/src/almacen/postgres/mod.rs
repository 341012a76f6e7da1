//! The PostgreSQL backend (`--base postgresql://…`, PostgreSQL 13 or later): the same tables
//! as the SQLite one ([`super::sqlite`]), numbers as `BIGINT`, PNGs as `BYTEA`, JSON as text.
//!
//! **Schema.** Versioned migrations ([`MIGRACIONES`]), recorded in the table `esquema`: every
//! start applies, in one transaction, those the database lacks, after taking a transaction-level
//! advisory lock ([`CANDADO_MIGRACIONES`]), so two maestros starting at once upgrade it once,
//! one after the other. A database newer than this maestro is refused by name.
//!
//! **Writes.** The writer thread owns one connection and its own small runtime
//! ([`EscrituraPostgres`]): a group commit is one transaction whose statements are prepared once
//! and sent pipelined, runs of new jobs as one multi-row insert, so a batch costs three round
//! trips (begin, the statements, commit) whatever its size. A broken connection is opened again
//! at the next commit; what failed was answered as failed (the writer retries each order alone).
//!
//! **Reads.** A pool of connections on the maestro's runtime ([`LecturaPostgres`]), statements
//! prepared once per connection.
//!
//! Durability is the server's: with its default `synchronous_commit = on` a commit is on the
//! server's disk before the maestro hears of it. `--sincronizacion` is SQLite's alone.

mod escritura;
mod lectura;
pub mod lider;

use std::time::Duration;

use anyhow::Context;
use comun::TrabajoId;
use tokio_postgres::config::Host;
use tokio_postgres::{Client, NoTls};

use super::Recuperado;
use super::filas::{COLUMNAS_PENDIENTE, FilaPendiente};
pub use escritura::EscrituraPostgres;
pub use lectura::LecturaPostgres;

/// Where a PostgreSQL store is: a `postgresql://` URL or libpq's `key=value` string, parsed.
pub type Base = tokio_postgres::Config;

/// How long a connection attempt may take before it fails, where the URL sets no
/// `connect_timeout`.
const PLAZO_CONEXION: Duration = Duration::from_secs(5);

/// The key of the advisory lock held while migrating ("hpc-migr").
pub const CANDADO_MIGRACIONES: i64 = 0x6870_632d_6d69_6772;

/// The schema, one step per version: step `i` makes version `i + 1`. Never change a step that
/// was released; add one.
pub const MIGRACIONES: &[&str] = &[
    "
CREATE TABLE trabajos (
    id BIGINT PRIMARY KEY,
    parametros TEXT NOT NULL,
    algoritmo TEXT NOT NULL,
    prioridad BIGINT NOT NULL,
    estado TEXT NOT NULL,
    intentos BIGINT NOT NULL DEFAULT 0,
    fallos BIGINT NOT NULL DEFAULT 0,
    esclavo TEXT,
    creado_ms BIGINT NOT NULL,
    iniciado_ms BIGINT,
    terminado_ms BIGINT,
    origen TEXT NOT NULL,
    resultado TEXT,
    motivo TEXT,
    plazo_s BIGINT,
    tipo TEXT NOT NULL,
    via TEXT NOT NULL,
    task_id TEXT,
    descripcion TEXT,
    algoritmo_pedido TEXT
);
CREATE TABLE intentos (
    trabajo BIGINT NOT NULL,
    numero BIGINT NOT NULL,
    esclavo TEXT NOT NULL,
    inicio_ms BIGINT NOT NULL,
    fin_ms BIGINT,
    error TEXT,
    PRIMARY KEY (trabajo, numero)
);
CREATE TABLE imagenes (trabajo BIGINT PRIMARY KEY, png BYTEA NOT NULL);
CREATE TABLE entradas (
    id BIGINT PRIMARY KEY,
    png BYTEA NOT NULL,
    width BIGINT NOT NULL,
    height BIGINT NOT NULL,
    canales BIGINT NOT NULL,
    creado_ms BIGINT NOT NULL
);
CREATE TABLE lineas_cargadas (
    archivo TEXT NOT NULL,
    texto TEXT NOT NULL,
    ocurrencia BIGINT NOT NULL,
    trabajo BIGINT NOT NULL,
    PRIMARY KEY (archivo, texto, ocurrencia)
);
CREATE TABLE archivos_tareas (
    nombre TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    cargado_ms BIGINT NOT NULL,
    PRIMARY KEY (nombre, sha256)
);
CREATE INDEX trabajos_por_estado ON trabajos (estado, id);
CREATE INDEX trabajos_por_tipo ON trabajos (tipo, id);
CREATE INDEX trabajos_por_prioridad ON trabajos (prioridad, id);
CREATE INDEX trabajos_por_esclavo ON trabajos (esclavo, id) WHERE esclavo IS NOT NULL;
CREATE INDEX trabajos_por_via ON trabajos (via, id);
CREATE UNIQUE INDEX trabajos_por_task_id ON trabajos (task_id) WHERE task_id IS NOT NULL;
CREATE INDEX trabajos_por_algoritmo_pedido ON trabajos (algoritmo_pedido, id)
    WHERE algoritmo_pedido IS NOT NULL;
CREATE INDEX trabajos_completado_por_tipo ON trabajos (tipo, id) WHERE estado = 'completado';
CREATE INDEX trabajos_completado_por_prioridad ON trabajos (prioridad, id)
    WHERE estado = 'completado';
CREATE INDEX trabajos_completado_por_esclavo ON trabajos (esclavo, id)
    WHERE estado = 'completado';
CREATE INDEX trabajos_completado_por_via ON trabajos (via, id) WHERE estado = 'completado';
",
    "
CREATE TABLE lider (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    replica TEXT NOT NULL,
    url TEXT NOT NULL,
    epoca BIGINT NOT NULL,
    vence TIMESTAMPTZ NOT NULL,
    desde TIMESTAMPTZ NOT NULL
);
INSERT INTO lider VALUES (1, '', '', 0, 'epoch', 'epoch');
",
    "
CREATE TABLE replicas (
    nombre TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    visto TIMESTAMPTZ NOT NULL
);
",
    // The open attempts alone: closing a finished job's other attempts then costs what the
    // running jobs number, not a scan of every attempt ever made (the planner chose one).
    "
CREATE INDEX intentos_abiertos ON intentos (trabajo) WHERE fin_ms IS NULL;
",
];

/// Parses `--base`: a `postgresql://` (or `postgres://`) URL, or libpq's `key=value` string.
pub fn base(texto: &str) -> Result<Base, String> {
    let base: Base = texto.parse().map_err(|e| {
        format!("not a PostgreSQL connection string (postgresql://user@host:port/database): {e}")
    })?;
    if base.get_hosts().is_empty() {
        return Err("no host: write postgresql://user@host:port/database".into());
    }
    Ok(base)
}

/// Where `base` points, without its password: `host:port/database`, for messages.
pub fn describir(base: &Base) -> String {
    let host = match base.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        Some(Host::Unix(ruta)) => ruta.display().to_string(),
        None => "?".into(),
    };
    let puerto = base.get_ports().first().copied().unwrap_or(5432);
    let usuario = base.get_user().unwrap_or("?");
    let nombre = base.get_dbname().unwrap_or(usuario);
    format!("{usuario}@{host}:{puerto}/{nombre}")
}

/// Opens the database `base` names, brings its schema up to date and the queue back to a
/// consistent state after a crash: the writing and the reading halves, and what it holds.
/// With `epoca`, the leadership this maestro holds ([`lider`]): every transaction of its
/// writer is refused once another replica has taken over. Blocks: call it off the runtime.
pub fn abrir(
    base: &Base,
    epoca: Option<i64>,
) -> anyhow::Result<(EscrituraPostgres, LecturaPostgres, Recuperado)> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the PostgreSQL writer's runtime")?;
    let (conexion, recuperado) = rt.block_on(async {
        let mut cliente = conectar(base).await?;
        migrar(&mut cliente)
            .await
            .context("creating or upgrading the schema")?;
        if let Some(e) = epoca {
            lider::vigente(&cliente, e).await?;
        }
        let recuperado = recuperar(&mut cliente)
            .await
            .context("recovering the queue")?;
        let conexion = escritura::Conexion::preparar(cliente).await?;
        anyhow::Ok((conexion, recuperado))
    })?;
    let lectura = LecturaPostgres::new(base)?;
    Ok((
        EscrituraPostgres::new(rt, base.clone(), conexion, epoca),
        lectura,
        recuperado,
    ))
}

/// A connection to `base`, driven by a task on the current runtime.
pub async fn conectar(base: &Base) -> anyhow::Result<Client> {
    let mut base = base.clone();
    if base.get_connect_timeout().is_none() {
        base.connect_timeout(PLAZO_CONEXION);
    }
    let (cliente, conexion) = base
        .connect(NoTls)
        .await
        .with_context(|| format!("connecting to PostgreSQL at {}", describir(&base)))?;
    tokio::spawn(async move {
        if let Err(e) = conexion.await {
            tracing::warn!("PostgreSQL connection closed: {e}");
        }
    });
    // A maestro cut off in the middle of a transaction must not keep its locks (the fencing
    // row's among them, which a takeover waits for) until TCP gives up, hours later.
    cliente
        .batch_execute(&format!(
            "SET idle_in_transaction_session_timeout = {}",
            TRANSACCION_ABANDONADA.as_millis()
        ))
        .await
        .context("setting the session's idle-in-transaction limit")?;
    Ok(cliente)
}

/// How long the server keeps a transaction whose maestro stopped sending in the middle of it
/// (the writer sends each transaction whole, so it is never idle inside one otherwise).
pub const TRANSACCION_ABANDONADA: Duration = Duration::from_secs(5);

/// Applies the steps of [`MIGRACIONES`] the database lacks, under the advisory lock.
pub async fn migrar(cliente: &mut Client) -> anyhow::Result<()> {
    let t = cliente.transaction().await?;
    t.execute("SELECT pg_advisory_xact_lock($1)", &[&CANDADO_MIGRACIONES])
        .await?;
    t.batch_execute("CREATE TABLE IF NOT EXISTS esquema (version BIGINT NOT NULL)")
        .await?;
    let version: i64 = t
        .query_one("SELECT COALESCE(MAX(version), 0) FROM esquema", &[])
        .await?
        .get(0);
    let conocidas = MIGRACIONES.len() as i64;
    anyhow::ensure!(
        version <= conocidas,
        "the database's schema is version {version}, newer than this maestro's ({conocidas}): \
         run a newer maestro"
    );
    for (i, paso) in MIGRACIONES.iter().enumerate().skip(version as usize) {
        let nueva = i as i64 + 1;
        t.batch_execute(paso)
            .await
            .with_context(|| format!("migrating the schema to version {nueva}"))?;
        t.execute("INSERT INTO esquema (version) VALUES ($1)", &[&nueva])
            .await?;
        tracing::info!("PostgreSQL schema at version {nueva}");
    }
    t.commit().await?;
    Ok(())
}

/// Closes the attempts that were open when the maestro stopped, turns `asignado` rows back
/// into `pendiente`, and loads the pending jobs, the counts by state and the next ids.
async fn recuperar(cliente: &mut Client) -> anyhow::Result<Recuperado> {
    let ahora = comun::ahora_ms() as i64;
    let t = cliente.transaction().await?;
    t.execute(
        "UPDATE intentos SET fin_ms = $1, error = 'the maestro stopped while it ran'
         WHERE fin_ms IS NULL",
        &[&ahora],
    )
    .await?;
    let reencolados = t
        .execute(
            "UPDATE trabajos SET estado = 'pendiente', esclavo = NULL WHERE estado = 'asignado'",
            &[],
        )
        .await?;
    t.commit().await?;

    let mut r = Recuperado {
        reencolados: reencolados as usize,
        ..Recuperado::default()
    };
    let sql =
        format!("SELECT {COLUMNAS_PENDIENTE} FROM trabajos WHERE estado = 'pendiente' ORDER BY id");
    for f in cliente.query(&sql, &[]).await? {
        let fila = FilaPendiente {
            id: f.try_get(0)?,
            parametros: f.try_get(1)?,
            algoritmo: f.try_get(2)?,
            prioridad: f.try_get(3)?,
            intentos: f.try_get(4)?,
            fallos: f.try_get(5)?,
            plazo_s: f.try_get(6)?,
        };
        r.pendientes.push(fila.pendiente()?);
    }
    let por_estado = cliente
        .query("SELECT estado, COUNT(*) FROM trabajos GROUP BY estado", &[])
        .await?;
    for f in por_estado {
        let (estado, n): (String, i64) = (f.try_get(0)?, f.try_get(1)?);
        r.por_estado.insert(estado.parse()?, n as u64);
    }
    let siguientes = cliente
        .query_one(
            "SELECT (SELECT MAX(id) FROM trabajos), (SELECT MAX(id) FROM entradas)",
            &[],
        )
        .await?;
    let siguiente = |max: Option<i64>| max.map_or(1, |m| m as u64 + 1);
    r.siguiente_id = siguiente(siguientes.try_get(0)?);
    r.siguiente_entrada = siguiente(siguientes.try_get(1)?);
    let task_ids = cliente
        .query(
            "SELECT task_id, id FROM trabajos WHERE task_id IS NOT NULL",
            &[],
        )
        .await?;
    for f in task_ids {
        let (task_id, id): (String, i64) = (f.try_get(0)?, f.try_get(1)?);
        r.task_ids.insert(task_id, TrabajoId(id as u64));
    }
    Ok(r)
}

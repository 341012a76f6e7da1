//! Test support: a maestro and esclavos started in-process on port 0 ([`pruebas::Servicio`]),
//! real HTTP on loopback, the maestro's API as the tests call it, and waiting for conditions
//! with a deadline (never a bare sleep).
#![allow(dead_code)]

pub mod falso;
pub mod panel;

use std::path::Path;
use std::time::Duration;

pub use pruebas::api::*;
use pruebas::sondas::{esclavo_vivo, responde_ping};
pub use pruebas::{Servicio, esperar_hasta};

/// How long a started maestro or esclavo may take to be ready.
const ARRANQUE: Duration = Duration::from_secs(10);

/// A maestro on `puerto` (0: any) with the given config.
pub async fn maestro(config: maestro::Config, puerto: u16) -> Servicio {
    let m = Servicio::iniciar_en(puerto, |listener, parada| {
        maestro::run(config, listener, parada)
    })
    .await;
    esperar_hasta(ARRANQUE, "maestro answers /ping", || responde_ping(&m.url)).await;
    m
}

/// The maestro binary on `puerto`, its data in `datos`, with no watched file and `args`
/// besides; once it has printed the address it serves (its first line).
pub async fn maestro_binario(datos: &Path, puerto: u16, args: &[&str]) -> tokio::process::Child {
    maestro_binario_en(datos, puerto, base_de_pruebas(datos).as_deref(), args).await
}

/// [`maestro_binario`] with its store in the PostgreSQL database `base` (`None`: SQLite in
/// `datos`).
pub async fn maestro_binario_en(
    datos: &Path,
    puerto: u16,
    base: Option<&str>,
    args: &[&str],
) -> tokio::process::Child {
    let mut hijo = tokio::process::Command::new(env!("CARGO_BIN_EXE_maestro"))
        .args(["--puerto", &puerto.to_string(), "--sin-archivo"])
        .args(args)
        .args(base.iter().flat_map(|b| ["--base", b]))
        .arg("--datos")
        .arg(datos)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("starting the maestro binary");
    let (primera, _) =
        pruebas::proceso::primera_linea(&mut hijo, "maestro", Duration::from_secs(20)).await;
    assert_eq!(
        primera,
        format!("maestro escuchando en http://127.0.0.1:{puerto}")
    );
    hijo
}

/// A maestro config for tests: quick to declare esclavos lost; its store in PostgreSQL in the
/// binary `postgres` ([`base_de_pruebas`]).
pub fn config_maestro(datos: &Path) -> maestro::Config {
    let mut c = maestro::Config::new(datos);
    c.base = base_de_pruebas(datos).map(|url| maestro::almacen::postgres::base(&url).unwrap());
    c.plazo_esclavo = Duration::from_millis(1500);
    c.sondeo_archivo = Duration::from_millis(500);
    c
}

/// Whether this is the test binary `postgres` (tests/postgres.rs), which runs the suite's
/// files again with every maestro on PostgreSQL.
pub fn en_postgres() -> bool {
    let exe = std::env::current_exe().expect("the test binary's path");
    let nombre = exe.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    nombre.starts_with("postgres-")
}

/// The store of a maestro on `datos` in this binary: `None` (SQLite in `datos`) but in the
/// binary `postgres`, where it is a database of this process's server named after `datos`, so
/// a maestro started again on the same folder finds its jobs. Without PostgreSQL installed that
/// binary's tests end here, passing, after saying loudly that they did not run
/// ([`pruebas::postgres::compartido`]; CI sets `HPC_EXIGIR_POSTGRES=1`, which makes it fail).
pub fn base_de_pruebas(datos: &Path) -> Option<String> {
    if !en_postgres() {
        return None;
    }
    let Some(servidor) = pruebas::postgres::compartido() else {
        std::process::exit(0);
    };
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    datos.hash(&mut h);
    Some(servidor.base(&format!("t{:016x}", h.finish())).unwrap())
}

/// An esclavo registered with `maestro`, with `capacidad` slots.
pub async fn esclavo(maestro: &str, nombre: &str, capacidad: u32) -> Servicio {
    esclavo_en(maestro, nombre, capacidad, "local").await
}

/// An esclavo on node `nodo`.
pub async fn esclavo_en(maestro: &str, nombre: &str, capacidad: u32, nodo: &str) -> Servicio {
    let mut config = esclavo::Config::new(maestro, nombre);
    config.capacidad = capacidad;
    config.nodo = nodo.into();
    config.latido = Duration::from_millis(250);
    config.gracia = Duration::ZERO;
    let e = Servicio::iniciar(|listener, parada| esclavo::run(config, listener, parada)).await;
    esperar_hasta(ARRANQUE, "esclavo registered", || {
        esclavo_vivo(maestro, nombre)
    })
    .await;
    e
}

/// The store of the maestro on `datos`, held from outside so that its commits wait (as a disk
/// that takes seconds to fsync would make them) until [`Detenido::soltar`]: SQLite's write
/// lock, or PostgreSQL's lock on the jobs' table in the binary `postgres`.
pub enum Detenido {
    Sqlite(rusqlite::Connection),
    Postgres(tokio_postgres::Client),
}

impl Detenido {
    pub async fn tomar(datos: &Path) -> Detenido {
        match base_de_pruebas(datos) {
            None => {
                let c = rusqlite::Connection::open(datos.join("maestro.db")).unwrap();
                c.execute_batch("BEGIN IMMEDIATE")
                    .expect("taking SQLite's write lock");
                Detenido::Sqlite(c)
            }
            Some(url) => {
                let (c, conexion) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                    .await
                    .expect("connecting to the maestro's database");
                tokio::spawn(conexion);
                c.batch_execute("BEGIN; LOCK TABLE trabajos IN EXCLUSIVE MODE")
                    .await
                    .expect("locking the jobs' table");
                Detenido::Postgres(c)
            }
        }
    }

    /// Lets the waiting commits through.
    pub async fn soltar(self) {
        match self {
            Detenido::Sqlite(c) => c.execute_batch("ROLLBACK").unwrap(),
            Detenido::Postgres(c) => c.batch_execute("ROLLBACK").await.unwrap(),
        }
    }
}

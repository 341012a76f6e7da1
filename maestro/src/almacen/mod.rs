//! The maestro's durable store, behind a seam: the operations the maestro needs, whatever
//! holds the data. SQLite ([`sqlite`]) by default, PostgreSQL ([`postgres`]) with `--base`.
//!
//! A backend has two halves. Its writing half ([`Escritura`]) is owned by the group-commit
//! writer (`escritor`): the maestro hands it [`Cambio`]s in the order it decided them and,
//! where it promised durability, awaits their commit; the writer applies whatever piled up in
//! one transaction. The changes name every write the maestro makes: append jobs and the
//! watched-file lines they came from (in one transaction), record an attempt before its
//! esclavo hears of it, record a failure, a result, a cancel, a retry or a new priority, store
//! an uploaded image. Its reading half ([`Lectura`]) pages jobs by filter, reads one with its
//! attempts, its image, an uploaded image, and a watched file's lines already queued; opening a
//! backend loads everything the maestro needs at start ([`Recuperado`]).
//!
//! **Invariant: nothing accepted is lost.** A caller that acknowledges something (a job to its
//! submitter, a result to its esclavo) awaits the [`Confirmacion`] of its changes first.
//!
//! A backend whose commits are remote and slow fits the same seam: the writer hands it
//! everything that piled up during its previous commit, so it should send a batch in as few
//! round trips as it can (multi-row statements, pipelining), never one per job.

mod cambio;
mod escritor;
mod filas;
pub mod postgres;
pub mod sqlite;

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use comun::TrabajoId;
use comun::api::{Cursor, FiltroTrabajos, ListaTrabajos, Trabajo};
use comun::imagenes::FormaPng;

pub use cambio::{Cambio, EntradaNueva, FilaNueva, LineaCargada, Recuperado};
pub use escritor::{Confirmacion, MedidasEscritor, NumeroOrden};

use crate::Config;
use escritor::Escritor;

/// The writing half of a backend, owned by the writer thread.
pub trait Escritura: Send + 'static {
    /// Applies `cambios` in order, in one transaction: all of them or none. Runs on the
    /// writer thread, which it may block for as long as the commit takes (a remote backend
    /// waits for its server here); callers go on deciding meanwhile.
    fn confirmar<'a>(&mut self, cambios: impl Iterator<Item = &'a Cambio>) -> anyhow::Result<()>;

    /// Whether `error` (from [`Escritura::confirmar`]) says the store is unreachable for now
    /// (a lost connection, a server restarting) rather than that it refused the changes: the
    /// writer then holds the changes the maestro already made in memory and writes them once
    /// the store is back, instead of dropping them. None by default.
    fn pasajero(&self, _error: &anyhow::Error) -> bool {
        false
    }
}

/// A read in flight.
pub type Leido<T> = Pin<Box<dyn Future<Output = anyhow::Result<T>> + Send>>;

/// The reading half of a backend: what the API and the file watcher read.
pub trait Lectura: Send + Sync + 'static {
    /// One job with its attempts.
    fn trabajo(&self, id: TrabajoId) -> Leido<Option<Trabajo>>;
    /// A page of jobs, newest first: those `filtro` takes that are older than `cursor` (from
    /// the newest without one), at most `limite`, with the cursor of the next page if there is
    /// one, and how many `filtro` takes in all, counted up to
    /// [`MAX_CUENTA`](comun::api::MAX_CUENTA). A deep page costs what the first one does,
    /// whatever the number of jobs.
    fn pagina(
        &self,
        filtro: FiltroTrabajos,
        cursor: Option<Cursor>,
        limite: u32,
    ) -> Leido<ListaTrabajos>;
    /// The PNG of a finished Julia or imagen job.
    fn imagen(&self, id: TrabajoId) -> Leido<Option<Vec<u8>>>;
    /// An uploaded PNG, as it was uploaded.
    fn entrada(&self, id: u64) -> Leido<Option<Vec<u8>>>;
    /// Which of `ids` no uploaded PNG has.
    fn entradas_ausentes(&self, ids: Vec<u64>) -> Leido<HashSet<u64>>;
    /// The lines of a watched file (by its absolute path) already queued: `(text, occurrence)`.
    fn lineas_cargadas(&self, archivo: &str) -> Leido<HashSet<(String, u32)>>;
    /// When a task folder's file with this name and SHA-256 had its tasks queued, if it did.
    fn archivo_tareas_cargado(&self, nombre: &str, sha256: &str) -> Leido<Option<u64>>;
}

/// Handle to the store: cheap to clone.
#[derive(Clone)]
pub struct Almacen {
    escritor: Arc<Escritor>,
    lectura: Arc<dyn Lectura>,
    /// The id the next uploaded image gets.
    siguiente_entrada: Arc<AtomicU64>,
    /// `sqlite` or `postgresql`, and where.
    tipo: &'static str,
    ubicacion: Arc<str>,
}

impl Almacen {
    /// Opens the store `config` names (PostgreSQL in `config.base`, or else SQLite in
    /// `config.datos`), brings it back to a consistent state after a crash, and starts its
    /// writer. Blocks: call it off the runtime.
    pub fn abrir(config: &Config) -> anyhow::Result<(Almacen, Recuperado)> {
        if let Some(base) = &config.base {
            let (escritura, lectura, recuperado) = postgres::abrir(base, config.epoca_lider)?;
            let mut almacen = Almacen::con(escritura, lectura, recuperado.siguiente_entrada)?;
            (almacen.tipo, almacen.ubicacion) = ("postgresql", postgres::describir(base).into());
            return Ok((almacen, recuperado));
        }
        let (escritura, lectura, recuperado) = sqlite::abrir(&config.datos, config.sincronizacion)?;
        let mut almacen = Almacen::con(escritura, lectura, recuperado.siguiente_entrada)?;
        almacen.ubicacion = sqlite::ruta(&config.datos).display().to_string().into();
        Ok((almacen, recuperado))
    }

    /// A store over a backend's two halves, whose next uploaded image gets `siguiente_entrada`.
    fn con(
        escritura: impl Escritura,
        lectura: impl Lectura,
        siguiente_entrada: u64,
    ) -> anyhow::Result<Almacen> {
        Ok(Almacen {
            escritor: Arc::new(Escritor::arrancar(escritura)?),
            lectura: Arc::new(lectura),
            siguiente_entrada: Arc::new(AtomicU64::new(siguiente_entrada)),
            tipo: "sqlite",
            ubicacion: Arc::from(""),
        })
    }

    /// What the store is, where, and how its writer last found it (`GET /estado`).
    pub fn info(&self) -> comun::api::InfoAlmacen {
        let s = self.escritor.salud();
        let (error, error_ms) = s.error.map_or((None, None), |(e, t)| (Some(e), Some(t)));
        comun::api::InfoAlmacen {
            tipo: self.tipo.into(),
            ubicacion: self.ubicacion.to_string(),
            sano: s.sano,
            retenidos: s.retenidos,
            ultimo_commit_ms: s.ultimo_commit_ms,
            error,
            error_ms,
        }
    }

    /// Stores an uploaded PNG (already checked) under a new id: the id, and the commit to
    /// await before answering with it.
    pub fn guardar_entrada(&self, png: Vec<u8>, forma: FormaPng) -> (u64, Confirmacion) {
        let id = self.siguiente_entrada.fetch_add(1, Ordering::Relaxed);
        let entrada = EntradaNueva {
            id,
            png,
            forma,
            creado_ms: comun::ahora_ms(),
        };
        (id, self.guardar(vec![Cambio::GuardarEntrada(entrada)]))
    }

    /// An uploaded PNG, as it was uploaded.
    pub async fn entrada(&self, id: u64) -> anyhow::Result<Option<Vec<u8>>> {
        self.lectura.entrada(id).await
    }

    /// Which of `ids` no uploaded PNG has.
    pub async fn entradas_ausentes(&self, ids: Vec<u64>) -> anyhow::Result<HashSet<u64>> {
        self.lectura.entradas_ausentes(ids).await
    }

    /// Hands changes to the writer and returns their commit, to await. Call it while holding
    /// the state lock (so changes reach the writer in the order they were decided) and await
    /// the commit after releasing it.
    pub fn guardar(&self, cambios: Vec<Cambio>) -> Confirmacion {
        self.escritor.guardar(cambios)
    }

    /// Hands changes to the writer without waiting for them (they are applied in order).
    pub fn guardar_sin_esperar(&self, cambios: Vec<Cambio>) {
        self.escritor.guardar_sin_esperar(cambios);
    }

    /// The writer's commit times and batch sizes, for the maestro's metrics.
    pub fn medidas(&self) -> MedidasEscritor {
        self.escritor.medidas.clone()
    }

    /// The number of the last order sent: once [`Almacen::esperar_orden`] of it returns, every
    /// change sent until now is in the store.
    pub fn ultima_orden(&self) -> NumeroOrden {
        self.escritor.ultima_orden()
    }

    /// Waits until the writer has handled order `numero` and every one before it.
    pub async fn esperar_orden(&self, numero: NumeroOrden) {
        self.escritor.esperar_orden(numero).await;
    }

    /// One job with its attempts.
    pub async fn trabajo(&self, id: TrabajoId) -> anyhow::Result<Option<Trabajo>> {
        self.lectura.trabajo(id).await
    }

    /// A page of jobs as the store holds them, newest first ([`Lectura::pagina`]): pass the
    /// answer's `siguiente` back as `cursor` for the next one. `total` is counted up to
    /// [`MAX_CUENTA`](comun::api::MAX_CUENTA); [`Servicio::pagina`](crate::servicio::Servicio::pagina) gives the exact
    /// count where memory knows it, and memory's view of pending and running jobs.
    pub async fn pagina(
        &self,
        filtro: FiltroTrabajos,
        cursor: Option<Cursor>,
        limite: u32,
    ) -> anyhow::Result<ListaTrabajos> {
        self.lectura.pagina(filtro, cursor, limite).await
    }

    /// The PNG of a finished Julia or imagen job.
    pub async fn imagen(&self, id: TrabajoId) -> anyhow::Result<Option<Vec<u8>>> {
        self.lectura.imagen(id).await
    }

    /// When a task folder's file with this name and SHA-256 had its tasks queued, if it did.
    pub async fn archivo_tareas_cargado(
        &self,
        nombre: &str,
        sha256: &str,
    ) -> anyhow::Result<Option<u64>> {
        self.lectura.archivo_tareas_cargado(nombre, sha256).await
    }

    /// The lines of a watched file already queued.
    pub async fn lineas_cargadas(&self, archivo: &str) -> anyhow::Result<HashSet<(String, u32)>> {
        self.lectura.lineas_cargadas(archivo).await
    }
}

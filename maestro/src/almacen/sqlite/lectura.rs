//! The SQLite backend's reading half: a second connection, used off the async runtime.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use comun::api::{Intento, Trabajo};
use comun::{Algoritmo, Estado as EstadoTrabajo, Parametros, Prioridad, TrabajoId};
use rusqlite::{Connection, OptionalExtension, params};

use crate::almacen::{Lectura, Leido};

/// The reading connection, shared by the handlers.
pub struct LecturaSqlite(Arc<Mutex<Connection>>);

impl LecturaSqlite {
    pub(super) fn new(conexion: Connection) -> Self {
        LecturaSqlite(Arc::new(Mutex::new(conexion)))
    }

    /// Runs `f` on the reading connection, on the blocking thread pool.
    fn leer<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Leido<T> {
        let lector = self.0.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                let conexion = lector.lock().unwrap_or_else(|e| e.into_inner());
                f(&conexion)
            })
            .await
            .context("database reader panicked")?
            .context("reading the database")
        })
    }
}

impl Lectura for LecturaSqlite {
    fn trabajo(&self, id: TrabajoId) -> Leido<Option<Trabajo>> {
        self.leer(move |c| trabajo(c, id))
    }

    fn listar(&self, estado: Option<EstadoTrabajo>, limite: u32) -> Leido<(Vec<Trabajo>, u64)> {
        self.leer(move |c| listar(c, estado, limite))
    }

    fn imagen(&self, id: TrabajoId) -> Leido<Option<Vec<u8>>> {
        self.leer(move |c| imagen(c, id))
    }

    fn lineas_cargadas(&self, archivo: &str) -> Leido<HashSet<(String, u32)>> {
        let archivo = archivo.to_owned();
        self.leer(move |c| lineas_cargadas(c, &archivo))
    }
}

/// The lines of a watched file that were already queued.
fn lineas_cargadas(c: &Connection, archivo: &str) -> rusqlite::Result<HashSet<(String, u32)>> {
    let mut consulta =
        c.prepare_cached("SELECT texto, ocurrencia FROM lineas_cargadas WHERE archivo = ?1")?;
    consulta
        .query_map([archivo], |f| Ok((f.get(0)?, f.get(1)?)))?
        .collect()
}

const COLUMNAS: &str = "id, parametros, algoritmo, prioridad, estado, esclavo, creado_ms, \
                        iniciado_ms, terminado_ms, origen, resultado, motivo, plazo_s";

/// One job with its attempts.
fn trabajo(c: &Connection, id: TrabajoId) -> rusqlite::Result<Option<Trabajo>> {
    let fila = c
        .prepare_cached(&format!("SELECT {COLUMNAS} FROM trabajos WHERE id = ?1"))?
        .query_row([id.0 as i64], leer_fila)
        .optional()?;
    fila.map(|t| con_intentos(c, t)).transpose()
}

/// Jobs newest first, optionally of one state, at most `limite`; and how many match in all.
fn listar(
    c: &Connection,
    estado: Option<EstadoTrabajo>,
    limite: u32,
) -> rusqlite::Result<(Vec<Trabajo>, u64)> {
    // `?1 = ?1` keeps one statement shape for both cases; with a state, the index serves it.
    let (condicion, filtro) = match estado {
        Some(e) => ("estado = ?1", e.nombre()),
        None => ("?1 = ?1", ""),
    };
    let total: i64 = c
        .prepare_cached(&format!("SELECT COUNT(*) FROM trabajos WHERE {condicion}"))?
        .query_row([filtro], |f| f.get(0))?;
    let trabajos = c
        .prepare_cached(&format!(
            "SELECT {COLUMNAS} FROM trabajos WHERE {condicion} ORDER BY id DESC LIMIT ?2"
        ))?
        .query_map(params![filtro, limite], leer_fila)?
        .map(|t| t.and_then(|t| con_intentos(c, t)))
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((trabajos, total as u64))
}

/// The PNG of a finished Julia job.
fn imagen(c: &Connection, id: TrabajoId) -> rusqlite::Result<Option<Vec<u8>>> {
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
    let estado: EstadoTrabajo = f.get::<_, String>(4)?.parse().map_err(|e| texto(4, e))?;
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

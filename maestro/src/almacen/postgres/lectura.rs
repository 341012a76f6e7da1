//! The PostgreSQL backend's reading half: a pool of connections on the maestro's runtime.

use std::collections::{HashMap, HashSet};

use anyhow::Context;
use comun::TrabajoId;
use comun::api::{Cursor, FiltroTrabajos, Intento, ListaTrabajos, MAX_CUENTA, Trabajo};
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Row};

use super::Base;
use crate::almacen::filas::{self, COLUMNAS, FilaTrabajo, Valor};
use crate::almacen::{Lectura, Leido};

/// Connections the readers share at most.
const CONEXIONES: usize = 4;

/// The readers' pool.
pub struct LecturaPostgres(Pool);

impl LecturaPostgres {
    pub(super) fn new(base: &Base) -> anyhow::Result<Self> {
        let gestor = Manager::from_config(
            base.clone(),
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(gestor)
            .max_size(CONEXIONES)
            .build()
            .context("making the PostgreSQL readers' pool")?;
        Ok(LecturaPostgres(pool))
    }

    /// Runs `f` on a connection of the pool.
    fn leer<T, F, R>(&self, f: F) -> Leido<T>
    where
        T: Send + 'static,
        F: FnOnce(Object) -> R + Send + 'static,
        R: Future<Output = anyhow::Result<T>> + Send,
    {
        let pool = self.0.clone();
        Box::pin(async move {
            let c = pool.get().await.context("connecting to PostgreSQL")?;
            f(c).await.context("reading the database")
        })
    }
}

impl Lectura for LecturaPostgres {
    fn trabajo(&self, id: TrabajoId) -> Leido<Option<Trabajo>> {
        self.leer(move |c| async move {
            let sql = format!("SELECT {COLUMNAS} FROM trabajos WHERE id = $1");
            let consulta = c.prepare_cached(&sql).await?;
            let Some(f) = c.query_opt(&consulta, &[&(id.0 as i64)]).await? else {
                return Ok(None);
            };
            let mut trabajos = vec![leer_fila(&f)?.trabajo()?];
            con_intentos(&c, &mut trabajos).await?;
            Ok(trabajos.pop())
        })
    }

    fn pagina(
        &self,
        filtro: FiltroTrabajos,
        cursor: Option<Cursor>,
        limite: u32,
    ) -> Leido<ListaTrabajos> {
        self.leer(move |c| async move { pagina(&c, &filtro, cursor, limite).await })
    }

    fn imagen(&self, id: TrabajoId) -> Leido<Option<Vec<u8>>> {
        self.leer(move |c| async move {
            let consulta = c
                .prepare_cached("SELECT png FROM imagenes WHERE trabajo = $1")
                .await?;
            let f = c.query_opt(&consulta, &[&(id.0 as i64)]).await?;
            Ok(f.map(|f| f.try_get(0)).transpose()?)
        })
    }

    fn entrada(&self, id: u64) -> Leido<Option<Vec<u8>>> {
        self.leer(move |c| async move {
            let consulta = c
                .prepare_cached("SELECT png FROM entradas WHERE id = $1")
                .await?;
            let f = c.query_opt(&consulta, &[&(id as i64)]).await?;
            Ok(f.map(|f| f.try_get(0)).transpose()?)
        })
    }

    fn entradas_ausentes(&self, ids: Vec<u64>) -> Leido<HashSet<u64>> {
        self.leer(move |c| async move {
            let consulta = c
                .prepare_cached("SELECT id FROM entradas WHERE id = ANY($1)")
                .await?;
            let buscados: Vec<i64> = ids.iter().map(|&i| i as i64).collect();
            let mut ausentes: HashSet<u64> = ids.into_iter().collect();
            for f in c.query(&consulta, &[&buscados]).await? {
                ausentes.remove(&(f.try_get::<_, i64>(0)? as u64));
            }
            Ok(ausentes)
        })
    }

    fn lineas_cargadas(&self, archivo: &str) -> Leido<HashSet<(String, u32)>> {
        let archivo = archivo.to_owned();
        self.leer(move |c| async move {
            let consulta = c
                .prepare_cached("SELECT texto, ocurrencia FROM lineas_cargadas WHERE archivo = $1")
                .await?;
            c.query(&consulta, &[&archivo])
                .await?
                .iter()
                .map(|f| Ok((f.try_get(0)?, u32::try_from(f.try_get::<_, i64>(1)?)?)))
                .collect()
        })
    }

    fn archivo_tareas_cargado(&self, nombre: &str, sha256: &str) -> Leido<Option<u64>> {
        let (nombre, sha256) = (nombre.to_owned(), sha256.to_owned());
        self.leer(move |c| async move {
            let consulta = c
                .prepare_cached(
                    "SELECT cargado_ms FROM archivos_tareas WHERE nombre = $1 AND sha256 = $2",
                )
                .await?;
            let f = c.query_opt(&consulta, &[&nombre, &sha256]).await?;
            Ok(f.map(|f| f.try_get::<_, i64>(0))
                .transpose()?
                .map(|ms| ms as u64))
        })
    }
}

/// A page of jobs newest first: those `filtro` takes that are older than `cursor`, at most
/// `limite`, and how many it takes in all (counted up to [`MAX_CUENTA`]). Keyset paging on
/// the indexes of the schema, as in SQLite.
async fn pagina(
    c: &Object,
    filtro: &FiltroTrabajos,
    cursor: Option<Cursor>,
    limite: u32,
) -> anyhow::Result<ListaTrabajos> {
    let (condicion, mut valores) = condicion(filtro);
    let n = valores.len();
    let cuenta = format!(
        "SELECT COUNT(*) FROM (SELECT 1 FROM trabajos WHERE {condicion} LIMIT ${}) AS t",
        n + 1
    );
    valores.push(Box::new(MAX_CUENTA as i64 + 1));
    let contados: i64 = {
        let consulta = c.prepare_cached(&cuenta).await?;
        c.query_one(&consulta, &referencias(&valores))
            .await?
            .try_get(0)?
    };
    let total = (contados as u64).min(MAX_CUENTA);
    let antes = cursor.map_or(i64::MAX, |c| c.ultimo().0 as i64);
    valores[n] = Box::new(antes);
    valores.push(Box::new(i64::from(limite) + 1));
    let sql = format!(
        "SELECT {COLUMNAS} FROM trabajos WHERE {condicion} AND id < ${} ORDER BY id DESC LIMIT ${}",
        n + 1,
        n + 2
    );
    let consulta = c.prepare_cached(&sql).await?;
    let mut filas = c.query(&consulta, &referencias(&valores)).await?;
    // One row past the page says there is another page.
    let siguiente = if filas.len() > limite as usize {
        filas.truncate(limite as usize);
        match filas.last() {
            Some(f) => Some(Cursor::tras(TrabajoId(f.try_get::<_, i64>(0)? as u64))),
            None => None,
        }
    } else {
        None
    };
    let mut trabajos = filas
        .iter()
        .map(|f| leer_fila(f)?.trabajo())
        .collect::<anyhow::Result<Vec<_>>>()?;
    con_intentos(c, &mut trabajos).await?;
    Ok(ListaTrabajos {
        trabajos,
        total,
        total_exacto: (contados as u64) <= MAX_CUENTA,
        siguiente,
    })
}

/// The condition of `filtro` with its values, numbered from `$1`. The state is written into
/// the statement, so the partial indexes of completed jobs apply.
fn condicion(filtro: &FiltroTrabajos) -> (String, Vec<Box<dyn ToSql + Sync + Send>>) {
    let mut partes = vec!["TRUE".to_string()];
    if let Some(e) = filtro.estado {
        partes.push(format!("estado = '{}'", e.nombre()));
    }
    let mut valores: Vec<Box<dyn ToSql + Sync + Send>> = Vec::new();
    for (columna, valor) in filas::terminos(filtro) {
        valores.push(match valor {
            Valor::Texto(t) => Box::new(t),
            Valor::Entero(n) => Box::new(n),
        });
        partes.push(format!("{columna} = ${}", valores.len()));
    }
    (partes.join(" AND "), valores)
}

fn referencias(valores: &[Box<dyn ToSql + Sync + Send>]) -> Vec<&(dyn ToSql + Sync)> {
    valores
        .iter()
        .map(|v| &**v as &(dyn ToSql + Sync))
        .collect()
}

/// Fills the attempts of `trabajos`, with one query for all of them.
async fn con_intentos(c: &Object, trabajos: &mut [Trabajo]) -> anyhow::Result<()> {
    if trabajos.is_empty() {
        return Ok(());
    }
    let consulta = c
        .prepare_cached(
            "SELECT trabajo, numero, esclavo, inicio_ms, fin_ms, error FROM intentos
             WHERE trabajo = ANY($1) ORDER BY trabajo, numero",
        )
        .await?;
    let ids: Vec<i64> = trabajos.iter().map(|t| t.id.0 as i64).collect();
    let mut por_trabajo: HashMap<u64, Vec<Intento>> = HashMap::new();
    for f in c.query(&consulta, &[&ids]).await? {
        let intento = Intento {
            numero: u32::try_from(f.try_get::<_, i64>(1)?)?,
            esclavo: f.try_get(2)?,
            inicio_ms: f.try_get::<_, i64>(3)? as u64,
            fin_ms: f.try_get::<_, Option<i64>>(4)?.map(|v| v as u64),
            error: f.try_get(5)?,
        };
        por_trabajo
            .entry(f.try_get::<_, i64>(0)? as u64)
            .or_default()
            .push(intento);
    }
    for t in trabajos {
        t.intentos = por_trabajo.remove(&t.id.0).unwrap_or_default();
    }
    Ok(())
}

fn leer_fila(f: &Row) -> Result<FilaTrabajo, tokio_postgres::Error> {
    Ok(FilaTrabajo {
        id: f.try_get(0)?,
        parametros: f.try_get(1)?,
        algoritmo: f.try_get(2)?,
        prioridad: f.try_get(3)?,
        estado: f.try_get(4)?,
        esclavo: f.try_get(5)?,
        creado_ms: f.try_get(6)?,
        iniciado_ms: f.try_get(7)?,
        terminado_ms: f.try_get(8)?,
        origen: f.try_get(9)?,
        resultado: f.try_get(10)?,
        motivo: f.try_get(11)?,
        plazo_s: f.try_get(12)?,
        task_id: f.try_get(13)?,
        descripcion: f.try_get(14)?,
        algoritmo_pedido: f.try_get(15)?,
    })
}

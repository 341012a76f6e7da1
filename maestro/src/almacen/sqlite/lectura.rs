//! The SQLite backend's reading half: a second connection, used off the async runtime.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use comun::TrabajoId;
use comun::api::{Cursor, FiltroTrabajos, Intento, ListaTrabajos, MAX_CUENTA, Trabajo};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params_from_iter};

use crate::almacen::filas::{self, COLUMNAS, FilaTrabajo, Valor};
use crate::almacen::{Lectura, Leido};

/// The reading connection, shared by the handlers.
pub struct LecturaSqlite(Arc<Mutex<Connection>>);

impl LecturaSqlite {
    pub(super) fn new(conexion: Connection) -> Self {
        // One statement per combination of filters, each kept prepared.
        conexion.set_prepared_statement_cache_capacity(96);
        LecturaSqlite(Arc::new(Mutex::new(conexion)))
    }

    /// Runs `f` on the reading connection, on the blocking thread pool.
    fn leer<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> anyhow::Result<T> + Send + 'static,
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

    fn pagina(
        &self,
        filtro: FiltroTrabajos,
        cursor: Option<Cursor>,
        limite: u32,
    ) -> Leido<ListaTrabajos> {
        self.leer(move |c| pagina(c, &filtro, cursor, limite))
    }

    fn imagen(&self, id: TrabajoId) -> Leido<Option<Vec<u8>>> {
        self.leer(move |c| Ok(imagen(c, id)?))
    }

    fn entrada(&self, id: u64) -> Leido<Option<Vec<u8>>> {
        self.leer(move |c| {
            Ok(c.prepare_cached("SELECT png FROM entradas WHERE id = ?1")?
                .query_row([id as i64], |f| f.get(0))
                .optional()?)
        })
    }

    fn entradas_ausentes(&self, ids: Vec<u64>) -> Leido<HashSet<u64>> {
        self.leer(move |c| {
            let mut consulta = c.prepare_cached("SELECT 1 FROM entradas WHERE id = ?1")?;
            let mut ausentes = HashSet::new();
            for id in ids {
                if !consulta.exists([id as i64])? {
                    ausentes.insert(id);
                }
            }
            Ok(ausentes)
        })
    }

    fn lineas_cargadas(&self, archivo: &str) -> Leido<HashSet<(String, u32)>> {
        let archivo = archivo.to_owned();
        self.leer(move |c| Ok(lineas_cargadas(c, &archivo)?))
    }

    fn archivo_tareas_cargado(&self, nombre: &str, sha256: &str) -> Leido<Option<u64>> {
        let (nombre, sha256) = (nombre.to_owned(), sha256.to_owned());
        self.leer(move |c| {
            let ms = c
                .prepare_cached(
                    "SELECT cargado_ms FROM archivos_tareas WHERE nombre = ?1 AND sha256 = ?2",
                )?
                .query_row([nombre, sha256], |f| f.get::<_, i64>(0))
                .optional()?;
            Ok(ms.map(|ms| ms as u64))
        })
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

/// One job with its attempts.
fn trabajo(c: &Connection, id: TrabajoId) -> anyhow::Result<Option<Trabajo>> {
    let fila = c
        .prepare_cached(&format!("SELECT {COLUMNAS} FROM trabajos WHERE id = ?1"))?
        .query_row([id.0 as i64], leer_fila)
        .optional()?;
    fila.map(|f| con_intentos(c, f.trabajo()?)).transpose()
}

/// A page of jobs newest first: those `filtro` takes that are older than `cursor`, at most
/// `limite`, and how many it takes in all (counted up to [`MAX_CUENTA`]). Keyset paging on
/// the indexes of [`super::INDICES`]: a deep page costs what the first one does.
fn pagina(
    c: &Connection,
    filtro: &FiltroTrabajos,
    cursor: Option<Cursor>,
    limite: u32,
) -> anyhow::Result<ListaTrabajos> {
    let (desde, mut valores) = desde(filtro);
    let cuenta = format!("SELECT COUNT(*) FROM (SELECT 1 FROM {desde} LIMIT ?)");
    valores.push(Value::Integer(MAX_CUENTA as i64 + 1));
    let contados: i64 = c
        .prepare_cached(&cuenta)?
        .query_row(params_from_iter(&valores), |f| f.get(0))?;
    let total = (contados as u64).min(MAX_CUENTA);
    let antes = cursor.map_or(i64::MAX, |c| c.ultimo().0 as i64);
    *valores.last_mut().expect("the limit is there") = Value::Integer(antes);
    valores.push(Value::Integer(i64::from(limite) + 1));
    let mut trabajos = c
        .prepare_cached(&sql_pagina(&desde))?
        .query_map(params_from_iter(&valores), leer_fila)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    // One row past the page says there is another page.
    let siguiente = if trabajos.len() > limite as usize {
        trabajos.truncate(limite as usize);
        trabajos
            .last()
            .map(|f| Cursor::tras(TrabajoId(f.id as u64)))
    } else {
        None
    };
    let trabajos = trabajos
        .into_iter()
        .map(|f| con_intentos(c, f.trabajo()?))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(ListaTrabajos {
        trabajos,
        total,
        total_exacto: (contados as u64) <= MAX_CUENTA,
        siguiente,
    })
}

/// The statement of a page: the rows `desde` takes below an id, newest first, at most a
/// number of them.
fn sql_pagina(desde: &str) -> String {
    format!("SELECT {COLUMNAS} FROM {desde} AND id < ? ORDER BY id DESC LIMIT ?")
}

/// What a page or a count of `filtro` reads: `trabajos`, the index to read where the planner
/// must be told, and the condition (`1` when it takes every job); then its values, in order.
///
/// The state is written into the statement, not bound, so that the planner may read the
/// index of completed jobs by another filter (`INDICES`: those hold completed jobs only). Any
/// other state with more filters reads the state's own index: its jobs (the queue, the
/// running, the failures) are few beside those of any other filter in a long history.
fn desde(filtro: &FiltroTrabajos) -> (String, Vec<Value>) {
    let terminos = filas::terminos(filtro);
    let mut tabla = "trabajos";
    let mut partes = vec!["1".to_string()];
    if let Some(e) = filtro.estado {
        partes.push(format!("estado = '{}'", e.nombre()));
        if filas::por_estado(e) && !terminos.is_empty() {
            tabla = "trabajos INDEXED BY trabajos_por_estado";
        }
    }
    let mut valores = Vec::new();
    for (columna, valor) in terminos {
        partes.push(format!("{columna} = ?"));
        valores.push(match valor {
            Valor::Texto(t) => Value::Text(t),
            Valor::Entero(n) => Value::Integer(n),
        });
    }
    (format!("{tabla} WHERE {}", partes.join(" AND ")), valores)
}

/// The PNG of a finished Julia or imagen job.
fn imagen(c: &Connection, id: TrabajoId) -> rusqlite::Result<Option<Vec<u8>>> {
    c.prepare_cached("SELECT png FROM imagenes WHERE trabajo = ?1")?
        .query_row([id.0 as i64], |f| f.get(0))
        .optional()
}

fn con_intentos(c: &Connection, mut t: Trabajo) -> anyhow::Result<Trabajo> {
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

fn leer_fila(f: &rusqlite::Row<'_>) -> rusqlite::Result<FilaTrabajo> {
    Ok(FilaTrabajo {
        id: f.get(0)?,
        parametros: f.get(1)?,
        algoritmo: f.get(2)?,
        prioridad: f.get(3)?,
        estado: f.get(4)?,
        esclavo: f.get(5)?,
        creado_ms: f.get(6)?,
        iniciado_ms: f.get(7)?,
        terminado_ms: f.get(8)?,
        origen: f.get(9)?,
        resultado: f.get(10)?,
        motivo: f.get(11)?,
        plazo_s: f.get(12)?,
        task_id: f.get(13)?,
        descripcion: f.get(14)?,
        algoritmo_pedido: f.get(15)?,
    })
}

#[cfg(test)]
mod tests {
    use comun::api::{Origen, Via};
    use comun::trabajo::{ParamsEspera, ParamsJulia};
    use comun::{Algoritmo, Estado as EstadoTrabajo, NuevoTrabajo, Parametros, Prioridad, Tipo};

    use super::*;
    use crate::almacen::{Cambio, FilaNueva};
    use crate::config::Sincronizacion;
    use crate::ids::{EsclavoId, IntentoId};

    /// Job `i` of the test table: every third one a julia job, every second from a file,
    /// priorities in turn; those with `i % 4 == 0` ran on `e1`, those with `i % 4 == 1` on `e2`.
    fn fila(i: u64) -> Vec<Cambio> {
        let parametros = if i.is_multiple_of(3) {
            Parametros::Julia(ParamsJulia::new(8, 8, 8).unwrap())
        } else {
            Parametros::Espera(ParamsEspera { ms: 1 })
        };
        let origen = if i.is_multiple_of(2) {
            Origen::Api
        } else {
            Origen::Archivo {
                archivo: "t.txt".into(),
                linea: i as usize,
            }
        };
        let trabajo = NuevoTrabajo {
            parametros,
            algoritmo: Algoritmo::Secuencial,
            prioridad: Prioridad::new(i as i64 % 3 + 1).unwrap(),
            plazo_s: None,
            etiquetas: comun::trabajo::Etiquetas::default(),
        };
        let id = TrabajoId(i);
        let fila = FilaNueva {
            id,
            trabajo,
            origen,
            creado_ms: i,
        };
        let mut cambios = vec![Cambio::Insertar(fila)];
        if i % 4 < 2 {
            cambios.push(Cambio::Asignar {
                intento: IntentoId::new(id, 1),
                esclavo: EsclavoId::new(if i.is_multiple_of(4) { "e1" } else { "e2" }, 1),
                inicio_ms: i,
            });
        }
        cambios
    }

    /// The `n` jobs of [`fila`] in a new store: `(writer, reader)`.
    fn tabla(datos: &std::path::Path, n: u64) -> (super::super::EscrituraSqlite, LecturaSqlite) {
        let (mut escritura, lectura, _) =
            super::super::abrir(datos, Sincronizacion::Normal).unwrap();
        let cambios: Vec<Cambio> = (1..=n).flat_map(fila).collect();
        crate::almacen::Escritura::confirmar(&mut escritura, cambios.iter()).unwrap();
        (escritura, lectura)
    }

    fn con(l: &LecturaSqlite) -> std::sync::MutexGuard<'_, Connection> {
        l.0.lock().unwrap()
    }

    /// Every page of `filtro`, `limite` at a time, following the cursor.
    fn todas(c: &Connection, filtro: &FiltroTrabajos, limite: u32) -> Vec<ListaTrabajos> {
        let mut paginas = vec![pagina(c, filtro, None, limite).unwrap()];
        while let Some(cursor) = paginas.last().unwrap().siguiente {
            paginas.push(pagina(c, filtro, Some(cursor), limite).unwrap());
        }
        paginas
    }

    #[test]
    fn pages_follow_the_cursor_newest_first_without_repeats_or_gaps() {
        let datos = tempfile::tempdir().unwrap();
        let (_e, l) = tabla(datos.path(), 30);
        let c = con(&l);
        let paginas = todas(&c, &FiltroTrabajos::default(), 7);
        assert_eq!(paginas.len(), 5);
        let ids: Vec<u64> = paginas
            .iter()
            .flat_map(|p| p.trabajos.iter().map(|t| t.id.0))
            .collect();
        assert_eq!(ids, (1..=30).rev().collect::<Vec<_>>());
        assert!(paginas.iter().all(|p| p.total == 30 && p.total_exacto));
        assert_eq!(paginas[0].siguiente, Some(Cursor::tras(TrabajoId(24))));
        assert_eq!(paginas[4].trabajos.len(), 2);
        // A page exactly at the end says there is no other.
        assert_eq!(todas(&c, &FiltroTrabajos::default(), 10).len(), 3);
        // Attempts come with each job.
        assert_eq!(paginas[0].trabajos[2].intentos[0].esclavo, "e1");
    }

    #[test]
    fn every_filter_takes_only_its_jobs_and_they_combine() {
        let datos = tempfile::tempdir().unwrap();
        let (_e, l) = tabla(datos.path(), 60);
        let c = con(&l);
        let ids = |f: FiltroTrabajos| -> Vec<u64> {
            let paginas = todas(&c, &f, 4);
            let total = paginas[0].total;
            let ids: Vec<u64> = paginas
                .iter()
                .flat_map(|p| p.trabajos.iter().map(|t| t.id.0))
                .collect();
            assert_eq!(total, ids.len() as u64, "{f:?}");
            ids
        };
        let esperados =
            |p: fn(u64) -> bool| -> Vec<u64> { (1..=60).rev().filter(|&i| p(i)).collect() };
        let f = FiltroTrabajos::default;
        let julia = FiltroTrabajos {
            tipo: Some(Tipo::Julia),
            ..f()
        };
        assert_eq!(ids(julia.clone()), esperados(|i| i % 3 == 0));
        let archivo = FiltroTrabajos {
            origen: Some(Via::Archivo),
            ..f()
        };
        assert_eq!(ids(archivo), esperados(|i| i % 2 == 1));
        let alta = FiltroTrabajos {
            prioridad: Some(Prioridad::ALTA),
            ..f()
        };
        assert_eq!(ids(alta), esperados(|i| i % 3 == 0));
        let e2 = FiltroTrabajos {
            esclavo: Some("e2".into()),
            ..f()
        };
        assert_eq!(ids(e2), esperados(|i| i % 4 == 1));
        let asignados_julia = FiltroTrabajos {
            estado: Some(EstadoTrabajo::Asignado),
            ..julia
        };
        assert_eq!(ids(asignados_julia), esperados(|i| i % 3 == 0 && i % 4 < 2));
        let nada = FiltroTrabajos {
            esclavo: Some("e1".into()),
            origen: Some(Via::Archivo),
            ..f()
        };
        assert_eq!(ids(nada), Vec::<u64>::new());
    }

    #[test]
    fn past_the_counting_limit_total_says_it_is_a_lower_bound() {
        let datos = tempfile::tempdir().unwrap();
        let n = MAX_CUENTA + 5;
        let (_e, l) = tabla(datos.path(), n);
        let c = con(&l);
        let p = pagina(&c, &FiltroTrabajos::default(), None, 3).unwrap();
        assert_eq!((p.total, p.total_exacto), (MAX_CUENTA, false));
        let julia = FiltroTrabajos {
            tipo: Some(Tipo::Julia),
            ..FiltroTrabajos::default()
        };
        let p = pagina(&c, &julia, None, 3).unwrap();
        assert_eq!((p.total, p.total_exacto), (n / 3, true));
    }

    /// Every combination of filters: `(filter, the columns it filters)`.
    fn combinaciones() -> Vec<(FiltroTrabajos, Vec<&'static str>)> {
        (0..64u32)
            .map(|m| {
                let si = |b: u32| m & (1 << b) != 0;
                let f = FiltroTrabajos {
                    estado: si(0).then_some(EstadoTrabajo::Completado),
                    tipo: si(1).then_some(Tipo::Julia),
                    prioridad: si(2).then_some(Prioridad::ALTA),
                    esclavo: si(3).then(|| "e1".to_string()),
                    origen: si(4).then_some(Via::Api),
                    algoritmo_pedido: si(5).then_some("Numpy"),
                };
                let columnas = [
                    "estado",
                    "tipo",
                    "prioridad",
                    "esclavo",
                    "via",
                    "algoritmo_pedido",
                ]
                .into_iter()
                .enumerate()
                .filter(|&(b, _)| si(b as u32))
                .map(|(_, c)| c)
                .collect();
                (f, columnas)
            })
            .collect()
    }

    /// A million jobs page as fast as ten: every combination of filters is a range of an
    /// index read newest first, never a scan of the table nor a sort; one filter alone, or a
    /// finished state and one other, is a range of an index holding exactly the jobs it
    /// takes; a live state with others reads the state's own index.
    #[test]
    fn every_combination_of_filters_pages_from_an_index_without_sorting() {
        let datos = tempfile::tempdir().unwrap();
        let (_e, l) = tabla(datos.path(), 10);
        let c = con(&l);
        for (filtro, columnas) in combinaciones() {
            let (desde, _) = desde(&filtro);
            let mut explicar = c
                .prepare(&format!("EXPLAIN QUERY PLAN {}", sql_pagina(&desde)))
                .unwrap();
            let nulos = vec![Value::Null; explicar.parameter_count()];
            let plan: Vec<String> = explicar
                .query_map(params_from_iter(nulos), |f| f.get::<_, String>(3))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            let plan = plan.join(" | ");
            assert!(
                plan.starts_with("SEARCH trabajos USING"),
                "{columnas:?}: {plan}"
            );
            assert!(!plan.contains("TEMP B-TREE"), "{columnas:?}: {plan}");
            match columnas[..] {
                [col] => assert!(plan.contains(&format!("({col}=?")), "{col}: {plan}"),
                // Few jobs asked for a backend by an original name: their own index.
                ["estado", "algoritmo_pedido"] => assert!(
                    plan.contains("trabajos_por_algoritmo_pedido (algoritmo_pedido=?"),
                    "estado, algoritmo_pedido: {plan}"
                ),
                ["estado", col] => assert!(
                    plan.contains(&format!("trabajos_completado_por_{col} ({col}=?")),
                    "estado, {col}: {plan}"
                ),
                _ => {}
            }
        }
        let pendientes_julia = FiltroTrabajos {
            estado: Some(EstadoTrabajo::Pendiente),
            tipo: Some(Tipo::Julia),
            ..FiltroTrabajos::default()
        };
        let (desde, _) = desde(&pendientes_julia);
        let plan: String = c
            .query_row(
                &format!("EXPLAIN QUERY PLAN {}", sql_pagina(&desde)),
                params_from_iter(vec![Value::Null; 3]),
                |f| f.get(3),
            )
            .unwrap();
        assert!(
            plan.contains("USING INDEX trabajos_por_estado (estado=?"),
            "{plan}"
        );
    }
}

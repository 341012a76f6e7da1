//! The PostgreSQL backend's writing half: each [`Cambio`] as prepared statements, a batch in
//! one transaction sent pipelined.
//!
//! **A result is recorded exactly once**, as in SQLite: completing or cancelling a job
//! changes its row only while it is `pendiente` or `asignado`, and its image is stored only
//! when the row changed (one statement: the update, then the image from the rows it returned).

use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Statement};

use super::Base;
use crate::almacen::filas::via;
use crate::almacen::{Cambio, Escritura};
use crate::ids::IntentoId;

/// A value for a statement, owned for as long as the batch is in flight.
type Valor = Box<dyn ToSql + Sync + Send>;

/// Every statement the writer runs, prepared once per connection.
struct Sentencias {
    insertar: Statement,
    marcar_archivo: Statement,
    marcar_linea: Statement,
    asignar: Statement,
    devolver: Statement,
    borrar_intento: Statement,
    ceder: Statement,
    fallar: Statement,
    completar: Statement,
    cancelar: Statement,
    reintentar: Statement,
    priorizar: Statement,
    guardar_entrada: Statement,
    cerrar_intento: Statement,
    cerrar_abiertos: Statement,
    superados: Statement,
    fencing: Statement,
}

/// The writer's connection with its statements.
pub(super) struct Conexion {
    cliente: Client,
    s: Sentencias,
}

impl Conexion {
    /// Prepares every statement on `cliente` (pipelined: one round trip).
    ///
    /// The runs of assignments and results join their array to `trabajos` by id and test
    /// `estado || ''`, not `estado`: a queue's statistics are always stale (analysed with the
    /// backlog empty, `estado` looks nearly all `completado`), and the planner then scanned
    /// the whole backlog through `trabajos_por_estado` for every run instead of looking each
    /// id up, a cost growing with the backlog. The expression is not indexed, so the primary
    /// key is the only way in (sequential scans are off on this connection, below).
    pub(super) async fn preparar(cliente: Client) -> anyhow::Result<Self> {
        // Every statement of the writer reaches its rows by key. A plan is made once, when
        // the statement is prepared, often on an empty table: the planner then found a
        // sequential scan cheapest and kept it while the table grew (measured: 0.2 s per run
        // of assignments at 20,000 jobs). Without scans and hash or merge joins to choose,
        // every plan is a nested loop over the run's array with index lookups, at any size.
        cliente
            .batch_execute(
                "SET enable_seqscan = off; SET enable_hashjoin = off; SET enable_mergejoin = off",
            )
            .await
            .map_err(|e| anyhow::anyhow!("setting the writer's planner options: {e}"))?;
        let p = |sql: &'static str| cliente.prepare(sql);
        let (a, b, c, d, f, g, h) = tokio::try_join!(
            p(
                "INSERT INTO trabajos (id, parametros, algoritmo, prioridad, estado, creado_ms,
                 origen, plazo_s, tipo, via, task_id, descripcion, algoritmo_pedido)
               SELECT id, parametros, algoritmo, prioridad, 'pendiente', creado_ms, origen,
                 plazo_s, tipo, via, task_id, descripcion, algoritmo_pedido
               FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::bigint[],
                 $6::text[], $7::bigint[], $8::text[], $9::text[], $10::text[], $11::text[],
                 $12::text[])
                 AS n (id, parametros, algoritmo, prioridad, creado_ms, origen, plazo_s, tipo,
                   via, task_id, descripcion, algoritmo_pedido)"
            ),
            p(
                "INSERT INTO archivos_tareas (nombre, sha256, cargado_ms) VALUES ($1, $2, $3)
               ON CONFLICT DO NOTHING"
            ),
            p(
                "INSERT INTO lineas_cargadas (archivo, texto, ocurrencia, trabajo)
               VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING"
            ),
            // A run of assignments: the jobs and their new attempts, in one statement.
            p("WITH n AS (
                 SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::bigint[], $4::bigint[])
                   AS n (id, esclavo, numero, inicio)),
               asignados AS (
                 UPDATE trabajos t SET estado = 'asignado', esclavo = n.esclavo,
                   intentos = n.numero, iniciado_ms = COALESCE(t.iniciado_ms, n.inicio),
                   motivo = NULL
                 FROM n WHERE t.id = n.id AND t.estado || '' = 'pendiente')
               INSERT INTO intentos (trabajo, numero, esclavo, inicio_ms)
               SELECT id, numero, esclavo, inicio FROM n
               ON CONFLICT (trabajo, numero) DO UPDATE SET esclavo = EXCLUDED.esclavo,
                 inicio_ms = EXCLUDED.inicio_ms, fin_ms = NULL, error = NULL"),
            p(
                "UPDATE trabajos SET estado = 'pendiente', esclavo = NULL, intentos = $2 - 1
               WHERE id = $1 AND estado = 'asignado'"
            ),
            p("DELETE FROM intentos WHERE trabajo = $1 AND numero = $2"),
            p("UPDATE trabajos SET estado = 'pendiente', esclavo = NULL
               WHERE id = $1 AND estado = 'asignado'"),
        )?;
        let (i, j, k, l, m, n, o, q) =
            tokio::try_join!(
            p("UPDATE trabajos SET estado = $2, esclavo = NULL, fallos = $3, terminado_ms = $4,
                 motivo = $5 WHERE id = $1 AND estado IN ('pendiente', 'asignado')"),
            p("WITH n AS (
                 SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::bigint[],
                   $5::text[], $6::bytea[]) AS n (id, numero, esclavo, fin, resultado, png)),
               propio AS (
                 UPDATE intentos i SET fin_ms = n.fin, error = NULL FROM n
                 WHERE i.trabajo = n.id AND i.numero = n.numero),
               hecho AS (
                 UPDATE trabajos t SET estado = 'completado', esclavo = n.esclavo,
                   terminado_ms = n.fin, resultado = n.resultado, motivo = NULL
                 FROM n WHERE t.id = n.id AND t.estado || '' IN ('pendiente', 'asignado')
                 RETURNING t.id)
               INSERT INTO imagenes (trabajo, png)
               SELECT n.id, n.png FROM n JOIN hecho ON hecho.id = n.id WHERE n.png IS NOT NULL
               ON CONFLICT (trabajo) DO UPDATE SET png = EXCLUDED.png"),
            p("UPDATE trabajos SET estado = 'cancelado', terminado_ms = $2, motivo = $3
               WHERE id = $1 AND estado IN ('pendiente', 'asignado')"),
            p("UPDATE trabajos SET estado = 'pendiente', esclavo = NULL, fallos = 0,
                 terminado_ms = NULL, resultado = NULL, motivo = NULL
               WHERE id = $1 AND estado IN ('fallido', 'cancelado')"),
            p("UPDATE trabajos SET prioridad = $2 WHERE id = $1 AND estado = 'pendiente'"),
            p("INSERT INTO entradas (id, png, width, height, canales, creado_ms)
               VALUES ($1, $2, $3, $4, $5, $6)"),
            p("UPDATE intentos SET fin_ms = $3, error = $4 WHERE trabajo = $1 AND numero = $2"),
            p("UPDATE intentos SET fin_ms = $2, error = $3 WHERE trabajo = $1 AND fin_ms IS NULL"),
        )?;
        // The other attempts still open of the jobs a run of results completes, after the
        // statement above closed each result's own (separate statements: a data-modifying
        // CTE does not see the rows its siblings change).
        let superados = p("UPDATE intentos i SET fin_ms = n.fin,
               error = 'superseded: attempt ' || n.numero || ' finished the job first'
             FROM UNNEST($1::bigint[], $2::bigint[], $3::bigint[]) AS n (id, numero, fin)
             WHERE i.trabajo = n.id AND i.fin_ms IS NULL")
        .await?;
        let fencing = cliente.prepare(super::lider::FENCING).await?;
        let s = Sentencias {
            insertar: a,
            marcar_archivo: b,
            marcar_linea: c,
            asignar: d,
            devolver: f,
            borrar_intento: g,
            ceder: h,
            fallar: i,
            completar: j,
            cancelar: k,
            reintentar: l,
            priorizar: m,
            guardar_entrada: n,
            cerrar_intento: o,
            cerrar_abiertos: q,
            superados,
            fencing,
        };
        Ok(Conexion { cliente, s })
    }

    /// Applies `cambios` in one transaction: begin, every statement pipelined, commit. With
    /// `epoca`, the first statement is the fencing check, and nothing is committed unless it
    /// found the leadership still this maestro's.
    async fn aplicar(&mut self, cambios: &[&Cambio], epoca: Option<i64>) -> anyhow::Result<()> {
        let mut pasos = pasos(&self.s, cambios)?;
        if let Some(e) = epoca {
            pasos.insert(0, (&self.s.fencing, vec![Box::new(e)]));
        }
        let t = self.cliente.transaction().await?;
        let valores: Vec<Vec<&(dyn ToSql + Sync)>> = pasos
            .iter()
            .map(|(_, v)| v.iter().map(|v| &**v as &(dyn ToSql + Sync)).collect())
            .collect();
        let enviados = pasos
            .iter()
            .zip(&valores)
            .map(|((sentencia, _), v)| t.execute(*sentencia, v));
        // Every statement is sent before any answer is awaited; all are awaited, so the
        // connection is in step whatever failed.
        let resultados = futures_util::future::join_all(enviados).await;
        if let (Some(e), Some(Ok(filas))) = (epoca, resultados.first())
            && *filas != 1
        {
            return Err(super::lider::Depuesto(e).into());
        }
        for r in resultados {
            r?;
        }
        t.commit().await?;
        Ok(())
    }
}

/// The statements of `cambios`, in order, with their values. A run of new jobs, of dispatches
/// or of results (consecutive changes of one of these kinds) is one statement or two for the
/// whole run, with one array per column: what piles up during a commit costs a few statements,
/// not a few per job.
fn pasos<'s>(
    s: &'s Sentencias,
    cambios: &[&Cambio],
) -> anyhow::Result<Vec<(&'s Statement, Vec<Valor>)>> {
    let mut pasos: Vec<(&Statement, Vec<Valor>)> = Vec::new();
    let mut corrida = Corrida::Ninguna;
    for c in cambios {
        let seguida = corrida.sumar(c)?;
        if !seguida {
            corrida.cerrar(s, &mut pasos);
            corrida = Corrida::Ninguna;
            if !corrida.sumar(c)? {
                pasos_de(s, c, &mut pasos);
            }
        }
    }
    corrida.cerrar(s, &mut pasos);
    Ok(pasos)
}

/// A run of changes of one kind that go as arrays.
enum Corrida {
    Ninguna,
    Nuevos(Box<Nuevos>),
    Asignados(Asignados),
    Completados(Completados),
}

impl Corrida {
    /// Adds `c` to the run if it is of its kind (any of the three kinds starts a run from
    /// `Ninguna`): whether it did.
    fn sumar(&mut self, c: &Cambio) -> anyhow::Result<bool> {
        match (&mut *self, c) {
            (Corrida::Ninguna, Cambio::Insertar(_)) => *self = Corrida::Nuevos(Box::default()),
            (Corrida::Ninguna, Cambio::Asignar { .. }) => {
                *self = Corrida::Asignados(Asignados::default())
            }
            (Corrida::Ninguna, Cambio::Completar { .. }) => {
                *self = Corrida::Completados(Completados::default())
            }
            _ => {}
        }
        match (self, c) {
            (Corrida::Nuevos(n), Cambio::Insertar(f)) => {
                n.id.push(f.id.0 as i64);
                n.parametros
                    .push(serde_json::to_string(&f.trabajo.parametros)?);
                n.algoritmo.push(f.trabajo.algoritmo.nombre().to_owned());
                n.prioridad.push(f.trabajo.prioridad.valor().into());
                n.creado_ms.push(f.creado_ms as i64);
                n.origen.push(serde_json::to_string(&f.origen)?);
                n.plazo_s.push(f.trabajo.plazo_s.map(i64::from));
                n.tipo.push(f.trabajo.parametros.tipo().nombre().to_owned());
                n.via.push(via(&f.origen).nombre().to_owned());
                let e = &f.trabajo.etiquetas;
                n.task_id.push(e.task_id.clone());
                n.descripcion.push(e.descripcion.clone());
                n.algoritmo_pedido
                    .push(e.algoritmo_pedido.map(str::to_owned));
            }
            (
                Corrida::Asignados(a),
                Cambio::Asignar {
                    intento,
                    esclavo,
                    inicio_ms,
                },
            ) => {
                a.id.push(intento.trabajo.0 as i64);
                a.esclavo.push(esclavo.nombre.clone());
                a.numero.push(i64::from(intento.numero));
                a.inicio.push(*inicio_ms as i64);
            }
            (
                Corrida::Completados(r),
                Cambio::Completar {
                    intento,
                    esclavo,
                    fin_ms,
                    resultado,
                    png,
                },
            ) => {
                r.id.push(intento.trabajo.0 as i64);
                r.numero.push(i64::from(intento.numero));
                r.esclavo.push(esclavo.nombre.clone());
                r.fin.push(*fin_ms as i64);
                r.resultado.push(resultado.clone());
                r.png.push(png.clone());
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The run's statements.
    fn cerrar<'s>(self, s: &'s Sentencias, pasos: &mut Vec<(&'s Statement, Vec<Valor>)>) {
        match self {
            Corrida::Ninguna => {}
            Corrida::Nuevos(n) => pasos.push((&s.insertar, n.valores())),
            Corrida::Asignados(a) => {
                let valores: Vec<Valor> = vec![
                    Box::new(a.id),
                    Box::new(a.esclavo),
                    Box::new(a.numero),
                    Box::new(a.inicio),
                ];
                pasos.push((&s.asignar, valores));
            }
            Corrida::Completados(r) => {
                // Each result closes its own attempt and completes its job first; the other
                // attempts still open then end as superseded (its esclavo is told to stop, and
                // its report will be ignored).
                let superados: Vec<Valor> = vec![
                    Box::new(r.id.clone()),
                    Box::new(r.numero.clone()),
                    Box::new(r.fin.clone()),
                ];
                pasos.push((
                    &s.completar,
                    vec![
                        Box::new(r.id),
                        Box::new(r.numero),
                        Box::new(r.esclavo),
                        Box::new(r.fin),
                        Box::new(r.resultado),
                        Box::new(r.png),
                    ],
                ));
                pasos.push((&s.superados, superados));
            }
        }
    }
}

/// The columns of a run of new jobs, one array each.
#[derive(Default)]
struct Nuevos {
    id: Vec<i64>,
    parametros: Vec<String>,
    algoritmo: Vec<String>,
    prioridad: Vec<i64>,
    creado_ms: Vec<i64>,
    origen: Vec<String>,
    plazo_s: Vec<Option<i64>>,
    tipo: Vec<String>,
    via: Vec<String>,
    task_id: Vec<Option<String>>,
    descripcion: Vec<Option<String>>,
    algoritmo_pedido: Vec<Option<String>>,
}

impl Nuevos {
    fn valores(self) -> Vec<Valor> {
        vec![
            Box::new(self.id),
            Box::new(self.parametros),
            Box::new(self.algoritmo),
            Box::new(self.prioridad),
            Box::new(self.creado_ms),
            Box::new(self.origen),
            Box::new(self.plazo_s),
            Box::new(self.tipo),
            Box::new(self.via),
            Box::new(self.task_id),
            Box::new(self.descripcion),
            Box::new(self.algoritmo_pedido),
        ]
    }
}

/// The columns of a run of dispatches.
#[derive(Default)]
struct Asignados {
    id: Vec<i64>,
    esclavo: Vec<String>,
    numero: Vec<i64>,
    inicio: Vec<i64>,
}

/// The columns of a run of results.
#[derive(Default)]
struct Completados {
    id: Vec<i64>,
    numero: Vec<i64>,
    esclavo: Vec<String>,
    fin: Vec<i64>,
    resultado: Vec<String>,
    png: Vec<Option<Vec<u8>>>,
}

/// The statements of one change that goes alone (not a new job, a dispatch or a result).
fn pasos_de<'s>(s: &'s Sentencias, c: &Cambio, pasos: &mut Vec<(&'s Statement, Vec<Valor>)>) {
    let id = |i: &IntentoId| i.trabajo.0 as i64;
    let mut paso = |sentencia: &'s Statement, valores: Vec<Valor>| pasos.push((sentencia, valores));
    match c {
        Cambio::Insertar(_) | Cambio::Asignar { .. } | Cambio::Completar { .. } => {
            unreachable!("new jobs, dispatches and results go in runs")
        }
        Cambio::MarcarArchivoTareas { nombre, sha256 } => paso(
            &s.marcar_archivo,
            vec![
                Box::new(nombre.clone()),
                Box::new(sha256.clone()),
                Box::new(comun::ahora_ms() as i64),
            ],
        ),
        Cambio::MarcarLinea(l, trabajo) => paso(
            &s.marcar_linea,
            vec![
                Box::new(l.archivo.clone()),
                Box::new(l.texto.clone()),
                Box::new(i64::from(l.ocurrencia)),
                Box::new(trabajo.0 as i64),
            ],
        ),
        Cambio::Devolver { intento } => {
            let (trabajo, numero) = (id(intento), i64::from(intento.numero));
            paso(&s.devolver, vec![Box::new(trabajo), Box::new(numero)]);
            paso(&s.borrar_intento, vec![Box::new(trabajo), Box::new(numero)]);
        }
        Cambio::Ceder {
            intento,
            fin_ms,
            motivo,
        } => {
            paso(&s.cerrar_intento, cierre(intento, *fin_ms, Some(motivo)));
            paso(&s.ceder, vec![Box::new(id(intento))]);
        }
        Cambio::Fallar {
            intento,
            fin_ms,
            error,
            fallos,
            definitivo,
        } => {
            paso(&s.cerrar_intento, cierre(intento, *fin_ms, Some(error)));
            let (estado, terminado, motivo) =
                crate::almacen::filas::tras_fallo(*fin_ms, error, *fallos, *definitivo);
            paso(
                &s.fallar,
                vec![
                    Box::new(id(intento)),
                    Box::new(estado),
                    Box::new(i64::from(*fallos)),
                    Box::new(terminado),
                    Box::new(motivo),
                ],
            );
        }
        Cambio::Cancelar { id, fin_ms, motivo } => {
            let (trabajo, fin) = (id.0 as i64, *fin_ms as i64);
            paso(
                &s.cancelar,
                vec![Box::new(trabajo), Box::new(fin), Box::new(motivo.clone())],
            );
            paso(
                &s.cerrar_abiertos,
                vec![
                    Box::new(trabajo),
                    Box::new(fin),
                    Box::new(format!("cancelled: {motivo}")),
                ],
            );
        }
        Cambio::Reintentar { id } => paso(&s.reintentar, vec![Box::new(id.0 as i64)]),
        Cambio::Priorizar { id, prioridad } => paso(
            &s.priorizar,
            vec![
                Box::new(id.0 as i64),
                Box::new(i64::from(prioridad.valor())),
            ],
        ),
        Cambio::GuardarEntrada(e) => paso(
            &s.guardar_entrada,
            vec![
                Box::new(e.id as i64),
                Box::new(e.png.clone()),
                Box::new(i64::from(e.forma.width)),
                Box::new(i64::from(e.forma.height)),
                Box::new(i64::from(e.forma.canales)),
                Box::new(e.creado_ms as i64),
            ],
        ),
    }
}

/// The values that close attempt `intento` at `fin_ms` with `error`.
fn cierre(intento: &IntentoId, fin_ms: u64, error: Option<&String>) -> Vec<Valor> {
    vec![
        Box::new(intento.trabajo.0 as i64),
        Box::new(i64::from(intento.numero)),
        Box::new(fin_ms as i64),
        Box::new(error.cloned()),
    ]
}

/// The connection the writer thread owns, with the runtime that drives it.
pub struct EscrituraPostgres {
    rt: tokio::runtime::Runtime,
    base: Base,
    /// The leadership every transaction must still hold ([`super::lider`]), if any.
    epoca: Option<i64>,
    /// `None` once it broke: opened again at the next commit.
    conexion: Option<Conexion>,
}

impl EscrituraPostgres {
    pub(super) fn new(
        rt: tokio::runtime::Runtime,
        base: Base,
        conexion: Conexion,
        epoca: Option<i64>,
    ) -> Self {
        EscrituraPostgres {
            rt,
            base,
            epoca,
            conexion: Some(conexion),
        }
    }
}

impl Escritura for EscrituraPostgres {
    /// A connection that closed or could not be made, or a server that is starting, stopping
    /// or out of connections (SQLSTATE classes 08 and 53, 57P01 to 57P03).
    fn pasajero(&self, error: &anyhow::Error) -> bool {
        error.chain().any(|causa| {
            let Some(e) = causa.downcast_ref::<tokio_postgres::Error>() else {
                return causa.downcast_ref::<std::io::Error>().is_some();
            };
            if e.is_closed() {
                return true;
            }
            match e.code() {
                Some(codigo) => {
                    let c = codigo.code();
                    c.starts_with("08")
                        || c.starts_with("53")
                        || matches!(c, "57P01" | "57P02" | "57P03")
                }
                // Not the server's answer: the connection itself (refused, reset, timed out),
                // unless a value could not be converted (the same change fails every time).
                None => {
                    let texto = e.to_string();
                    e.as_db_error().is_none()
                        && !texto.starts_with("error serializing")
                        && !texto.starts_with("error deserializing")
                }
            }
        })
    }

    fn confirmar<'a>(&mut self, cambios: impl Iterator<Item = &'a Cambio>) -> anyhow::Result<()> {
        let cambios: Vec<&Cambio> = cambios.collect();
        let base = &self.base;
        let epoca = self.epoca;
        let conexion = &mut self.conexion;
        self.rt.block_on(async {
            if conexion.as_ref().is_none_or(|c| c.cliente.is_closed()) {
                *conexion = None;
                let cliente = super::conectar(base).await?;
                *conexion = Some(Conexion::preparar(cliente).await?);
                tracing::info!("PostgreSQL writer connected again");
            }
            let c = conexion.as_mut().expect("connected above");
            let r = c.aplicar(&cambios, epoca).await;
            if r.is_err() && c.cliente.is_closed() {
                *conexion = None;
            }
            r
        })
    }
}

//! The check every scenario ends with: the jobs the maestro acknowledged are exactly the jobs
//! that finished, each completed once, with one recorded result.
//!
//! Two views are checked. While the maestro runs, `/resumen`: nothing active, nothing failed or
//! cancelled, as many jobs as were acknowledged, and (if the maestro never restarted) a
//! `completados` counter equal to them; a result recorded twice would push the counter past
//! the number of jobs. Then the maestro is stopped and its database (the SQLite file, or its PostgreSQL database) is read directly: every
//! acknowledged job is there, `completado`, with a result, and exactly one attempt closed
//! without an error, run by the esclavo the job names, and no attempt left open (an attempt
//! superseded by another's result must end too); no other job is there. A failure keeps a copy
//! of the database next to the scenario's logs.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use comun::TrabajoId;
use comun::api::Resumen;
use pruebas::esperar_hasta;
use rusqlite::{Connection, OpenFlags};

use crate::servicios::{Esclavo, Maestro};

/// Ids the maestro acknowledged (an answer with the ids arrived), shared by submitters.
#[derive(Debug, Clone, Default)]
pub struct Aceptados(Arc<Mutex<BTreeSet<TrabajoId>>>);

impl Aceptados {
    pub fn agregar(&self, ids: impl IntoIterator<Item = TrabajoId>) {
        self.0.lock().unwrap().extend(ids);
    }

    pub fn len(&self) -> u64 {
        self.0.lock().unwrap().len() as u64
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn ids(&self) -> BTreeSet<TrabajoId> {
        self.0.lock().unwrap().clone()
    }
}

/// What the final check counted.
#[derive(Debug, Clone, Default)]
pub struct Recuento {
    /// Jobs the maestro acknowledged.
    pub aceptados: u64,
    /// Acknowledged jobs in a final state (completado, fallido, cancelado).
    pub terminados: u64,
    /// Acknowledged jobs completed.
    pub completados: u64,
    /// Results recorded more than once: by the counter (when the maestro never restarted)
    /// and by the attempts closed without an error.
    pub duplicados: u64,
    /// Acknowledged jobs missing from the database or not finished.
    pub perdidos: u64,
    /// Jobs in the database nobody was told about.
    pub ajenos: u64,
    /// Attempt rows of the acknowledged jobs.
    pub intentos: u64,
    /// Attempts closed with an error (a lost or restarted esclavo, a stopped maestro…).
    pub intentos_fallidos: u64,
    /// Attempts never closed although their job completed: superseded by another attempt's
    /// result that arrived first.
    pub intentos_sin_cerrar: u64,
    /// Completed jobs whose attempt history is inconsistent (an attempt left open, or the
    /// successful attempt's row naming another esclavo than the job): counted and shown when
    /// `HPC_TOLERAR_HISTORIAL=1` lets the check go on.
    pub problemas_historial: u64,
    /// The maestro's counts before it stopped.
    pub resumen: Resumen,
}

/// `HPC_TOLERAR_HISTORIAL=1`: inconsistent attempt histories are reported loudly instead of
/// failing the scenario (lost, duplicated, unfinished or unknown jobs always fail it).
pub const TOLERAR_HISTORIAL: &str = "HPC_TOLERAR_HISTORIAL";

/// Waits for the queue to drain and for the running esclavos to be idle with every result
/// delivered (superseded attempts included), checks `/resumen`, stops the maestro and checks
/// its database. Panics with the offending ids if any job was lost, duplicated, not completed,
/// unknown, or left with an attempt that never ended.
pub async fn verificar(
    maestro: &mut Maestro,
    esclavos: &[&Esclavo],
    aceptados: &Aceptados,
    plazo: Duration,
) -> Recuento {
    let esperados = aceptados.ids();
    let n = esperados.len() as u64;
    assert!(n > 0, "the scenario acknowledged no job");
    let r = maestro.api.esperar_vacia(plazo).await;
    println!("[fallos] drained: {r:?}, {n} acknowledged");
    esperar_hasta(
        plazo,
        "the esclavos run nothing and have delivered every result",
        || async {
            for e in esclavos.iter().filter(|e| e.proceso.is_some()) {
                match e.estado().await {
                    Ok(v) if v.ejecutando.is_empty() && v.resultados_por_enviar == 0 => {}
                    _ => return false,
                }
            }
            true
        },
    )
    .await;
    let r = maestro
        .api
        .resumen()
        .await
        .expect("/resumen after the drain");
    maestro.parar().await;
    let base = match &maestro.opciones.base {
        Some(url) => leer_postgres(url)
            .await
            .unwrap_or_else(|e| panic!("reading {url}: {e:#}")),
        None => leer_base(&maestro.base_de_datos())
            .unwrap_or_else(|e| panic!("reading {}: {e:#}", maestro.base_de_datos().display())),
    };
    let mut c = contar(&base, &esperados);
    c.resumen = r;
    let duplicados_contador = if maestro.reinicios == 0 {
        r.completados.saturating_sub(c.completados)
    } else {
        0
    };
    c.duplicados += duplicados_contador;
    println!("[fallos] checked: {c:?}");

    assert_eq!(
        r.fallidos + r.cancelados,
        0,
        "jobs failed or were cancelled: {r:?}"
    );
    assert_eq!(
        r.total(),
        n,
        "the maestro counts {} jobs, {n} were acknowledged: {r:?}",
        r.total()
    );
    assert_eq!(
        duplicados_contador, 0,
        "completados ({}) exceeds the completed jobs ({}): a result was recorded twice",
        r.completados, c.completados
    );
    if maestro.reinicios == 0 {
        assert_eq!(r.completados, n, "{r:?}");
    }
    let problemas = base.comprobar(&esperados);
    c.problemas_historial = problemas.historial.len() as u64;
    if !problemas.graves.is_empty() || !problemas.historial.is_empty() {
        let copia = maestro.copiar_base();
        let lista = |v: &[String]| v[..v.len().min(20)].join("\n");
        assert!(
            problemas.graves.is_empty(),
            "{} jobs lost, duplicated, unfinished or unknown in the database (a copy: {}):\n{}",
            problemas.graves.len(),
            copia.display(),
            lista(&problemas.graves)
        );
        historial_inconsistente(format!(
            "{} completed jobs have an inconsistent attempt history (a copy of the database: \
             {}):\n{}",
            problemas.historial.len(),
            copia.display(),
            lista(&problemas.historial)
        ));
    }
    assert_eq!(c.perdidos, 0);
    assert_eq!(c.duplicados, 0);
    assert_eq!(c.ajenos, 0);
    assert_eq!(c.completados, n);
    c
}

/// An inconsistent attempt history: fails the scenario, or with `HPC_TOLERAR_HISTORIAL=1`
/// prints it loudly and lets the scenario go on.
pub fn historial_inconsistente(mensaje: String) {
    let tolerado = std::env::var(TOLERAR_HISTORIAL).is_ok_and(|v| v == "1");
    assert!(
        tolerado,
        "{mensaje}\n({TOLERAR_HISTORIAL}=1 reports this without failing)"
    );
    let aviso = format!("\n!!!!!!!! [fallos] TOLERATED by {TOLERAR_HISTORIAL}=1: {mensaje}\n");
    println!("{aviso}");
    eprintln!("{aviso}");
}

/// What is wrong in the database, job by job.
#[derive(Debug, Default)]
struct Problemas {
    /// Lost, unfinished, duplicated or unknown jobs, or completed without a result.
    graves: Vec<String>,
    /// Completed once, with one result, but with an inconsistent attempt history.
    historial: Vec<String>,
}

/// A job's row.
#[derive(Debug, Clone)]
struct FilaTrabajo {
    estado: String,
    esclavo: Option<String>,
    con_resultado: bool,
}

/// An attempt's row.
#[derive(Debug, Clone)]
struct FilaIntento {
    numero: u32,
    esclavo: String,
    cerrado: bool,
    error: Option<String>,
}

impl FilaIntento {
    fn exitoso(&self) -> bool {
        self.cerrado && self.error.is_none()
    }
}

/// What the database holds.
#[derive(Debug, Default)]
struct Base {
    trabajos: HashMap<TrabajoId, FilaTrabajo>,
    intentos: HashMap<TrabajoId, Vec<FilaIntento>>,
}

fn leer_base(ruta: &Path) -> anyhow::Result<Base> {
    let c = Connection::open_with_flags(
        ruta,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .context("opening read-only")?;
    let mut base = Base::default();
    let mut q = c.prepare("SELECT id, estado, esclavo, resultado IS NOT NULL FROM trabajos")?;
    let filas = q.query_map([], |f| {
        Ok((
            TrabajoId(f.get::<_, i64>(0)? as u64),
            FilaTrabajo {
                estado: f.get(1)?,
                esclavo: f.get(2)?,
                con_resultado: f.get(3)?,
            },
        ))
    })?;
    for f in filas {
        let (id, fila) = f?;
        base.trabajos.insert(id, fila);
    }
    let mut q =
        c.prepare("SELECT trabajo, numero, esclavo, fin_ms IS NOT NULL, error FROM intentos")?;
    let filas = q.query_map([], |f| {
        Ok((
            TrabajoId(f.get::<_, i64>(0)? as u64),
            FilaIntento {
                numero: f.get(1)?,
                esclavo: f.get(2)?,
                cerrado: f.get(3)?,
                error: f.get(4)?,
            },
        ))
    })?;
    for f in filas {
        let (id, fila) = f?;
        base.intentos.entry(id).or_default().push(fila);
    }
    Ok(base)
}

/// [`leer_base`] of a maestro on PostgreSQL (the same tables and columns).
async fn leer_postgres(url: &str) -> anyhow::Result<Base> {
    let (c, conexion) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .context("connecting")?;
    tokio::spawn(conexion);
    let mut base = Base::default();
    let filas = c
        .query(
            "SELECT id, estado, esclavo, resultado IS NOT NULL FROM trabajos",
            &[],
        )
        .await?;
    for f in filas {
        let id = TrabajoId(f.try_get::<_, i64>(0)? as u64);
        let fila = FilaTrabajo {
            estado: f.try_get(1)?,
            esclavo: f.try_get(2)?,
            con_resultado: f.try_get(3)?,
        };
        base.trabajos.insert(id, fila);
    }
    let filas = c
        .query(
            "SELECT trabajo, numero, esclavo, fin_ms IS NOT NULL, error FROM intentos",
            &[],
        )
        .await?;
    for f in filas {
        let id = TrabajoId(f.try_get::<_, i64>(0)? as u64);
        let fila = FilaIntento {
            numero: f.try_get::<_, i64>(1)? as u32,
            esclavo: f.try_get(2)?,
            cerrado: f.try_get(3)?,
            error: f.try_get(4)?,
        };
        base.intentos.entry(id).or_default().push(fila);
    }
    Ok(base)
}

fn contar(base: &Base, esperados: &BTreeSet<TrabajoId>) -> Recuento {
    let mut c = Recuento {
        aceptados: esperados.len() as u64,
        ..Recuento::default()
    };
    for id in esperados {
        let Some(t) = base.trabajos.get(id) else {
            c.perdidos += 1;
            continue;
        };
        if ["completado", "fallido", "cancelado"].contains(&t.estado.as_str()) {
            c.terminados += 1;
        } else {
            c.perdidos += 1;
        }
        let intentos = base.intentos.get(id).map_or(&[][..], Vec::as_slice);
        c.intentos += intentos.len() as u64;
        c.intentos_fallidos += intentos.iter().filter(|i| i.error.is_some()).count() as u64;
        if t.estado == "completado" {
            c.completados += 1;
            c.intentos_sin_cerrar += intentos.iter().filter(|i| !i.cerrado).count() as u64;
            let exitosos = intentos.iter().filter(|i| i.exitoso()).count() as u64;
            c.duplicados += exitosos.saturating_sub(1);
        }
    }
    c.ajenos = base
        .trabajos
        .keys()
        .filter(|id| !esperados.contains(id))
        .count() as u64;
    c
}

impl Base {
    /// Every problem, naming the job and its attempts.
    fn comprobar(&self, esperados: &BTreeSet<TrabajoId>) -> Problemas {
        let mut p = Problemas::default();
        for id in esperados {
            let Some(t) = self.trabajos.get(id) else {
                p.graves.push(format!("job {id} is not in the database"));
                continue;
            };
            let intentos = self.intentos.get(id).map_or(&[][..], Vec::as_slice);
            let exitosos: Vec<&FilaIntento> = intentos.iter().filter(|i| i.exitoso()).collect();
            let abiertos: Vec<u32> = intentos
                .iter()
                .filter(|i| !i.cerrado)
                .map(|i| i.numero)
                .collect();
            let grave = if t.estado != "completado" {
                Some(format!("is {}", t.estado))
            } else if !t.con_resultado {
                Some("completed without a result".into())
            } else if exitosos.len() > 1 {
                Some(format!(
                    "has {} attempts closed without an error: more than one result",
                    exitosos.len()
                ))
            } else {
                None
            };
            let historial = if !abiertos.is_empty() {
                Some(format!(
                    "completed, but its attempts {abiertos:?} never ended (no fin_ms, no error)"
                ))
            } else if exitosos.is_empty() {
                Some("completed, but no attempt row is closed without an error".into())
            } else if t.esclavo.as_deref() != Some(exitosos[0].esclavo.as_str()) {
                Some(format!(
                    "names esclavo {:?}, but the row of its successful attempt {} says {}",
                    t.esclavo, exitosos[0].numero, exitosos[0].esclavo
                ))
            } else {
                None
            };
            if let Some(g) = grave {
                p.graves
                    .push(format!("job {id} {g}; attempts {intentos:?}"));
            } else if let Some(h) = historial {
                p.historial
                    .push(format!("job {id} {h}; attempts {intentos:?}"));
            }
        }
        p.graves.extend(
            self.trabajos
                .keys()
                .filter(|id| !esperados.contains(id))
                .map(|id| format!("job {id} is in the database but was never acknowledged")),
        );
        p
    }
}

//! Benchmark of the job list's paging in the store (`GET /trabajos`, the dashboard's table):
//! fills databases of each size asked for, the way a maestro of the release before left
//! them (no filter columns, one index), opens each as the maestro does (upgrade, indexes,
//! recovery), and times the first page and a deep one, with and without filters. Then the
//! price of the indexes: committing new jobs with and without them.
//!
//! `cargo run -p maestro --example paginas -- [SIZES]` (default `10000,1000000`). Prints the
//! median of 21 reads of a page of 100 per case, in milliseconds, one column per size: keyset
//! paging on the indexes should make every column alike.

use std::time::{Duration, Instant};

use comun::api::{Cursor, FiltroTrabajos, Origen, Via};
use comun::trabajo::{ParamsEspera, ParamsJulia};
use comun::{Algoritmo, Estado, NuevoTrabajo, Parametros, Prioridad, Tipo, TrabajoId};
use maestro::almacen::sqlite::EscrituraSqlite;
use maestro::almacen::{Almacen, Cambio, Escritura, FilaNueva};
use maestro::{Config, Sincronizacion};
use rusqlite::Connection;

/// The `trabajos` table as the maestro before filters made it.
const TABLA_ANTERIOR: &str = "
CREATE TABLE trabajos (
    id INTEGER PRIMARY KEY, parametros TEXT NOT NULL, algoritmo TEXT NOT NULL,
    prioridad INTEGER NOT NULL, estado TEXT NOT NULL, intentos INTEGER NOT NULL DEFAULT 0,
    fallos INTEGER NOT NULL DEFAULT 0, esclavo TEXT, creado_ms INTEGER NOT NULL,
    iniciado_ms INTEGER, terminado_ms INTEGER, origen TEXT NOT NULL, resultado TEXT,
    motivo TEXT, plazo_s INTEGER
);
CREATE INDEX trabajos_por_estado ON trabajos (estado, id);";

/// Job `i` of `n`: a third julia (alta), one in a hundred fallido, the newest thousand
/// pending, the rest completado on one of 8 esclavos; every second one from a file.
const LLENAR: &str = "
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
INSERT INTO trabajos (id, parametros, algoritmo, prioridad, estado, intentos, esclavo,
                      creado_ms, origen)
SELECT i, CASE i % 3 WHEN 0 THEN ?2 ELSE ?3 END, 'Secuencial', i % 3 + 1,
       CASE WHEN i > ?1 - 1000 THEN 'pendiente' WHEN i % 100 = 0 THEN 'fallido'
            ELSE 'completado' END,
       1, CASE WHEN i > ?1 - 1000 THEN NULL ELSE 'esclavo' || (i % 8) END, i,
       CASE i % 2 WHEN 0 THEN ?4 ELSE ?5 END
FROM n";

fn main() -> anyhow::Result<()> {
    let tamanos: Vec<u64> = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "10000,1000000".into())
        .split(',')
        .map(|t| t.trim().parse())
        .collect::<Result<_, _>>()?;
    let rt = tokio::runtime::Runtime::new()?;
    let mut columnas = Vec::new();
    for &n in &tamanos {
        let datos = tempfile::tempdir()?;
        let t = Instant::now();
        llenar(datos.path(), n)?;
        let llenado = t.elapsed();
        let t = Instant::now();
        let mut config = Config::new(datos.path());
        config.sincronizacion = Sincronizacion::Normal;
        let (almacen, _) = Almacen::abrir(&config)?;
        println!(
            "{n} jobs: filled in {:.1} s; first open (upgrade, 8 new indexes, recovery) {:.1} s",
            llenado.as_secs_f64(),
            t.elapsed().as_secs_f64()
        );
        columnas.push(rt.block_on(medir(&almacen))?);
        drop(almacen);
        let t = Instant::now();
        Almacen::abrir(&config)?;
        println!(
            "{n} jobs: a later open (recovery: counts by state, pending jobs) {:.2} s",
            t.elapsed().as_secs_f64()
        );
    }
    println!("\nmedian ms of a page of 100 (first page / a deep one, past 99% of the jobs):");
    print!("{:<48}", "filter");
    for n in &tamanos {
        print!("{:>22}", format!("{n} jobs"));
    }
    println!();
    for (i, (nombre, _)) in casos().iter().enumerate() {
        print!("{nombre:<48}");
        for c in &columnas {
            let (primera, honda) = c[i];
            print!("{:>22}", format!("{primera:.2} / {honda:.2}"));
        }
        println!();
    }
    println!("\ncommitting 100,000 new jobs in batches of 1,000:");
    for (nombre, sin) in [
        ("all indexes", false),
        ("only the old (estado, id) index", true),
    ] {
        println!(
            "  {nombre:<34} {:.2} s",
            insertar(100_000, sin)?.as_secs_f64()
        );
    }
    Ok(())
}

/// The filters timed: every one alone, the state with each other one, and three at once.
fn casos() -> Vec<(&'static str, FiltroTrabajos)> {
    let f = FiltroTrabajos::default;
    let completado = Some(Estado::Completado);
    vec![
        ("(none)", f()),
        (
            "estado=completado",
            FiltroTrabajos {
                estado: completado,
                ..f()
            },
        ),
        (
            "estado=fallido",
            FiltroTrabajos {
                estado: Some(Estado::Fallido),
                ..f()
            },
        ),
        (
            "tipo=julia",
            FiltroTrabajos {
                tipo: Some(Tipo::Julia),
                ..f()
            },
        ),
        (
            "prioridad=2",
            FiltroTrabajos {
                prioridad: Some(Prioridad::MEDIA),
                ..f()
            },
        ),
        (
            "esclavo=esclavo3",
            FiltroTrabajos {
                esclavo: Some("esclavo3".into()),
                ..f()
            },
        ),
        (
            "origen=archivo",
            FiltroTrabajos {
                origen: Some(Via::Archivo),
                ..f()
            },
        ),
        (
            "estado=fallido&tipo=julia",
            FiltroTrabajos {
                estado: Some(Estado::Fallido),
                tipo: Some(Tipo::Julia),
                ..f()
            },
        ),
        (
            "estado=completado&esclavo=esclavo3",
            FiltroTrabajos {
                estado: completado,
                esclavo: Some("esclavo3".into()),
                ..f()
            },
        ),
        (
            "estado=pendiente&prioridad=1",
            FiltroTrabajos {
                estado: Some(Estado::Pendiente),
                prioridad: Some(Prioridad::ALTA),
                ..f()
            },
        ),
        (
            "estado=fallido&origen=api",
            FiltroTrabajos {
                estado: Some(Estado::Fallido),
                origen: Some(Via::Api),
                ..f()
            },
        ),
        (
            "estado=completado&tipo=espera&origen=api",
            FiltroTrabajos {
                estado: completado,
                tipo: Some(Tipo::Espera),
                origen: Some(Via::Api),
                ..f()
            },
        ),
    ]
}

/// Fills `datos/maestro.db` with `n` jobs in the table of the release before.
fn llenar(datos: &std::path::Path, n: u64) -> anyhow::Result<()> {
    let c = Connection::open(datos.join("maestro.db"))?;
    c.execute_batch(TABLA_ANTERIOR)?;
    let julia = Parametros::Julia(ParamsJulia::new(8, 8, 8)?);
    let espera = Parametros::Espera(ParamsEspera { ms: 1 });
    let archivo = Origen::Archivo {
        archivo: "t.txt".into(),
        linea: 1,
    };
    c.execute(
        LLENAR,
        rusqlite::params![
            n as i64,
            serde_json::to_string(&julia)?,
            serde_json::to_string(&espera)?,
            serde_json::to_string(&Origen::Api)?,
            serde_json::to_string(&archivo)?
        ],
    )?;
    Ok(())
}

/// Per case, the median milliseconds of the first page and of a deep one.
async fn medir(almacen: &Almacen) -> anyhow::Result<Vec<(f64, f64)>> {
    let mut medidas = Vec::new();
    for (_, filtro) in casos() {
        let primera = mediana(|| almacen.pagina(filtro.clone(), None, 100)).await?;
        // Deep: jobs older than the oldest 1% (the pending thousand are the newest).
        let hondo = Some(Cursor::tras(TrabajoId(
            almacen_tamano(almacen).await? / 100,
        )));
        let honda = mediana(|| almacen.pagina(filtro.clone(), hondo, 100)).await?;
        medidas.push((primera, honda));
    }
    Ok(medidas)
}

/// The newest job's id: the number of jobs.
async fn almacen_tamano(almacen: &Almacen) -> anyhow::Result<u64> {
    let p = almacen.pagina(FiltroTrabajos::default(), None, 1).await?;
    Ok(p.trabajos.first().map_or(0, |t| t.id.0))
}

/// The median of 21 runs of `leer`, in milliseconds.
async fn mediana<F, T>(mut leer: impl FnMut() -> F) -> anyhow::Result<f64>
where
    F: Future<Output = anyhow::Result<T>>,
{
    let mut tiempos = Vec::new();
    for _ in 0..21 {
        let t = Instant::now();
        leer().await?;
        tiempos.push(t.elapsed());
    }
    tiempos.sort();
    Ok(tiempos[10].as_secs_f64() * 1e3)
}

/// How long committing `n` new jobs takes, in batches of 1,000; with `sin_nuevos`, after
/// dropping every index but the old `(estado, id)`.
fn insertar(n: u64, sin_nuevos: bool) -> anyhow::Result<Duration> {
    let datos = tempfile::tempdir()?;
    let (mut escritura, _, _): (EscrituraSqlite, _, _) =
        maestro::almacen::sqlite::abrir(datos.path(), Sincronizacion::Normal)?;
    if sin_nuevos {
        let c = Connection::open(datos.path().join("maestro.db"))?;
        for indice in ["tipo", "prioridad", "esclavo", "via"] {
            c.execute_batch(&format!(
                "DROP INDEX trabajos_por_{indice}; DROP INDEX trabajos_completado_por_{indice};"
            ))?;
        }
    }
    let trabajo = NuevoTrabajo {
        parametros: Parametros::Espera(ParamsEspera { ms: 1 }),
        algoritmo: Algoritmo::Secuencial,
        prioridad: Prioridad::MEDIA,
        plazo_s: None,
        etiquetas: comun::trabajo::Etiquetas::default(),
    };
    let t = Instant::now();
    for lote in 0..n / 1000 {
        let cambios: Vec<Cambio> = (0..1000)
            .map(|i| {
                Cambio::Insertar(FilaNueva {
                    id: TrabajoId(lote * 1000 + i + 1),
                    trabajo: trabajo.clone(),
                    origen: Origen::Api,
                    creado_ms: 0,
                })
            })
            .collect();
        escritura.confirmar(cambios.iter())?;
    }
    Ok(t.elapsed())
}

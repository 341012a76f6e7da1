//! The maestro's behavioural suite again, with every maestro on PostgreSQL: the same test
//! files as on SQLite, compiled a second time into this binary, whose name makes
//! `apoyo::config_maestro` and `apoyo::maestro_binario` point each maestro at a database of a
//! throwaway server (`pruebas::postgres`). Nothing is copied: a test added to one of these
//! files runs on both stores.
//!
//! Without PostgreSQL installed these tests pass without running, and the test
//! `postgres_instalado` says so loudly (nextest shows its output: `.config/nextest.toml`); with
//! `HPC_EXIGIR_POSTGRES=1`, as in CI, that is a failure instead.
//!
//! Each file brings its own `mod apoyo`, as it does in its own binary: the support module is
//! compiled once per file here (hence `duplicate_mod` allowed).
#![allow(clippy::duplicate_mod)]

#[path = "acciones.rs"]
mod acciones;
#[path = "catalogo.rs"]
mod catalogo;
#[path = "entrada.rs"]
mod entrada;
#[path = "estadisticas.rs"]
mod estadisticas;
#[path = "fallos.rs"]
mod fallos;
#[path = "imagenes.rs"]
mod imagenes;
#[path = "orden.rs"]
mod orden;
#[path = "paginas.rs"]
mod paginas;
#[path = "plazos.rs"]
mod plazos;
#[path = "puertas.rs"]
mod puertas;
#[path = "sigkill.rs"]
mod sigkill;
#[path = "tareas.rs"]
mod tareas;

mod apoyo;

use std::process::Command;
use std::time::Duration;

use apoyo::*;
use comun::Prioridad;
use maestro::almacen::Almacen;
use maestro::almacen::postgres::{MIGRACIONES, base};

/// `sql`'s single value, read with `psql` from database `url`.
fn psql(url: &str, sql: &str) -> String {
    let bin = pruebas::postgres::binarios().expect("PostgreSQL's binaries");
    let salida = Command::new(bin.join("psql"))
        .args([url, "-XAtqc", sql])
        .output()
        .expect("running psql");
    assert!(
        salida.status.success(),
        "psql {sql}: {}",
        String::from_utf8_lossy(&salida.stderr)
    );
    String::from_utf8(salida.stdout).unwrap().trim().to_owned()
}

/// The maestro of this binary keeps its jobs in PostgreSQL, not in the data folder: a job
/// submitted and run is a row there, with its attempt, and no `maestro.db` was made.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_maestro_s_jobs_and_attempts_are_rows_in_postgresql_and_no_sqlite_file_is_made() {
    let datos = tempfile::tempdir().unwrap();
    let config = config_maestro(datos.path());
    let url = base_de_pruebas(datos.path()).expect("this binary's store is PostgreSQL");
    let m = maestro(config, 0).await;
    let _e = esclavo(&m.url, "e1", 1).await;
    let id = espera(&m.url, 5, Prioridad::ALTA).await;
    esperar_vacia(&m.url, Duration::from_secs(20)).await;
    let fila = psql(
        &url,
        &format!(
            "SELECT estado || ' ' || esclavo || ' ' || (SELECT count(*) FROM intentos              WHERE trabajo = {0}) FROM trabajos WHERE id = {0}",
            id.0
        ),
    );
    assert_eq!(fila, "completado e1 1");
    assert!(!datos.path().join("maestro.db").exists());
}

/// Two maestros opening one new database at once: the schema is made once (the advisory
/// lock), both open it, and its version is the last migration's.
#[test]
fn two_maestros_starting_at_once_on_a_new_database_migrate_it_once() {
    let Some(servidor) = pruebas::postgres::compartido() else {
        return;
    };
    let url = servidor.base("a_la_vez").unwrap();
    let hilos: Vec<_> = (0..2)
        .map(|i| {
            let url = url.clone();
            std::thread::spawn(move || {
                let mut config = maestro::Config::new(format!("/nonexistent/{i}"));
                config.base = Some(base(&url).unwrap());
                Almacen::abrir(&config).map(|_| ())
            })
        })
        .collect();
    for h in hilos {
        h.join().unwrap().expect("both maestros open the database");
    }
    assert_eq!(
        psql(&url, "SELECT count(*) || ' ' || max(version) FROM esquema"),
        format!("{0} {0}", MIGRACIONES.len())
    );
}

/// A database whose schema a newer maestro made is refused by name, and left as it was.
#[test]
fn a_schema_newer_than_the_maestro_is_refused_and_left_alone() {
    let Some(servidor) = pruebas::postgres::compartido() else {
        return;
    };
    let url = servidor.base("mas_nueva").unwrap();
    let mut config = maestro::Config::new("/nonexistent");
    config.base = Some(base(&url).unwrap());
    drop(Almacen::abrir(&config).unwrap());
    psql(&url, "INSERT INTO esquema (version) VALUES (99)");
    let error = format!("{:#}", Almacen::abrir(&config).err().expect("refused"));
    assert!(
        error.contains("version 99, newer than this maestro's"),
        "{error}"
    );
    assert_eq!(psql(&url, "SELECT max(version) FROM esquema"), "99");
}

/// The binary's bad `--base` values: not a connection string is refused before anything
/// starts, naming the flag; a server that is not there is named in the error, with no password.
#[test]
fn the_binary_names_a_bad_base_and_an_unreachable_server() {
    let maestro = |base: &str| {
        let salida = Command::new(env!("CARGO_BIN_EXE_maestro"))
            .args(["--puerto", "0", "--sin-archivo", "--base", base])
            .arg("--datos")
            .arg(tempfile::tempdir().unwrap().path())
            .output()
            .unwrap();
        assert!(!salida.status.success());
        String::from_utf8_lossy(&salida.stderr).into_owned()
    };
    let error = maestro("postgresql://hpc@127.0.0.1:puerto/cola");
    assert!(
        error.contains("invalid value 'postgresql://hpc@127.0.0.1:puerto/cola' for '--base"),
        "{error}"
    );
    assert!(
        error.contains("not a PostgreSQL connection string"),
        "{error}"
    );
    let puerto = pruebas::direccion_libre().port();
    let error = maestro(&format!("postgresql://hpc:secreto@127.0.0.1:{puerto}/cola"));
    assert!(
        error.contains(&format!(
            "connecting to PostgreSQL at hpc@127.0.0.1:{puerto}/cola"
        )),
        "{error}"
    );
    assert!(!error.contains("secreto"), "{error}");
}

/// PostgreSQL killed (SIGKILL) and started again under a steady stream of submissions: what
/// was submitted during the outage is refused with an error, never acknowledged and lost; the
/// maestro connects again by itself; every acknowledged job finishes, exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgresql_restart_under_load_loses_no_acknowledged_job_and_the_maestro_reconnects() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    if pruebas::postgres::compartido().is_none() {
        return;
    }
    pruebas::registros::iniciar_logs("maestro=warn");
    let mut pg = pruebas::postgres::Postgres::iniciar().unwrap();
    let datos = tempfile::tempdir().unwrap();
    let mut config = config_maestro(datos.path());
    config.base = Some(base(&pg.base("reinicio").unwrap()).unwrap());
    let m = maestro(config, 0).await;
    let _e = esclavo(&m.url, "e1", 8).await;

    let aceptados = Arc::new(std::sync::Mutex::new(Vec::new()));
    let rechazos = Arc::new(AtomicUsize::new(0));
    let parar = Arc::new(AtomicBool::new(false));
    let enviador = {
        let (url, aceptados, rechazos, parar) = (
            m.url.clone(),
            aceptados.clone(),
            rechazos.clone(),
            parar.clone(),
        );
        tokio::spawn(async move {
            let cliente = reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap();
            let peticion = comun::api::PeticionTrabajo::espera(5, Prioridad::MEDIA);
            while !parar.load(Ordering::Relaxed) {
                let r = cliente
                    .post(format!("{url}/agregar_trabajo"))
                    .json(&peticion)
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status() == 200 => {
                        let id = r.json::<comun::api::RespuestaAgregar>().await.unwrap().id;
                        aceptados.lock().unwrap().push(id);
                    }
                    Ok(r) => {
                        assert!(r.status().is_server_error(), "{}", r.status());
                        rechazos.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    Err(e) => panic!("the maestro must answer, even without its store: {e}"),
                }
            }
        })
    };
    let aceptados_ya = || aceptados.lock().unwrap().len();
    esperar_hasta(Duration::from_secs(20), "100 jobs accepted", || async {
        aceptados_ya() >= 100
    })
    .await;
    pg.matar();
    esperar_hasta(Duration::from_secs(20), "submissions refused", || async {
        rechazos.load(Ordering::Relaxed) >= 5
    })
    .await;
    let a = estado(&m.url).await.almacen;
    assert!(!a.sano, "/estado tells the store is unreachable: {a:?}");
    assert!(a.error.is_some() && a.error_ms.is_some(), "{a:?}");
    let antes = aceptados_ya();
    pg.arrancar().unwrap();
    esperar_hasta(
        Duration::from_secs(30),
        "100 more jobs accepted after the restart",
        || async { aceptados_ya() >= antes + 100 },
    )
    .await;
    let a = estado(&m.url).await.almacen;
    assert!(a.sano && a.retenidos == 0, "healthy again: {a:?}");
    parar.store(true, Ordering::Relaxed);
    enviador.await.unwrap();
    let ids = aceptados.lock().unwrap().clone();
    for id in &ids {
        let t = esperar_final(&m.url, *id, Duration::from_secs(60)).await;
        assert_eq!(t.estado, comun::Estado::Completado, "{t:?}");
        let cerrados = t.intentos.iter().filter(|i| i.error.is_none()).count();
        assert_eq!(cerrados, 1, "one attempt gave the result: {t:?}");
    }
}

/// Fencing: a store opened under a leadership refuses every write once another replica has
/// taken the lease (a newer epoch), naming why, and writes nothing; a store opened under an
/// epoch that is not the current one is refused at once.
#[test]
fn a_leader_whose_lease_was_taken_over_can_write_nothing() {
    use maestro::almacen::postgres::lider;
    let Some(servidor) = pruebas::postgres::compartido() else {
        return;
    };
    let url = servidor.base("fencing").unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let pg = base(&url).unwrap();
    let (cliente, epoca) = rt.block_on(async {
        let mut c = maestro::almacen::postgres::conectar(&pg).await.unwrap();
        maestro::almacen::postgres::migrar(&mut c).await.unwrap();
        let plazo = Duration::from_millis(300);
        let e = lider::tomar(&c, "viejo", "http://viejo", plazo)
            .await
            .unwrap();
        (c, e.expect("a free lease is taken"))
    });
    let mut config = maestro::Config::new("/nonexistent");
    config.base = Some(pg);
    config.epoca_lider = Some(epoca);
    let (almacen, _) = Almacen::abrir(&config).unwrap();
    let (_, commit) = almacen.guardar_entrada(
        b"png".to_vec(),
        comun::imagenes::FormaPng {
            width: 1,
            height: 1,
            canales: 3,
        },
    );
    rt.block_on(commit.esperar()).expect("the leader writes");
    // Its lease runs out and another replica takes it: a newer epoch.
    std::thread::sleep(Duration::from_millis(400));
    let nueva = rt
        .block_on(lider::tomar(
            &cliente,
            "nuevo",
            "http://nuevo",
            Duration::from_secs(30),
        ))
        .unwrap();
    assert_eq!(nueva, Some(epoca + 1));
    let (_, commit) = almacen.guardar_entrada(
        b"tarde".to_vec(),
        comun::imagenes::FormaPng {
            width: 1,
            height: 1,
            canales: 3,
        },
    );
    let error = format!("{:#}", rt.block_on(commit.esperar()).unwrap_err());
    assert!(
        error.contains(&format!(
            "fenced: this maestro's leadership (epoch {epoca})"
        )),
        "{error}"
    );
    assert_eq!(psql(&url, "SELECT count(*) FROM entradas"), "1");
    let error = format!("{:#}", Almacen::abrir(&config).err().expect("refused"));
    assert!(error.contains("fenced"), "{error}");
}

/// The replica whose lease is valid in database `url`: empty until the first replica has made
/// the table, and while no lease is valid.
fn lider_vigente(url: &str) -> String {
    let bin = pruebas::postgres::binarios().unwrap();
    let sql = "SELECT replica FROM lider WHERE vence > now()";
    let salida = Command::new(bin.join("psql"))
        .args([url, "-XAtqc", sql])
        .output();
    salida.map_or(String::new(), |s| {
        String::from_utf8_lossy(&s.stdout).trim().to_owned()
    })
}

/// A maestro binary as replica `nombre` of database `url`, with a lease of 1.5 s; once it
/// has printed its address.
async fn replica(nombre: &str, url: &str) -> (tokio::process::Child, String) {
    let datos = tempfile::tempdir().unwrap().keep();
    let puerto = pruebas::direccion_libre().port();
    let args = ["--replica", nombre, "--plazo-lider-ms", "1500"];
    let hijo = maestro_binario_en(&datos, puerto, Some(url), &args).await;
    (hijo, format!("http://127.0.0.1:{puerto}"))
}

/// Two replicas on a new database `nombre`: `a`, which leads, and `b`, which follows.
struct DosReplicas {
    url: String,
    a: (tokio::process::Child, String),
    b: (tokio::process::Child, String),
}

impl DosReplicas {
    /// On the shared server; `None` without PostgreSQL.
    async fn iniciar(nombre: &str) -> Option<Self> {
        let url = pruebas::postgres::compartido()?.base(nombre).unwrap();
        Some(Self::en(url).await)
    }

    /// On the database `url`.
    async fn en(url: String) -> Self {
        let a = replica("a", &url).await;
        esperar_hasta(Duration::from_secs(20), "replica a leads", || async {
            lider_vigente(&url) == "a"
        })
        .await;
        let b = replica("b", &url).await;
        DosReplicas { url, a, b }
    }
}

/// `GET /estado` of `url`.
async fn estado(url: &str) -> comun::api::EstadoCluster {
    reqwest::get(format!("{url}/estado"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The replicas `/estado` shows, as `(name, role)`, and the leader's epoch.
async fn papeles(url: &str) -> (Vec<(String, &'static str)>, Option<i64>) {
    let e = estado(url).await;
    let papeles = e
        .replicas
        .iter()
        .map(|r| (r.nombre.clone(), r.papel()))
        .collect();
    (papeles, e.replicas.iter().find_map(|r| r.epoca))
}

/// Two replicas on one database: the first leads, the second forwards what it is asked; jobs
/// submitted to either run. The leader is SIGKILLed with jobs running: the follower takes
/// over by itself, and every job accepted by either, before or after, finishes exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_leader_dies_the_follower_takes_over_and_every_accepted_job_finishes_once() {
    let Some(r) = DosReplicas::iniciar("replicas").await else {
        return;
    };
    let DosReplicas {
        url,
        a: (mut a, url_a),
        b: (_b, url_b),
    } = r;
    let lider = || lider_vigente(&url);
    let _e = esclavo(&url_b, "e1", 4).await;
    assert_eq!(lider(), "a", "the second replica follows");
    // `/estado`, through the follower, shows both: a leads, b follows.
    let esperado = vec![("a".to_string(), "leader"), ("b".to_string(), "follower")];
    esperar_hasta(
        Duration::from_secs(10),
        "both replicas in /estado",
        || async { papeles(&url_b).await.0 == esperado },
    )
    .await;
    let (_, epoca_a) = papeles(&url_b).await;
    // The dashboard's event stream, through the follower: streamed, not buffered.
    let mut eventos = reqwest::get(format!("{url_b}/panel/eventos"))
        .await
        .unwrap();
    assert_eq!(eventos.status(), 200);
    let mut leido = String::new();
    while !leido.contains("event: resumen") {
        let trozo = tokio::time::timeout(Duration::from_secs(10), eventos.chunk())
            .await
            .unwrap_or_else(|_| panic!("no event through the follower in 10 s: {leido}"))
            .unwrap()
            .expect("the stream stays open");
        leido.push_str(&String::from_utf8_lossy(&trozo));
    }
    drop(eventos);
    // The overview, through the follower, lists both with their roles.
    let inicio = reqwest::get(format!("{url_b}/"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for esperado in [
        r#"data-replica="a" data-papel="leader""#,
        r#"data-replica="b" data-papel="follower""#,
    ] {
        assert!(inicio.contains(esperado), "{esperado} in {inicio}");
    }
    let e = estado(&url_b).await;
    let a_lidera = e.replicas.iter().find(|r| r.lider).unwrap();
    assert!(
        a_lidera.lider_desde_ms.is_some() && a_lidera.url == url_a,
        "{a_lidera:?}"
    );
    assert_eq!(e.almacen.tipo, "postgresql");
    let mut ids = Vec::new();
    for i in 0..60 {
        let donde = if i % 2 == 0 { &url_a } else { &url_b };
        ids.push(espera(donde, 100, Prioridad::MEDIA).await);
    }
    esperar_hasta(Duration::from_secs(20), "jobs running", || async {
        resumen(&url_b).await.completados >= 5
    })
    .await;
    a.start_kill().unwrap();
    a.wait().await.unwrap();
    let muerte = std::time::Instant::now();
    esperar_hasta(Duration::from_secs(20), "replica b leads", || async {
        lider() == "b"
    })
    .await;
    let relevo = muerte.elapsed();
    esperar_hasta(
        Duration::from_secs(20),
        "replica b answers as the maestro",
        || async {
            reqwest::get(format!("{url_b}/estado"))
                .await
                .is_ok_and(|r| r.status() == 200)
        },
    )
    .await;
    let respuesta = muerte.elapsed();
    println!(
        "takeover: lease taken {relevo:?} after the leader's SIGKILL, answering at {respuesta:?}"
    );
    assert!(relevo < Duration::from_secs(5), "{relevo:?}");
    // b leads now under a newer epoch; a, silent, is shown as such once two leases pass.
    let esperado = vec![("a".to_string(), "silent"), ("b".to_string(), "leader")];
    esperar_hasta(
        Duration::from_secs(10),
        "b leads in /estado, a silent",
        || async { papeles(&url_b).await.0 == esperado },
    )
    .await;
    let (_, epoca_b) = papeles(&url_b).await;
    assert!(
        epoca_b > epoca_a && epoca_a.is_some(),
        "{epoca_a:?} then {epoca_b:?}"
    );
    for _ in 0..20 {
        ids.push(espera(&url_b, 10, Prioridad::MEDIA).await);
    }
    for id in &ids {
        let t = esperar_final(&url_b, *id, Duration::from_secs(60)).await;
        assert_eq!(t.estado, comun::Estado::Completado, "{t:?}");
        let buenos = t
            .intentos
            .iter()
            .filter(|i| i.fin_ms.is_some() && i.error.is_none());
        assert_eq!(buenos.count(), 1, "one attempt gave the result: {t:?}");
    }
}

/// The database goes away under two replicas: the leader, unable to renew its lease for a
/// whole lease time, steps down (it answers as a follower: 503, nobody leads) rather than
/// keep esclavos it cannot dispatch to; when the database is back a replica leads again under
/// a newer epoch, by itself, and every job accepted before finishes once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_its_database_the_leader_steps_down_and_a_replica_leads_again_when_it_is_back() {
    if pruebas::postgres::compartido().is_none() {
        return;
    }
    let mut pg = pruebas::postgres::Postgres::iniciar().unwrap();
    let DosReplicas {
        url,
        a: (_a, url_a),
        b: (_b, url_b),
    } = DosReplicas::en(pg.base("caida").unwrap()).await;
    let mut config = esclavo::Config::new(format!("{url_a},{url_b}"), "e1");
    config.capacidad = 4;
    config.latido = Duration::from_millis(250);
    config.gracia = Duration::ZERO;
    let _e = Servicio::iniciar(|listener, parada| esclavo::run(config, listener, parada)).await;
    let mut ids = Vec::new();
    for _ in 0..40 {
        ids.push(espera(&url_a, 100, Prioridad::MEDIA).await);
    }
    esperar_hasta(Duration::from_secs(20), "jobs running", || async {
        resumen(&url_a).await.completados >= 4
    })
    .await;
    let (_, antes) = papeles(&url_a).await;
    pg.matar();
    esperar_hasta(Duration::from_secs(20), "the leader steps down", || async {
        reqwest::get(format!("{url_a}/estado"))
            .await
            .is_ok_and(|r| r.status() == 503)
    })
    .await;
    pg.arrancar().unwrap();
    esperar_hasta(Duration::from_secs(30), "a replica leads again", || async {
        !lider_vigente(&url).is_empty()
            && reqwest::get(format!("{url_b}/estado"))
                .await
                .is_ok_and(|r| r.status() == 200)
    })
    .await;
    let (_, despues) = papeles(&url_b).await;
    assert!(
        despues > antes && antes.is_some(),
        "{antes:?} then {despues:?}"
    );
    for id in &ids {
        let t = esperar_final(&url_b, *id, Duration::from_secs(60)).await;
        assert_eq!(t.estado, comun::Estado::Completado, "{t:?}");
        let buenos = t
            .intentos
            .iter()
            .filter(|i| i.fin_ms.is_some() && i.error.is_none());
        assert_eq!(buenos.count(), 1, "one attempt gave the result: {t:?}");
    }
}

/// A follower SIGKILLed: nothing happens to the jobs, and an esclavo that talked to it moves
/// on to the next replica of its list by itself (`--maestro b,a`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_a_follower_dies_its_esclavo_moves_on_and_the_jobs_finish() {
    let Some(r) = DosReplicas::iniciar("seguidor").await else {
        return;
    };
    let DosReplicas {
        url,
        a: (_a, url_a),
        b: (mut b, url_b),
    } = r;
    let lider = || lider_vigente(&url);
    // Registered through the follower, its first URL.
    let mut config = esclavo::Config::new(format!("{url_b},{url_a}"), "e1");
    config.capacidad = 4;
    config.latido = Duration::from_millis(250);
    config.gracia = Duration::ZERO;
    let _e = Servicio::iniciar(|listener, parada| esclavo::run(config, listener, parada)).await;
    esperar_hasta(Duration::from_secs(10), "esclavo registered", || {
        pruebas::sondas::esclavo_vivo(&url_a, "e1")
    })
    .await;
    let mut ids = Vec::new();
    for _ in 0..30 {
        ids.push(espera(&url_a, 100, Prioridad::MEDIA).await);
    }
    b.start_kill().unwrap();
    b.wait().await.unwrap();
    for _ in 0..30 {
        ids.push(espera(&url_a, 10, Prioridad::MEDIA).await);
    }
    for id in &ids {
        let t = esperar_final(&url_a, *id, Duration::from_secs(60)).await;
        assert_eq!(t.estado, comun::Estado::Completado, "{t:?}");
        assert_eq!(
            t.intentos.len(),
            1,
            "the follower's death cost no attempt: {t:?}"
        );
    }
    assert_eq!(lider(), "a");
    assert!(pruebas::sondas::esclavo_vivo(&url_a, "e1").await);
}

/// Says whether the files above ran on PostgreSQL, and which server.
#[test]
fn postgres_instalado() {
    match pruebas::postgres::binarios() {
        Some(bin) => {
            let servidor =
                pruebas::postgres::compartido().expect("a server where one is installed");
            println!(
                "PostgreSQL tests ran: {} (server binaries in {})",
                servidor.url("…"),
                bin.display()
            );
        }
        None => {
            let exigido = std::env::var(pruebas::postgres::EXIGIR).is_ok_and(|v| v == "1");
            assert!(!exigido, "{}", pruebas::postgres::aviso());
            println!("{}", pruebas::postgres::aviso());
        }
    }
}

//! The cliente's door: the real binary against an in-process maestro and esclavo.

mod apoyo;

use apoyo::{Cluster, cliente, png};
use comun::api::{EstadoCluster, RespuestaAgregar, RespuestaCarga, Trabajo};
use comun::{Estado, Parametros};

/// `trabajo` for a 16×12 julia of 20 iterations, computed sequentially.
const JULIA_16X12: [&str; 9] = [
    "trabajo",
    "--algoritmo",
    "Secuencial",
    "--width",
    "16",
    "--height",
    "12",
    "--iteraciones",
    "20",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_julia_job_waited_for_completes_and_its_png_can_be_saved() {
    let c = Cluster::new(1).await;
    let maestro = ["--maestro", c.url()];
    let s = cliente(&[&maestro[..], &JULIA_16X12, &["--esperar", "--json"]].concat()).await;
    let t: Trabajo = s.esperar_codigo(0).json();
    assert_eq!(t.estado, Estado::Completado, "{t:#?}");
    assert!(matches!(t.parametros, Parametros::Julia(p) if p.width == 16 && p.height == 12));
    assert!(t.resultado.as_ref().is_some_and(|r| r.imagen), "{t:#?}");

    let dir = tempfile::tempdir().unwrap();
    let ruta = dir.path().join("sub/f.png");
    let id = t.id.to_string();
    let s = cliente(&[
        "--maestro",
        c.url(),
        "resultado",
        &id,
        "--imagen",
        ruta.to_str().unwrap(),
    ])
    .await;
    s.esperar_codigo(0);
    assert!(s.stdout.contains("completado"), "{s:#?}");
    assert!(s.stdout.contains("checksum"), "{s:#?}");
    assert_eq!(png(&ruta), (16, 12));
    c.parar().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_espera_job_with_imagen_is_refused_before_it_is_queued() {
    let c = Cluster::new(1).await;
    let s = cliente(&[
        "--maestro",
        c.url(),
        "trabajo",
        "--tipo",
        "espera",
        "--ms",
        "1",
        "--imagen",
        "x.png",
    ])
    .await;
    s.esperar_codigo(1);
    assert!(s.stderr.contains("imagen"), "{s:#?}");
    let s = cliente(&["--maestro", c.url(), "trabajo", "--tipo", "espera"]).await;
    s.esperar_codigo(1);
    assert!(s.stderr.contains("ms: missing"), "{s:#?}");
    c.parar().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cargar_trabajos_reports_the_rejected_line_by_number_and_waits_for_the_rest() {
    let c = Cluster::new(1).await;
    let dir = tempfile::tempdir().unwrap();
    let archivo = dir.path().join("trabajos.txt");
    std::fs::write(
        &archivo,
        "# mis trabajos\nSecuencial,8,8,5,1\nFoo,8,8,5,1\nespera,1\n",
    )
    .unwrap();
    let f = archivo.to_str().unwrap();

    let s = cliente(&["--maestro", c.url(), "cargar_trabajos", "--archivo", f]).await;
    s.esperar_codigo(0);
    assert!(s.stdout.contains("2 jobs queued"), "{s:#?}");
    assert!(s.stdout.contains("line 3: algoritmo:"), "{s:#?}");
    assert!(s.stdout.contains("Foo,8,8,5,1"), "{s:#?}");

    let s = cliente(&[
        "--maestro",
        c.url(),
        "cargar_trabajos",
        "--archivo",
        f,
        "--esperar",
        "--json",
    ])
    .await;
    let v: serde_json::Value = s.esperar_codigo(0).json();
    let carga: RespuestaCarga = serde_json::from_value(v["carga"].clone()).unwrap();
    assert_eq!(carga.cargados, 2);
    assert_eq!(carga.rechazadas.len(), 1);
    assert_eq!(carga.rechazadas[0].linea, 3);
    let trabajos: Vec<Trabajo> = serde_json::from_value(v["trabajos"].clone()).unwrap();
    assert_eq!(trabajos.len(), 2);
    assert!(
        trabajos.iter().all(|t| t.estado == Estado::Completado),
        "{trabajos:#?}"
    );

    let s = cliente(&[
        "--maestro",
        c.url(),
        "cargar_trabajos",
        "--archivo",
        "no-existe.txt",
    ])
    .await;
    s.esperar_codigo(1);
    assert!(s.stderr.contains("no-existe.txt"), "{s:#?}");
    c.parar().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pending_job_can_be_cancelled_once() {
    // No esclavo: whatever is queued stays pending.
    let datos = tempfile::tempdir().unwrap();
    let m = apoyo::maestro(datos.path()).await;
    let s = cliente(&[
        "--maestro",
        &m.url,
        "trabajo",
        "--tipo",
        "espera",
        "--ms",
        "5",
        "--json",
    ])
    .await;
    let r: RespuestaAgregar = s.esperar_codigo(0).json();
    let id = r.id.to_string();

    let s = cliente(&["--maestro", &m.url, "resultado", &id]).await;
    s.esperar_codigo(0);
    assert!(s.stdout.contains("pendiente"), "{s:#?}");
    assert!(s.stdout.contains("motivo: no esclavo"), "{s:#?}");

    let s = cliente(&["--maestro", &m.url, "cancelar", &id]).await;
    s.esperar_codigo(0);
    assert!(s.stdout.contains("cancelado"), "{s:#?}");
    let s = cliente(&["--maestro", &m.url, "resultado", &id, "--json"]).await;
    let t: Trabajo = s.esperar_codigo(0).json();
    assert_eq!(t.estado, Estado::Cancelado);

    let s = cliente(&["--maestro", &m.url, "cancelar", &id]).await;
    s.esperar_codigo(1);
    assert!(s.stderr.contains("already cancelado"), "{s:#?}");
    assert!(s.stderr.contains("HTTP 409"), "{s:#?}");

    cliente(&[
        "--maestro",
        &m.url,
        "trabajo",
        "--tipo",
        "espera",
        "--ms",
        "5",
    ])
    .await
    .esperar_codigo(0);
    let s = cliente(&["--maestro", &m.url, "limpiar_cola"]).await;
    s.esperar_codigo(0);
    assert!(s.stdout.contains("1 pending jobs cancelled"), "{s:#?}");
    m.parar().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn estado_and_trabajos_print_json_that_parses_and_tables_for_people() {
    let c = Cluster::new(1).await;
    cliente(&[
        "--maestro",
        c.url(),
        "trabajo",
        "--tipo",
        "espera",
        "--ms",
        "1",
        "--esperar",
    ])
    .await
    .esperar_codigo(0);
    let s = cliente(&["--maestro", c.url(), "estado", "--json"]).await;
    let e: EstadoCluster = s.esperar_codigo(0).json();
    assert_eq!(e.esclavos.len(), 1);
    assert_eq!(e.resumen.completados, 1);

    let s = cliente(&["--maestro", c.url(), "estado"]).await;
    s.esperar_codigo(0);
    assert!(s.stdout.contains("esclavo1"), "{s:#?}");
    assert!(s.stdout.contains("1 completados"), "{s:#?}");
    assert!(s.stdout.contains("store: sqlite "), "{s:#?}");
    assert!(
        s.stdout.contains("maestro.db, healthy (last commit"),
        "{s:#?}"
    );

    let s = cliente(&["--maestro", c.url(), "trabajos", "--estado", "completado"]).await;
    s.esperar_codigo(0);
    assert!(s.stdout.contains("espera 1 ms"), "{s:#?}");
    assert!(s.stdout.contains("1 of 1 jobs completado"), "{s:#?}");
    c.parar().await;
}

/// `--maestro a,b`: with the first replica down, reads and a submission go to the next one,
/// and the table says which maestro answered; with none up, the error names a URL tried.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_several_maestro_urls_the_cliente_moves_on_past_one_that_is_down() {
    let c = Cluster::new(1).await;
    let caida = format!("http://{}", pruebas::direccion_libre());
    let lista = format!("{caida},{}", c.url());
    let s = cliente(&[
        "--maestro",
        &lista,
        "trabajo",
        "--tipo",
        "espera",
        "--ms",
        "1",
        "--esperar",
        "--json",
    ])
    .await;
    let t: Trabajo = s.esperar_codigo(0).json();
    assert_eq!(t.estado, Estado::Completado, "{s:#?}");
    let s = cliente(&["--maestro", &lista, "estado"]).await;
    s.esperar_codigo(0);
    assert!(
        s.stdout.contains(c.url()),
        "the maestro that answered: {s:#?}"
    );
    let otra = format!("http://{}", pruebas::direccion_libre());
    let s = cliente(&["--maestro", &format!("{caida},{otra}"), "estado"]).await;
    assert_ne!(s.codigo, Some(0), "{s:#?}");
    assert!(s.stderr.contains("127.0.0.1"), "{s:#?}");
    c.parar().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_original_comando_spelling_works_end_to_end() {
    let c = Cluster::new(1).await;
    let s = cliente(&[&["--maestro", c.url(), "--comando"][..], &JULIA_16X12].concat()).await;
    s.esperar_codigo(0);
    assert!(s.stdout.contains("queued: julia 16×12×20"), "{s:#?}");
    let s = cliente(&["--comando=estado", "--maestro", c.url()]).await;
    s.esperar_codigo(0);
    assert!(s.stdout.contains("esclavo1"), "{s:#?}");
    c.parar().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_maestro_exits_2_with_a_hint() {
    let libre = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", libre.local_addr().unwrap());
    drop(libre);
    let s = cliente(&["--maestro", &url, "estado"]).await;
    s.esperar_codigo(2);
    assert!(
        s.stderr
            .contains(&format!("is the maestro running at {url}")),
        "{s:#?}"
    );
    assert!(s.stderr.contains("cliente local"), "{s:#?}");
    let s = cliente(&["--maestro", &url, "--json", "trabajos"]).await;
    s.esperar_codigo(2);
    let cuerpo: comun::CuerpoError = s.json();
    assert!(cuerpo.error.contains("cannot reach"), "{s:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drenar_keeps_new_jobs_off_an_esclavo_and_names_an_unknown_one() {
    let c = Cluster::new(1).await;
    let s = cliente(&["--maestro", c.url(), "drenar", "nadie"]).await;
    s.esperar_codigo(1);
    assert!(
        s.stderr.contains(r#"no esclavo is named "nadie""#),
        "{s:#?}"
    );
    let s = cliente(&["--maestro", c.url(), "drenar", "esclavo1"]).await;
    s.esperar_codigo(0);
    assert!(s.stdout.contains("esclavo esclavo1 draining"), "{s:#?}");
    let s = cliente(&["--maestro", c.url(), "--json", "estado"]).await;
    let e: EstadoCluster = s.esperar_codigo(0).json();
    assert!(e.esclavos.iter().all(|e| e.drenando), "{:?}", e.esclavos);
    // A job now waits: its only esclavo drains.
    let s = cliente(&[
        "--maestro",
        c.url(),
        "--json",
        "trabajo",
        "--tipo",
        "espera",
        "--ms",
        "1",
    ])
    .await;
    let r: RespuestaAgregar = s.esperar_codigo(0).json();
    let t: Trabajo = reqwest::get(format!("{}/trabajos/{}?esperar_ms=1000", c.url(), r.id))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(t.estado, Estado::Pendiente, "still, a second later: {t:#?}");
    c.parar().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_of_the_maestro_exits_1_with_its_message() {
    let c = Cluster::new(1).await;
    let s = cliente(&["--maestro", c.url(), "resultado", "999999"]).await;
    s.esperar_codigo(1);
    assert!(s.stderr.contains("no job 999999"), "{s:#?}");
    let s = cliente(&["--maestro", c.url(), "--json", "resultado", "999999"]).await;
    s.esperar_codigo(1);
    let cuerpo: comun::CuerpoError = s.json();
    assert_eq!(cuerpo.error, "no job 999999");
    c.parar().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_help_teaches_the_commands_and_the_jobs_file_format() {
    let s = cliente(&["--help"]).await;
    s.esperar_codigo(0);
    for palabra in [
        "cliente local",
        "cargar_trabajos",
        "--comando",
        "Exit status",
    ] {
        assert!(s.stdout.contains(palabra), "{palabra}: {s:#?}");
    }
    let s = cliente(&["cargar_trabajos", "--help"]).await;
    s.esperar_codigo(0);
    assert!(
        s.stdout
            .contains("algoritmo,width,height,iteraciones,prioridad"),
        "{s:#?}"
    );
    let s = cliente(&["carga", "--help"]).await;
    s.esperar_codigo(0);
    assert!(s.stdout.contains("~1,600 tasks/s"), "{s:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trabajos_follows_the_cursor_and_retry_and_priority_change_jobs() {
    // No esclavo: whatever is queued stays pending.
    let datos = tempfile::tempdir().unwrap();
    let m = apoyo::maestro(datos.path()).await;
    let maestro = ["--maestro", m.url.as_str()];
    for prioridad in ["1", "2", "2", "3", "3"] {
        let espera = [
            "trabajo",
            "--tipo",
            "espera",
            "--ms",
            "5",
            "--prioridad",
            prioridad,
        ];
        cliente(&[&maestro[..], &espera].concat())
            .await
            .esperar_codigo(0);
    }
    let s = cliente(&[&maestro[..], &["trabajos", "--limite", "3"]].concat()).await;
    s.esperar_codigo(0);
    assert!(
        s.stdout
            .contains("3 of 5 jobs (newest first; more: --cursor t3"),
        "{s:#?}"
    );
    let s = cliente(
        &[
            &maestro[..],
            &["trabajos", "--todos", "--prioridad", "baja"],
        ]
        .concat(),
    )
    .await;
    s.esperar_codigo(0);
    assert!(
        s.stdout
            .contains("2 of 2 jobs with prioridad=3 (newest first)"),
        "{s:#?}"
    );
    let s = cliente(&[&maestro[..], &["trabajos", "--cursor", "t2", "--json"]].concat()).await;
    let l: comun::api::ListaTrabajos = s.esperar_codigo(0).json();
    assert_eq!(
        l.trabajos.iter().map(|t| t.id.0).collect::<Vec<_>>(),
        vec![1]
    );

    let s = cliente(&[&maestro[..], &["prioridad", "5", "alta"]].concat()).await;
    s.esperar_codigo(0);
    assert!(
        s.stdout.contains("job 5 now has priority 1 (alta)"),
        "{s:#?}"
    );
    let s = cliente(&[&maestro[..], &["reintentar", "5"]].concat()).await;
    s.esperar_codigo(1);
    assert!(s.stderr.contains("job 5 is pendiente"), "{s:#?}");
    assert!(s.stderr.contains("HTTP 409"), "{s:#?}");
    cliente(&[&maestro[..], &["cancelar", "5"]].concat())
        .await
        .esperar_codigo(0);
    let s = cliente(&[&maestro[..], &["reintentar", "5", "--json"]].concat()).await;
    let r: comun::api::RespuestaAccion = s.esperar_codigo(0).json();
    assert_eq!(
        (r.estado, r.prioridad),
        (Estado::Pendiente, comun::Prioridad::ALTA)
    );

    // 2,500 more: the cliente asks for 1,000 at a time and follows the cursor.
    let lote = comun::api::PeticionLote {
        trabajos: vec![comun::api::PeticionTrabajo::espera(5, comun::Prioridad::BAJA); 2500],
    };
    let r = reqwest::Client::new()
        .post(format!("{}/trabajos", m.url))
        .json(&lote)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let ids = |s: apoyo::Salida| -> Vec<u64> {
        let l: comun::api::ListaTrabajos = s.esperar_codigo(0).json();
        l.trabajos.iter().map(|t| t.id.0).collect()
    };
    let todos = ids(cliente(&[&maestro[..], &["trabajos", "--todos", "--json"]].concat()).await);
    assert_eq!(todos, (1..=2505).rev().collect::<Vec<_>>());
    let s = cliente(&[&maestro[..], &["trabajos", "--limite", "1500", "--json"]].concat()).await;
    assert_eq!(ids(s), (1006..=2505).rev().collect::<Vec<_>>());
    m.parar().await;
}

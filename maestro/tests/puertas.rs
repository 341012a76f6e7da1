//! A job reaches `completado` through each door: the API, an upload or a named file through
//! `/cargar_trabajos`, and an edit of the watched jobs file (exactly the new lines, once, also
//! across a restart); a file saved with a byte-order mark loads as it reads.

mod apoyo;

use std::time::Duration;

use apoyo::*;
use comun::api::{Detalle, EstadoCluster, InformeArchivo, PeticionTrabajo, RespuestaCarga};
use comun::trabajo::ParamsJulia;
use comun::{Algoritmo, Estado, Prioridad};

const PLAZO: Duration = Duration::from_secs(30);

/// The watched file's report in `GET /estado`.
async fn informe_del_archivo(url: &str) -> InformeArchivo {
    let estado: EstadoCluster = reqwest::get(format!("{url}/estado"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    estado.archivo.expect("a file report")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_julia_job_submitted_through_the_api_completes_with_its_checksum_and_image() {
    let datos = tempfile::tempdir().unwrap();
    let m = maestro(config_maestro(datos.path()), 0).await;
    let e = esclavo(&m.url, "e1", 2).await;
    let p = ParamsJulia::new(40, 30, 60).unwrap();
    for algoritmo in [Algoritmo::Secuencial, Algoritmo::Paralelo] {
        let id = agregar(
            &m.url,
            &PeticionTrabajo::julia(algoritmo, p, Prioridad::ALTA),
        )
        .await;
        let t = esperar_final(&m.url, id, PLAZO).await;
        assert_eq!(t.estado, Estado::Completado, "{t:?}");
        assert_eq!(t.esclavo.as_deref(), Some("e1"));
        assert_eq!(t.intentos.len(), 1);
        let r = t.resultado.expect("a result");
        let esperado = kernels::julia(&p, Algoritmo::Secuencial).unwrap().suma();
        match r.detalle {
            Detalle::Julia {
                suma_conteos,
                pixeles,
                ..
            } => {
                assert_eq!(suma_conteos, esperado);
                assert_eq!(pixeles, 1200);
            }
            otro => panic!("unexpected detail {otro:?}"),
        }
        assert!(r.imagen);
        let png = reqwest::get(format!("{}/trabajos/{id}/imagen", m.url))
            .await
            .unwrap();
        assert_eq!(png.status(), 200);
        assert_eq!(png.headers()["content-type"], "image/png");
        assert_eq!(&png.bytes().await.unwrap()[..8], b"\x89PNG\r\n\x1a\n");
    }
    // `/estado` names the store the jobs went to, healthy, with a commit; no replicas.
    let estado: EstadoCluster = reqwest::get(format!("{}/estado", m.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let a = &estado.almacen;
    let tipo = if en_postgres() {
        "postgresql"
    } else {
        "sqlite"
    };
    assert_eq!(a.tipo, tipo, "{a:?}");
    assert!(a.sano && a.error.is_none() && a.retenidos == 0, "{a:?}");
    assert!(a.ultimo_commit_ms.is_some(), "{a:?}");
    if !en_postgres() {
        assert!(a.ubicacion.ends_with("maestro.db"), "{a:?}");
    }
    assert!(estado.replicas.is_empty(), "{:?}", estado.replicas);
    e.parar().await;
    m.parar().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploaded_and_named_jobs_files_are_queued_and_report_their_bad_lines() {
    let datos = tempfile::tempdir().unwrap();
    let m = maestro(config_maestro(datos.path()), 0).await;
    let http = reqwest::Client::new();
    let texto = "# jobs\nSecuencial,8,8,10,1\nNumpy,8,8,10\nFoo,1,1,1,1\nespera,0,3\n";
    let cargar = http.post(format!("{}/cargar_trabajos", m.url));
    let r: RespuestaCarga =
        respuesta(cargar.json(&serde_json::json!({ "contenido": texto }))).await;
    assert_eq!(r.cargados, 3);
    assert_eq!(r.rechazadas.len(), 1);
    assert_eq!(r.rechazadas[0].linea, 4);
    assert!(
        r.rechazadas[0].motivo.starts_with("algoritmo:"),
        "{:?}",
        r.rechazadas
    );

    std::fs::write(
        datos.path().join("trabajos/lote.txt"),
        "juliaCython,4,4,4,2\n",
    )
    .unwrap();
    let cargar = http.post(format!("{}/cargar_trabajos", m.url));
    let r: RespuestaCarga =
        respuesta(cargar.json(&serde_json::json!({ "archivo": "lote.txt" }))).await;
    assert_eq!((r.cargados, r.rechazadas.len()), (1, 0));

    let e = esclavo(&m.url, "e1", 2).await;
    let final_ = esperar_vacia(&m.url, PLAZO).await;
    assert_eq!(final_.completados, 4);
    let t = trabajo(&m.url, r.ids[0]).await;
    assert_eq!(t.origen.to_string(), "lote.txt:1");
    e.parar().await;
    m.parar().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_of_the_watched_file_queue_exactly_the_new_lines_once_even_across_restarts() {
    let datos = tempfile::tempdir().unwrap();
    let archivo = datos.path().join("trabajos.txt");
    std::fs::write(
        &archivo,
        "Secuencial,8,6,20,1\nespera,0\nParalelo,8,x,20,2\n",
    )
    .unwrap();
    let mut config = config_maestro(&datos.path().join("datos"));
    config.archivo = Some(archivo.clone());
    let m = maestro(config.clone(), 0).await;
    let e = esclavo(&m.url, "e1", 2).await;
    esperar_hasta(PLAZO, "the two good lines complete", || async {
        resumen(&m.url).await.completados == 2
    })
    .await;
    let informe = informe_del_archivo(&m.url).await;
    assert_eq!(informe.rechazadas.len(), 1);
    assert_eq!(informe.rechazadas[0].linea, 3);
    assert!(
        informe.rechazadas[0].motivo.starts_with("height:"),
        "{informe:?}"
    );

    // Append one new line and a repeat of an existing one: both are new jobs. Fix line 3.
    std::fs::write(
        &archivo,
        "Secuencial,8,6,20,1\nespera,0\nParalelo,8,6,20,2\nespera,5\nespera,0\n",
    )
    .unwrap();
    esperar_hasta(PLAZO, "the three new lines complete", || async {
        resumen(&m.url).await.completados == 5
    })
    .await;
    e.parar().await;
    m.parar().await;

    // A restart on the same data folder queues nothing again; a later append queues one job.
    let m = maestro(config, 0).await;
    let e = esclavo(&m.url, "e1", 2).await;
    let antes = esperar_vacia(&m.url, PLAZO).await;
    assert_eq!(antes.total(), 5, "{antes:?}");
    let mut texto = std::fs::read_to_string(&archivo).unwrap();
    texto.push_str("espera,1,1\n");
    std::fs::write(&archivo, texto).unwrap();
    esperar_hasta(PLAZO, "the appended line completes", || async {
        resumen(&m.url).await.completados == 6
    })
    .await;
    let r = esperar_vacia(&m.url, PLAZO).await;
    assert_eq!(r.total(), 6, "{r:?}");
    e.parar().await;
    m.parar().await;
}

/// A file saved by a Windows editor starts with a UTF-8 byte-order mark: the first line (a
/// comment here) is still a comment, the good lines load and only the bad one is reported, in
/// the watched file and in an upload alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jobs_file_with_a_byte_order_mark_loads_its_good_lines_and_rejects_only_the_bad() {
    let datos = tempfile::tempdir().unwrap();
    let archivo = datos.path().join("trabajos.txt");
    let texto = "\u{feff}# saved by Notepad\r\nSecuencial,8,6,20,1\r\nFoo,1,1,1,1\r\nespera,0\r\n";
    std::fs::write(&archivo, texto).unwrap();
    let mut config = config_maestro(&datos.path().join("datos"));
    config.archivo = Some(archivo.clone());
    let m = maestro(config, 0).await;
    let e = esclavo(&m.url, "e1", 2).await;
    esperar_hasta(PLAZO, "the two good lines complete", || async {
        resumen(&m.url).await.completados == 2
    })
    .await;
    let informe = informe_del_archivo(&m.url).await;
    let lineas: Vec<usize> = informe.rechazadas.iter().map(|r| r.linea).collect();
    assert_eq!(lineas, [3], "{informe:?}");

    let cargar = reqwest::Client::new().post(format!("{}/cargar_trabajos", m.url));
    let r: RespuestaCarga =
        respuesta(cargar.json(&serde_json::json!({ "contenido": texto }))).await;
    assert_eq!(r.cargados, 2, "{r:?}");
    let lineas: Vec<usize> = r.rechazadas.iter().map(|r| r.linea).collect();
    assert_eq!(lineas, [3], "{r:?}");
    let final_ = esperar_vacia(&m.url, PLAZO).await;
    assert_eq!(final_.completados, 4, "{final_:?}");
    e.parar().await;
    m.parar().await;
}

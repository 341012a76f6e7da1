//! The esclavo over real HTTP on loopback, against a fake maestro that records what it gets.

#[allow(dead_code)]
mod apoyo;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use apoyo::{EsclavoDePrueba, MaestroFalso, PLAZO, a_tiempo, config};
use axum::http::StatusCode;
use base64::Engine as _;
use comun::TrabajoId;
use comun::api::Detalle;
use comun::nodo::{InformeResultado, Salida};
use pruebas::Falso as _;
use pruebas::esperar_hasta;
use serde_json::json;
use tokio::net::TcpListener;

fn espera(id: u64, intento: u32, ms: u64) -> serde_json::Value {
    json!({"id": id, "intento": intento, "tipo": "espera", "ms": ms, "algoritmo": "Secuencial"})
}

fn peticion(trabajos: Vec<serde_json::Value>) -> serde_json::Value {
    json!({ "trabajos": trabajos })
}

/// The results the maestro got for job `id`.
fn resultados_de(m: &MaestroFalso, id: u64) -> Vec<InformeResultado> {
    m.recibido()
        .resultados
        .iter()
        .filter(|i| i.id == TrabajoId(id))
        .cloned()
        .collect()
}

#[tokio::test]
async fn registers_at_start_and_waits_for_a_maestro_that_starts_late() {
    let direccion = pruebas::direccion_libre();
    let e = EsclavoDePrueba::iniciar(config(&format!("http://{direccion}"))).await;
    // Let it fail a few times against the closed port before the maestro exists.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!e.estado().await.registrado);

    let maestro = Arc::new(MaestroFalso::default());
    maestro.servir(TcpListener::bind(direccion).await.unwrap());
    esperar_hasta(PLAZO, "the esclavo registers", || async {
        !maestro.recibido().registros.is_empty()
    })
    .await;

    let r = maestro.recibido().registros[0].clone();
    assert_eq!(r.nombre, "e-prueba");
    assert_eq!(r.url, e.url);
    assert_eq!(r.capacidad, 2);
    assert!(r.capacidades.nucleos >= 1 && r.capacidades.memoria_bytes > 0);
    assert!(r.capacidades.gpus.is_empty(), "no GPU described or found");
    assert_eq!(r.capacidad_gpu, 0);
    let estado = e.estado().await;
    assert!(estado.registrado);
    assert_eq!(estado.instancia, r.instancia);
    esperar_hasta(PLAZO, "heartbeats arrive", || async {
        !maestro.recibido().latidos.is_empty()
    })
    .await;
    e.parar().await.unwrap();
}

#[tokio::test]
async fn registers_again_by_itself_when_a_heartbeat_gets_404() {
    let (maestro, url) = MaestroFalso::iniciar().await;
    let e = EsclavoDePrueba::iniciar(config(&url)).await;
    esperar_hasta(PLAZO, "a heartbeat arrives", || async {
        !maestro.recibido().latidos.is_empty()
    })
    .await;

    maestro.olvidar.store(true, Ordering::SeqCst);
    esperar_hasta(PLAZO, "the esclavo registers a second time", || async {
        maestro.recibido().registros.len() == 2
    })
    .await;
    e.parar().await.unwrap();

    let recibido = maestro.recibido();
    let (primero, segundo) = (&recibido.registros[0], &recibido.registros[1]);
    assert_eq!(
        primero.instancia, segundo.instancia,
        "same process, same instance"
    );
    let l = recibido.latidos.last().unwrap();
    assert_eq!(
        (l.nombre.as_str(), l.instancia),
        ("e-prueba", primero.instancia)
    );
    assert!(l.carga.memoria_total > 0);
}

#[tokio::test]
async fn an_espera_result_reaches_the_maestro_with_id_intento_and_instancia() {
    let (maestro, url) = MaestroFalso::iniciar().await;
    let e = EsclavoDePrueba::iniciar(config(&url)).await;

    let (estado, cuerpo) = e.ejecutar(peticion(vec![espera(7, 2, 20)])).await;
    assert_eq!(estado, StatusCode::OK, "{cuerpo}");
    assert_eq!(cuerpo["aceptados"], json!([7]));
    esperar_hasta(PLAZO, "the result of job 7 arrives", || async {
        !resultados_de(&maestro, 7).is_empty()
    })
    .await;

    let informe = resultados_de(&maestro, 7).remove(0);
    assert_eq!((informe.intento, informe.esclavo.as_str()), (2, "e-prueba"));
    esperar_hasta(PLAZO, "the esclavo registers", || async {
        !maestro.recibido().registros.is_empty()
    })
    .await;
    assert_eq!(informe.instancia, maestro.recibido().registros[0].instancia);
    let Salida::Completado {
        resultado,
        imagen_png,
    } = informe.salida
    else {
        panic!("espera failed: {:?}", informe.salida);
    };
    assert_eq!(resultado.detalle, Detalle::Espera { ms: 20 });
    assert_eq!(resultado.dispositivo, "cpu");
    assert!(resultado.duracion_s >= 0.02 && !resultado.imagen && imagen_png.is_none());

    esperar_hasta(PLAZO, "the esclavo has nothing left to send", || async {
        e.estado().await.resultados_por_enviar == 0
    })
    .await;
    let estado = e.estado().await;
    assert_eq!((estado.completados, estado.fallidos), (1, 0));
    assert!(estado.ejecutando.is_empty());
    assert_eq!(
        (estado.historial[0].id, estado.historial[0].intento),
        (TrabajoId(7), 2)
    );
    e.parar().await.unwrap();
}

#[tokio::test]
async fn a_julia_result_carries_a_png_that_decodes() {
    let (maestro, url) = MaestroFalso::iniciar().await;
    let e = EsclavoDePrueba::iniciar(config(&url)).await;
    let julia = json!({"id": 3, "intento": 1, "tipo": "julia", "width": 16, "height": 16,
                       "iteraciones": 50, "algoritmo": "Secuencial"});

    let (estado, cuerpo) = e.ejecutar(peticion(vec![julia])).await;
    assert_eq!(estado, StatusCode::OK, "{cuerpo}");
    esperar_hasta(PLAZO, "the result of job 3 arrives", || async {
        !resultados_de(&maestro, 3).is_empty()
    })
    .await;

    let Salida::Completado {
        resultado,
        imagen_png,
    } = resultados_de(&maestro, 3).remove(0).salida
    else {
        panic!("julia failed");
    };
    assert!(resultado.imagen);
    assert!(matches!(
        resultado.detalle,
        Detalle::Julia { pixeles: 256, .. }
    ));
    let png = base64::engine::general_purpose::STANDARD
        .decode(imagen_png.expect("a julia result carries its image"))
        .unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let info = png::Decoder::new(std::io::Cursor::new(png))
        .read_info()
        .unwrap()
        .info()
        .clone();
    assert_eq!((info.width, info.height), (16, 16));
    e.parar().await.unwrap();
}

#[tokio::test]
async fn a_full_esclavo_answers_503_and_says_it_is_busy() {
    let (maestro, url) = MaestroFalso::iniciar().await;
    let mut c = config(&url);
    c.capacidad = 1;
    let e = EsclavoDePrueba::iniciar(c).await;

    let (estado, _) = e.ejecutar(peticion(vec![espera(1, 1, 2000)])).await;
    assert_eq!(estado, StatusCode::OK);
    let (estado, cuerpo) = e.ejecutar(peticion(vec![espera(2, 1, 10)])).await;
    assert_eq!(estado, StatusCode::SERVICE_UNAVAILABLE, "{cuerpo}");
    assert_eq!(cuerpo["aceptados"], json!([]));
    assert_eq!(cuerpo["rechazados"][0]["id"], 2);
    let motivo = cuerpo["rechazados"][0]["motivo"].as_str().unwrap();
    assert!(
        motivo.contains("ocupado") && motivo.contains("1/1"),
        "{motivo}"
    );

    // Repeating the running attempt is idempotent: accepted, not started twice.
    let (estado, cuerpo) = e.ejecutar(peticion(vec![espera(1, 1, 2000)])).await;
    assert_eq!(
        (estado, &cuerpo["aceptados"]),
        (StatusCode::OK, &json!([1]))
    );
    assert_eq!(e.estado().await.ejecutando.len(), 1);
    esperar_hasta(PLAZO, "a heartbeat lists the running job", || async {
        maestro
            .recibido()
            .latidos
            .iter()
            .any(|l| l.ejecutando == [TrabajoId(1)])
    })
    .await;
    e.parar().await.unwrap();
}

#[tokio::test]
async fn results_stay_in_memory_until_a_failing_maestro_accepts_them() {
    let (maestro, url) = MaestroFalso::iniciar().await;
    maestro.fallar_resultados.store(3, Ordering::SeqCst);
    let e = EsclavoDePrueba::iniciar(config(&url)).await;

    let (estado, _) = e.ejecutar(peticion(vec![espera(5, 1, 0)])).await;
    assert_eq!(estado, StatusCode::OK);
    esperar_hasta(
        PLAZO,
        "the result of job 5 arrives after the 500s",
        || async { !resultados_de(&maestro, 5).is_empty() },
    )
    .await;

    assert_eq!(
        maestro.recibido().envios_de_resultados,
        4,
        "three 500s, then a 200"
    );
    assert_eq!(resultados_de(&maestro, 5).len(), 1);
    esperar_hasta(PLAZO, "nothing is left to send", || async {
        e.estado().await.resultados_por_enviar == 0
    })
    .await;
    e.parar().await.unwrap();
}

#[tokio::test]
async fn a_thousand_espera_jobs_all_report_back_in_batches() {
    let (maestro, url) = MaestroFalso::iniciar().await;
    let mut c = config(&url);
    c.capacidad = 1000;
    let e = EsclavoDePrueba::iniciar(c).await;

    let trabajos = (1..=1000).map(|id| espera(id, 1, 50)).collect();
    let (estado, cuerpo) = e.ejecutar(peticion(trabajos)).await;
    assert_eq!(estado, StatusCode::OK);
    assert_eq!(cuerpo["aceptados"].as_array().unwrap().len(), 1000);
    esperar_hasta(PLAZO, "all 1000 results arrive", || async {
        maestro.recibido().resultados.len() >= 1000
    })
    .await;
    e.parar().await.unwrap();

    let recibido = maestro.recibido();
    let ids: BTreeSet<u64> = recibido.resultados.iter().map(|i| i.id.0).collect();
    assert_eq!((ids.len(), recibido.resultados.len()), (1000, 1000));
    assert!(recibido.envios_de_resultados < 1000, "results were batched");
}

#[tokio::test]
async fn a_malformed_body_is_refused_naming_the_field_and_starts_nothing() {
    let (_maestro, url) = MaestroFalso::iniciar().await;
    let e = EsclavoDePrueba::iniciar(config(&url)).await;

    let mut mala = espera(1, 1, 10);
    mala["algoritmo"] = json!("Fortran");
    let (estado, cuerpo) = e.ejecutar(peticion(vec![espera(2, 1, 10), mala])).await;
    assert_eq!(estado, StatusCode::UNPROCESSABLE_ENTITY, "{cuerpo}");
    assert_eq!(cuerpo["campo"], "trabajos[1].algoritmo");
    assert!(
        cuerpo["error"].as_str().unwrap().contains("Fortran"),
        "{cuerpo}"
    );

    let (estado, cuerpo) = e.ejecutar(peticion(vec![espera(3, 1, 3_600_001)])).await;
    assert_eq!(estado, StatusCode::UNPROCESSABLE_ENTITY, "{cuerpo}");
    assert_eq!(cuerpo["campo"], "trabajos[0].ms");
    assert_eq!(cuerpo["limite"], 3_600_000);

    let estado = e.estado().await;
    assert!(estado.ejecutando.is_empty() && estado.historial.is_empty());
    e.parar().await.unwrap();
}

#[tokio::test]
async fn the_token_guards_ejecutar_and_goes_to_the_maestro() {
    let (maestro, url) = MaestroFalso::iniciar().await;
    let mut c = config(&url);
    c.token = Some("s3creto".into());
    let e = EsclavoDePrueba::iniciar(c).await;

    let (estado, cuerpo) = e.ejecutar(peticion(vec![espera(1, 1, 0)])).await;
    assert_eq!(estado, StatusCode::UNAUTHORIZED);
    assert_eq!(cuerpo["campo"], "Authorization");
    let (estado, _) = e
        .ejecutar_con(peticion(vec![espera(1, 1, 0)]), Some("otro"))
        .await;
    assert_eq!(estado, StatusCode::UNAUTHORIZED);
    let (estado, _) = e
        .ejecutar_con(peticion(vec![espera(1, 1, 0)]), Some("s3creto"))
        .await;
    assert_eq!(estado, StatusCode::OK);

    esperar_hasta(PLAZO, "the result arrives", || async {
        !resultados_de(&maestro, 1).is_empty()
    })
    .await;
    e.parar().await.unwrap();
    let recibido = maestro.recibido();
    assert!(
        recibido
            .autorizaciones
            .iter()
            .all(|a| a.as_deref() == Some("Bearer s3creto")),
        "{:?}",
        recibido.autorizaciones
    );
}

#[tokio::test]
async fn shutdown_returns_promptly_and_abandons_running_jobs() {
    let (maestro, url) = MaestroFalso::iniciar().await;
    let e = EsclavoDePrueba::iniciar(config(&url)).await;
    let (estado, _) = e.ejecutar(peticion(vec![espera(9, 1, 60_000)])).await;
    assert_eq!(estado, StatusCode::OK);

    let url_esclavo = e.url.clone();
    a_tiempo("run returns after shutdown", e.parar())
        .await
        .unwrap();
    assert!(resultados_de(&maestro, 9).is_empty());
    let latidos = maestro.recibido().latidos.len();
    assert!(
        reqwest::get(format!("{url_esclavo}/ping")).await.is_err(),
        "it stopped accepting"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        maestro.recibido().latidos.len(),
        latidos,
        "heartbeats stopped"
    );
}

#[tokio::test]
async fn ping_carries_the_host_figures_and_the_slots_in_use_without_a_token() {
    let (_maestro, url) = MaestroFalso::iniciar().await;
    let mut c = config(&url);
    c.capacidad = 3;
    c.token = Some("s3creto".into());
    let e = EsclavoDePrueba::iniciar(c).await;
    let ping = || async {
        let r = reqwest::get(format!("{}/ping", e.url)).await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "GET /ping needs no token");
        r.json::<comun::api::Ping>().await.unwrap()
    };

    let p = ping().await;
    assert_eq!((p.estado.as_str(), p.servicio.as_str()), ("ok", "esclavo"));
    let s = p
        .sistema
        .expect("an esclavo's ping carries its system figures");
    assert_eq!((s.ranuras, s.ocupadas), (3, 0));
    assert!(s.nucleos >= 1);
    assert!(
        s.memoria_total > 0 && s.memoria_usada <= s.memoria_total,
        "{s:?}"
    );
    assert!((0.0..=100.0).contains(&s.memoria_porcentaje), "{s:?}");
    assert!((0.0..=100.0).contains(&s.cpu_porcentaje), "{s:?}");
    assert_eq!(s.gpu, None);

    let (estado, _) = e
        .ejecutar_con(
            peticion(vec![espera(1, 1, 5000), espera(2, 1, 5000)]),
            Some("s3creto"),
        )
        .await;
    assert_eq!(estado, StatusCode::OK);
    let s = ping().await.sistema.unwrap();
    assert_eq!((s.ranuras, s.ocupadas), (3, 2), "two jobs run");
    e.parar().await.unwrap();
}

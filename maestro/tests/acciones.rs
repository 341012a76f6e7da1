//! `GET /trabajos` pages and filters over real HTTP; the actions on one job (retry, new
//! priority) answer as documented, and, with the real binary, survive a SIGKILL of the
//! maestro: what they changed is there after a restart on the same data folder.

mod apoyo;

use std::time::Duration;

use apoyo::*;
use comun::api::{
    ListaTrabajos, PeticionCarga, PeticionLote, PeticionTrabajo, RespuestaAccion, RespuestaLote,
};
use comun::trabajo::ParamsJulia;
use comun::{Algoritmo, CuerpoError, Estado, Prioridad, TrabajoId};
use reqwest::{Method, StatusCode};
use tokio::process::Child;

const PLAZO: Duration = Duration::from_secs(30);

/// Every page of `GET /trabajos?{consulta}`, following `siguiente`.
async fn paginas(url: &str, consulta: &str) -> Vec<ListaTrabajos> {
    let mut paginas: Vec<ListaTrabajos> = Vec::new();
    loop {
        let cursor = match paginas.last() {
            None => String::new(),
            Some(p) => match p.siguiente {
                Some(c) => format!("&cursor={c}"),
                None => return paginas,
            },
        };
        let r = reqwest::get(format!("{url}/trabajos?{consulta}{cursor}"))
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{consulta}: {}", r.text().await.unwrap());
        paginas.push(r.json().await.unwrap());
    }
}

/// The ids of every page of `GET /trabajos?{consulta}`, checking each page's total.
async fn ids(url: &str, consulta: &str) -> Vec<u64> {
    let paginas = paginas(url, consulta).await;
    let ids: Vec<u64> = paginas
        .iter()
        .flat_map(|p| p.trabajos.iter().map(|t| t.id.0))
        .collect();
    for p in &paginas {
        assert_eq!(
            (p.total, p.total_exacto),
            (ids.len() as u64, true),
            "{consulta}"
        );
    }
    ids
}

/// Sends `metodo ruta` with a JSON `cuerpo`: the status and the body.
async fn pedir(url: &str, metodo: Method, ruta: &str, cuerpo: &str) -> (StatusCode, String) {
    let r = reqwest::Client::new()
        .request(metodo, format!("{url}{ruta}"))
        .header("content-type", "application/json")
        .body(cuerpo.to_string())
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

/// A refusal: its status, the parameter it names and a part of its message.
async fn refusal(url: &str, metodo: Method, ruta: &str, cuerpo: &str) -> (u16, CuerpoError) {
    let (status, texto) = pedir(url, metodo, ruta, cuerpo).await;
    let error = serde_json::from_str(&texto).unwrap_or_else(|e| panic!("{ruta}: {e}: {texto}"));
    (status.as_u16(), error)
}

/// 15 espera jobs (media), 10 julia jobs (alta) and 2 lines of an uploaded file (espera,
/// baja): ids 1 to 27.
async fn llenar(url: &str) {
    let julia = PeticionTrabajo::julia(
        Algoritmo::Secuencial,
        ParamsJulia::new(8, 8, 8).unwrap(),
        Prioridad::ALTA,
    );
    let mut trabajos = vec![PeticionTrabajo::espera(5, Prioridad::MEDIA); 15];
    trabajos.extend(vec![julia; 10]);
    let r: RespuestaLote = respuesta(
        reqwest::Client::new()
            .post(format!("{url}/trabajos"))
            .json(&PeticionLote { trabajos }),
    )
    .await;
    assert_eq!(r.ids.len(), 25);
    let carga = PeticionCarga {
        contenido: Some("espera,5,3\nespera,5,3\n".into()),
        archivo: None,
    };
    let r = reqwest::Client::new()
        .post(format!("{url}/cargar_trabajos"))
        .json(&carga)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_job_list_pages_by_cursor_and_filters_naming_a_bad_value() {
    let datos = tempfile::tempdir().unwrap();
    let m = maestro(config_maestro(datos.path()), 0).await;
    llenar(&m.url).await;
    let todos = ids(&m.url, "limite=10").await;
    assert_eq!(todos, (1..=27).rev().collect::<Vec<_>>());
    assert_eq!(paginas(&m.url, "limite=10").await.len(), 3);
    assert_eq!(
        ids(&m.url, "tipo=julia&limite=4").await,
        (16..=25).rev().collect::<Vec<_>>()
    );
    assert_eq!(ids(&m.url, "origen=archivo").await, vec![27, 26]);
    assert_eq!(
        ids(&m.url, "prioridad=baja&origen=archivo&tipo=espera").await,
        vec![27, 26]
    );
    assert_eq!(
        ids(&m.url, "estado=pendiente&prioridad=1&limite=3")
            .await
            .len(),
        10
    );
    assert!(ids(&m.url, "esclavo=nadie").await.is_empty());
    // A cursor is a place in the list: the page after job 5 holds 4 to 1.
    let tras_5 = paginas(&m.url, "cursor=t5").await;
    let ids_tras_5: Vec<u64> = tras_5[0].trabajos.iter().map(|t| t.id.0).collect();
    assert_eq!((ids_tras_5, tras_5[0].total), (vec![4, 3, 2, 1], 27));

    let get = Method::GET;
    for (ruta, campo, mensaje) in [
        ("/trabajos?tipo=svd", "tipo", "unknown tipo 'svd'"),
        ("/trabajos?origen=web", "origen", "unknown origen 'web'"),
        ("/trabajos?prioridad=9", "prioridad", "9 is not a priority"),
        ("/trabajos?cursor=abc", "cursor", "'abc' is not a cursor"),
    ] {
        let (status, e) = refusal(&m.url, get.clone(), ruta, "").await;
        assert_eq!(
            (status, e.campo.as_deref()),
            (422, Some(campo)),
            "{ruta}: {e:?}"
        );
        assert!(e.error.contains(mensaje), "{ruta}: {e:?}");
    }
    m.parar().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_and_priority_answer_409_naming_the_state_they_cannot_change() {
    let datos = tempfile::tempdir().unwrap();
    let m = maestro(config_maestro(datos.path()), 0).await;
    let (a, b) = (
        espera(&m.url, 5, Prioridad::MEDIA).await,
        espera(&m.url, 5, Prioridad::MEDIA).await,
    );
    let patch = |id: TrabajoId, cuerpo: &'static str| {
        let url = m.url.clone();
        async move { refusal(&url, Method::PATCH, &format!("/trabajos/{id}"), cuerpo).await }
    };
    let (status, texto) = pedir(
        &m.url,
        Method::PATCH,
        &format!("/trabajos/{b}"),
        r#"{"prioridad":"alta"}"#,
    )
    .await;
    assert_eq!(status, 200, "{texto}");
    let r: RespuestaAccion = serde_json::from_str(&texto).unwrap();
    assert_eq!(
        (r.id, r.estado, r.prioridad),
        (b, Estado::Pendiente, Prioridad::ALTA)
    );
    assert_eq!(trabajo(&m.url, b).await.prioridad, Prioridad::ALTA);
    let (status, e) = patch(b, r#"{"prioridad":7}"#).await;
    assert_eq!(status, 422, "{e:?}");
    assert!(e.error.contains("7 is not a priority"), "{e:?}");
    assert_eq!(patch(TrabajoId(99), r#"{"prioridad":1}"#).await.0, 404);

    let reintentar = |id: TrabajoId| {
        let url = m.url.clone();
        async move {
            refusal(
                &url,
                Method::POST,
                &format!("/trabajos/{id}/reintentar"),
                "",
            )
            .await
        }
    };
    let (status, e) = reintentar(a).await;
    assert_eq!(status, 409, "{e:?}");
    assert!(e.error.contains(&format!("job {a} is pendiente")), "{e:?}");
    assert_eq!(reintentar(TrabajoId(99)).await.0, 404);
    let (status, _) = pedir(&m.url, Method::DELETE, &format!("/trabajos/{a}"), "").await;
    assert_eq!(status, 200);
    let (status, e) = patch(a, r#"{"prioridad":1}"#).await;
    assert_eq!(status, 409, "{e:?}");
    assert!(e.error.contains(&format!("job {a} is cancelado")), "{e:?}");
    let (status, texto) = pedir(
        &m.url,
        Method::POST,
        &format!("/trabajos/{a}/reintentar"),
        "",
    )
    .await;
    assert_eq!(status, 200, "{texto}");
    let t = trabajo(&m.url, a).await;
    assert_eq!((t.estado, t.motivo.is_some()), (Estado::Pendiente, true));
    let r = resumen(&m.url).await;
    assert_eq!((r.pendientes, r.cancelados), (2, 0));
    m.parar().await;
}

/// The maestro binary on `datos`: an esclavo silent for 1 s is lost, a failed attempt final.
async fn lanzar(datos: &std::path::Path, puerto: u16) -> Child {
    let args = ["--plazo-esclavo-ms", "1000", "--max-intentos", "1"];
    maestro_binario(datos, puerto, &args).await
}

async fn accion(url: &str, metodo: Method, ruta: &str, cuerpo: &str) {
    let (status, texto) = pedir(url, metodo, ruta, cuerpo).await;
    assert_eq!(status, 200, "{ruta}: {texto}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_and_a_new_priority_survive_a_sigkill_of_the_maestro() {
    let datos = tempfile::tempdir().unwrap();
    let puerto = pruebas::direccion_libre().port();
    let url = format!("http://127.0.0.1:{puerto}");
    let mut m = lanzar(datos.path(), puerto).await;
    // Job a fails for good: past its 1 s limit, with one attempt allowed.
    let e1 = esclavo(&url, "e1", 1).await;
    let lento = PeticionTrabajo {
        plazo_s: Some(1),
        ..PeticionTrabajo::espera(3000, Prioridad::MEDIA)
    };
    let a = agregar(&url, &lento).await;
    assert_eq!(esperar_final(&url, a, PLAZO).await.estado, Estado::Fallido);
    e1.parar().await;
    esperar_hasta(PLAZO, "e1 lost", || async {
        !pruebas::sondas::esclavo_vivo(&url, "e1").await
    })
    .await;
    accion(&url, Method::POST, &format!("/trabajos/{a}/reintentar"), "").await;
    let b = espera(&url, 20, Prioridad::MEDIA).await;
    let c = espera(&url, 20, Prioridad::MEDIA).await;
    accion(
        &url,
        Method::PATCH,
        &format!("/trabajos/{c}"),
        r#"{"prioridad":1}"#,
    )
    .await;

    m.start_kill().expect("SIGKILL");
    m.wait().await.unwrap();
    let _m = lanzar(datos.path(), puerto).await;
    let t = trabajo(&url, a).await;
    assert_eq!(
        (t.estado, t.intentos.len()),
        (Estado::Pendiente, 1),
        "{t:?}"
    );
    assert_eq!(trabajo(&url, c).await.prioridad, Prioridad::ALTA);
    let r = resumen(&url).await;
    assert_eq!((r.pendientes, r.fallidos), (3, 0), "{r:?}");

    // One slot: c (alta) runs first, then a (older than b), which fails again as attempt 2.
    let e2 = esclavo(&url, "e2", 1).await;
    let (c, a, b) = (
        esperar_final(&url, c, PLAZO).await,
        esperar_final(&url, a, PLAZO).await,
        esperar_final(&url, b, PLAZO).await,
    );
    assert_eq!(
        (c.estado, b.estado, a.estado),
        (Estado::Completado, Estado::Completado, Estado::Fallido)
    );
    let numeros: Vec<u32> = a.intentos.iter().map(|i| i.numero).collect();
    assert_eq!(numeros, vec![1, 2], "{a:?}");
    assert_eq!(a.intentos[0].esclavo, "e1");
    assert_eq!(a.intentos[1].esclavo, "e2");
    let inicio = |t: &comun::api::Trabajo| t.intentos.last().unwrap().inicio_ms;
    assert!(
        inicio(&c) <= inicio(&a) && inicio(&a) <= inicio(&b),
        "{c:?}\n{a:?}\n{b:?}"
    );
    e2.parar().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_actions_need_the_token_even_where_reads_are_open() {
    let datos = tempfile::tempdir().unwrap();
    let mut config = config_maestro(datos.path());
    config.token = Some("s3creto".into());
    config.lecturas_abiertas = true;
    let m = maestro(config, 0).await;
    let cliente = reqwest::Client::new();
    let id = agregar_con_token(&cliente, &m.url).await;
    let ruta = format!("{}/trabajos/{id}", m.url);
    let sin_token = [
        cliente
            .patch(&ruta)
            .json(&serde_json::json!({"prioridad": 1})),
        cliente.post(format!("{ruta}/reintentar")),
    ];
    for peticion in sin_token {
        let r = peticion.send().await.unwrap();
        assert_eq!(r.status(), 401);
        let e: CuerpoError = r.json().await.unwrap();
        assert_eq!(e.campo.as_deref(), Some("Authorization"));
    }
    let r = cliente
        .get(format!("{}/trabajos?estado=pendiente", m.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = cliente
        .patch(&ruta)
        .bearer_auth("s3creto")
        .json(&serde_json::json!({"prioridad": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(trabajo(&m.url, id).await.prioridad, Prioridad::ALTA);
    m.parar().await;
}

/// Queues an espera job with the token `s3creto`.
async fn agregar_con_token(cliente: &reqwest::Client, url: &str) -> TrabajoId {
    let r: comun::api::RespuestaAgregar = respuesta(
        cliente
            .post(format!("{url}/agregar_trabajo"))
            .bearer_auth("s3creto")
            .json(&PeticionTrabajo::espera(5, Prioridad::BAJA)),
    )
    .await;
    r.id
}

//! Bad input gets a 4xx with a JSON body naming what is wrong, and changes nothing.

mod apoyo;

use apoyo::*;
use comun::CuerpoError;
use comun::Prioridad;
use reqwest::StatusCode;

async fn enviar(
    url: &str,
    metodo: reqwest::Method,
    ruta: &str,
    cuerpo: &str,
) -> (StatusCode, CuerpoError) {
    let r = reqwest::Client::new()
        .request(metodo, format!("{url}{ruta}"))
        .header("content-type", "application/json")
        .body(cuerpo.to_string())
        .send()
        .await
        .unwrap();
    let status = r.status();
    let texto = r.text().await.unwrap();
    let cuerpo =
        serde_json::from_str(&texto).unwrap_or_else(|e| panic!("not a JSON error ({e}): {texto}"));
    (status, cuerpo)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_bodies_are_rejected_naming_the_field_and_nothing_is_queued() {
    let datos = tempfile::tempdir().unwrap();
    let m = maestro(config_maestro(datos.path()), 0).await;
    let post = reqwest::Method::POST;
    let casos: &[(&str, &str, u16, Option<&str>, &str)] = &[
        ("/agregar_trabajo", "{", 400, None, "malformed JSON"),
        (
            "/agregar_trabajo",
            r#"{"width": "ancho", "height": 2, "iteraciones": 2}"#,
            422,
            Some("width"),
            "invalid type",
        ),
        (
            "/agregar_trabajo",
            r#"{"width": -5, "height": 2, "iteraciones": 2}"#,
            422,
            Some("width"),
            "-5",
        ),
        (
            "/agregar_trabajo",
            r#"{"width": 99999999999, "height": 2, "iteraciones": 2}"#,
            422,
            Some("width"),
            "99999999999",
        ),
        (
            "/agregar_trabajo",
            r#"{"width": 20000, "height": 2, "iteraciones": 2}"#,
            422,
            Some("width"),
            "limit",
        ),
        (
            "/agregar_trabajo",
            r#"{"width": 2, "height": 2}"#,
            422,
            Some("iteraciones"),
            "missing",
        ),
        (
            "/agregar_trabajo",
            r#"{"width": 2, "height": 2, "iteraciones": 2, "prioridad": 7}"#,
            422,
            Some("prioridad"),
            "priority",
        ),
        (
            "/agregar_trabajo",
            r#"{"width": 2, "height": 2, "iteraciones": 2, "algoritmo": "Fortran"}"#,
            422,
            Some("algoritmo"),
            "Fortran",
        ),
        (
            "/agregar_trabajo",
            r#"{"tipo": "svd", "n": 2}"#,
            422,
            Some("tipo"),
            "unknown variant",
        ),
        (
            "/agregar_trabajo",
            r#"{"anchura": 2}"#,
            422,
            None,
            "unknown field `anchura`",
        ),
        ("/agregar_trabajo", r#""texto""#, 422, None, "invalid type"),
        (
            "/trabajos",
            r#"{"trabajos": [{"tipo": "espera", "ms": 1}, {"tipo": "espera"}]}"#,
            422,
            Some("trabajos[1].ms"),
            "missing",
        ),
        ("/cargar_trabajos", r#"{}"#, 400, None, "exactly one"),
        (
            "/cargar_trabajos",
            r#"{"archivo": "../maestro.db"}"#,
            422,
            Some("archivo"),
            "plain relative path",
        ),
        (
            "/cargar_trabajos",
            r#"{"archivo": "/etc/passwd"}"#,
            422,
            Some("archivo"),
            "plain relative path",
        ),
        (
            "/cargar_trabajos",
            r#"{"archivo": "no-existe.txt"}"#,
            422,
            Some("archivo"),
            "does not exist",
        ),
        (
            "/registrar_esclavo",
            r#"{"nombre": "x"}"#,
            422,
            None,
            "missing field",
        ),
    ];
    for &(ruta, cuerpo, status, campo, texto) in casos {
        let (s, e) = enviar(&m.url, post.clone(), ruta, cuerpo).await;
        assert_eq!(s.as_u16(), status, "{ruta} {cuerpo}: {e:?}");
        if let Some(c) = campo {
            assert_eq!(e.campo.as_deref(), Some(c), "{ruta} {cuerpo}: {e:?}");
        }
        assert!(
            e.error.contains(texto),
            "{ruta} {cuerpo}: '{}' lacks '{texto}'",
            e.error
        );
    }
    // A symbolic link that leads out of the jobs folder is refused too.
    let fuera = datos.path().join("secreto.txt");
    std::fs::write(&fuera, "espera,0\n").unwrap();
    std::os::unix::fs::symlink(&fuera, datos.path().join("trabajos/enlace.txt")).unwrap();
    let (s, e) = enviar(
        &m.url,
        post.clone(),
        "/cargar_trabajos",
        r#"{"archivo": "enlace.txt"}"#,
    )
    .await;
    assert_eq!(
        (s.as_u16(), e.campo.as_deref()),
        (422, Some("archivo")),
        "{e:?}"
    );

    let grande = format!(r#"{{"contenido": "{}"}}"#, "x".repeat(17 * 1024 * 1024));
    let (s, _) = enviar(&m.url, post.clone(), "/cargar_trabajos", &grande).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);

    let get = reqwest::Method::GET;
    let (s, e) = enviar(&m.url, get.clone(), "/trabajos/abc", "").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e:?}");
    let (s, e) = enviar(&m.url, get.clone(), "/trabajos/424242", "").await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{e:?}");
    let (s, e) = enviar(&m.url, get.clone(), "/trabajos?estado=perdido", "").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e:?}");
    assert_eq!(e.campo.as_deref(), Some("estado"));
    let (s, _) = enviar(&m.url, get.clone(), "/no/existe", "").await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    let r = resumen(&m.url).await;
    assert_eq!(r.total(), 0, "nothing malformed was queued: {r:?}");
    m.parar().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_clear_and_image_answers_say_what_happened() {
    let datos = tempfile::tempdir().unwrap();
    let m = maestro(config_maestro(datos.path()), 0).await;
    let a = espera(&m.url, 0, Prioridad::ALTA).await;
    let b = espera(&m.url, 0, Prioridad::BAJA).await;
    let c = espera(&m.url, 0, Prioridad::BAJA).await;
    let del = reqwest::Method::DELETE;
    let r = reqwest::Client::new()
        .delete(format!("{}/trabajos/{a}", m.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (s, e) = enviar(&m.url, del.clone(), &format!("/trabajos/{a}"), "").await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(e.error.contains("cancelado"), "{e:?}");
    let (s, e) = enviar(
        &m.url,
        reqwest::Method::GET,
        &format!("/trabajos/{b}/imagen"),
        "",
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(e.error.contains("espera"), "{e:?}");
    let limpiar: serde_json::Value = limpiar_cola(&m.url).await;
    assert_eq!(limpiar["eliminados"], 2);
    assert_eq!(trabajo(&m.url, c).await.estado, comun::Estado::Cancelado);
    let r = resumen(&m.url).await;
    assert_eq!((r.cancelados, r.pendientes), (3, 0));
    m.parar().await;
}

/// `GET {url}{ruta}` with `token`, if any: the status and the body.
async fn leer(url: &str, ruta: &str, token: Option<&str>) -> (StatusCode, serde_json::Value) {
    let mut peticion = reqwest::Client::new().get(format!("{url}{ruta}"));
    if let Some(t) = token {
        peticion = peticion.bearer_auth(t);
    }
    let r = peticion.send().await.unwrap();
    (r.status(), r.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_token_reads_and_changes_need_it_but_ping_does_not() {
    let datos = tempfile::tempdir().unwrap();
    let mut config = config_maestro(datos.path());
    config.token = Some("secreto".into());
    let m = maestro(config, 0).await;
    let (s, e) = enviar(
        &m.url,
        reqwest::Method::POST,
        "/agregar_trabajo",
        r#"{"tipo":"espera","ms":0}"#,
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{e:?}");
    assert_eq!(e.campo.as_deref(), Some("Authorization"));
    let r = reqwest::Client::new()
        .post(format!("{}/agregar_trabajo", m.url))
        .bearer_auth("secreto")
        .json(&serde_json::json!({"tipo": "espera", "ms": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    for ruta in [
        "/resumen",
        "/estado",
        "/trabajos",
        "/trabajos/1",
        "/esclavos",
        "/memoria",
    ] {
        let (s, cuerpo) = leer(&m.url, ruta, None).await;
        assert_eq!(
            s,
            StatusCode::UNAUTHORIZED,
            "GET {ruta} without the token: {cuerpo}"
        );
        assert_eq!(cuerpo["campo"], "Authorization", "{cuerpo}");
        let (s, cuerpo) = leer(&m.url, ruta, Some("otro")).await;
        assert_eq!(
            s,
            StatusCode::UNAUTHORIZED,
            "GET {ruta} with a wrong token: {cuerpo}"
        );
        let (s, cuerpo) = leer(&m.url, ruta, Some("secreto")).await;
        assert_eq!(s, StatusCode::OK, "GET {ruta} with the token: {cuerpo}");
    }
    let (s, r) = leer(&m.url, "/resumen", Some("secreto")).await;
    assert_eq!((s, r["pendientes"].as_u64()), (StatusCode::OK, Some(1)));
    let (s, _) = leer(&m.url, "/ping", None).await;
    assert_eq!(s, StatusCode::OK, "/ping needs no token");
    m.parar().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_open_reads_gets_pass_without_the_token_and_changes_still_need_it() {
    let datos = tempfile::tempdir().unwrap();
    let mut config = config_maestro(datos.path());
    config.token = Some("secreto".into());
    config.lecturas_abiertas = true;
    let m = maestro(config, 0).await;
    for ruta in ["/resumen", "/estado", "/trabajos", "/esclavos"] {
        let (s, cuerpo) = leer(&m.url, ruta, None).await;
        assert_eq!(s, StatusCode::OK, "GET {ruta}: {cuerpo}");
    }
    for (metodo, ruta, cuerpo) in [
        (
            reqwest::Method::POST,
            "/agregar_trabajo",
            r#"{"tipo":"espera","ms":0}"#,
        ),
        (reqwest::Method::POST, "/limpiar_cola", "{}"),
        (reqwest::Method::DELETE, "/trabajos/1", ""),
    ] {
        let (s, e) = enviar(&m.url, metodo.clone(), ruta, cuerpo).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{metodo} {ruta}: {e:?}");
    }
    assert_eq!(resumen(&m.url).await.pendientes, 0, "nothing was queued");
    m.parar().await;
}

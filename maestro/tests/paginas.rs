//! The dashboard over real HTTP: its pages render as HTML, its assets are served from the
//! binary, the login sets a cookie the browser keeps from scripts and other sites, reads
//! follow the API's rules (open, read-only, or login first), every action needs the session
//! and its CSRF token, and the event stream opens with the counts. (The browser tests drive
//! the same pages in chromium.)

mod apoyo;

use apoyo::*;
use comun::{Estado, Prioridad};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};

const TOKEN: &str = "s3creto";

/// An HTML form's body (`application/x-www-form-urlencoded`), as a browser sends it.
trait Formulario {
    fn formulario(self, campos: &[(&str, &str)]) -> Self;
}

impl Formulario for reqwest::RequestBuilder {
    fn formulario(self, campos: &[(&str, &str)]) -> Self {
        let codificar = |t: &str| -> String {
            t.bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                        (b as char).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect()
        };
        let cuerpo: Vec<String> = campos
            .iter()
            .map(|(k, v)| format!("{}={}", codificar(k), codificar(v)))
            .collect();
        self.header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(cuerpo.join("&"))
    }
}

/// A client that shows redirects instead of following them.
fn cliente() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A maestro with `token` and open reads or not.
async fn con(token: Option<&str>, lecturas_abiertas: bool) -> (Servicio, tempfile::TempDir) {
    let datos = tempfile::tempdir().unwrap();
    let mut config = config_maestro(datos.path());
    config.token = token.map(String::from);
    config.lecturas_abiertas = lecturas_abiertas;
    (maestro(config, 0).await, datos)
}

/// `GET {url}{ruta}` with `cookie`, if any: status, content type, body.
async fn leer(url: &str, ruta: &str, cookie: Option<&str>) -> (StatusCode, String, String) {
    let mut p = cliente().get(format!("{url}{ruta}"));
    if let Some(c) = cookie {
        p = p.header(COOKIE, c);
    }
    let r = p.send().await.unwrap();
    let tipo = r
        .headers()
        .get(CONTENT_TYPE)
        .map_or("", |v| v.to_str().unwrap())
        .to_owned();
    (r.status(), tipo, r.text().await.unwrap())
}

/// Logs in with `token`: the answer's status and its `Set-Cookie`.
async fn entrar(url: &str, token: &str) -> (StatusCode, Option<String>, String) {
    let r = cliente()
        .post(format!("{url}/panel/entrar"))
        .formulario(&[("token", token), ("volver", "/panel/trabajos")])
        .send()
        .await
        .unwrap();
    let cookie = r
        .headers()
        .get(SET_COOKIE)
        .map(|v| v.to_str().unwrap().to_owned());
    (r.status(), cookie, r.text().await.unwrap())
}

/// The value of `name="csrf"` in a page.
fn csrf(pagina: &str) -> String {
    let desde = pagina
        .find(r#"name="csrf" value=""#)
        .expect("the page has a CSRF field")
        + 19;
    pagina[desde..desde + pagina[desde..].find('"').unwrap()].to_owned()
}

/// `POST {url}{ruta}` as a form, with `cookie` and extra `campos`.
async fn accion(
    url: &str,
    ruta: &str,
    cookie: Option<&str>,
    campos: &[(&str, &str)],
) -> (StatusCode, String) {
    let mut p = cliente().post(format!("{url}{ruta}")).formulario(campos);
    if let Some(c) = cookie {
        p = p.header(COOKIE, c);
    }
    let r = p.send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_token_every_page_renders_and_every_action_works_with_its_csrf_token() {
    let (m, _datos) = con(None, false).await;
    let id = espera(&m.url, 60_000, Prioridad::BAJA).await;
    for (ruta, pagina) in [
        ("/", "resumen"),
        ("/panel/trabajos", "trabajos"),
        (&format!("/panel/trabajos/{id}"), "trabajo"),
        ("/panel/esclavos", "esclavos"),
        ("/panel/entrar", "entrar"),
    ] {
        let (s, tipo, cuerpo) = leer(&m.url, ruta, None).await;
        assert_eq!(s, StatusCode::OK, "GET {ruta}: {cuerpo}");
        assert_eq!(tipo, "text/html; charset=utf-8", "GET {ruta}");
        assert!(
            cuerpo.contains(&format!(r#"data-pagina="{pagina}""#)),
            "GET {ruta}: {cuerpo}"
        );
        assert!(cuerpo.contains(r#"data-sesion="operador""#), "GET {ruta}");
    }
    let (_, _, lista) = leer(&m.url, "/panel/trabajos", None).await;
    assert!(
        lista.contains(&format!(
            r#"data-trabajo-id="{id}" data-estado="pendiente""#
        )),
        "{lista}"
    );
    let (_, _, uno) = leer(&m.url, &format!("/panel/trabajos/{id}"), None).await;
    assert!(
        uno.contains(r#"id="motivo""#),
        "a pending job says why it waits: {uno}"
    );
    assert!(uno.contains(r#"data-accion="cancelar""#), "{uno}");

    let ruta = format!("/panel/trabajos/{id}/cancelar");
    let (s, cuerpo) = accion(&m.url, &ruta, None, &[]).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "no CSRF token: {cuerpo}");
    assert!(cuerpo.contains(r#"data-estado-http="403""#), "{cuerpo}");
    assert_eq!(trabajo(&m.url, id).await.estado, Estado::Pendiente);
    let (s, _) = accion(&m.url, &ruta, None, &[("csrf", &csrf(&uno))]).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(trabajo(&m.url, id).await.estado, Estado::Cancelado);
    let (s, cuerpo) = accion(&m.url, &ruta, None, &[("csrf", &csrf(&uno))]).await;
    assert_eq!(s, StatusCode::CONFLICT, "cancelling twice: {cuerpo}");
    assert!(cuerpo.contains("already cancelado"), "{cuerpo}");

    let (_, _, cancelado) = leer(&m.url, &format!("/panel/trabajos/{id}"), None).await;
    assert!(
        cancelado.contains(r#"data-accion="reintentar""#),
        "{cancelado}"
    );
    let token = csrf(&cancelado);
    let prioridad = format!("/panel/trabajos/{id}/prioridad");
    let (s, cuerpo) = accion(
        &m.url,
        &prioridad,
        None,
        &[("csrf", &token), ("prioridad", "1")],
    )
    .await;
    assert_eq!(
        s,
        StatusCode::CONFLICT,
        "a cancelled job keeps its priority: {cuerpo}"
    );
    let reintentar = format!("/panel/trabajos/{id}/reintentar");
    let (s, _) = accion(&m.url, &reintentar, None, &[("csrf", &token)]).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(
        trabajo(&m.url, id).await.estado,
        Estado::Pendiente,
        "queued again"
    );
    let (s, cuerpo) = accion(
        &m.url,
        &prioridad,
        None,
        &[("csrf", &token), ("prioridad", "9")],
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{cuerpo}");
    assert!(cuerpo.contains("not a priority"), "{cuerpo}");
    let (s, _) = accion(
        &m.url,
        &prioridad,
        None,
        &[("csrf", &token), ("prioridad", "alta")],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(trabajo(&m.url, id).await.prioridad, Prioridad::ALTA);
    let (s, _) = accion(&m.url, "/panel/limpiar", None, &[("csrf", &token)]).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(
        trabajo(&m.url, id).await.estado,
        Estado::Cancelado,
        "the queue was cleared"
    );
    m.parar().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_assets_come_from_the_binary_and_a_missing_job_is_a_404_page() {
    let (m, _datos) = con(None, false).await;
    for (ruta, tipo) in [
        ("/panel/estilo.css", "text/css; charset=utf-8"),
        ("/panel/vivo.js", "text/javascript; charset=utf-8"),
    ] {
        let (s, t, cuerpo) = leer(&m.url, ruta, None).await;
        assert_eq!((s, t.as_str()), (StatusCode::OK, tipo), "{ruta}");
        assert!(cuerpo.len() > 500, "{ruta} is the embedded asset");
    }
    let (s, _, cuerpo) = leer(&m.url, "/panel/trabajos/999", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(
        cuerpo.contains(r#"data-estado-http="404""#) && cuerpo.contains("no job 999"),
        "{cuerpo}"
    );
    let (s, _, cuerpo) = leer(&m.url, "/panel/trabajos?estado=hecho", None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        cuerpo.contains(r#"id="filtro-error""#) && cuerpo.contains("hecho"),
        "{cuerpo}"
    );
    m.parar().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guarded_reads_ask_for_the_login_which_sets_a_strict_http_only_cookie() {
    let (m, _datos) = con(Some(TOKEN), false).await;
    let (s, _, _) = leer(&m.url, "/panel/trabajos", None).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let r = cliente()
        .get(format!("{}/panel/trabajos?estado=fallido", m.url))
        .send()
        .await
        .unwrap();
    let destino = r.headers()[LOCATION].to_str().unwrap();
    assert_eq!(
        destino,
        "/panel/entrar?volver=/panel/trabajos%3Festado%3Dfallido"
    );
    let (s, _, _) = leer(&m.url, "/panel/eventos", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "no events without the token");
    let (s, _, cuerpo) = leer(&m.url, "/panel/entrar", None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(cuerpo.contains(r#"id="login-token""#), "{cuerpo}");

    let (s, cookie, cuerpo) = entrar(&m.url, "otro").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(
        cookie.is_none() && cuerpo.contains(r#"id="login-error""#),
        "{cuerpo}"
    );
    let (s, cookie, _) = entrar(&m.url, TOKEN).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let cookie = cookie.expect("the login sets a cookie");
    for atributo in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(atributo), "{atributo} in {cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP: {cookie}");
    assert!(
        !cookie.contains(TOKEN),
        "the token is not written as is: {cookie}"
    );
    let sesion = cookie.split(';').next().unwrap();
    let (s, _, cuerpo) = leer(&m.url, "/", Some(sesion)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(cuerpo.contains(r#"data-sesion="operador""#) && cuerpo.contains(r#"id="salir""#));
    let (s, _, _) = leer(&m.url, "/estado", Some(sesion)).await;
    assert_eq!(
        s,
        StatusCode::UNAUTHORIZED,
        "the API still wants its Bearer header"
    );

    let r = cliente()
        .post(format!("{}/panel/entrar", m.url))
        .formulario(&[("token", TOKEN), ("volver", "/x\r\nSet-Cookie: a=b")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers()[LOCATION],
        "/",
        "a way back that is not a plain path"
    );
    let (s, _) = accion(
        &m.url,
        "/panel/salir",
        Some(sesion),
        &[("csrf", &csrf(&cuerpo))],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    m.parar().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_open_reads_pages_are_read_only_until_the_login() {
    let (m, _datos) = con(Some(TOKEN), true).await;
    let id = pruebas::api::respuesta::<comun::api::RespuestaAgregar>(
        cliente()
            .post(format!("{}/agregar_trabajo", m.url))
            .bearer_auth(TOKEN)
            .json(&comun::api::PeticionTrabajo::espera(
                60_000,
                Prioridad::BAJA,
            )),
    )
    .await
    .id;
    let ruta = format!("/panel/trabajos/{id}");
    let (s, _, cuerpo) = leer(&m.url, &ruta, None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(cuerpo.contains(r#"data-sesion="lector""#) && cuerpo.contains(r#"id="entrar""#));
    assert!(
        !cuerpo.contains("data-accion"),
        "no action for a reader: {cuerpo}"
    );

    let cancelar = format!("{ruta}/cancelar");
    let (s, cuerpo) = accion(&m.url, &cancelar, None, &[("csrf", "x")]).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{cuerpo}");
    let (_, cookie, _) = entrar(&m.url, TOKEN).await;
    let cookie = cookie.unwrap();
    let sesion = cookie.split(';').next().unwrap();
    let (_, _, pagina) = leer(&m.url, &ruta, Some(sesion)).await;
    let bueno = csrf(&pagina);
    let (s, _) = accion(&m.url, &cancelar, Some(sesion), &[("csrf", "0123")]).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "a wrong CSRF token");
    let r = cliente()
        .post(format!("{}{cancelar}", m.url))
        .header(COOKIE, sesion)
        .header("sec-fetch-site", "cross-site")
        .formulario(&[("csrf", bueno.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "a cross-site request");
    assert_eq!(
        trabajo_con_token(&m.url, id).await,
        Estado::Pendiente,
        "nothing was done"
    );
    let (s, _) = accion(&m.url, &cancelar, Some(sesion), &[("csrf", &bueno)]).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(trabajo_con_token(&m.url, id).await, Estado::Cancelado);
    m.parar().await;
}

async fn trabajo_con_token(url: &str, id: comun::TrabajoId) -> Estado {
    pruebas::api::respuesta::<comun::api::Trabajo>(
        cliente()
            .get(format!("{url}/trabajos/{id}"))
            .bearer_auth(TOKEN),
    )
    .await
    .estado
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_stream_opens_with_the_counts_and_follows_them() {
    let (m, _datos) = con(None, false).await;
    let mut r = cliente()
        .get(format!("{}/panel/eventos", m.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()[CONTENT_TYPE], "text/event-stream");
    let mut leido = String::new();
    leer_hasta(&mut r, &mut leido, "\"pendientes\":0").await;
    assert!(leido.contains("event: resumen"), "{leido}");
    espera(&m.url, 60_000, Prioridad::BAJA).await;
    leer_hasta(&mut r, &mut leido, "\"pendientes\":1").await;
    m.parar().await;
}

/// Reads the event stream into `leido` until it holds `que` (10 s at most).
async fn leer_hasta(r: &mut reqwest::Response, leido: &mut String, que: &str) {
    let plazo = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while !leido.contains(que) {
        let trozo = tokio::time::timeout_at(plazo, r.chunk())
            .await
            .unwrap_or_else(|_| panic!("no {que} within 10 s; read: {leido}"))
            .unwrap()
            .expect("the stream stays open");
        leido.push_str(std::str::from_utf8(&trozo).unwrap());
    }
}

/// A memoria report of node `nodo`: one GPU, and a critical memory alert since `desde_ms`.
fn reporte(nodo: &str, desde_ms: u64) -> comun::memoria::ReporteMemoria {
    use comun::memoria::{Alerta, GpuMuestra, Muestra, Nivel, Recurso, ReporteMemoria};
    const GIB: u64 = 1 << 30;
    ReporteMemoria {
        nodo: nodo.into(),
        instancia: 1,
        muestra: Muestra {
            nodo: nodo.into(),
            instante_ms: comun::ahora_ms(),
            cpu_porcentaje: 37.0,
            memoria_usada: 15 * GIB,
            memoria_total: 16 * GIB,
            gpus: vec![GpuMuestra {
                indice: 0,
                nombre: "NVIDIA H200".into(),
                memoria_usada: 40 * GIB,
                memoria_total: 141 * GIB,
                utilizacion: 87.0,
                temperatura_c: Some(63.0),
                pci: String::new(),
            }],
            ..Muestra::default()
        },
        alertas: vec![Alerta {
            recurso: Recurso::Memoria,
            nivel: Nivel::Critico,
            valor: 93.8,
            umbral: 90.0,
            desde_ms,
        }],
        intervalo_ms: 60_000,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cluster_pages_show_esclavos_jobs_nodes_gpus_and_alerts() {
    let (m, _datos) = con(None, false).await;
    let e = esclavo(&m.url, "e1", 2).await;
    let r = cliente()
        .post(format!("{}/reporte_memoria", m.url))
        .json(&reporte("nodo-gpu", 1_795_954_987_000))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let id = espera(&m.url, 1, Prioridad::ALTA).await;
    esperar_final(&m.url, id, std::time::Duration::from_secs(10)).await;

    let (_, _, pagina) = leer(&m.url, "/panel/esclavos", None).await;
    for esperado in [
        r#"data-esclavo="e1" data-vivo="si""#,
        r#"<a href="/panel/trabajos?esclavo=e1" title="its jobs">e1</a>"#,
        r#"data-nodo="nodo-gpu""#,
        r#"data-nivel="critico""#,
        "NVIDIA H200, 87% busy, memory 40.0 GiB of 141.0 GiB (28%), 63 °C",
        "since 2026-11-29 12:23:07 UTC",
    ] {
        assert!(pagina.contains(esperado), "{esperado} in {pagina}");
    }
    let (_, _, inicio) = leer(&m.url, "/", None).await;
    for esperado in [
        r#"<span class="valor" data-contador="completados">1</span>"#,
        r#"<span data-contador="esclavos-vivos">1</span>"#,
        r#"data-alerta data-nivel="critico""#,
        "nodo-gpu GPU 0: NVIDIA H200",
        r#"data-grafico="cola""#,
        r#"data-almacen="sano""#,
        if apoyo::en_postgres() {
            r#"<span class="nota">postgresql</span>"#
        } else {
            r#"<span class="nota">sqlite</span>"#
        },
    ] {
        assert!(inicio.contains(esperado), "{esperado} in {inicio}");
    }
    assert!(
        !inicio.contains("Last commit: none yet"),
        "a job was committed: {inicio}"
    );
    let (_, _, lista) = leer(&m.url, "/panel/trabajos?estado=completado&esclavo=e1", None).await;
    assert!(
        lista.contains(&format!(
            r#"data-trabajo-id="{id}" data-estado="completado""#
        )),
        "{lista}"
    );
    let (_, _, otra) = leer(&m.url, "/panel/trabajos?esclavo=e2", None).await;
    assert!(
        !otra.contains("data-trabajo-id="),
        "another esclavo ran nothing: {otra}"
    );
    let (_, _, uno) = leer(&m.url, &format!("/panel/trabajos/{id}"), None).await;
    assert!(
        uno.contains(r#"data-intento="1""#) && uno.contains(r#"id="resultado""#),
        "{uno}"
    );
    assert!(!pagina.contains("data-drenando"), "{pagina}");
    let r = cliente()
        .post(format!("{}/esclavos/e1/drenar", m.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (_, _, pagina) = leer(&m.url, "/panel/esclavos", None).await;
    assert!(pagina.contains("data-drenando title="), "{pagina}");
    e.parar().await;
    m.parar().await;
}

/// The `href` of the link with this id in a page.
fn enlace(pagina: &str, id: &str) -> Option<String> {
    let desde = pagina.find(&format!(r#"id="{id}" href=""#))? + id.len() + 12;
    let fin = pagina[desde..].find('"')?;
    Some(
        pagina[desde..desde + fin]
            .replace("&amp;", "&")
            .replace("&#38;", "&"),
    )
}

/// The ids of the job rows of a page, in order.
fn filas(pagina: &str) -> Vec<u64> {
    pagina
        .match_indices(r#"data-trabajo-id=""#)
        .map(|(i, m)| {
            let resto = &pagina[i + m.len()..];
            resto[..resto.find('"').unwrap()].parse().unwrap()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_100000_jobs_a_page_holds_one_page_of_them_and_pages_on() {
    const N: u64 = 100_000;
    let (m, _datos) = con(None, false).await;
    let lote = comun::api::PeticionLote {
        trabajos: (0..N)
            .map(|i| {
                let prioridad = Prioridad::TODAS[(i % 3) as usize];
                comun::api::PeticionTrabajo::espera(1, prioridad)
            })
            .collect(),
    };
    let r: comun::api::RespuestaLote =
        pruebas::api::respuesta(cliente().post(format!("{}/trabajos", m.url)).json(&lote)).await;
    assert_eq!(r.ids.len() as u64, N);

    let inicio = std::time::Instant::now();
    let (s, _, primera) = leer(&m.url, "/panel/trabajos", None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(primera.contains(&format!(r#"<strong id="total-trabajos">{N}</strong>"#)));
    let ids = filas(&primera);
    assert_eq!(ids.len(), 50, "one page of rows");
    assert_eq!(ids[0], N, "newest first");
    let mut pagina = primera;
    let mut ultimo = *ids.last().unwrap();
    for _ in 0..3 {
        let siguiente = enlace(&pagina, "pagina-siguiente").expect("a next page");
        let (s, _, p) = leer(&m.url, &siguiente, None).await;
        assert_eq!(s, StatusCode::OK, "{siguiente}");
        let ids = filas(&p);
        assert_eq!(ids.len(), 50, "{siguiente}: {p}");
        assert_eq!(
            (ids.len(), ids[0]),
            (50, ultimo - 1),
            "{siguiente} follows on"
        );
        ultimo = *ids.last().unwrap();
        pagina = p;
    }
    let (_, _, honda) = leer(&m.url, "/panel/trabajos?cursor=t60&prioridad=1", None).await;
    let ids = filas(&honda);
    assert!(ids.iter().all(|&id| id < 60 && id % 3 == 1), "{ids:?}");
    assert_eq!(ids.len(), 20, "the alta jobs older than 60");
    assert!(honda.contains(r#"<strong id="total-trabajos">10000+</strong>"#));
    for ruta in ["/", "/panel/trabajos", "/panel/esclavos"] {
        let (s, _, cuerpo) = leer(&m.url, ruta, None).await;
        assert_eq!(s, StatusCode::OK);
        assert!(cuerpo.len() < 100_000, "{ruta} is {} bytes", cuerpo.len());
    }
    println!("pages of 100,000 jobs served in {:?}", inicio.elapsed());
    m.parar().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_https_the_session_cookie_is_also_secure() {
    let pki = pruebas::pki::pki();
    let datos = tempfile::tempdir().unwrap();
    let mut config = config_maestro(datos.path());
    config.token = Some(TOKEN.into());
    config.transporte.tls = Some(plataforma::Tls::cargar(&pki.cert, &pki.clave).unwrap());
    let m = Servicio::iniciar(|listener, parada| maestro::run(config, listener, parada)).await;
    let url = m.url.replace("http://", "https://");
    let ca = plataforma::Ca::cargar(&pki.ca).unwrap();
    let http = plataforma::cliente_http(Some(&ca))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    esperar_hasta(
        std::time::Duration::from_secs(10),
        "the maestro answers over https",
        || {
            let ping = http.get(format!("{url}/ping")).send();
            async move { ping.await.is_ok_and(|r| r.status().is_success()) }
        },
    )
    .await;
    let r = http
        .post(format!("{url}/panel/entrar"))
        .formulario(&[("token", TOKEN)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let cookie = r.headers()[SET_COOKIE].to_str().unwrap();
    assert!(
        cookie.ends_with("; Secure") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    m.parar().await;
}

//! The dashboard in a real browser (Debian's chromium, headless, through
//! [`pruebas::navegador`]) against a real maestro and real esclavos on loopback: every page
//! loads without console errors and is photographed under `target/panel/`; a job submitted
//! through the API appears and finishes on the open page without a reload; a person who
//! entered the token once cancels, retries, changes a priority and clears the queue from the
//! pages; without the token the pages ask for it or are read-only and actions are refused;
//! a form posted from another site is refused even when it knows the CSRF token; and the
//! jobs page loads and pages with 100,000 jobs in the database. (`paginas.rs` tests the same
//! pages and rules over plain HTTP.)
//!
//! `HPC_CAPTURA_DOCS=1` makes the overview test of a cluster at work also write its picture
//! to `docs/panel.png` (the README's): `HPC_CAPTURA_DOCS=1 cargo nextest run -p maestro --test
//! panel busy_cluster`.

mod apoyo;

use std::time::{Duration, Instant};

use apoyo::panel::*;
use apoyo::*;
use comun::api::{PeticionLote, PeticionTrabajo, Resumen};
use comun::trabajo::ParamsJulia;
use comun::{Algoritmo, Estado, Prioridad, TrabajoId};
use pruebas::navegador::{Navegador, Pagina, raiz};

/// The overview of a realistic cluster, for the README.
const CAPTURA_DOCS: &str = "docs/panel.png";

/// Jobs and esclavos of every kind an operator sees on a working day.
struct Escena {
    esclavos: Vec<Servicio>,
    julia: TrabajoId,
    fallido: TrabajoId,
    pendiente: TrabajoId,
}

/// Two esclavos on two nodes with memoria reports (one node in a memory warning), Julia
/// images, finished, failed and cancelled jobs, `largos` running for ten minutes (4 fill every
/// slot) and more waiting by priority.
/// The maestro runs with `max_intentos = 1`, so a job past its time limit fails at once.
async fn escena(api: &Api, largos: usize) -> Escena {
    let esclavos = vec![
        esclavo_en(&api.url, "gpu-a", 2, "nodo-a").await,
        esclavo_en(&api.url, "gpu-b", 2, "nodo-b").await,
    ];
    reportar_nodos(api).await;
    let p = ParamsJulia::new(160, 120, 80).unwrap();
    let mut terminan = Vec::new();
    for algoritmo in [
        Algoritmo::Secuencial,
        Algoritmo::Paralelo,
        Algoritmo::Paralelo,
    ] {
        terminan.push(
            api.agregar(&PeticionTrabajo::julia(algoritmo, p, Prioridad::ALTA))
                .await,
        );
    }
    for ms in [40, 80, 120, 60, 90, 30] {
        terminan.push(
            api.agregar(&PeticionTrabajo::espera(ms, Prioridad::MEDIA))
                .await,
        );
    }
    let fallido = api
        .agregar(&PeticionTrabajo {
            plazo_s: Some(1),
            ..PeticionTrabajo::espera(5_000, Prioridad::MEDIA)
        })
        .await;
    for &id in &terminan {
        api.esperar_estado(id, Estado::Completado, PLAZO).await;
    }
    api.esperar_estado(fallido, Estado::Fallido, PLAZO).await;
    for _ in 0..largos {
        let id = api
            .agregar(&PeticionTrabajo::espera(600_000, Prioridad::MEDIA))
            .await;
        api.esperar_estado(id, Estado::Asignado, PLAZO).await;
    }
    let mut pendientes = Vec::new();
    for prioridad in [
        Prioridad::ALTA,
        Prioridad::MEDIA,
        Prioridad::MEDIA,
        Prioridad::BAJA,
    ] {
        pendientes.push(api.agregar(&PeticionTrabajo::espera(200, prioridad)).await);
    }
    for &id in &pendientes[2..] {
        api.cancelar(id).await;
    }
    Escena {
        esclavos,
        julia: terminan[0],
        fallido,
        pendiente: pendientes[0],
    }
}

/// The memoria reports of the scene's two nodes, `nodo-b` in a memory warning (sent again
/// before a page shows them: a report older than the maestro's `plazo_memoria` is stale).
async fn reportar_nodos(api: &Api) {
    api.reportar_memoria(&reporte_memoria("nodo-a", false))
        .await;
    api.reportar_memoria(&reporte_memoria("nodo-b", true)).await;
}

/// Stops the esclavos and the maestro (the esclavos abandon their long jobs).
async fn parar(m: Servicio, esclavos: Vec<Servicio>) {
    for e in esclavos {
        e.parar().await;
    }
    m.parar().await;
}

/// Loads `ruta`, waits until it is page `pagina` with its live updates connected, checks that
/// it logged no error and photographs it.
fn visitar(p: &Pagina, url: &str, ruta: &str, pagina: &str) {
    p.ir(&format!("{url}{ruta}"));
    p.esperar_js(
        PLAZO,
        &format!("{ruta} is the {pagina} page"),
        &es_pagina(pagina),
    );
    esperar_vivo(p);
    p.sin_errores();
    p.captura(pagina);
}

/// The number a `[data-contador]` of the overview shows.
fn contador(p: &Pagina, nombre: &str) -> u64 {
    let t = p
        .texto(&format!("[data-contador=\"{nombre}\"]"))
        .unwrap_or_else(|| panic!("no counter {nombre} on the overview"));
    let cifras: String = t.chars().filter(char::is_ascii_digit).collect();
    cifras
        .parse()
        .unwrap_or_else(|_| panic!("counter {nombre} reads {t:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_loads_without_console_errors_and_is_photographed() {
    let datos = tempfile::tempdir().unwrap();
    let mut config = config_maestro(datos.path());
    config.max_intentos = 1;
    let m = maestro(config, 0).await;
    let api = Api::new(&m.url, None);
    let e = escena(&api, 4).await;
    let r: Resumen = resumen(&m.url).await;

    let n = Navegador::lanzar("paginas");
    let p = n.pagina();
    visitar(&p, &m.url, "/", "resumen");
    for (nombre, valor) in [
        ("pendientes", r.pendientes),
        ("asignados", r.asignados),
        ("completados", r.completados),
        ("fallidos", r.fallidos),
        ("cancelados", r.cancelados),
    ] {
        assert_eq!(
            contador(&p, nombre),
            valor,
            "the overview's {nombre}: {r:?}"
        );
    }

    visitar(&p, &m.url, "/panel/trabajos", "trabajos");
    assert_eq!(
        p.contar("#tabla-trabajos tr[data-trabajo-id]") as u64,
        r.total()
    );
    assert_eq!(p.contar("tr[data-estado=\"fallido\"]"), 1);

    visitar(
        &p,
        &m.url,
        &format!("/panel/trabajos/{}", e.julia),
        "trabajo",
    );
    p.esperar_js(
        PLAZO,
        "the Julia image is shown",
        "document.getElementById('imagen')?.complete && \
         document.getElementById('imagen').naturalWidth === 160",
    );
    assert!(p.contar("#resultado") == 1 && p.contar("#intentos tr[data-intento=\"1\"]") == 1);
    p.captura("trabajo-julia");
    for (id, cual) in [(e.fallido, "fallido"), (e.pendiente, "pendiente")] {
        visitar(&p, &m.url, &format!("/panel/trabajos/{id}"), "trabajo");
        let motivo = p.texto("#motivo");
        assert!(
            motivo.is_some_and(|t| !t.is_empty()),
            "a {cual} job says why"
        );
        p.captura(&format!("trabajo-{cual}"));
    }

    reportar_nodos(&api).await;
    visitar(&p, &m.url, "/panel/esclavos", "esclavos");
    for nombre in ["gpu-a", "gpu-b"] {
        assert_eq!(
            p.contar(&format!("tr[data-esclavo=\"{nombre}\"][data-vivo=\"si\"]")),
            1
        );
    }
    assert_eq!(p.contar("section[data-nodo]"), 2);
    assert_eq!(p.contar("li[data-alerta][data-nivel=\"aviso\"]"), 1);

    p.ir(&format!("{}/panel/entrar", m.url));
    p.esperar_js(PLAZO, "the login page is shown", &es_pagina("entrar"));
    p.sin_errores();
    p.captura("entrar");
    parar(m, e.esclavos).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_submitted_through_the_api_appears_and_completes_on_the_open_pages() {
    let datos = tempfile::tempdir().unwrap();
    let m = maestro(config_maestro(datos.path()), 0).await;
    let e = esclavo(&m.url, "e1", 1).await;
    let api = Api::new(&m.url, None);
    let n = Navegador::lanzar("vivo");
    let lista = n.pagina();
    let resumen_ = n.pagina();
    for (p, ruta, pagina) in [
        (&lista, "/panel/trabajos", "trabajos"),
        (&resumen_, "/", "resumen"),
    ] {
        p.ir(&format!("{}{ruta}", m.url));
        p.esperar_js(PLAZO, "the page is shown", &es_pagina(pagina));
        esperar_vivo(p);
        // A reload would drop this mark.
        p.evaluar("window.sinRecargar = true").unwrap();
    }
    assert_eq!(contador(&resumen_, "completados"), 0);

    let id = api
        .agregar(&PeticionTrabajo::espera(1_500, Prioridad::ALTA))
        .await;
    let fila = format!("tr[data-trabajo-id=\"{id}\"]");
    lista.esperar_elemento(PLAZO, &fila);
    let estado = lista.atributo(&fila, "data-estado").unwrap();
    assert!(
        ["pendiente", "asignado"].contains(&estado.as_str()),
        "{estado}"
    );
    api.esperar_estado(id, Estado::Completado, PLAZO).await;
    let terminado = Instant::now();
    lista.esperar_elemento(PLAZO, &format!("{fila}[data-estado=\"completado\"]"));
    let en_lista = terminado.elapsed();
    resumen_.esperar_js(
        PLAZO,
        "the overview counts it completed",
        "document.querySelector('[data-contador=\"completados\"]')?.innerText.trim() === '1'",
    );
    let en_resumen = terminado.elapsed();
    eprintln!("a finished job shown after {en_lista:?} (jobs) and {en_resumen:?} (overview)");
    // The issue asks for a second; the slack is for a loaded CI machine.
    assert!(
        en_resumen < VIVO_MAXIMO,
        "a finished job took {en_resumen:?} to show"
    );
    for p in [&lista, &resumen_] {
        assert_eq!(
            p.evaluar("window.sinRecargar === true"),
            Ok(true.into()),
            "reloaded"
        );
        p.sin_errores();
    }
    lista.captura("trabajos");
    resumen_.captura("resumen");
    e.parar().await;
    m.parar().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_token_entered_once_a_person_cancels_reprioritises_and_clears_the_queue() {
    let datos = tempfile::tempdir().unwrap();
    let m = maestro(config_con_token(datos.path(), false), 0).await;
    let api = Api::new(&m.url, Some(TOKEN));
    let e = esclavo_con_token(&m.url, "e1", 1).await;
    let largo = api
        .agregar(&PeticionTrabajo::espera(600_000, Prioridad::MEDIA))
        .await;
    api.esperar_estado(largo, Estado::Asignado, PLAZO).await;
    let bajo = api
        .agregar(&PeticionTrabajo::espera(50, Prioridad::BAJA))
        .await;
    let medio = api
        .agregar(&PeticionTrabajo::espera(50, Prioridad::MEDIA))
        .await;

    let n = Navegador::lanzar("acciones");
    let p = n.pagina();
    entrar(&p, &m.url, &format!("/panel/trabajos/{bajo}"));
    let cookie = p.pestana().get_cookies().unwrap();
    let cookie = cookie
        .iter()
        .find(|c| c.name == "hpc_panel")
        .expect("the session cookie");
    assert!(cookie.http_only, "{cookie:?}");
    assert_eq!(
        format!("{:?}", cookie.same_site),
        "Some(Strict)",
        "{cookie:?}"
    );
    let visible = p.evaluar("document.cookie").unwrap();
    assert!(
        !visible.as_str().unwrap().contains("hpc_panel"),
        "scripts read the cookie"
    );

    // Priority: the low one goes first.
    abrir_trabajo(&p, &m.url, bajo);
    p.evaluar("document.getElementById('nueva-prioridad').value = '1'")
        .unwrap();
    p.clic_y_cargar("button[data-accion=\"prioridad\"]");
    esperar_sin_rechazo(
        &p,
        "the page shows the new priority",
        "document.getElementById('nueva-prioridad')?.value === '1'",
    );
    assert_eq!(api.trabajo(bajo).await.prioridad, Prioridad::ALTA);
    p.captura("prioridad");

    // Cancel a pending job.
    abrir_trabajo(&p, &m.url, medio);
    p.clic_y_cargar("button[data-accion=\"cancelar\"]");
    esperar_estado_en_pagina(&p, medio, Some(Estado::Cancelado));
    assert_eq!(api.trabajo(medio).await.estado, Estado::Cancelado);
    assert_eq!(
        p.contar("[data-accion=\"cancelar\"]"),
        0,
        "a cancelled job offers no cancel"
    );

    // Clear the queue: the reprioritised one was the last pending.
    p.ir(&format!("{}/panel/trabajos", m.url));
    p.clic_y_cargar("button[data-accion=\"limpiar\"]");
    p.esperar_elemento(
        PLAZO,
        &format!("tr[data-trabajo-id=\"{bajo}\"][data-estado=\"cancelado\"]"),
    );
    assert_eq!(api.trabajo(bajo).await.estado, Estado::Cancelado);
    assert_eq!(
        api.trabajo(largo).await.estado,
        Estado::Asignado,
        "running jobs run on"
    );
    p.captura("limpiar");

    // Cancel a running job: its esclavo stops it and takes the next one.
    abrir_trabajo(&p, &m.url, largo);
    p.clic_y_cargar("button[data-accion=\"cancelar\"]");
    esperar_estado_en_pagina(&p, largo, Some(Estado::Cancelado));
    assert_eq!(api.trabajo(largo).await.estado, Estado::Cancelado);
    let siguiente = api
        .agregar(&PeticionTrabajo::espera(20, Prioridad::MEDIA))
        .await;
    api.esperar_estado(siguiente, Estado::Completado, PLAZO)
        .await;
    p.sin_errores();
    e.parar().await;
    m.parar().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_from_the_page_runs_a_failed_or_cancelled_job_again_keeping_its_history() {
    let datos = tempfile::tempdir().unwrap();
    let mut config = config_con_token(datos.path(), false);
    config.max_intentos = 1;
    let m = maestro(config, 0).await;
    let api = Api::new(&m.url, Some(TOKEN));
    // A job fails when its esclavo goes away mid-run (one attempt allowed).
    let e1 = esclavo_con_token(&m.url, "e1", 1).await;
    let fallido = api
        .agregar(&PeticionTrabajo::espera(3_000, Prioridad::MEDIA))
        .await;
    api.esperar_estado(fallido, Estado::Asignado, PLAZO).await;
    // A crash: a stopped esclavo would hand the job back without a failure.
    e1.abortar().await;
    let antes = api.esperar_estado(fallido, Estado::Fallido, PLAZO).await;
    assert_eq!(antes.intentos.len(), 1);
    // A job cancelled before it ran.
    let cancelado = api
        .agregar(&PeticionTrabajo::espera(50, Prioridad::MEDIA))
        .await;
    api.cancelar(cancelado).await;

    let n = Navegador::lanzar("reintentar");
    let p = n.pagina();
    entrar(&p, &m.url, &format!("/panel/trabajos/{fallido}"));
    for id in [fallido, cancelado] {
        abrir_trabajo(&p, &m.url, id);
        p.clic_y_cargar("button[data-accion=\"reintentar\"]");
        esperar_estado_en_pagina(&p, id, Some(Estado::Pendiente));
        assert_eq!(api.trabajo(id).await.estado, Estado::Pendiente);
    }
    let e2 = esclavo_con_token(&m.url, "e2", 1).await;
    abrir_trabajo(&p, &m.url, fallido);
    esperar_estado_en_pagina(&p, fallido, Some(Estado::Completado));
    assert_eq!(
        p.contar("#intentos tr[data-intento]"),
        2,
        "both attempts are listed"
    );
    assert_eq!(
        p.contar("[data-accion=\"reintentar\"]"),
        0,
        "a completed job is not retried"
    );
    p.captura("reintentado");
    let t = api.trabajo(fallido).await;
    assert_eq!(t.id, fallido);
    let intentos: Vec<_> = t
        .intentos
        .iter()
        .map(|i| (i.numero, i.esclavo.as_str()))
        .collect();
    assert_eq!(intentos, [(1, "e1"), (2, "e2")], "{t:?}");
    assert!(
        t.intentos[0].error.is_some(),
        "the first attempt keeps its error: {t:?}"
    );
    api.esperar_estado(cancelado, Estado::Completado, PLAZO)
        .await;
    p.sin_errores();
    e2.parar().await;
    m.parar().await;
}

/// A maestro with the token (reads open or guarded), its API and one pending job; and the
/// folder of its data, kept until the test ends.
async fn con_un_pendiente(
    lecturas_abiertas: bool,
) -> (tempfile::TempDir, Servicio, Api, TrabajoId) {
    let datos = tempfile::tempdir().unwrap();
    let m = maestro(config_con_token(datos.path(), lecturas_abiertas), 0).await;
    let api = Api::new(&m.url, Some(TOKEN));
    let id = api
        .agregar(&PeticionTrabajo::espera(50, Prioridad::MEDIA))
        .await;
    (datos, m, api, id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_token_the_pages_ask_for_it_and_actions_are_refused() {
    let (_datos, m, api, id) = con_un_pendiente(false).await;

    let n = Navegador::lanzar("sin-token");
    let p = n.pagina();
    for ruta in [
        "/",
        "/panel/trabajos",
        &format!("/panel/trabajos/{id}"),
        "/panel/esclavos",
    ] {
        p.ir(&format!("{}{ruta}", m.url));
        p.esperar_js(
            PLAZO,
            &format!("{ruta} asks for the token"),
            &es_pagina("entrar"),
        );
        assert_eq!(p.contar("form#login input#login-token"), 1);
        assert_eq!(p.contar("[data-accion]"), 0);
    }
    p.sin_errores();
    p.captura("pide-token");
    p.escribir("#login-token", "no-es-el-token");
    p.clic_y_cargar("#login-enviar");
    p.esperar_elemento(PLAZO, "#login-error");
    assert_eq!(sesion(&p), "ninguna");
    // The refused login is the page's only complaint (its 401, as the browser logs it).
    let errores = p.errores();
    assert!(
        errores.iter().all(|m| m.texto.contains("401")),
        "{errores:?}"
    );
    p.captura("token-equivocado");

    let http = reqwest::Client::new();
    for ruta in [
        format!("/panel/trabajos/{id}/cancelar"),
        format!("/panel/trabajos/{id}/reintentar"),
        "/panel/limpiar".into(),
    ] {
        let r = formulario(http.post(format!("{}{ruta}", m.url)), "csrf=x");
        assert_eq!(r.send().await.unwrap().status(), 401, "POST {ruta}");
    }
    let eventos = http
        .get(format!("{}/panel/eventos", m.url))
        .send()
        .await
        .unwrap();
    assert_eq!(eventos.status(), 401);
    assert_eq!(api.trabajo(id).await.estado, Estado::Pendiente);
    m.parar().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_open_reads_the_pages_are_read_only_until_the_token_is_entered() {
    let (_datos, m, api, id) = con_un_pendiente(true).await;

    let n = Navegador::lanzar("solo-lectura");
    let p = n.pagina();
    for (ruta, pagina) in [
        ("/".to_owned(), "resumen"),
        ("/panel/trabajos".into(), "trabajos"),
        (format!("/panel/trabajos/{id}"), "trabajo"),
    ] {
        visitar(&p, &m.url, &ruta, pagina);
        assert_eq!(sesion(&p), "lector");
        assert_eq!(
            p.contar("[data-accion]"),
            0,
            "{ruta} offers actions to a reader"
        );
        assert_eq!(p.contar("a#entrar"), 1, "{ruta} offers no login");
    }
    let cancelar = reqwest::Client::new().post(format!("{}/panel/trabajos/{id}/cancelar", m.url));
    let r = formulario(cancelar, "csrf=x").send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(api.trabajo(id).await.estado, Estado::Pendiente);

    p.clic_y_cargar("a#entrar");
    p.esperar_js(PLAZO, "the login page is shown", &es_pagina("entrar"));
    p.escribir("#login-token", TOKEN);
    p.clic_y_cargar("#login-enviar");
    esperar_estado_en_pagina(&p, id, None);
    assert_eq!(sesion(&p), "operador");
    assert_eq!(p.contar("[data-accion=\"cancelar\"]"), 1);
    p.sin_errores();
    m.parar().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_posted_from_another_site_is_refused_even_with_the_csrf_token() {
    let (_datos, m, api, id) = con_un_pendiente(false).await;

    let n = Navegador::lanzar("otro-sitio");
    let p = n.pagina();
    entrar(&p, &m.url, &format!("/panel/trabajos/{id}"));
    let csrf = p
        .evaluar("document.querySelector('input[name=csrf]').value")
        .unwrap();
    let csrf = csrf.as_str().unwrap();
    assert!(!csrf.is_empty());
    // Another site's page that posts the cancel form at once, even knowing the CSRF token: the
    // browser withholds the SameSite=Strict cookie and says the request is cross-site.
    let ataque = format!(
        "data:text/html,<form method=post action='{}/panel/trabajos/{id}/cancelar'>\
         <input name=csrf value='{csrf}'></form><script>document.forms[0].submit()</script>",
        m.url
    );
    p.ir(&ataque);
    p.esperar_elemento(PLAZO, "#error");
    let estado_http = p.atributo("#error", "data-estado-http").unwrap();
    assert!(
        ["401", "403"].contains(&estado_http.as_str()),
        "{estado_http}"
    );
    p.captura("otro-sitio");
    assert_eq!(api.trabajo(id).await.estado, Estado::Pendiente);

    // The dashboard's own form, in the same browser, is taken.
    abrir_trabajo(&p, &m.url, id);
    p.clic_y_cargar("button[data-accion=\"cancelar\"]");
    esperar_estado_en_pagina(&p, id, Some(Estado::Cancelado));
    assert_eq!(api.trabajo(id).await.estado, Estado::Cancelado);
    m.parar().await;
}

/// Longest a job's end may take to show on an open page.
const VIVO_MAXIMO: Duration = Duration::from_secs(2);
/// Longest a page of jobs may take to load (and connect its live updates) with [`VOLUMEN`]
/// jobs in the database.
const PAGINA_MAXIMA: Duration = Duration::from_secs(10);

/// Jobs in the database for the volume test, in batches of `POST /trabajos`.
const VOLUMEN: usize = 100_000;
const LOTE: usize = 10_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_jobs_page_loads_and_pages_with_100000_jobs_in_the_database() {
    let datos = tempfile::tempdir().unwrap();
    let m = maestro(config_maestro(datos.path()), 0).await;
    let inicio = Instant::now();
    let http = reqwest::Client::new();
    for lote in 0..VOLUMEN / LOTE {
        let prioridad = Prioridad::TODAS[lote % 3];
        let trabajos = vec![PeticionTrabajo::espera(10, prioridad); LOTE];
        let r = http
            .post(format!("{}/trabajos", m.url))
            .json(&PeticionLote { trabajos })
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    }
    let llenado = inicio.elapsed();

    let n = Navegador::lanzar("volumen");
    let p = n.pagina();
    let carga = Instant::now();
    visitar(&p, &m.url, "/panel/trabajos", "trabajos");
    let primera = carga.elapsed();
    let total = p.texto("#total-trabajos").unwrap();
    let cifras: String = total.chars().filter(char::is_ascii_digit).collect();
    assert_eq!(cifras, VOLUMEN.to_string(), "{total}");
    let ids = |p: &Pagina| -> Vec<u64> {
        let v = p
            .evaluar("[...document.querySelectorAll('#tabla-trabajos tr[data-trabajo-id]')].map(f => +f.dataset.trabajoId)")
            .unwrap();
        serde_json::from_value(v).unwrap()
    };
    let pagina1 = ids(&p);
    assert!(
        !pagina1.is_empty() && pagina1.len() <= 1000,
        "{} rows",
        pagina1.len()
    );
    assert_eq!(pagina1[0], VOLUMEN as u64, "newest first");
    let paso = Instant::now();
    p.clic_y_cargar("a#pagina-siguiente");
    let ultimo = *pagina1.last().unwrap();
    p.esperar_js(
        PLAZO,
        "the next page is shown",
        &format!("+document.querySelector('#tabla-trabajos tr[data-trabajo-id]')?.dataset.trabajoId < {ultimo}"),
    );
    let segunda = paso.elapsed();
    let pagina2 = ids(&p);
    assert_eq!(
        pagina2[0],
        ultimo - 1,
        "the next page starts where the first ended"
    );
    p.ir(&format!(
        "{}/panel/trabajos?prioridad=3&estado=pendiente",
        m.url
    ));
    p.esperar_js(PLAZO, "the filtered page is shown", &es_pagina("trabajos"));
    let baja = p.contar("#tabla-trabajos tr[data-prioridad=\"3\"]");
    assert_eq!(
        baja,
        p.contar("#tabla-trabajos tr[data-trabajo-id]"),
        "only priority 3 rows"
    );
    p.sin_errores();
    p.captura("volumen");
    eprintln!(
        "{VOLUMEN} jobs submitted in {llenado:?}; first page in {primera:?}, next in {segunda:?}"
    );
    // Generous for a debug build on a loaded machine; a page that read every job would not
    // keep inside it.
    assert!(
        primera.max(segunda) < PAGINA_MAXIMA,
        "{primera:?}, {segunda:?}"
    );
    m.parar().await;
}

/// How long the jobs flow before the overview of a cluster at work is photographed.
const FLUJO: Duration = Duration::from_secs(20);

/// Jobs submitted for `durante` as a day's batches arrive: a burst that builds a queue, then a
/// trickle that drains it slowly, Julia images at priority alta and `espera` jobs of other lengths and
/// priorities; the memoria reports keep coming (one node in a memory warning).
async fn flujo(api: &Api, durante: Duration) {
    let inicio = Instant::now();
    let p = ParamsJulia::new(320, 240, 120).unwrap();
    let mut n = 0u64;
    while inicio.elapsed() < durante {
        let rafaga = inicio.elapsed() < durante * 3 / 5;
        let trabajo = match n % 4 {
            0 => PeticionTrabajo::julia(Algoritmo::Paralelo, p, Prioridad::ALTA),
            1 => PeticionTrabajo::espera(900 + 97 * (n % 11), Prioridad::MEDIA),
            2 => PeticionTrabajo::espera(1_200 + 131 * (n % 7), Prioridad::BAJA),
            _ => PeticionTrabajo::espera(600, Prioridad::MEDIA),
        };
        api.agregar(&trabajo).await;
        if n.is_multiple_of(20) {
            reportar_nodos(api).await;
        }
        n += 1;
        let pausa = if rafaga { 200 } else { 400 };
        tokio::time::sleep(Duration::from_millis(pausa)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_overview_of_a_busy_cluster_draws_its_charts_without_errors() {
    let datos = tempfile::tempdir().unwrap();
    let mut config = config_maestro(datos.path());
    config.max_intentos = 1;
    config.paso_series = Duration::from_secs(1);
    let m = maestro(config, 0).await;
    let api = Api::new(&m.url, None);
    let e = escena(&api, 1).await;
    let n = Navegador::lanzar("ocupado");
    let p = n.pagina();
    visitar(&p, &m.url, "/", "resumen");
    let docs = std::env::var_os("HPC_CAPTURA_DOCS").is_some();
    // A test run lets the jobs flow for a few seconds; the README's picture, for longer.
    flujo(&api, if docs { FLUJO } else { FLUJO / 5 }).await;
    esperar_vivo(&p);
    let lineas = "document.querySelectorAll('[data-grafico] polyline').length";
    let dibujadas = p.esperar_js(PLAZO, "the charts over time are drawn", lineas);
    assert!(dibujadas.as_u64() >= Some(3), "{dibujadas} lines");
    assert!(contador(&p, "completados") > 9, "the flow's jobs finished");
    assert_eq!(p.contar("[data-gpu]"), 2);
    p.sin_errores();
    p.captura("resumen");
    if docs {
        p.captura_en(&raiz().join(CAPTURA_DOCS));
    }
    parar(m, e.esclavos).await;
}

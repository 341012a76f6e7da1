//! The leader cut off from PostgreSQL alone (a blackhole route in its network namespace) while
//! it still reaches its esclavos and the clients: its writes cannot commit and, from the
//! moment another replica takes the lease, are refused by fencing; it steps down by itself
//! once no renewal has gone through for a lease time, and the follower takes over. When the
//! route heals the old leader follows. Every acknowledged job finishes once: no attempt is
//! recorded twice, none of the cut-off leader's decisions reaches the database late.

use std::time::{Duration, Instant};

use fallos::api::enviar_tareas;
use fallos::red::Red;
use fallos::{
    Aceptados, Escenario, Informe, OpcionesEsclavo, OpcionesMaestro, esperar_hasta, verificar,
};

const PLAZO: Duration = Duration::from_secs(90);
const TRABAJOS: usize = 400;
const DESPUES: usize = 100;
const LOTE: usize = 50;
const TRABAJO_MS: u64 = 200;
const PLAZO_LIDER_MS: u64 = 1500;

/// `GET /estado` of `url`: its status, and the leading replica's name when it answered.
async fn estado(http: &reqwest::Client, url: &str) -> Option<(u16, Option<String>)> {
    let (codigo, lider) = fallos::api::lider(http, url).await?;
    Some((codigo, lider.map(|(nombre, _)| nombre)))
}

/// Tasks `prefijo-0…n-1` of `TRABAJO_MS`, submitted in batches through `urls`.
async fn enviar(
    http: &reqwest::Client,
    urls: &[String],
    prefijo: &str,
    n: usize,
    aceptados: &Aceptados,
) {
    for lote in 0..n / LOTE {
        let tareas: Vec<serde_json::Value> = (0..LOTE)
            .map(|i| {
                serde_json::json!({
                    "task_id": format!("{prefijo}-{lote}-{i}"),
                    "algorithm": "espera",
                    "parameters": { "ms": TRABAJO_MS },
                })
            })
            .collect();
        let (ids, _) = enviar_tareas(http, urls, 0, &tareas, PLAZO)
            .await
            .expect("a batch acknowledged");
        aceptados.agregar(ids);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_cut_off_from_postgresql_is_fenced_steps_down_and_nothing_is_recorded_twice() {
    if fallos::red::excluida("replicas_particion") || !pruebas::postgres::disponible() {
        return;
    }
    let red = Red::crear(&["a", "b", "e1", "e2"]);
    let ip_pg = red.segunda_ip_raiz();
    let escucha = format!("127.0.0.1,{ip_pg}");
    let ajustes = [
        ("fsync", "off"),
        ("full_page_writes", "off"),
        ("listen_addresses", escucha.as_str()),
    ];
    let mut pg = pruebas::postgres::Postgres::iniciar_con(&ajustes).expect("starting PostgreSQL");
    pg.permitir(&red.subred()).unwrap();
    pg.base("particion").unwrap();
    let base = format!(
        "postgresql://{}@{ip_pg}:{}/particion",
        pruebas::postgres::USUARIO,
        pg.puerto()
    );
    let esc = Escenario::nuevo("replicas_particion");
    let opciones = |replica| OpcionesMaestro {
        red: Some(red.en(replica)),
        ..esc.replica(&base, replica, PLAZO_LIDER_MS)
    };
    let http = fallos::api::cliente_http();
    let a = esc.maestro(opciones("a")).await;
    esperar_hasta(PLAZO, "replica a leads", || async {
        estado(&http, a.url()).await == Some((200, Some("a".into())))
    })
    .await;
    let mut b = esc.maestro(opciones("b")).await;
    let urls = vec![a.url().to_string(), b.url().to_string()];
    let lista = urls.join(",");
    let en_red = |nombre: &str| OpcionesEsclavo {
        red: Some(red.en(nombre)),
        ..OpcionesEsclavo::new(&lista, nombre, 4)
    };
    let e1 = esc.esclavo(en_red("e1")).await;
    let e2 = esc.esclavo(en_red("e2")).await;

    let aceptados = Aceptados::default();
    enviar(&http, &urls, "antes", TRABAJOS, &aceptados).await;
    esperar_hasta(PLAZO, "jobs running and completing", || async {
        b.api
            .resumen()
            .await
            .is_ok_and(|r| r.completados >= 20 && r.asignados > 0)
    })
    .await;

    red.bloquear("a", ip_pg);
    let corte = Instant::now();
    esperar_hasta(PLAZO, "replica a steps down", || async {
        estado(&http, a.url()).await.is_some_and(|(c, _)| c == 503)
    })
    .await;
    let bajada_s = corte.elapsed().as_secs_f64();
    esperar_hasta(PLAZO, "replica b leads", || async {
        estado(&http, b.url()).await == Some((200, Some("b".into())))
    })
    .await;
    let relevo_s = corte.elapsed().as_secs_f64();
    println!("[fallos] a stepped down {bajada_s:.2} s after the cut; b leads at {relevo_s:.2} s");
    assert!(
        e1.proceso.is_some() && e2.proceso.is_some(),
        "the esclavos still run"
    );

    red.desbloquear("a", ip_pg);
    esperar_hasta(PLAZO, "a follows b", || async {
        estado(&http, a.url()).await == Some((200, Some("b".into())))
    })
    .await;
    // Through the old leader, now a follower, first.
    enviar(&http, &urls, "despues", DESPUES, &aceptados).await;
    let c = verificar(&mut b, &[&e1, &e2], &aceptados, PLAZO).await;
    Informe::new(&esc, &c, 1)
        .con("plazo_lider_ms", PLAZO_LIDER_MS)
        .con("bajada_s", fallos::informe::redondear(bajada_s))
        .con("relevo_s", fallos::informe::redondear(relevo_s))
        .escribir();
}

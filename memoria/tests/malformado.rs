//! Bad input, at scale, on every route of a running memoria (real HTTP on loopback). Its routes
//! only read, and only `/historial` takes a parameter (`desde`); every malformed, mistyped,
//! negative, huge, repeated or unknown parameter, wrong method and unknown route gets a 4xx whose
//! JSON body names the problem, and the memoria's alerts are what they were.

mod apoyo;

use apoyo::{Guion, MemoriaDePrueba, PLAZO, config};
use comun::memoria::{Alertas, Muestra};
use pruebas::esperar_hasta;
use pruebas::malformado::{Caso, probar_todos};

/// A JSON body sent with every case: no route takes one, so it must never make a bad
/// request good.
const CUERPO: &str = r#"{"desde": 1}"#;

fn casos() -> Vec<Caso> {
    let mut v = Vec::new();
    let desde_malo = [
        "abc",
        "-1",
        "-0",
        "18446744073709551616",
        &"9".repeat(400),
        "1e3",
        "1.5",
        "0x10",
        "",
        "%20",
        "1%00",
        "%FF",
        "NaN",
        "+-1",
        "１２",
    ];
    for valor in desde_malo {
        v.push(Caso {
            tipo_contenido: Some("application/json"),
            cuerpo: CUERPO.into(),
            metodo: "GET",
            ruta: format!("/historial?desde={valor}"),
            status: 400,
            campo: Some("desde"),
            texto: "is not a time in milliseconds since the Unix epoch",
        });
    }
    for (consulta, campo, texto) in [
        ("desde", "desde", "is not a time in milliseconds"),
        ("desde=1&desde=2", "desde", "desde: given twice"),
        ("desde=1&desde=abc", "desde", "desde: given twice"),
        (
            "hasta=5",
            "hasta",
            "hasta: unknown parameter (/historial takes only `desde`)",
        ),
        ("desde=1&limite=5", "limite", "limite: unknown parameter"),
        ("DESDE=1", "DESDE", "DESDE: unknown parameter"),
        ("=1", "", "a parameter with no name"),
        ("desde[]=1", "desde[]", "unknown parameter"),
    ] {
        v.push(Caso {
            tipo_contenido: Some("application/json"),
            cuerpo: CUERPO.into(),
            metodo: "GET",
            ruta: format!("/historial?{consulta}"),
            status: 400,
            campo: Some(campo),
            texto,
        });
    }
    for (metodo, ruta) in [
        ("POST", "/historial"),
        ("PUT", "/historial"),
        ("DELETE", "/alertas"),
        ("POST", "/metricas"),
        ("PATCH", "/ping"),
        ("POST", "/alertas"),
    ] {
        v.push(Caso {
            tipo_contenido: Some("application/json"),
            cuerpo: CUERPO.into(),
            metodo,
            ruta: ruta.into(),
            status: 405,
            campo: None,
            texto: "is not allowed",
        });
    }
    for (metodo, ruta) in [
        ("POST", "/reporte_memoria"),
        ("GET", "/historial/5"),
        ("GET", "/metrica"),
        ("POST", "/ejecutar"),
    ] {
        v.push(Caso {
            tipo_contenido: Some("application/json"),
            cuerpo: CUERPO.into(),
            metodo,
            ruta: ruta.into(),
            status: 404,
            campo: None,
            texto: "a memoria serves /ping, /metricas, /historial, /alertas",
        });
    }
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_request_is_a_4xx_naming_the_problem() {
    // A node in alert (CPU at 99 %), so there is an alert a bad request could disturb.
    let guion = Guion::new(Muestra {
        cpu_porcentaje: 99.0,
        ..Muestra::default()
    });
    let m = MemoriaDePrueba::iniciar(config(None), &guion).await;
    esperar_hasta(PLAZO, "the first sample", || async { guion.llamadas() > 0 }).await;
    let antes: Alertas = m.get_ok("/alertas").await;
    assert_eq!(antes.alertas.len(), 1, "{antes:?}");

    probar_todos(&m.http, &m.url, "memoria", &casos()).await;

    let despues: Alertas = m.get_ok("/alertas").await;
    assert_eq!(despues, antes, "alerts unchanged");
    let _: Muestra = m.get_ok("/metricas").await;
    m.parar().await.unwrap();
}

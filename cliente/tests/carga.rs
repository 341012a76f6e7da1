//! `cliente carga --local`: the benchmark runs end to end and reports sane figures.

mod apoyo;

use apoyo::cliente;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn carga_local_completes_every_job_and_reports_positive_figures() {
    let s = cliente(&[
        "carga",
        "--local",
        "--n",
        "500",
        "--latencia",
        "20",
        "--esclavos",
        "2",
        "--json",
    ])
    .await;
    let v: serde_json::Value = s.esperar_codigo(0).json();
    assert_eq!(v["n"], 500, "{v:#}");
    assert_eq!(v["completados"], 500, "{v:#}");
    assert_eq!(v["fallidos"], 0, "{v:#}");
    assert_eq!(v["peticiones"], 500, "{v:#}");
    for campo in ["trabajos_por_segundo", "envio_por_segundo", "segundos"] {
        assert!(v[campo].as_f64().is_some_and(|x| x > 0.0), "{campo}: {v:#}");
    }
    for grupo in ["envio", "latencia"] {
        assert!(
            v[grupo]["p50_ms"].as_f64().is_some_and(|x| x > 0.0),
            "{grupo}: {v:#}"
        );
        assert!(
            v[grupo]["p99_ms"].as_f64() >= v[grupo]["p50_ms"].as_f64(),
            "{v:#}"
        );
    }
    assert_eq!(v["latencia"]["muestras"], 20, "{v:#}");
    assert_eq!(v["local"]["almacen"], "sqlite (full)", "{v:#}");
}

/// `--base`: the local maestro keeps its jobs in PostgreSQL, and the report says which.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn carga_local_on_postgresql_completes_every_job_and_names_the_store() {
    let Some(servidor) = pruebas::postgres::compartido() else {
        return;
    };
    let url = servidor.base("carga").unwrap();
    let s = cliente(&[
        "carga",
        "--local",
        "--base",
        &url,
        "--n",
        "400",
        "--lote",
        "100",
        "--latencia",
        "5",
        "--json",
    ])
    .await;
    let v: serde_json::Value = s.esperar_codigo(0).json();
    assert_eq!(v["completados"], 400, "{v:#}");
    assert_eq!(v["fallidos"], 0, "{v:#}");
    let almacen = format!("postgresql hpc@127.0.0.1:{}/carga", servidor.puerto());
    assert_eq!(v["local"]["almacen"], almacen.as_str(), "{v:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn carga_local_in_batches_counts_requests_not_jobs() {
    let s = cliente(&[
        "carga",
        "--local",
        "--n",
        "300",
        "--lote",
        "100",
        "--latencia",
        "0",
        "--json",
    ])
    .await;
    let v: serde_json::Value = s.esperar_codigo(0).json();
    assert_eq!(v["completados"], 300, "{v:#}");
    assert_eq!(v["peticiones"], 3, "{v:#}");
    assert!(v.get("latencia").is_none(), "{v:#}");
}

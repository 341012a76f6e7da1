//! The cluster over HTTPS with a token: an in-process maestro and esclavo serving TLS with a
//! throwaway CA (rcgen), the real `cliente` binary running a job with `--ca`, and the clear
//! errors of a `cliente` without the CA or speaking plain HTTP to the TLS port.

mod apoyo;

use std::time::Duration;

use apoyo::{cliente, esperar_hasta};
use pruebas::pki::{Pki, pki};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

const TOKEN: &str = "s3creto";

/// A maestro and one esclavo, both serving HTTPS with the cluster token, each trusting the CA.
struct ClusterTls {
    url: String,
    paradas: Vec<oneshot::Sender<()>>,
    tareas: Vec<JoinHandle<anyhow::Result<()>>>,
    _datos: tempfile::TempDir,
}

impl ClusterTls {
    async fn iniciar(pki: &Pki) -> Self {
        let transporte = arranque::Transporte {
            tls: Some(arranque::Tls::cargar(&pki.cert, &pki.clave).unwrap()),
            ..Default::default()
        };
        let ca = arranque::Ca::cargar(&pki.ca).unwrap();
        let datos = tempfile::tempdir().unwrap();
        let mut m = maestro::Config::new(datos.path());
        m.token = Some(TOKEN.into());
        m.transporte = transporte.clone();
        m.ca = Some(ca.clone());
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let url = format!("https://{}", listener.local_addr().unwrap());
        let (parar_m, parada_m) = oneshot::channel::<()>();
        let tarea_m = tokio::spawn(maestro::run(m, listener, async move {
            let _ = parada_m.await;
        }));

        let mut e = esclavo::Config::new(&url, "esclavo-tls");
        e.token = Some(TOKEN.into());
        e.transporte = transporte;
        e.ca = Some(ca.clone());
        e.capacidad = 2;
        e.latido = Duration::from_millis(250);
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let (parar_e, parada_e) = oneshot::channel::<()>();
        let tarea_e = tokio::spawn(esclavo::run(e, listener, async move {
            let _ = parada_e.await;
        }));

        let http = arranque::cliente_http(Some(&ca)).build().unwrap();
        let u = url.clone();
        esperar_hasta("the esclavo registers over https", move || {
            let (http, u) = (http.clone(), u.clone());
            async move {
                let Ok(r) = http
                    .get(format!("{u}/esclavos"))
                    .bearer_auth(TOKEN)
                    .send()
                    .await
                else {
                    return false;
                };
                let lista: Vec<comun::api::EsclavoInfo> = r.json().await.unwrap_or_default();
                lista
                    .iter()
                    .any(|e| e.vivo && e.url.starts_with("https://127.0.0.1:"))
            }
        })
        .await;
        Self {
            url,
            paradas: vec![parar_e, parar_m],
            tareas: vec![tarea_e, tarea_m],
            _datos: datos,
        }
    }

    async fn parar(self) {
        for (parada, tarea) in self.paradas.into_iter().zip(self.tareas) {
            let _ = parada.send(());
            tokio::time::timeout(Duration::from_secs(20), tarea)
                .await
                .expect("service did not stop")
                .unwrap()
                .unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_runs_end_to_end_over_https_and_a_cliente_without_the_ca_is_told_why() {
    let pki = pki();
    let c = ClusterTls::iniciar(&pki).await;
    let ca = pki.ca.to_str().unwrap();

    let con_todo = ["--maestro", &c.url, "--ca", ca, "--token", TOKEN, "--json"];
    let trabajo = ["trabajo", "--tipo", "espera", "--ms", "10", "--esperar"];
    cliente(&[&con_todo[..], &trabajo].concat())
        .await
        .esperar_codigo(0);
    let estado = cliente(&[&con_todo[..], &["estado"]].concat()).await;
    let estado: comun::api::EstadoCluster = estado.esperar_codigo(0).json();
    assert_eq!(estado.resumen.completados, 1, "{estado:?}");

    let sin_ca = cliente(&["--maestro", &c.url, "--token", TOKEN, "estado"]).await;
    sin_ca.esperar_codigo(2);
    assert!(
        sin_ca.stderr.contains("invalid peer certificate") && sin_ca.stderr.contains("--ca"),
        "{sin_ca:#?}"
    );

    let en_claro = c.url.replace("https://", "http://");
    let claro = cliente(&["--maestro", &en_claro, "--token", TOKEN, "estado"]).await;
    claro.esperar_codigo(1);
    assert!(claro.stderr.contains("https://"), "{claro:#?}");

    let sin_token = cliente(&["--maestro", &c.url, "--ca", ca, "estado"]).await;
    sin_token.esperar_codigo(1);
    assert!(sin_token.stderr.contains("HPC_TOKEN"), "{sin_token:#?}");
    c.parar().await;
}

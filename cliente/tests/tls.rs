//! The cluster over HTTPS with a token: an in-process maestro and esclavo serving TLS with a
//! throwaway CA (rcgen), the real `cliente` binary running a job with `--ca`, and the clear
//! errors of a `cliente` without the CA or speaking plain HTTP to the TLS port.

mod apoyo;

use std::time::Duration;

use apoyo::{ARRANQUE, Servicio, cliente, esperar_hasta};
use pruebas::pki::{Pki, pki};
use pruebas::sondas::esclavos;

const TOKEN: &str = "s3creto";

/// A maestro and one esclavo, both serving HTTPS with the cluster token, each trusting the CA.
struct ClusterTls {
    url: String,
    /// The esclavo, then the maestro: the order they stop in.
    servicios: Vec<Servicio>,
    _datos: tempfile::TempDir,
}

impl ClusterTls {
    async fn iniciar(pki: &Pki) -> Self {
        let transporte = plataforma::Transporte {
            tls: Some(plataforma::Tls::cargar(&pki.cert, &pki.clave).unwrap()),
            ..Default::default()
        };
        let ca = plataforma::Ca::cargar(&pki.ca).unwrap();
        let datos = tempfile::tempdir().unwrap();
        let mut m = maestro::Config::new(datos.path());
        m.token = Some(TOKEN.into());
        m.transporte = transporte.clone();
        m.ca = Some(ca.clone());
        let servicio_m = Servicio::iniciar(|l, parada| maestro::run(m, l, parada)).await;
        let url = format!("https://{}", servicio_m.direccion);

        let mut e = esclavo::Config::new(&url, "esclavo-tls");
        e.token = Some(TOKEN.into());
        e.transporte = transporte;
        e.ca = Some(ca.clone());
        e.capacidad = 2;
        e.latido = Duration::from_millis(250);
        let servicio_e = Servicio::iniciar(|l, parada| esclavo::run(e, l, parada)).await;

        let http = plataforma::cliente_http(Some(&ca)).build().unwrap();
        esperar_hasta(ARRANQUE, "the esclavo registers over https", || async {
            let lista = esclavos(http.get(format!("{url}/esclavos")).bearer_auth(TOKEN)).await;
            lista
                .iter()
                .any(|e| e.vivo && e.url.starts_with("https://127.0.0.1:"))
        })
        .await;
        Self {
            url,
            servicios: vec![servicio_e, servicio_m],
            _datos: datos,
        }
    }

    async fn parar(self) {
        for s in self.servicios {
            s.parar().await;
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

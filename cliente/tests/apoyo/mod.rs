//! Test support: a maestro and esclavos started in-process on port 0 (real HTTP on loopback),
//! the real `cliente` binary run against them, and waiting for conditions with a deadline.
#![allow(dead_code)]

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Longest a `cliente` run may take in these tests.
pub const PLAZO_CLIENTE: Duration = Duration::from_secs(120);

/// A running service and the means to stop it.
pub struct Servicio {
    pub url: String,
    parar: Option<oneshot::Sender<()>>,
    tarea: Option<JoinHandle<anyhow::Result<()>>>,
}

impl Servicio {
    /// Stops it and waits until it has stopped.
    pub async fn parar(mut self) {
        if let Some(p) = self.parar.take() {
            let _ = p.send(());
        }
        if let Some(t) = self.tarea.take() {
            tokio::time::timeout(Duration::from_secs(20), t)
                .await
                .expect("service did not stop within 20 s")
                .expect("service task panicked")
                .expect("service returned an error");
        }
    }
}

/// A maestro on a free port with its data in `datos`; returns once it answers `/ping`.
pub async fn maestro(datos: &Path) -> Servicio {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = oneshot::channel::<()>();
    let tarea = tokio::spawn(maestro::run(
        maestro::Config::new(datos),
        listener,
        async move {
            let _ = rx.await;
        },
    ));
    let u = url.clone();
    esperar_hasta("the maestro answers /ping", move || {
        let u = u.clone();
        async move {
            reqwest::get(format!("{u}/ping"))
                .await
                .is_ok_and(|r| r.status().is_success())
        }
    })
    .await;
    Servicio {
        url,
        parar: Some(tx),
        tarea: Some(tarea),
    }
}

/// An esclavo named `nombre` with `capacidad` slots; returns once the maestro lists it alive.
pub async fn esclavo(maestro: &str, nombre: &str, capacidad: u32) -> Servicio {
    let mut config = esclavo::Config::new(maestro, nombre);
    config.capacidad = capacidad;
    config.latido = Duration::from_millis(250);
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = oneshot::channel::<()>();
    let tarea = tokio::spawn(esclavo::run(config, listener, async move {
        let _ = rx.await;
    }));
    let (m, n) = (maestro.to_string(), nombre.to_string());
    esperar_hasta("the esclavo is registered", move || {
        let (m, n) = (m.clone(), n.clone());
        async move {
            let Ok(r) = reqwest::get(format!("{m}/esclavos")).await else {
                return false;
            };
            let lista: Vec<comun::api::EsclavoInfo> = r.json().await.unwrap_or_default();
            lista.iter().any(|e| e.nombre == n && e.vivo)
        }
    })
    .await;
    Servicio {
        url,
        parar: Some(tx),
        tarea: Some(tarea),
    }
}

/// A maestro with `n` esclavos of 2 slots, in a fresh data folder.
pub struct Cluster {
    pub maestro: Servicio,
    pub esclavos: Vec<Servicio>,
    _datos: tempfile::TempDir,
}

impl Cluster {
    pub async fn new(n: u32) -> Self {
        let datos = tempfile::tempdir().unwrap();
        let maestro = maestro(datos.path()).await;
        let mut esclavos = Vec::new();
        for i in 1..=n {
            esclavos.push(esclavo(&maestro.url, &format!("esclavo{i}"), 2).await);
        }
        Self {
            maestro,
            esclavos,
            _datos: datos,
        }
    }

    pub fn url(&self) -> &str {
        &self.maestro.url
    }

    pub async fn parar(self) {
        for e in self.esclavos {
            e.parar().await;
        }
        self.maestro.parar().await;
    }
}

/// What a run of the `cliente` binary printed, and how it ended.
#[derive(Debug)]
pub struct Salida {
    pub codigo: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Salida {
    /// Asserts the exit status, showing everything printed when it differs.
    pub fn esperar_codigo(&self, codigo: i32) -> &Self {
        assert_eq!(self.codigo, Some(codigo), "{self:#?}");
        self
    }

    /// Stdout parsed as JSON of type `T`.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> T {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not the expected JSON ({e}): {self:#?}"))
    }
}

/// Runs the `cliente` binary with `args` in the current folder.
pub async fn cliente(args: &[&str]) -> Salida {
    cliente_en(Path::new("."), args).await
}

/// Runs the `cliente` binary with `args` in `carpeta`; kills it after [`PLAZO_CLIENTE`].
pub async fn cliente_en(carpeta: &Path, args: &[&str]) -> Salida {
    let hijo = tokio::process::Command::new(env!("CARGO_BIN_EXE_cliente"))
        .args(args)
        .current_dir(carpeta)
        .env_remove("MAESTRO_URL")
        .env_remove("MAESTRO_IP")
        .env_remove("HPC_TOKEN")
        .env_remove("HPC_CA")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("starting the cliente binary");
    let salida = tokio::time::timeout(PLAZO_CLIENTE, hijo.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("cliente {args:?} did not end within {PLAZO_CLIENTE:?}"))
        .expect("waiting for the cliente binary");
    Salida {
        codigo: salida.status.code(),
        stdout: String::from_utf8_lossy(&salida.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&salida.stderr).into_owned(),
    }
}

/// Polls `f` every 20 ms until it holds; panics naming `que` after 15 s.
pub async fn esperar_hasta<F, Fut>(que: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let limite = tokio::time::Instant::now() + Duration::from_secs(15);
    while !f().await {
        assert!(
            tokio::time::Instant::now() < limite,
            "timed out waiting until {que}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Width and height of a PNG file, decoding it whole.
pub fn png(ruta: &Path) -> (u32, u32) {
    let archivo =
        std::fs::File::open(ruta).unwrap_or_else(|e| panic!("cannot open {}: {e}", ruta.display()));
    let mut lector = png::Decoder::new(std::io::BufReader::new(archivo))
        .read_info()
        .unwrap_or_else(|e| panic!("{} is not a PNG: {e}", ruta.display()));
    let mut buf = vec![0; lector.output_buffer_size().unwrap()];
    let info = lector.next_frame(&mut buf).expect("decoding the PNG");
    (info.width, info.height)
}

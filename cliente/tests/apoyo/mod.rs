//! Test support: a maestro and esclavos started in-process on port 0 ([`pruebas::Servicio`],
//! real HTTP on loopback), the real `cliente` binary run against them, and waiting for
//! conditions with a deadline.
#![allow(dead_code)]

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use pruebas::sondas::{esclavo_vivo, responde_ping};
pub use pruebas::{Servicio, esperar_hasta};

/// Longest a `cliente` run may take in these tests.
pub const PLAZO_CLIENTE: Duration = Duration::from_secs(120);
/// Longest a started maestro or esclavo may take to be ready.
pub const ARRANQUE: Duration = Duration::from_secs(15);

/// A maestro on a free port with its data in `datos`; returns once it answers `/ping`.
pub async fn maestro(datos: &Path) -> Servicio {
    let config = maestro::Config::new(datos);
    let m = Servicio::iniciar(|listener, parada| maestro::run(config, listener, parada)).await;
    esperar_hasta(ARRANQUE, "the maestro answers /ping", || {
        responde_ping(&m.url)
    })
    .await;
    m
}

/// An esclavo named `nombre` with `capacidad` slots; returns once the maestro lists it alive.
pub async fn esclavo(maestro: &str, nombre: &str, capacidad: u32) -> Servicio {
    let mut config = esclavo::Config::new(maestro, nombre);
    config.capacidad = capacidad;
    config.latido = Duration::from_millis(250);
    config.gracia = Duration::ZERO;
    let e = Servicio::iniciar(|listener, parada| esclavo::run(config, listener, parada)).await;
    esperar_hasta(ARRANQUE, "the esclavo is registered", || {
        esclavo_vivo(maestro, nombre)
    })
    .await;
    e
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

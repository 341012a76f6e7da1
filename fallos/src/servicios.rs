//! A scenario and the services it starts: maestro, esclavos and memoria nodes as separate
//! processes, each with its own ports and, for the maestro, its own data folder.

use std::ffi::OsString;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::ExitStatus;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use pruebas::esperar_hasta;

use crate::api::{Api, VistaEsclavo, cliente_http, estado_esclavo};
use crate::binarios::{Binarios, raiz_del_workspace};
use crate::proceso::{Lanzamiento, Proceso};

/// How long a started esclavo may take to register.
const REGISTRO: Duration = Duration::from_secs(20);
/// How long a maestro may take to exit after SIGTERM.
const PARADA: Duration = Duration::from_secs(15);

/// Where a service runs inside a network namespace, and the address others reach it at.
#[derive(Debug, Clone)]
pub struct EnRed {
    pub espacio: String,
    pub ip: Ipv4Addr,
}

/// One scenario: where its figures and logs go, its binaries, its temporary data.
pub struct Escenario {
    pub nombre: &'static str,
    pub binarios: Binarios,
    pub inicio: Instant,
    /// Logs of every process: `target/fallos/registros/<scenario>/`.
    pub registros: PathBuf,
    /// Temporary folder of the scenario (the maestro's data folder is inside).
    pub temporal: tempfile::TempDir,
    lanzados: AtomicU32,
}

impl Escenario {
    /// Starts a scenario: finds the binaries (printing which), clears its old figures and logs.
    pub fn nuevo(nombre: &'static str) -> Escenario {
        let binarios = Binarios::localizar();
        let salida = carpeta_de_salida();
        let registros = salida.join("registros").join(nombre);
        let _ = std::fs::remove_dir_all(&registros);
        let _ = std::fs::remove_file(salida.join(format!("{nombre}.json")));
        std::fs::create_dir_all(&registros).expect("creating the log folder");
        println!("[fallos] scenario {nombre}");
        for s in crate::binarios::SERVICIOS {
            println!(
                "[fallos]   {s}: {} (from {})",
                binarios.ruta(s).display(),
                binarios.origen
            );
        }
        println!("[fallos]   logs: {}", registros.display());
        Escenario {
            nombre,
            binarios,
            inicio: Instant::now(),
            registros,
            temporal: tempfile::tempdir().expect("a temporary folder"),
            lanzados: AtomicU32::new(0),
        }
    }

    /// Seconds since the scenario started.
    pub fn segundos(&self) -> f64 {
        self.inicio.elapsed().as_secs_f64()
    }

    /// A fresh data folder for a maestro.
    pub fn carpeta_datos(&self, nombre: &str) -> PathBuf {
        let d = self.temporal.path().join(nombre);
        std::fs::create_dir_all(&d).expect("creating a data folder");
        d
    }

    /// The options of replica `nombre` on database `base`: its own data folder, a lease of
    /// `plazo_lider_ms`, esclavos lost after 2 s.
    pub fn replica(
        &self,
        base: &str,
        nombre: &'static str,
        plazo_lider_ms: u64,
    ) -> OpcionesMaestro {
        OpcionesMaestro {
            base: Some(base.to_string()),
            replica: Some(nombre),
            plazo_lider_ms,
            plazo_esclavo_ms: 2000,
            datos: Some(self.carpeta_datos(nombre)),
            ..OpcionesMaestro::default()
        }
    }

    fn lanzamiento(
        &self,
        servicio: &'static str,
        etiqueta: &str,
        args: Vec<OsString>,
        rust_log: &str,
        red: Option<&EnRed>,
    ) -> Lanzamiento {
        let n = self.lanzados.fetch_add(1, Ordering::Relaxed) + 1;
        Lanzamiento {
            servicio,
            binario: self.binarios.ruta(servicio),
            args,
            rust_log: rust_log.to_string(),
            espacio: red.map(|r| r.espacio.clone()),
            registro: self.registros.join(format!("{n:02}-{etiqueta}.log")),
        }
    }

    /// Starts a maestro with `o`.
    pub async fn maestro(&self, o: OpcionesMaestro) -> Maestro {
        let datos = o
            .datos
            .clone()
            .unwrap_or_else(|| self.carpeta_datos("maestro"));
        let mut m = Maestro {
            registros: self.registros.clone(),
            proceso: None,
            api: Api::new(String::new()),
            puerto: o.puerto,
            datos,
            opciones: o,
            reinicios: 0,
        };
        m.lanzar(self).await;
        m
    }

    /// Starts an esclavo with `o` and, unless told otherwise, waits until it is registered.
    pub async fn esclavo(&self, o: OpcionesEsclavo) -> Esclavo {
        let mut e = Esclavo {
            proceso: None,
            url: String::new(),
            opciones: o,
            reinicios: 0,
            http: cliente_http(),
        };
        e.lanzar(self).await;
        e
    }

    /// Starts a memoria node with `o`.
    pub async fn memoria(&self, o: OpcionesMemoria) -> Proceso {
        let mut args: Vec<OsString> = vec![
            "--puerto".into(),
            "0".into(),
            "--maestro".into(),
            o.maestro.clone().into(),
            "--nodo".into(),
            o.nodo.clone().into(),
            "--intervalo".into(),
            o.intervalo.clone().into(),
        ];
        for (flag, valor) in &o.umbrales {
            args.push(format!("--{flag}").into());
            args.push(valor.into());
        }
        let l = self.lanzamiento(
            "memoria",
            &format!("memoria-{}", o.nodo),
            args,
            "info",
            None,
        );
        Proceso::lanzar(&format!("memoria {}", o.nodo), &l)
            .await
            .unwrap_or_else(|e| panic!("{e:#}"))
    }
}

/// `target/fallos` of the workspace: figures (`<scenario>.json`) and logs.
pub fn carpeta_de_salida() -> PathBuf {
    raiz_del_workspace().join("target").join("fallos")
}

/// How a maestro is started.
#[derive(Debug, Clone)]
pub struct OpcionesMaestro {
    /// 0: any free port (a restart reuses the one it got).
    pub puerto: u16,
    /// `None`: a fresh folder in the scenario's temporary folder.
    pub datos: Option<PathBuf>,
    pub plazo_esclavo_ms: u64,
    pub plazo_memoria_ms: u64,
    pub max_intentos: u32,
    pub sincronizacion: &'static str,
    pub rust_log: &'static str,
    pub red: Option<EnRed>,
    /// A PostgreSQL database URL (`--base`); `None`: SQLite in `datos`.
    pub base: Option<String>,
    /// With `base`: the replica's name (`--replica`); its lease is `plazo_lider_ms`.
    pub replica: Option<&'static str>,
    pub plazo_lider_ms: u64,
}

impl Default for OpcionesMaestro {
    fn default() -> Self {
        Self {
            puerto: 0,
            datos: None,
            plazo_esclavo_ms: 1500,
            plazo_memoria_ms: 20_000,
            max_intentos: 3,
            sincronizacion: "full",
            rust_log: "info",
            red: None,
            base: None,
            replica: None,
            plazo_lider_ms: 1500,
        }
    }
}

/// A maestro process, its API and its data folder.
pub struct Maestro {
    pub proceso: Option<Proceso>,
    pub api: Api,
    pub puerto: u16,
    pub datos: PathBuf,
    pub opciones: OpcionesMaestro,
    /// How many times it was started again on the same data folder.
    pub reinicios: u32,
    /// The scenario's log folder, where a failed check copies the database.
    registros: PathBuf,
}

impl Maestro {
    async fn lanzar(&mut self, esc: &Escenario) {
        let o = &self.opciones;
        let puerto = match (&o.red, self.puerto) {
            (Some(_), 0) => 5001,
            (_, p) => p,
        };
        let mut args: Vec<OsString> = vec![
            "--puerto".into(),
            puerto.to_string().into(),
            "--datos".into(),
            self.datos.clone().into(),
            "--sin-archivo".into(),
            "--plazo-esclavo-ms".into(),
            o.plazo_esclavo_ms.to_string().into(),
            "--plazo-memoria-ms".into(),
            o.plazo_memoria_ms.to_string().into(),
            "--max-intentos".into(),
            o.max_intentos.to_string().into(),
            "--sincronizacion".into(),
            o.sincronizacion.into(),
        ];
        let host = o.red.as_ref().map_or(Ipv4Addr::LOCALHOST, |r| r.ip);
        if let Some(base) = &o.base {
            args.extend(["--base".into(), base.into()]);
        }
        if let Some(r) = o.replica {
            args.extend([
                "--replica".into(),
                r.into(),
                "--plazo-lider-ms".into(),
                o.plazo_lider_ms.to_string().into(),
            ]);
            if puerto != 0 {
                args.extend([
                    "--url-replica".into(),
                    format!("http://{host}:{puerto}").into(),
                ]);
            }
        }
        let nombre = o
            .replica
            .map_or("maestro".into(), |r| format!("maestro-{r}"));
        let l = esc.lanzamiento("maestro", &nombre, args, o.rust_log, o.red.as_ref());
        let p = Proceso::lanzar(&nombre, &l)
            .await
            .unwrap_or_else(|e| panic!("{e:#}"));
        self.puerto = p.puerto;
        self.api = Api::new(format!("http://{host}:{}", p.puerto));
        println!(
            "[fallos] maestro pid {} at {} (data {})",
            p.pid,
            self.api.url,
            self.datos.display()
        );
        self.proceso = Some(p);
    }

    pub fn url(&self) -> &str {
        &self.api.url
    }

    /// The running process; panics if it is not running.
    pub fn proceso(&mut self) -> &mut Proceso {
        self.proceso.as_mut().expect("the maestro is running")
    }

    /// SIGKILL.
    pub async fn matar(&mut self) {
        self.proceso().matar().await;
        self.proceso = None;
    }

    /// Starts it again on the same port and data folder.
    pub async fn reiniciar(&mut self, esc: &Escenario) {
        assert!(self.proceso.is_none(), "the maestro still runs");
        self.reinicios += 1;
        self.lanzar(esc).await;
    }

    /// SIGTERM (SIGKILL if it does not exit in time), so its database can be read.
    pub async fn parar(&mut self) {
        self.terminar().await;
    }

    /// SIGTERM, as `docker stop` or Kubernetes stops it; waits for it to exit (SIGKILL if it
    /// does not in time). How it exited, or `None` if it had to be killed.
    pub async fn terminar(&mut self) -> Option<ExitStatus> {
        let mut p = self.proceso.take()?;
        p.exigir_vivo();
        p.parar(PARADA).await
    }

    /// Its database file.
    pub fn base_de_datos(&self) -> PathBuf {
        self.datos.join("maestro.db")
    }

    /// Copies its (stopped) database to the scenario's log folder, for a post-mortem; returns
    /// where. On PostgreSQL, the database's URL is written there instead (the server lives
    /// until the scenario ends).
    pub fn copiar_base(&self) -> PathBuf {
        if let Some(base) = &self.opciones.base {
            let nota = self.registros.join("base-postgresql.txt");
            let _ = std::fs::write(&nota, format!("{base}\n"));
            return nota;
        }
        for sufijo in ["", "-wal", "-shm"] {
            let origen = self.datos.join(format!("maestro.db{sufijo}"));
            if origen.exists() {
                let _ = std::fs::copy(&origen, self.registros.join(format!("maestro.db{sufijo}")));
            }
        }
        self.registros.join("maestro.db")
    }
}

/// How an esclavo is started.
#[derive(Debug, Clone)]
pub struct OpcionesEsclavo {
    /// The maestro's base URL.
    pub maestro: String,
    pub nombre: String,
    pub capacidad: u32,
    pub nodo: String,
    pub latido_ms: u64,
    /// `--gracia-s`: on SIGTERM, how long running jobs may finish (`None`: the default).
    pub gracia_s: Option<f64>,
    pub rust_log: String,
    pub red: Option<EnRed>,
    /// Wait until the maestro accepted its registration before returning.
    pub esperar_registro: bool,
}

impl OpcionesEsclavo {
    pub fn new(maestro: &str, nombre: &str, capacidad: u32) -> Self {
        Self {
            maestro: maestro.to_string(),
            nombre: nombre.to_string(),
            capacidad,
            nodo: "fallos".into(),
            latido_ms: 300,
            gracia_s: None,
            rust_log: "info".into(),
            red: None,
            esperar_registro: true,
        }
    }
}

/// An esclavo process.
pub struct Esclavo {
    pub proceso: Option<Proceso>,
    /// How the maestro (and the test) reach it.
    pub url: String,
    pub opciones: OpcionesEsclavo,
    /// How many times it was started again under the same name.
    pub reinicios: u32,
    http: reqwest::Client,
}

impl Esclavo {
    async fn lanzar(&mut self, esc: &Escenario) {
        let nombre = format!("esclavo {}", self.opciones.nombre);
        let etiqueta = format!("esclavo-{}", self.opciones.nombre);
        // The URL it advertises needs its port before it starts: take a free one, and take
        // another if something grabbed it in between.
        let mut intentos = 0;
        let proceso = loop {
            intentos += 1;
            let (puerto, host) = match &self.opciones.red {
                Some(r) => (5011, r.ip),
                None => (puerto_libre(), Ipv4Addr::LOCALHOST),
            };
            let url = format!("http://{host}:{puerto}");
            let o = &self.opciones;
            let mut args: Vec<OsString> = vec![
                "--puerto".into(),
                puerto.to_string().into(),
                "--url-publica".into(),
                url.clone().into(),
                "--maestro".into(),
                o.maestro.clone().into(),
                "--nombre".into(),
                o.nombre.clone().into(),
                "--capacidad".into(),
                o.capacidad.to_string().into(),
                "--nodo".into(),
                o.nodo.clone().into(),
                "--latido-ms".into(),
                o.latido_ms.to_string().into(),
            ];
            if let Some(g) = o.gracia_s {
                args.extend(["--gracia-s".into(), g.to_string().into()]);
            }
            let l = esc.lanzamiento("esclavo", &etiqueta, args, &o.rust_log, o.red.as_ref());
            match Proceso::lanzar(&nombre, &l).await {
                Ok(p) => {
                    self.url = url;
                    break p;
                }
                Err(e) if intentos < 5 && format!("{e:#}").contains("cannot listen") => {
                    println!("[fallos] port {puerto} was taken; trying another");
                }
                Err(e) => panic!("{e:#}"),
            }
        };
        println!(
            "[fallos] {nombre} pid {} at {} (capacity {}, node {})",
            proceso.pid, self.url, self.opciones.capacidad, self.opciones.nodo
        );
        self.proceso = Some(proceso);
        if self.opciones.esperar_registro {
            self.esperar_registro().await;
        }
    }

    pub fn nombre(&self) -> &str {
        &self.opciones.nombre
    }

    /// The running process; panics if it is not running.
    pub fn proceso(&mut self) -> &mut Proceso {
        self.proceso.as_mut().expect("the esclavo is running")
    }

    /// Waits until this process says the maestro accepted its registration.
    pub async fn esperar_registro(&self) {
        let que = format!("esclavo {} is registered", self.nombre());
        esperar_hasta(REGISTRO, &que, || async {
            self.estado().await.is_ok_and(|v| v.registrado)
        })
        .await;
    }

    /// Its `GET /estado`.
    pub async fn estado(&self) -> anyhow::Result<VistaEsclavo> {
        estado_esclavo(&self.http, &self.url).await
    }

    /// SIGKILL.
    pub async fn matar(&mut self) {
        self.proceso().matar().await;
        self.proceso = None;
    }

    /// SIGTERM: it drains; waits up to `plazo` for it to exit (SIGKILL after that). How it
    /// exited, or `None` if it had to be killed.
    pub async fn terminar(&mut self, plazo: Duration) -> Option<ExitStatus> {
        let mut p = self.proceso.take().expect("the esclavo is running");
        println!("[fallos] SIGTERM {} (pid {})", p.nombre, p.pid);
        p.parar(plazo).await
    }

    /// Starts it again under the same name (a new process: a new instance, a new port).
    pub async fn reiniciar(&mut self, esc: &Escenario) {
        assert!(self.proceso.is_none(), "the esclavo still runs");
        self.reinicios += 1;
        self.lanzar(esc).await;
    }
}

/// How a memoria node is started.
#[derive(Debug, Clone)]
pub struct OpcionesMemoria {
    pub maestro: String,
    pub nodo: String,
    /// Seconds between samples (and reports).
    pub intervalo: String,
    /// `(flag without --, value)`, e.g. `("umbral-cpu", "off")`.
    pub umbrales: Vec<(&'static str, String)>,
}

impl OpcionesMemoria {
    /// A node in `crítico` on any machine: memory thresholds of a thousandth of a percent,
    /// every other resource off, a sample every 0.2 s.
    pub fn critica(maestro: &str, nodo: &str) -> Self {
        let umbrales = vec![
            ("umbral-memoria", "0.001,0.002".to_string()),
            ("histeresis", "0".to_string()),
            ("umbral-cpu", "off".to_string()),
            ("umbral-swap", "off".to_string()),
            ("umbral-disco", "off".to_string()),
            ("umbral-gpu-memoria", "off".to_string()),
        ];
        Self {
            maestro: maestro.to_string(),
            nodo: nodo.to_string(),
            intervalo: "0.2".into(),
            umbrales,
        }
    }
}

/// A port nobody listens on now (the kernel's pick for port 0).
pub fn puerto_libre() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("binding a free port")
        .port()
}

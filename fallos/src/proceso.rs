//! One service running as a child process: started, its address read from its first line,
//! its stderr in a log file, and real signals (SIGKILL, SIGSTOP, SIGCONT, SIGTERM) sent to it.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use anyhow::Context as _;
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

/// How long a service may take to print its address (a debug build on a busy 2-core machine).
const ARRANQUE: Duration = Duration::from_secs(30);

/// Environment variables of the cluster that must not leak from the caller's shell into a
/// service (each flag can also come from one).
const VARIABLES: [&str; 21] = [
    "PUERTO",
    "DATOS",
    "ARCHIVO_TRABAJOS",
    "HPC_TOKEN",
    "PLAZO_ESCLAVO_MS",
    "MAX_INTENTOS",
    "PLAZO_MEMORIA_MS",
    "SINCRONIZACION",
    "MAESTRO_URL",
    "MAESTRO_IP",
    "HPC_MAESTRO_DEFECTO",
    "ESCLAVO",
    "URL_PUBLICA",
    "CAPACIDAD",
    "NODO",
    "MEMORIA_NODE",
    "LATIDO_MS",
    "INTERVALO",
    "INTERVALO_REPORTE",
    "HISTERESIS",
    "HISTORIAL",
];

/// What to start.
#[derive(Debug, Clone)]
pub struct Lanzamiento {
    /// `maestro`, `esclavo` or `memoria`: the binary, and the first word of its first line.
    pub servicio: &'static str,
    pub binario: PathBuf,
    pub args: Vec<OsString>,
    /// `RUST_LOG` of the service.
    pub rust_log: String,
    /// A network namespace to run it in (`ip netns exec NAME binary …`).
    pub espacio: Option<String>,
    /// Where its stderr goes.
    pub registro: PathBuf,
}

/// A running service. Dropping it kills it (SIGKILL).
#[derive(Debug)]
pub struct Proceso {
    /// For messages: `maestro`, `esclavo a`…
    pub nombre: String,
    pub pid: i32,
    /// The port it printed on its first line.
    pub puerto: u16,
    /// Its stderr (logs).
    pub registro: PathBuf,
    hijo: Child,
}

impl Proceso {
    /// Starts the service and waits for its first line, `<servicio> escuchando en
    /// http://127.0.0.1:PORT`. An error if it exits first or prints something else.
    pub async fn lanzar(nombre: &str, l: &Lanzamiento) -> anyhow::Result<Proceso> {
        let log = std::fs::File::create(&l.registro)
            .with_context(|| format!("creating {}", l.registro.display()))?;
        let mut comando = match &l.espacio {
            Some(espacio) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", espacio]).arg(&l.binario);
                c
            }
            None => Command::new(&l.binario),
        };
        comando
            .args(&l.args)
            .env("RUST_LOG", &l.rust_log)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .kill_on_drop(true);
        for v in VARIABLES {
            comando.env_remove(v);
        }
        let mut hijo = comando
            .spawn()
            .with_context(|| format!("starting {}", l.binario.display()))?;
        let pid = hijo.id().context("a just-started child has a pid")? as i32;
        let mut lineas = BufReader::new(hijo.stdout.take().context("piped stdout")?).lines();
        let primera = tokio::time::timeout(ARRANQUE, lineas.next_line()).await;
        let primera = match primera {
            Ok(Ok(Some(linea))) => linea,
            Ok(_) => {
                let estado = hijo.wait().await.ok();
                anyhow::bail!(
                    "{nombre} exited ({estado:?}) before printing its address; its log {}:\n{}",
                    l.registro.display(),
                    cola_del_registro(&l.registro)
                );
            }
            Err(_) => anyhow::bail!(
                "{nombre} printed nothing within {ARRANQUE:?}; its log {}:\n{}",
                l.registro.display(),
                cola_del_registro(&l.registro)
            ),
        };
        let prefijo = format!("{} escuchando en http://127.0.0.1:", l.servicio);
        let puerto: u16 = primera
            .strip_prefix(&prefijo)
            .and_then(|p| p.trim().parse().ok())
            .with_context(|| {
                format!("{nombre}'s first line is `{primera}`, not `{prefijo}PORT`")
            })?;
        // Keep reading stdout so a later write never meets a closed pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lineas.next_line().await {} });
        Ok(Proceso {
            nombre: nombre.to_string(),
            pid,
            puerto,
            registro: l.registro.clone(),
            hijo,
        })
    }

    /// SIGKILL, then waits until the process is gone.
    pub async fn matar(&mut self) {
        println!("[fallos] SIGKILL {} (pid {})", self.nombre, self.pid);
        self.senal(libc::SIGKILL);
        let _ = self.hijo.wait().await;
    }

    /// SIGSTOP: the process is frozen (its sockets stay open, nothing answers).
    pub fn detener(&mut self) {
        println!("[fallos] SIGSTOP {} (pid {})", self.nombre, self.pid);
        self.senal(libc::SIGSTOP);
    }

    /// SIGCONT: a stopped process runs again.
    pub fn continuar(&mut self) {
        println!("[fallos] SIGCONT {} (pid {})", self.nombre, self.pid);
        self.senal(libc::SIGCONT);
    }

    /// SIGTERM and waits up to `plazo` for a clean exit; SIGKILL after that. Returns whether
    /// it exited by itself, and how.
    pub async fn parar(&mut self, plazo: Duration) -> Option<ExitStatus> {
        if !self.sigue_vivo() {
            return None;
        }
        self.senal(libc::SIGTERM);
        match tokio::time::timeout(plazo, self.hijo.wait()).await {
            Ok(estado) => estado.ok(),
            Err(_) => {
                println!(
                    "[fallos] {} did not exit within {plazo:?} of SIGTERM: SIGKILL",
                    self.nombre
                );
                self.matar().await;
                None
            }
        }
    }

    /// Whether it still runs (it did not exit or crash).
    pub fn sigue_vivo(&mut self) -> bool {
        matches!(self.hijo.try_wait(), Ok(None))
    }

    /// Asserts that it still runs: a service that crashed on its own fails the scenario.
    pub fn exigir_vivo(&mut self) {
        let estado = self.hijo.try_wait();
        assert!(
            matches!(estado, Ok(None)),
            "{} (pid {}) exited on its own ({estado:?}); its log {}:\n{}",
            self.nombre,
            self.pid,
            self.registro.display(),
            cola_del_registro(&self.registro)
        );
    }

    /// Resident memory in KiB.
    pub fn rss_kib(&self) -> Option<u64> {
        rss_kib(self.pid)
    }

    /// Sends a signal to the process, which must not have been reaped yet: until this handle
    /// waits for it, its pid cannot belong to another process.
    fn senal(&mut self, senal: libc::c_int) {
        assert!(
            self.sigue_vivo(),
            "{} (pid {}) already exited; its log {}:\n{}",
            self.nombre,
            self.pid,
            self.registro.display(),
            cola_del_registro(&self.registro)
        );
        // SAFETY: kill(2) takes two integers and touches no memory of ours.
        let r = unsafe { libc::kill(self.pid, senal) };
        assert_eq!(
            r,
            0,
            "kill({}, {senal}) on {}: {}",
            self.pid,
            self.nombre,
            std::io::Error::last_os_error()
        );
    }
}

/// Resident memory of a process in KiB, from `/proc/<pid>/status`.
pub fn rss_kib(pid: i32) -> Option<u64> {
    let estado = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    estado
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// The last lines of a log, for failure messages.
pub fn cola_del_registro(ruta: &Path) -> String {
    let texto = std::fs::read_to_string(ruta).unwrap_or_default();
    let lineas: Vec<&str> = texto.lines().collect();
    lineas[lineas.len().saturating_sub(30)..].join("\n")
}

//! A throwaway PostgreSQL server for tests: Debian's `postgresql` binaries, a cluster made with
//! `initdb` in a temporary folder, `postgres` on a free loopback port with its socket in that
//! folder, run as the `postgres` user when the tests run as root. No container, no download.
//!
//! [`Postgres::iniciar`] starts one that a test owns (stopped and removed when dropped);
//! [`compartido`] starts one per test process, shared by its tests, each in a database of its
//! own ([`Postgres::base`]). Without PostgreSQL installed, [`compartido`] says so loudly and
//! answers `None` — unless `HPC_EXIGIR_POSTGRES=1` (CI sets it), where that is a failure.
//!
//! A server dies with the process that started it (`PR_SET_PDEATHSIG`), so a test that panics
//! or a process that exits leaves none behind; folders left by dead processes are removed by
//! the next start.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// The variable that makes a missing PostgreSQL a failure.
pub const EXIGIR: &str = "HPC_EXIGIR_POSTGRES";

/// What to install to run the PostgreSQL tests.
pub const COMO_INSTALAR: &str = "apt-get install postgresql (Debian's package; any version \
                                 from 13), or set HPC_POSTGRES_BIN to a folder with initdb \
                                 and postgres";

/// The role the tests connect as (the cluster's superuser, trusted on loopback).
pub const USUARIO: &str = "hpc";

/// How long a server may take to accept connections.
const ARRANQUE: Duration = Duration::from_secs(30);

/// The folder of PostgreSQL's server binaries: `HPC_POSTGRES_BIN`, or else the newest
/// `/usr/lib/postgresql/<version>/bin` with `initdb` in it, or else `pg_config --bindir`.
pub fn binarios() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("HPC_POSTGRES_BIN") {
        return Some(PathBuf::from(d));
    }
    let mut versiones: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    versiones.sort();
    if let Some((_, bin)) = versiones.pop() {
        return Some(bin);
    }
    let salida = Command::new("pg_config").arg("--bindir").output().ok()?;
    let bin = PathBuf::from(String::from_utf8(salida.stdout).ok()?.trim());
    bin.join("initdb").exists().then_some(bin)
}

/// A running server, stopped (SIGQUIT: immediate shutdown) and its folder removed on drop.
pub struct Postgres {
    bin: PathBuf,
    carpeta: PathBuf,
    puerto: u16,
    ajustes: Vec<(String, String)>,
    proceso: Option<Child>,
}

impl Postgres {
    /// A new cluster, started, tuned for tests (`fsync = off`: a test survives no power cut).
    pub fn iniciar() -> anyhow::Result<Postgres> {
        Self::iniciar_con(&[("fsync", "off"), ("full_page_writes", "off")])
    }

    /// A new cluster, started with these `-c` settings besides the defaults.
    pub fn iniciar_con(ajustes: &[(&str, &str)]) -> anyhow::Result<Postgres> {
        let bin =
            binarios().with_context(|| format!("PostgreSQL is not installed: {COMO_INSTALAR}"))?;
        let carpeta = carpeta_nueva()?;
        let mut initdb = Command::new(bin.join("initdb"));
        initdb.arg("-D").arg(carpeta.join("datos")).args([
            "-U",
            USUARIO,
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
            "--locale=C",
        ]);
        como_postgres(&mut initdb)?;
        let salida = initdb.output().context("running initdb")?;
        if !salida.status.success() {
            bail!(
                "initdb failed ({}): {}",
                salida.status,
                String::from_utf8_lossy(&salida.stderr)
            );
        }
        let puerto = crate::direccion_libre().port();
        let mut pg = Postgres {
            bin,
            carpeta,
            puerto,
            ajustes: ajustes
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            proceso: None,
        };
        pg.arrancar()?;
        Ok(pg)
    }

    /// Starts the server (again) on its folder and port; returns once it accepts connections.
    /// After [`Postgres::matar`] the old server's backends may still hold its shared memory
    /// for a moment (they exit once they notice their postmaster is gone): a start refused for
    /// that is tried again, up to the deadline.
    pub fn arrancar(&mut self) -> anyhow::Result<()> {
        anyhow::ensure!(self.proceso.is_none(), "the server is already running");
        let inicio = Instant::now();
        loop {
            match self.arrancar_una_vez(inicio) {
                Err(e) if inicio.elapsed() < ARRANQUE && self.proceso.is_none() => {
                    if !format!("{e:#}").contains("shared memory block is still in use") {
                        return Err(e);
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
                r => return r,
            }
        }
    }

    fn arrancar_una_vez(&mut self, inicio: Instant) -> anyhow::Result<()> {
        let mut postgres = Command::new(self.bin.join("postgres"));
        postgres
            .arg("-D")
            .arg(self.carpeta.join("datos"))
            .args(["-p", &self.puerto.to_string(), "-k"])
            .arg(&self.carpeta)
            .args(["-c", "listen_addresses=127.0.0.1"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(self.carpeta.join("postgres.log"))?);
        for (k, v) in &self.ajustes {
            postgres.arg("-c").arg(format!("{k}={v}"));
        }
        como_postgres(&mut postgres)?;
        // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
        unsafe {
            postgres.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        self.proceso = Some(en_hilo_perpetuo(postgres).context("starting postgres")?);
        loop {
            let listo = Command::new(self.bin.join("pg_isready"))
                .args(["-q", "-h", "127.0.0.1", "-p", &self.puerto.to_string()])
                .status()
                .context("running pg_isready")?;
            if listo.success() {
                return Ok(());
            }
            if let Some(fin) = self
                .proceso
                .as_mut()
                .and_then(|p| p.try_wait().ok().flatten())
            {
                self.proceso = None;
                bail!("postgres exited ({fin}) at start: {}", self.registro());
            }
            if inicio.elapsed() > ARRANQUE {
                bail!(
                    "postgres not ready within {ARRANQUE:?}: {}",
                    self.registro()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Lets clients from `cidr` (as `198.18.0.0/15`) in without a password, as from
    /// 127.0.0.1; the server must also listen there (`listen_addresses` in
    /// [`Postgres::iniciar_con`]). A running server is restarted to read it.
    pub fn permitir(&mut self, cidr: &str) -> anyhow::Result<()> {
        use std::io::Write as _;
        let ruta = self.carpeta.join("datos").join("pg_hba.conf");
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&ruta)
            .with_context(|| format!("opening {}", ruta.display()))?;
        writeln!(f, "host all all {cidr} trust")?;
        if self.proceso.is_some() {
            self.parar();
            self.arrancar()?;
        }
        Ok(())
    }

    /// Kills the server with SIGKILL, as a crash would, and waits for it to be gone.
    pub fn matar(&mut self) {
        if let Some(mut p) = self.proceso.take() {
            let _ = p.kill();
            let _ = p.wait();
        }
    }

    /// Stops the server at once (SIGQUIT, PostgreSQL's immediate shutdown).
    pub fn parar(&mut self) {
        if let Some(mut p) = self.proceso.take() {
            // SAFETY: sending a signal to our own child.
            unsafe {
                libc::kill(p.id() as libc::pid_t, libc::SIGQUIT);
            }
            let _ = p.wait();
        }
    }

    /// Its port on 127.0.0.1.
    pub fn puerto(&self) -> u16 {
        self.puerto
    }

    /// The URL of database `nombre` on this server.
    pub fn url(&self, nombre: &str) -> String {
        format!("postgresql://{USUARIO}@127.0.0.1:{}/{nombre}", self.puerto)
    }

    /// Creates database `nombre` unless it exists, and returns its URL.
    pub fn base(&self, nombre: &str) -> anyhow::Result<String> {
        let salida = Command::new(self.bin.join("createdb"))
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.puerto.to_string(),
                "-U",
                USUARIO,
                nombre,
            ])
            .output()
            .context("running createdb")?;
        let error = String::from_utf8_lossy(&salida.stderr);
        if !salida.status.success() && !error.contains("already exists") {
            bail!("createdb {nombre} failed: {error}");
        }
        Ok(self.url(nombre))
    }

    /// The server's log so far.
    pub fn registro(&self) -> String {
        std::fs::read_to_string(self.carpeta.join("postgres.log")).unwrap_or_default()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.parar();
        let _ = std::fs::remove_dir_all(&self.carpeta);
    }
}

/// A server for this process's tests, started at the first call; `None` (said loudly, once)
/// where PostgreSQL is not installed and [`EXIGIR`] is not set.
pub fn compartido() -> Option<&'static Postgres> {
    static SERVIDOR: OnceLock<Option<Postgres>> = OnceLock::new();
    SERVIDOR
        .get_or_init(|| {
            disponible().then(|| Postgres::iniciar().expect("starting the test PostgreSQL server"))
        })
        .as_ref()
}

/// Whether PostgreSQL is installed; if not, says so loudly ([`aviso`]), or panics where
/// [`EXIGIR`] is set.
pub fn disponible() -> bool {
    if binarios().is_some() {
        return true;
    }
    if std::env::var(EXIGIR).is_ok_and(|v| v == "1") {
        panic!("{EXIGIR}=1 but PostgreSQL is not installed: {COMO_INSTALAR}");
    }
    eprintln!("{}", aviso());
    false
}

/// What a run without PostgreSQL says.
pub fn aviso() -> String {
    format!(
        "\n*** The PostgreSQL tests did NOT run: PostgreSQL is not installed here.\n\
         *** To run them: {COMO_INSTALAR}. CI always runs them ({EXIGIR}=1).\n"
    )
}

/// Runs `cmd` as the `postgres` user when this process is root (PostgreSQL refuses to run as
/// root), with the server's folder handed to that user.
fn como_postgres(cmd: &mut Command) -> anyhow::Result<()> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(());
    }
    let (uid, gid) = usuario_postgres()?;
    cmd.uid(uid).gid(gid);
    Ok(())
}

/// The `postgres` user's uid and gid (Debian's package makes it).
fn usuario_postgres() -> anyhow::Result<(u32, u32)> {
    let nombre = c"postgres";
    // SAFETY: getpwnam returns null or a pointer to static storage, read at once.
    let pw = unsafe { libc::getpwnam(nombre.as_ptr()) };
    anyhow::ensure!(
        !pw.is_null(),
        "no user 'postgres' to run the server as (running as root)"
    );
    // SAFETY: not null, checked above.
    let pw = unsafe { &*pw };
    Ok((pw.pw_uid, pw.pw_gid))
}

/// A new folder for a cluster under `$TMPDIR/hpc-postgres/`, owned by the user the server runs
/// as; folders of processes that are gone are removed first.
fn carpeta_nueva() -> anyhow::Result<PathBuf> {
    static CUENTA: AtomicU32 = AtomicU32::new(0);
    let raiz = std::env::temp_dir().join("hpc-postgres");
    std::fs::create_dir_all(&raiz).with_context(|| format!("creating {}", raiz.display()))?;
    barrer(&raiz);
    let carpeta = raiz.join(format!(
        "{}-{}",
        std::process::id(),
        CUENTA.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&carpeta);
    std::fs::create_dir(&carpeta).with_context(|| format!("creating {}", carpeta.display()))?;
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        let (uid, gid) = usuario_postgres()?;
        std::os::unix::fs::chown(&carpeta, Some(uid), Some(gid))
            .with_context(|| format!("handing {} to postgres", carpeta.display()))?;
    }
    Ok(carpeta)
}

/// Removes the folders under `raiz` whose process (the number before the dash) is gone.
fn barrer(raiz: &Path) {
    for e in std::fs::read_dir(raiz).into_iter().flatten().flatten() {
        let nombre = e.file_name();
        let Some(pid) = nombre
            .to_str()
            .and_then(|n| n.split('-').next())
            .and_then(|p| p.parse::<libc::pid_t>().ok())
        else {
            continue;
        };
        // SAFETY: signal 0 only asks whether the process exists.
        let vivo = unsafe { libc::kill(pid, 0) } == 0
            || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
        if !vivo {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// Spawns `cmd` from a thread that never ends: `PR_SET_PDEATHSIG` fires when the spawning
/// *thread* exits, and a test's thread ends with the test while the server may be shared.
fn en_hilo_perpetuo(mut cmd: Command) -> std::io::Result<Child> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("postgres-padre".into())
        .spawn(move || {
            let _ = tx.send(cmd.spawn());
            loop {
                std::thread::park();
            }
        })?;
    rx.recv().map_err(std::io::Error::other)?
}

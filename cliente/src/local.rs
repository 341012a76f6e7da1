//! `cliente local`: a whole cluster in this process, for a newcomer without Docker.
//!
//! Starts the maestro (watching the jobs file) and the esclavos, says where everything is,
//! then hands over to [`crate::seguimiento`], which follows the queue until it drains.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use comun::api::InformeArchivo;

use crate::Contexto;
use crate::api::Maestro;
use crate::args::ArgsLocal;
use crate::cluster::Cluster;
use crate::error::Error;
use crate::salida;
use crate::seguimiento::Seguimiento;

/// How long the maestro may take to read its jobs file the first time.
const PLAZO_LECTURA: Duration = Duration::from_secs(10);

/// Runs `cliente local`; returns the exit status (with `--salir-al-terminar`) or 0 on Ctrl-C.
pub async fn local(cx: &Contexto, a: &ArgsLocal) -> Result<u8, Error> {
    let (datos, temporal) = carpeta_de_datos(a.datos.as_deref())?;
    let mut config = maestro::Config::new(&datos);
    config.archivo = Some(a.archivo.clone());
    config.carpeta_tareas = Some(a.tareas.clone());
    // Changes need the token (yours from HPC_TOKEN, or a fresh one); reads stay open, so
    // `cliente estado` works from another terminal without it.
    let token = match cx.token.clone() {
        Some(t) => t,
        None => token_nuevo()?,
    };
    config.token = Some(token.clone());
    config.lecturas_abiertas = true;
    let mut cluster = Cluster::iniciar_maestro(config, a.puerto).await?;
    let m = Maestro::new(&cluster.url, Some(token.clone()))?;
    decir(cx, &format!("maestro escuchando en {}", cluster.url));
    anunciar_token(cx, &token);
    // Read before any esclavo exists: no job can have finished in this run yet.
    let inicio = m.resumen().await?;
    let desde = Instant::now();
    let capacidad = a.capacidad.unwrap_or_else(esclavo::config::nucleos);
    let arranque = cluster.iniciar_esclavos(a.esclavos, capacidad).await;
    if let Err(e) = arranque {
        cluster.parar().await;
        return Err(e);
    }
    let informe = esperar_lectura(&m).await?;
    presentar(cx, a, &cluster.url, capacidad, &datos, temporal.is_some());
    presentar_archivo(cx, a, informe.as_ref());

    let mut seguimiento = Seguimiento::new(m, a.salida.clone(), cx.visibles, cx.json);
    let resultado = tokio::select! {
        r = seguimiento.seguir(inicio, desde, a.salir_al_terminar) => r,
        _ = tokio::signal::ctrl_c() => {
            decir(cx, "Ctrl-C: stopping the cluster");
            Ok(0)
        }
    };
    drop(seguimiento);
    cluster.parar().await;
    drop(temporal);
    resultado
}

/// Says which token guards the cluster, and how another terminal uses it.
fn anunciar_token(cx: &Contexto, token: &str) {
    let de_donde = if cx.token.is_some() {
        "yours, from HPC_TOKEN"
    } else {
        "made for this run"
    };
    decir(
        cx,
        &format!(
            "cluster token ({de_donde}): changes from another terminal need \
             `export HPC_TOKEN={token}`; reads are open"
        ),
    );
}

/// A random cluster token: 128 bits from the operating system, in hex.
fn token_nuevo() -> Result<String, Error> {
    use std::io::Read as _;
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| Error::local(format!("cannot read /dev/urandom for a cluster token: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// `--datos`, or a fresh temporary folder removed when the returned guard drops.
fn carpeta_de_datos(datos: Option<&Path>) -> Result<(PathBuf, Option<tempfile::TempDir>), Error> {
    if let Some(d) = datos {
        return Ok((d.to_path_buf(), None));
    }
    let t = tempfile::Builder::new()
        .prefix("hpc-local-")
        .tempdir()
        .map_err(|e| Error::local(format!("cannot create a temporary data folder: {e}")))?;
    Ok((t.path().to_path_buf(), Some(t)))
}

/// Waits until the maestro has read its jobs file once (or failed to), and returns its report.
async fn esperar_lectura(m: &Maestro) -> Result<Option<InformeArchivo>, Error> {
    let limite = Instant::now() + PLAZO_LECTURA;
    loop {
        let e = m.estado().await?;
        if let Some(a) = e.archivo.filter(|a| a.leido_ms.is_some()) {
            return Ok(Some(a));
        }
        if Instant::now() >= limite {
            return Ok(None);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A line for people: stdout, or stderr with `--json` (stdout is for JSON then).
pub fn decir(cx: &Contexto, texto: &str) {
    if cx.json {
        eprintln!("{texto}");
    } else {
        println!("{texto}");
    }
}

fn presentar(cx: &Contexto, a: &ArgsLocal, url: &str, capacidad: u32, datos: &Path, temp: bool) {
    let n = a.esclavos;
    let nombres = if n == 1 {
        "esclavo1".to_string()
    } else {
        format!("esclavo1..esclavo{n}")
    };
    decir(
        cx,
        &format!(
            "{} ({nombres}), {} each, in this process",
            salida::cuenta(n, "esclavo", "esclavos"),
            salida::cuenta(capacidad, "job slot", "job slots")
        ),
    );
    let datos_txt = if temp {
        format!(
            "datos: {} (temporary: removed on exit; --datos DIR keeps the queue between runs)",
            datos.display()
        )
    } else {
        format!(
            "datos: {} (kept: lines already loaded are not loaded again)",
            datos.display()
        )
    };
    decir(cx, &datos_txt);
    decir(
        cx,
        &format!(
            "PNGs of completed Julia jobs: {}/trabajo-{{id}}.png",
            a.salida.display()
        ),
    );
    if a.salir_al_terminar {
        return;
    }
    decir(
        cx,
        &format!(
            "\nFrom another terminal:\n  export MAESTRO_URL={url}\n  cliente estado\n  \
             cliente trabajo --width 800 --height 600 --iteraciones 100 --esperar\n  \
             cliente cargar_trabajos --archivo otros.txt\n  cliente trabajos\n"
        ),
    );
}

fn presentar_archivo(cx: &Contexto, a: &ArgsLocal, informe: Option<&InformeArchivo>) {
    let nombre = a.archivo.display();
    let Some(informe) = informe else {
        decir(
            cx,
            &format!("jobs file {nombre}: the maestro has not read it yet"),
        );
        return;
    };
    if let Some(e) = &informe.error {
        let falta = !a.archivo.exists();
        let texto = if falta {
            format!(
                "jobs file {nombre} does not exist. The maestro watches for it: create it and its \
                 jobs run at once. One job per line, e.g.\n  Secuencial,800,600,100,1\n  \
                 espera,250\n(see `cliente cargar_trabajos --help`; or queue jobs with \
                 `cliente trabajo`)"
            )
        } else {
            format!("jobs file {nombre}: {e}")
        };
        decir(cx, &texto);
        return;
    }
    let lineas = std::fs::read_to_string(&a.archivo)
        .map(|t| comun::archivo::parsear(&t).trabajos.len())
        .unwrap_or(0);
    let mut texto = format!(
        "jobs file {nombre}: {} queued (watched: new lines run as they are written)",
        salida::cuenta(informe.cargados, "job", "jobs")
    );
    if informe.cargados == 0 && lineas > 0 {
        texto = format!(
            "jobs file {nombre}: nothing new was queued: its {lineas} job lines were loaded in \
             an earlier run on this --datos folder (each line runs once; add lines to queue \
             more, or run without --datos for a fresh queue)"
        );
    }
    decir(cx, &texto);
    if !informe.rechazadas.is_empty() {
        decir(
            cx,
            &format!(
                "{} of {nombre} not loaded:\n{}",
                salida::cuenta(informe.rechazadas.len() as u64, "line", "lines"),
                salida::rechazadas(&informe.rechazadas)
            ),
        );
    }
}

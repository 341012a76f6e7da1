//! Commands that only read: `estado`, `monitorear`, `trabajos`, `resultado`.

use std::io::IsTerminal as _;
use std::path::Path;
use std::time::Duration;

use comun::TrabajoId;
use comun::api::{FiltroTrabajos, ListaTrabajos};

use crate::Contexto;
use crate::api::Maestro;
use crate::args::{ArgsMonitorear, ArgsResultado, ArgsTrabajos};
use crate::error::Error;
use crate::salida;

/// `estado`: the cluster summary.
pub async fn estado(cx: &Contexto) -> Result<u8, Error> {
    let e = cx.maestro.estado().await?;
    cx.mostrar(&e, || salida::estado(cx.maestro.base(), &e));
    Ok(0)
}

/// `monitorear`: the estado view every `intervalo` seconds until Ctrl-C. With `--json`, one
/// compact JSON document per line.
pub async fn monitorear(cx: &Contexto, a: &ArgsMonitorear) -> Result<u8, Error> {
    let limpiar = !cx.json && std::io::stdout().is_terminal();
    let mut primera = true;
    loop {
        match cx.maestro.estado().await {
            Ok(e) if cx.json => println!("{}", serde_json::to_string(&e).unwrap_or_default()),
            Ok(e) => {
                if limpiar {
                    print!("\x1b[2J\x1b[H");
                }
                print!("{}", salida::estado(cx.maestro.base(), &e));
                println!(
                    "\n[{}] refreshed every {} s; Ctrl-C to stop",
                    hora_utc(),
                    a.intervalo
                );
            }
            // The first failure is the answer; later ones are a maestro restarting: keep going.
            Err(e) if primera => return Err(e),
            Err(e) => eprintln!("[{}] {e}", hora_utc()),
        }
        primera = false;
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(a.intervalo)) => {}
            _ = tokio::signal::ctrl_c() => return Ok(0),
        }
    }
}

/// `HH:MM:SS` (UTC) of now.
fn hora_utc() -> String {
    let s = comun::ahora_ms() / 1000;
    format!("{:02}:{:02}:{:02} UTC", s / 3600 % 24, s / 60 % 60, s % 60)
}

/// `trabajos`: a table of jobs, newest first, filtered; it follows the maestro's pages up to
/// `--limite` jobs (every one with `--todos`).
pub async fn trabajos(cx: &Contexto, a: &ArgsTrabajos) -> Result<u8, Error> {
    let lista = paginas(cx, a).await?;
    if cx.json {
        salida::json(&lista);
        return Ok(0);
    }
    let estado = a.estado.map(|e| format!(" {e}")).unwrap_or_default();
    let otros = FiltroTrabajos {
        estado: None,
        ..a.filtro()
    };
    let otros = match otros.consulta() {
        q if q.is_empty() => q,
        q => format!(" with {}", q.trim_start_matches('&').replace('&', ", ")),
    };
    if lista.trabajos.is_empty() {
        println!("no{estado} jobs{otros}");
        return Ok(0);
    }
    println!("{}", salida::trabajos(&lista.trabajos));
    let mas = if lista.total_exacto { "" } else { "+" };
    let siguiente = match lista.siguiente {
        Some(c) => format!("; more: --cursor {c}, or --todos"),
        None => String::new(),
    };
    println!(
        "{} of {}{mas} jobs{estado}{otros} (newest first{siguiente})",
        lista.trabajos.len(),
        lista.total,
    );
    Ok(0)
}

/// Most jobs `trabajos` asks the maestro for in one request.
const PAGINA: usize = 1000;

/// The jobs `trabajos` shows: pages of the maestro's listing, each after the cursor of the
/// one before, until `--limite` jobs (or, with `--todos`, the last page).
async fn paginas(cx: &Contexto, a: &ArgsTrabajos) -> Result<ListaTrabajos, Error> {
    let filtro = a.filtro();
    let quiero = if a.todos {
        usize::MAX
    } else {
        a.limite as usize
    };
    let mut cursor = a.cursor;
    let mut todo: Option<ListaTrabajos> = None;
    loop {
        let tengo = todo.as_ref().map_or(0, |l| l.trabajos.len());
        let limite = (quiero - tengo).min(PAGINA) as u32;
        let pagina = cx.maestro.pagina(&filtro, cursor, limite).await?;
        cursor = pagina.siguiente;
        match &mut todo {
            None => todo = Some(pagina),
            Some(l) => {
                l.trabajos.extend(pagina.trabajos);
                l.siguiente = pagina.siguiente;
            }
        }
        let tengo = todo.as_ref().map_or(0, |l| l.trabajos.len());
        if cursor.is_none() || tengo >= quiero {
            return Ok(todo.expect("one page at least"));
        }
    }
}

/// `resultado`: one job in detail, and its PNG if asked.
pub async fn resultado(cx: &Contexto, a: &ArgsResultado) -> Result<u8, Error> {
    let t = cx.maestro.trabajo(a.id).await?;
    cx.mostrar(&t, || salida::detalle(&t));
    if let Some(ruta) = &a.imagen {
        guardar_imagen(&cx.maestro, a.id, ruta).await?;
    }
    Ok(0)
}

/// Fetches the PNG of job `id` and writes it to `ruta` (message on stderr, so `--json`
/// output stays one document).
pub async fn guardar_imagen(m: &Maestro, id: TrabajoId, ruta: &Path) -> Result<(), Error> {
    let png = m.imagen(id).await?;
    escribir(ruta, &png)?;
    eprintln!(
        "PNG of job {id} saved to {} ({} bytes)",
        ruta.display(),
        png.len()
    );
    Ok(())
}

/// Writes a file, creating its folder; the error names the path.
pub fn escribir(ruta: &Path, bytes: &[u8]) -> Result<(), Error> {
    if let Some(carpeta) = ruta.parent().filter(|c| !c.as_os_str().is_empty()) {
        std::fs::create_dir_all(carpeta).map_err(|e| {
            Error::local(format!(
                "cannot create the folder {}: {e}",
                carpeta.display()
            ))
        })?;
    }
    std::fs::write(ruta, bytes)
        .map_err(|e| Error::local(format!("cannot write {}: {e}", ruta.display())))
}

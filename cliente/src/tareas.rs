//! `tareas generar`: an example task file in the orchestrator's format
//! ([`comun::tareas::ejemplo`]).

use std::io::Write;
use std::path::PathBuf;

use crate::args::ArgsGenerar;
use crate::error::Error;

/// Writes the example file (never over an existing one) and says where.
pub fn generar(a: &ArgsGenerar) -> Result<u8, Error> {
    let ahora = comun::ahora_ms();
    let fecha = comun::fecha::iso8601(ahora);
    let dia = &fecha[..10];
    let ejemplo = comun::tareas::ejemplo(a.n as usize, dia, &a.autor);
    let texto = serde_json::to_string_pretty(&ejemplo).map_err(Error::local)? + "\n";
    let ruta = a.salida.clone().unwrap_or_else(|| {
        PathBuf::from(format!("tareas_{}.json", comun::fecha::para_archivo(ahora)))
    });
    if ruta.as_os_str() == "-" {
        std::io::stdout()
            .write_all(texto.as_bytes())
            .map_err(Error::local)?;
        return Ok(0);
    }
    let mut archivo = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&ruta)
        .map_err(|e| Error::local(format!("cannot create {}: {e}", ruta.display())))?;
    archivo
        .write_all(texto.as_bytes())
        .map_err(|e| Error::local(format!("cannot write {}: {e}", ruta.display())))?;
    eprintln!(
        "{} tasks written to {}: move it into the maestro's task folder (<datos>/task_queues) \
         to queue them",
        a.n,
        ruta.display()
    );
    Ok(0)
}

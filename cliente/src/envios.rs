//! Commands that change the queue: `trabajo`, `cargar_trabajos`, `limpiar_cola`, `cancelar`,
//! `reintentar`, `prioridad`.

use std::path::{Path, PathBuf};

use comun::api::{PeticionCarga, RespuestaCarga, Trabajo};
use comun::{ErrorCampo, Estado, Tipo};
use serde::Serialize;

use crate::Contexto;
use crate::args::{
    ArgsCancelar, ArgsCarga, ArgsDrenar, ArgsPrioridad, ArgsReintentar, ArgsTrabajo, Entrada,
};
use crate::consultas::guardar_imagen;
use crate::error::{Error, SALIDA_INCOMPLETO};
use crate::{esperar, progreso, salida};

/// `trabajo`: queues one job; with `--esperar` (or `--imagen`) waits for its result.
pub async fn trabajo(cx: &Contexto, a: &ArgsTrabajo) -> Result<u8, Error> {
    let mut peticion = a.peticion(None);
    if let Some(Entrada::Archivo(ruta)) = &a.entrada {
        // Checked (with a stand-in id) before the upload, so a refused job leaves no image.
        peticion.entrada = Some(0);
        peticion.validar()?;
        peticion.entrada = Some(subir(cx, ruta).await?);
    }
    // The maestro checks it too; checking here names the flag before any network.
    let nuevo = peticion.validar()?;
    if a.imagen.is_some() && !matches!(nuevo.parametros.tipo(), Tipo::Julia | Tipo::Imagen) {
        return Err(ErrorCampo::new("imagen", "only julia and imagen jobs have an image").into());
    }
    let r = cx.maestro.agregar(&peticion).await?;
    if !(a.esperar || a.imagen.is_some()) {
        cx.mostrar(&r, || {
            format!(
                "{}\nfollow it with: cliente resultado {}\n",
                r.mensaje, r.id
            )
        });
        return Ok(0);
    }
    if !cx.json {
        println!("{}", r.mensaje);
    }
    let girador = progreso::girador(format!("job {} pendiente", r.id), cx.visibles);
    let t = esperar::uno(&cx.maestro, r.id, &girador).await;
    girador.finish_and_clear();
    let t = t?;
    cx.mostrar(&t, || salida::detalle(&t));
    if t.estado != Estado::Completado {
        return Ok(SALIDA_INCOMPLETO);
    }
    if let Some(ruta) = &a.imagen {
        guardar_imagen(&cx.maestro, t.id, ruta).await?;
    }
    Ok(0)
}

/// Uploads the PNG at `ruta` (checked here first, naming the file) for an `imagen` job; its id.
async fn subir(cx: &Contexto, ruta: &Path) -> Result<u64, Error> {
    let png = std::fs::read(ruta)
        .map_err(|e| Error::local(format!("cannot read --entrada {}: {e}", ruta.display())))?;
    comun::imagenes::validar_png(&png)
        .map_err(|e| Error::local(format!("--entrada {} is refused: {e}", ruta.display())))?;
    let subida = cx.maestro.subir_imagen(png).await?;
    if !cx.json {
        println!(
            "uploaded {} as image {} ({}×{})",
            ruta.display(),
            subida.id,
            subida.width,
            subida.height
        );
    }
    Ok(subida.id)
}

/// What `cargar_trabajos --esperar --json` prints: the load, then the jobs as they ended.
#[derive(Serialize)]
struct CargaEsperada<'a> {
    carga: &'a RespuestaCarga,
    trabajos: &'a [Trabajo],
}

/// `cargar_trabajos`: uploads a local jobs file (or names one in the maestro's jobs folder).
pub async fn cargar_trabajos(cx: &Contexto, a: &ArgsCarga) -> Result<u8, Error> {
    let peticion = match (&a.archivo, &a.remoto) {
        (_, Some(nombre)) => PeticionCarga {
            archivo: Some(nombre.clone()),
            contenido: None,
        },
        (archivo, None) => {
            let ruta = archivo
                .clone()
                .unwrap_or_else(|| PathBuf::from("trabajos.txt"));
            let texto = std::fs::read_to_string(&ruta).map_err(|e| {
                Error::local(format!(
                    "cannot read the jobs file {}: {e} (give another with --archivo FILE, or \
                     --remoto NAME for a file in the maestro's jobs folder)",
                    ruta.display()
                ))
            })?;
            PeticionCarga {
                contenido: Some(texto),
                archivo: None,
            }
        }
    };
    let r = cx.maestro.cargar(&peticion).await?;
    if !cx.json {
        imprimir_carga(&r);
    }
    if !a.esperar || r.ids.is_empty() {
        if cx.json {
            salida::json(&r);
        }
        return Ok(0);
    }
    let barra = progreso::barra(r.ids.len() as u64, cx.visibles);
    let fin = esperar::varios(&cx.maestro, &r.ids, &barra).await;
    barra.finish_and_clear();
    let trabajos = fin?;
    if cx.json {
        salida::json(&CargaEsperada {
            carga: &r,
            trabajos: &trabajos,
        });
    } else {
        imprimir_fin(&trabajos);
    }
    let todos = trabajos.iter().all(|t| t.estado == Estado::Completado);
    Ok(if todos { 0 } else { SALIDA_INCOMPLETO })
}

fn imprimir_carga(r: &RespuestaCarga) {
    match (r.ids.first(), r.ids.last()) {
        (Some(a), Some(b)) if a != b => println!("{} jobs queued (ids {a} to {b})", r.cargados),
        (Some(a), _) => println!("1 job queued (id {a})"),
        _ => println!("no jobs queued"),
    }
    if !r.rechazadas.is_empty() {
        println!(
            "{} rejected (the others were queued):",
            salida::cuenta(r.rechazadas.len() as u64, "line", "lines")
        );
        for l in &r.rechazadas {
            println!("  line {}: {} ({})", l.linea, l.motivo, l.texto);
        }
        println!("format: algoritmo,width,height,iteraciones,prioridad  or  espera,ms,prioridad");
    }
}

fn imprimir_fin(trabajos: &[Trabajo]) {
    let cuenta = |e: Estado| trabajos.iter().filter(|t| t.estado == e).count();
    println!(
        "{} completados, {} fallidos, {} cancelados",
        cuenta(Estado::Completado),
        cuenta(Estado::Fallido),
        cuenta(Estado::Cancelado)
    );
    for t in trabajos.iter().filter(|t| t.estado != Estado::Completado) {
        let porque = t
            .motivo
            .clone()
            .or_else(|| t.intentos.iter().rev().find_map(|i| i.error.clone()))
            .unwrap_or_default();
        println!(
            "  job {} {} {}: {porque}",
            t.id,
            t.estado,
            t.parametros.descripcion()
        );
    }
}

/// `limpiar_cola`: cancels every pending job.
pub async fn limpiar_cola(cx: &Contexto) -> Result<u8, Error> {
    let r = cx.maestro.limpiar().await?;
    cx.mostrar(&r, || format!("{}\n", r.mensaje));
    Ok(0)
}

/// `cancelar`: cancels one job.
pub async fn cancelar(cx: &Contexto, a: &ArgsCancelar) -> Result<u8, Error> {
    let r = cx.maestro.cancelar(a.id).await?;
    cx.mostrar(&r, || format!("job {} cancelado\n", a.id));
    Ok(0)
}

/// `reintentar`: queues a fallido or cancelado job again.
pub async fn reintentar(cx: &Contexto, a: &ArgsReintentar) -> Result<u8, Error> {
    let r = cx.maestro.reintentar(a.id).await?;
    cx.mostrar(&r, || format!("{}\n", r.mensaje));
    Ok(0)
}

/// `drenar`: no new job goes to an esclavo.
pub async fn drenar(cx: &Contexto, a: &ArgsDrenar) -> Result<u8, Error> {
    let e = cx.maestro.drenar(&a.esclavo).await?;
    cx.mostrar(&e, || {
        format!(
            "esclavo {} draining: no new job goes to it; it runs {} now\n",
            e.nombre, e.ejecutando
        )
    });
    Ok(0)
}

/// `prioridad`: a pending job's new priority.
pub async fn priorizar(cx: &Contexto, a: &ArgsPrioridad) -> Result<u8, Error> {
    let r = cx.maestro.priorizar(a.id, a.prioridad).await?;
    cx.mostrar(&r, || format!("{}\n", r.mensaje));
    Ok(0)
}

//! The uploaded images jobs name as `entrada` (`{"tipo": "imagen", "entrada": 7}`): every door
//! refuses a job that names one the store does not hold, before anything is queued. The API's
//! doors answer 422 naming the job's field ([`comprobar`]); the jobs-file doors (an upload to
//! `/cargar_trabajos`, the watched file) list such a line among the refused ones, as they list a
//! line that does not parse ([`rechazar_lineas`]). Uploads are never deleted, so an image found
//! here is still there when an esclavo fetches it.

use std::collections::{BTreeSet, HashSet};

use comun::api::LineaRechazada;
use comun::archivo::Archivo;
use comun::{ErrorCampo, NuevoTrabajo, Parametros};

use crate::almacen::Almacen;

/// The uploaded image `trabajo` names, if it names one.
pub fn entrada(trabajo: &NuevoTrabajo) -> Option<u64> {
    match &trabajo.parametros {
        Parametros::Imagen(p) => p.entrada,
        _ => None,
    }
}

/// Which of the images `trabajos` name the store lacks.
async fn ausentes<'a>(
    almacen: &Almacen,
    trabajos: impl Iterator<Item = &'a NuevoTrabajo>,
) -> anyhow::Result<HashSet<u64>> {
    let ids: BTreeSet<u64> = trabajos.filter_map(entrada).collect();
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    almacen.entradas_ausentes(ids.into_iter().collect()).await
}

/// Each task (by index) of a task file that names an image the store lacks, with why: the
/// task folder refuses the whole file for them.
pub async fn tareas_sin_entrada(
    almacen: &Almacen,
    trabajos: &[NuevoTrabajo],
) -> anyhow::Result<Vec<(usize, String)>> {
    let faltan = ausentes(almacen, trabajos.iter()).await?;
    Ok(trabajos
        .iter()
        .enumerate()
        .filter_map(|(i, t)| {
            entrada(t)
                .filter(|id| faltan.contains(id))
                .map(|id| (i, no_existe(id)))
        })
        .collect())
}

/// Why a job naming `id` is refused.
fn no_existe(id: u64) -> String {
    format!("no uploaded image {id}: POST the PNG to /imagenes and name the id it answers")
}

/// `Ok` when every image `trabajos` name is stored; otherwise the first job that names a missing
/// one, as a refusal of its field `campo(i)` (`entrada`, `trabajos[3].entrada`).
pub async fn comprobar(
    almacen: &Almacen,
    trabajos: &[&NuevoTrabajo],
    campo: impl Fn(usize) -> String,
) -> Result<(), plataforma::http::ErrorApi> {
    let faltan = ausentes(almacen, trabajos.iter().copied()).await?;
    match trabajos.iter().enumerate().find_map(|(i, t)| {
        entrada(t)
            .filter(|id| faltan.contains(id))
            .map(|id| (i, id))
    }) {
        None => Ok(()),
        Some((i, id)) => Err(ErrorCampo::new(campo(i), no_existe(id)).into()),
    }
}

/// Moves the lines of `archivo` that name a missing image from its jobs to its refused lines
/// (kept in line order).
pub async fn rechazar_lineas(almacen: &Almacen, archivo: &mut Archivo) -> anyhow::Result<()> {
    let faltan = ausentes(almacen, archivo.trabajos.iter().map(|l| &l.trabajo)).await?;
    if faltan.is_empty() {
        return Ok(());
    }
    let (malas, buenas): (Vec<_>, Vec<_>) = std::mem::take(&mut archivo.trabajos)
        .into_iter()
        .partition(|l| entrada(&l.trabajo).is_some_and(|id| faltan.contains(&id)));
    archivo.trabajos = buenas;
    archivo
        .rechazadas
        .extend(malas.into_iter().map(|l| LineaRechazada {
            linea: l.linea,
            motivo:
                ErrorCampo::new("entrada", no_existe(entrada(&l.trabajo).unwrap_or(0))).to_string(),
            texto: l.texto,
        }));
    archivo.rechazadas.sort_by_key(|r| r.linea);
    Ok(())
}

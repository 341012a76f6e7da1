//! The dashboard's page of one job: its parameters, state timeline, every attempt with its
//! esclavo and error, the result and its image, why it waits if it does, and the actions its
//! state allows.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use comun::api::{Intento, Trabajo};
use comun::{Estado as EstadoTrabajo, Prioridad, TrabajoId};

use super::formato::{duracion_ms, instante};
use super::sesion::Sesion;
use super::vistas::{Fallo, Marco, html};
use crate::servicio::Servicio;

/// One attempt, written for people.
pub struct IntentoVista {
    pub numero: u32,
    pub esclavo: String,
    pub inicio: String,
    pub fin: String,
    pub duracion: String,
    pub error: String,
}

#[derive(Template)]
#[template(path = "panel/trabajo.html")]
struct PaginaTrabajo {
    marco: Marco,
    id: TrabajoId,
    estado: EstadoTrabajo,
    descripcion: String,
    motivo: Option<String>,
    parametros: Vec<(String, String)>,
    linea_tiempo: Vec<(String, String)>,
    intentos: Vec<IntentoVista>,
    resultado: Vec<(String, String)>,
    imagen: bool,
    cancelable: bool,
    reintentable: bool,
    repriorizable: bool,
    /// `(value, name, current)` of each priority.
    prioridades: Vec<(u8, String, bool)>,
}

/// `GET /panel/trabajos/{id}`.
pub async fn pagina(
    State(s): State<Arc<Servicio>>,
    sesion: Sesion,
    Path(id): Path<String>,
) -> Response {
    let ruta = format!("/panel/trabajos/{id}");
    if let Err(r) = sesion.leer(&ruta) {
        return r.into_response();
    }
    let t = match leer(&s, &id).await {
        Ok(t) => t,
        Err(f) => return f.volviendo_a("/panel/trabajos").into_response(),
    };
    let marco = sesion.marco(format!("Job {}", t.id), "trabajo", &ruta);
    html(StatusCode::OK, &PaginaTrabajo::new(marco, t))
}

/// `GET /panel/trabajos/{id}/imagen`: the PNG of a finished Julia job.
pub async fn imagen(
    State(s): State<Arc<Servicio>>,
    sesion: Sesion,
    Path(id): Path<String>,
) -> Result<Response, Fallo> {
    sesion.leer_datos()?;
    let id = id_de(&id)?;
    match s.almacen.imagen(id).await.map_err(Fallo::interno)? {
        Some(png) => Ok((
            [
                (header::CONTENT_TYPE, "image/png"),
                (header::CACHE_CONTROL, "private, max-age=86400"),
            ],
            png,
        )
            .into_response()),
        None => Err(Fallo::new(
            StatusCode::NOT_FOUND,
            format!("job {id} has no image (only a completed julia job has one)"),
        )),
    }
}

pub fn id_de(texto: &str) -> Result<TrabajoId, Fallo> {
    texto
        .parse()
        .map_err(|e: comun::ErrorCampo| Fallo::new(StatusCode::BAD_REQUEST, e.to_string()))
}

/// The job `id` names, with what memory knows and the store may not have yet (a pending
/// job's reason to wait, a dispatch not committed yet).
pub async fn leer(s: &Servicio, id: &str) -> Result<Trabajo, Fallo> {
    Ok(s.trabajo(id_de(id)?).await?)
}

impl PaginaTrabajo {
    fn new(marco: Marco, t: Trabajo) -> Self {
        let estado = t.estado;
        PaginaTrabajo {
            marco,
            id: t.id,
            estado,
            descripcion: t.parametros.descripcion(),
            motivo: t.motivo.clone(),
            parametros: parametros(&t),
            linea_tiempo: linea_tiempo(&t),
            intentos: t.intentos.iter().map(intento).collect(),
            resultado: resultado(&t),
            imagen: t.resultado.as_ref().is_some_and(|r| r.imagen),
            cancelable: !estado.es_final(),
            reintentable: matches!(estado, EstadoTrabajo::Fallido | EstadoTrabajo::Cancelado),
            repriorizable: estado == EstadoTrabajo::Pendiente,
            prioridades: Prioridad::TODAS
                .iter()
                .map(|p| (p.valor(), p.to_string(), *p == t.prioridad))
                .collect(),
        }
    }
}

/// The fields of a JSON object as `(name, value)` rows: text without its quotes, numbers
/// rounded for reading.
fn pares(valor: serde_json::Value) -> Vec<(String, String)> {
    let serde_json::Value::Object(campos) = valor else {
        return Vec::new();
    };
    campos
        .into_iter()
        .map(|(k, v)| match v {
            serde_json::Value::Array(lista) => (k, lista_legible(&lista)),
            otro => (k, valor_legible(&otro)),
        })
        .collect()
}

/// One value for reading: text as is, measured figures rounded ([`legible`]).
fn valor_legible(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) if !n.is_u64() && !n.is_i64() => {
            legible(n.as_f64().unwrap_or_default())
        }
        otro => otro.to_string(),
    }
}

/// A list for reading (a loss per epoch, a filter chain): every item when short, else the
/// first three and the last.
fn lista_legible(lista: &[serde_json::Value]) -> String {
    let items: Vec<String> = lista.iter().map(valor_legible).collect();
    match items.as_slice() {
        [] => "none".into(),
        [primeros @ .., ultimo] if items.len() > 8 => format!(
            "{} … {ultimo} ({} values)",
            primeros[..3].join(", "),
            items.len()
        ),
        _ => items.join(", "),
    }
}

/// A measured figure for reading: large ones whole, small ones to six significant digits.
fn legible(x: f64) -> String {
    if x.abs() >= 1e5 {
        format!("{x:.0}")
    } else {
        let decimales = (5 - x.abs().log10().floor().max(-10.0) as i32).clamp(0, 15) as usize;
        let texto = format!("{x:.decimales$}");
        if texto.contains('.') {
            texto.trim_end_matches('0').trim_end_matches('.').to_owned()
        } else {
            texto
        }
    }
}

fn parametros(t: &Trabajo) -> Vec<(String, String)> {
    let mut v = pares(serde_json::to_value(&t.parametros).unwrap_or_default());
    v.push(("algoritmo".into(), format!("{:?}", t.algoritmo)));
    if let Some(p) = &t.algoritmo_pedido {
        v.push(("algoritmo pedido".into(), p.clone()));
    }
    if let Some(id) = &t.task_id {
        v.push(("task_id".into(), id.clone()));
    }
    if let Some(d) = &t.descripcion {
        v.push(("description".into(), d.clone()));
    }
    v.push(("prioridad".into(), t.prioridad.to_string()));
    v.push((
        "plazo".into(),
        t.plazo_s.map_or("the maestro's default".into(), |p| {
            format!("{p} s per attempt")
        }),
    ));
    v.push(("origen".into(), t.origen.to_string()));
    v
}

fn resultado(t: &Trabajo) -> Vec<(String, String)> {
    let Some(r) = &t.resultado else {
        return Vec::new();
    };
    let mut v = vec![
        ("duracion".into(), format!("{:.3} s", r.duracion_s)),
        ("dispositivo".into(), r.dispositivo.clone()),
    ];
    if let Some(c) = r.duracion_con_copias_s {
        v.insert(1, ("duracion con copias".into(), format!("{c:.3} s")));
    }
    v.extend(
        pares(serde_json::to_value(&r.detalle).unwrap_or_default())
            .into_iter()
            .filter(|(k, _)| k != "tipo"),
    );
    v
}

fn linea_tiempo(t: &Trabajo) -> Vec<(String, String)> {
    let mut v = vec![("queued".to_string(), t.creado_ms)];
    for i in &t.intentos {
        v.push((
            format!("attempt {} sent to {}", i.numero, i.esclavo),
            i.inicio_ms,
        ));
        if let Some(fin) = i.fin_ms {
            let como = if i.error.is_some() { "failed" } else { "ended" };
            v.push((format!("attempt {} {como}", i.numero), fin));
        }
    }
    if let Some(fin) = t.terminado_ms {
        v.push((t.estado.to_string(), fin));
    }
    v.sort_by_key(|(_, ms)| *ms);
    v.into_iter().map(|(que, ms)| (que, instante(ms))).collect()
}

fn intento(i: &Intento) -> IntentoVista {
    IntentoVista {
        numero: i.numero,
        esclavo: i.esclavo.clone(),
        inicio: instante(i.inicio_ms),
        fin: i.fin_ms.map(instante).unwrap_or_else(|| "running".into()),
        duracion: i
            .fin_ms
            .map(|f| duracion_ms(f.saturating_sub(i.inicio_ms)))
            .unwrap_or_default(),
        error: i.error.clone().unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::{legible, lista_legible};

    #[test]
    fn lists_read_as_items_and_long_ones_by_their_ends() {
        let corta: Vec<serde_json::Value> = vec!["desenfoque".into(), "sobel".into()];
        assert_eq!(lista_legible(&corta), "desenfoque, sobel");
        let larga: Vec<serde_json::Value> = (1..=10).map(|i| (1.0 / f64::from(i)).into()).collect();
        assert_eq!(lista_legible(&larga), "1, 0.5, 0.333333 … 0.1 (10 values)");
        assert_eq!(lista_legible(&[]), "none");
    }

    #[test]
    fn measured_figures_read_rounded() {
        assert_eq!(legible(179_403_338.537_034_06), "179403339");
        assert_eq!(legible(std::f64::consts::PI), "3.14159");
        assert_eq!(legible(0.000_123_456_789), "0.000123457");
        assert_eq!(legible(2.5), "2.5");
        assert_eq!(legible(0.0), "0");
    }
}

//! The dashboard's job pages: the table, filtered and paged on the server from the store
//! (one page at a time, keyset-paged, so 100,000 jobs page as fast as ten), and one job with
//! its parameters, timeline, attempts, result and image.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use comun::api::{Cursor, FiltroTrabajos, Trabajo, Via};
use comun::{Estado as EstadoTrabajo, Prioridad, Tipo, TrabajoId};
use serde::Deserialize;

use super::formato::{duracion_ms, instante};
use super::sesion::Sesion;
use super::vistas::{Fallo, Marco, html};
use crate::servicio::Servicio;

/// Jobs on one page of the table, unless the query asks for another number.
const POR_PAGINA: u32 = 50;
/// Most jobs on one page.
const MAX_POR_PAGINA: u32 = 500;

/// The table's query: every field optional, an empty one ignored (as a form sends it).
#[derive(Deserialize, Default)]
pub struct ConsultaLista {
    estado: Option<String>,
    tipo: Option<String>,
    prioridad: Option<String>,
    esclavo: Option<String>,
    origen: Option<String>,
    cursor: Option<String>,
    limite: Option<u32>,
}

/// A choice of a filter's `<select>`.
pub struct Opcion {
    pub valor: String,
    pub etiqueta: String,
    pub elegida: bool,
}

/// One row of the table.
pub struct Fila {
    pub id: TrabajoId,
    pub estado: EstadoTrabajo,
    pub tipo: Tipo,
    pub descripcion: String,
    pub prioridad: u8,
    pub prioridad_nombre: &'static str,
    pub esclavo: String,
    pub origen: String,
    pub creado: String,
    pub duracion: String,
}

#[derive(Template)]
#[template(path = "panel/trabajos.html")]
struct Lista {
    marco: Marco,
    estados: Vec<Opcion>,
    tipos: Vec<Opcion>,
    prioridades: Vec<Opcion>,
    origenes: Vec<Opcion>,
    esclavo: String,
    error: Option<String>,
    filas: Vec<Fila>,
    total: String,
    primera: Option<String>,
    siguiente: Option<String>,
    /// This page, for the actions to come back to.
    aqui: String,
}

/// `GET /panel/trabajos`.
pub async fn lista(
    State(s): State<Arc<Servicio>>,
    sesion: Sesion,
    uri: Uri,
    Query(q): Query<ConsultaLista>,
) -> Response {
    let aqui = uri
        .path_and_query()
        .map_or("/panel/trabajos", |p| p.as_str())
        .to_owned();
    if let Err(r) = sesion.leer(&aqui) {
        return r.into_response();
    }
    let (filtro, cursor, error) = match leer_filtro(&q) {
        Ok((f, c)) => (f, c, None),
        Err(e) => (FiltroTrabajos::default(), None, Some(e)),
    };
    let limite = q.limite.unwrap_or(POR_PAGINA).clamp(1, MAX_POR_PAGINA);
    let mut pagina = Lista::sin_filas(sesion.marco("Jobs", "trabajos", &aqui), &filtro, aqui);
    pagina.primera =
        cursor.map(|_| format!("/panel/trabajos?limite={limite}{}", filtro.consulta()));
    if let Some(e) = error {
        pagina.error = Some(e);
        return html(StatusCode::BAD_REQUEST, &pagina);
    }
    let lista = match s.pagina(filtro.clone(), cursor, limite).await {
        Ok(l) => l,
        Err(e) => return Fallo::interno(format!("listing jobs: {e:#}")).into_response(),
    };
    pagina.total = if lista.total_exacto {
        lista.total.to_string()
    } else {
        format!("{}+", lista.total)
    };
    pagina.siguiente = lista.siguiente.map(|c| {
        format!(
            "/panel/trabajos?limite={limite}&cursor={c}{}",
            filtro.consulta()
        )
    });
    pagina.filas = lista.trabajos.into_iter().map(fila).collect();
    html(StatusCode::OK, &pagina)
}

impl Lista {
    /// The page with its filters' form set to `filtro`, and no rows yet.
    fn sin_filas(marco: Marco, filtro: &FiltroTrabajos, aqui: String) -> Self {
        Lista {
            marco,
            estados: opciones(&EstadoTrabajo::TODOS, filtro.estado, |e| {
                (e.nombre().into(), e.nombre().into())
            }),
            tipos: opciones(&Tipo::TODOS, filtro.tipo, |t| {
                (t.nombre().into(), t.nombre().into())
            }),
            prioridades: opciones(&Prioridad::TODAS, filtro.prioridad, |p| {
                (p.valor().to_string(), p.to_string())
            }),
            esclavo: filtro.esclavo.clone().unwrap_or_default(),
            origenes: opciones(&Via::TODAS, filtro.origen, |v| {
                (v.nombre().into(), v.nombre().into())
            }),
            error: None,
            filas: Vec::new(),
            total: "0".into(),
            primera: None,
            siguiente: None,
            aqui,
        }
    }
}

/// The filter and cursor the query names, or what is wrong with it.
fn leer_filtro(q: &ConsultaLista) -> Result<(FiltroTrabajos, Option<Cursor>), String> {
    fn campo<T: std::str::FromStr<Err = comun::ErrorCampo>>(
        v: &Option<String>,
    ) -> Result<Option<T>, String> {
        match v.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(t) => t
                .parse()
                .map(Some)
                .map_err(|e: comun::ErrorCampo| e.to_string()),
        }
    }
    let texto = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(String::from)
    };
    let filtro = FiltroTrabajos {
        estado: campo(&q.estado)?,
        tipo: campo(&q.tipo)?,
        prioridad: campo(&q.prioridad)?,
        esclavo: texto(&q.esclavo),
        origen: campo::<Via>(&q.origen)?,
        algoritmo_pedido: None,
    };
    Ok((filtro, campo(&q.cursor)?))
}

/// The choices of a `<select>`: "any" first, then each value, `actual` selected.
fn opciones<T: Copy + PartialEq>(
    todos: &[T],
    actual: Option<T>,
    nombre: impl Fn(T) -> (String, String),
) -> Vec<Opcion> {
    let mut v = vec![Opcion {
        valor: String::new(),
        etiqueta: "any".into(),
        elegida: actual.is_none(),
    }];
    v.extend(todos.iter().map(|&t| {
        let (valor, etiqueta) = nombre(t);
        Opcion {
            valor,
            etiqueta,
            elegida: actual == Some(t),
        }
    }));
    v
}

fn fila(t: Trabajo) -> Fila {
    let duracion = match (t.iniciado_ms, t.terminado_ms) {
        (Some(i), Some(f)) => duracion_ms(f.saturating_sub(i)),
        (Some(i), None) if t.estado == EstadoTrabajo::Asignado => {
            format!(
                "{} so far",
                duracion_ms(comun::ahora_ms().saturating_sub(i))
            )
        }
        _ => String::new(),
    };
    Fila {
        id: t.id,
        estado: t.estado,
        tipo: t.parametros.tipo(),
        descripcion: t.parametros.descripcion(),
        prioridad: t.prioridad.valor(),
        prioridad_nombre: t.prioridad.nombre(),
        esclavo: t.esclavo.unwrap_or_default(),
        origen: t.origen.to_string(),
        creado: instante(t.creado_ms),
        duracion,
    }
}

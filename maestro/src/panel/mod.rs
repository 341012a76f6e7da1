//! The dashboard a person leaves open on a second screen: HTML rendered on the server
//! (askama templates in `maestro/templates/panel/`, compiled into the binary), a style sheet
//! and a small script embedded with `include_str!`, live over server-sent events. No CDN, no
//! front-end build.
//!
//! | method | path | what |
//! |---|---|---|
//! | GET | `/` | overview: jobs by state, throughput and queue by priority over time, esclavos alive, GPUs, active alerts |
//! | GET | `/panel/trabajos?estado&tipo&prioridad&esclavo&origen&antes&limite` | jobs, newest first, filtered and paged on the server (`antes`: the cursor, a job id) |
//! | GET | `/panel/trabajos/{id}` | one job: parameters, timeline, attempts, result, image, why it waits |
//! | GET | `/panel/trabajos/{id}/imagen` | its PNG, under the panel's cookie rules |
//! | GET | `/panel/esclavos` | esclavos (slots, running jobs, load) and memoria nodes (CPU, memory, GPUs, alerts) |
//! | GET | `/panel/eventos` | server-sent events: `resumen` (the job counts, on every change), `latido` (every 2 s) |
//! | GET, POST | `/panel/entrar` | the login form; its answer sets the session cookie |
//! | POST | `/panel/salir` | logout: the cookie is cleared |
//! | POST | `/panel/trabajos/{id}/cancelar`, `/reintentar`, `/prioridad` | actions on one job |
//! | POST | `/panel/limpiar` | cancel every pending job |
//! | GET | `/panel/estilo.css`, `/panel/vivo.js` | the embedded assets |
//!
//! **Access** follows the API's rules ([`plataforma::acceso`]), read from a cookie instead of
//! a header, so these routes sit outside [`plataforma::proteger`]: with no token configured
//! everything is open; with one, a person logs in once (`/panel/entrar`: the token goes into
//! the `hpc_panel` cookie, `HttpOnly; SameSite=Strict`, and `Secure` over TLS); without the
//! cookie, pages are read-only when reads are open and redirect to the login when they are
//! not. Every POST but the login carries a CSRF token derived from the session (field
//! `csrf`, or header `X-CSRF`), and a browser's `Sec-Fetch-Site: cross-site` is refused.
//! Tokens compare in constant time. See [`sesion`].
//!
//! **Live updates**: the script listens to `/panel/eventos`; on an event it fetches the page
//! again (at most one fetch in flight, about four a second at most) and swaps every element
//! marked `data-vivo` by its id. Every page shows a bounded amount (one page of jobs), so a
//! database of 100,000 jobs costs what ten do.
//!
//! # Hooks for the browser tests (stable; change them with the tests)
//!
//! - `<body data-pagina="resumen|trabajos|trabajo|esclavos|entrar|error"
//!   data-sesion="operador|lector|ninguna">`: the page and what its viewer may do.
//! - `#vivo[data-conectado="si|no"][data-version=N]`: the event stream is open; `N` is the
//!   version of the last counts it brought ([`comun::api::Resumen::version`]).
//! - `[data-contador="pendientes|asignados|completados|fallidos|cancelados|total"]`: counts on
//!   the overview, the number as the element's text.
//! - login: `form#login`, `input#login-token`, `button#login-enviar`, `#login-error` (wrong
//!   token); logout: `button#salir[data-accion="salir"]`; `a#entrar` (the link to the login).
//! - jobs: `table#tabla-trabajos`, each row `tr[data-trabajo-id][data-estado][data-tipo]
//!   [data-prioridad]`; filters `form#filtros` (`select[name=estado|tipo|prioridad|origen]`,
//!   `input[name=esclavo]`); paging `a#pagina-siguiente`, `a#pagina-primera`;
//!   `#total-trabajos` (matching jobs).
//! - one job: `#trabajo[data-trabajo-id][data-estado]`, `#motivo` (why it waits, or why it
//!   failed), `table#intentos tr[data-intento=N]`, `#resultado`, `img#imagen`.
//! - actions (only rendered for a session that may act): `button[data-accion="cancelar"]`,
//!   `[data-accion="reintentar"]`, `[data-accion="prioridad"]` with `select#nueva-prioridad`,
//!   `[data-accion="limpiar"]`; each inside its own `form` with a hidden `csrf` field.
//! - esclavos: `tr[data-esclavo=NAME][data-vivo="si|no"]` (with a `[data-drenando]` badge
//!   while it drains); nodes `section[data-nodo=NAME]`;
//!   alerts `li[data-alerta][data-nivel="aviso|critico"]`.
//! - a refused or failed action: `#error[data-estado-http=STATUS]` with the reason as text.

mod acciones;
mod activos;
mod cluster;
mod eventos;
mod formato;
mod grafico;
pub mod sesion;
mod tendencias;
mod trabajo;
mod trabajos;
mod vistas;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

use crate::servicio::Servicio;

/// The dashboard's routes, to merge into the API's router outside its Bearer check (each page
/// checks the session cookie itself, under the same rules).
pub fn router() -> Router<Arc<Servicio>> {
    Router::new()
        .route("/", get(cluster::resumen))
        .route("/panel/trabajos", get(trabajos::lista))
        .route("/panel/trabajos/{id}", get(trabajo::pagina))
        .route("/panel/trabajos/{id}/imagen", get(trabajo::imagen))
        .route("/panel/esclavos", get(cluster::esclavos))
        .route("/panel/eventos", get(eventos::eventos))
        .route(
            "/panel/entrar",
            get(sesion::formulario).post(sesion::entrar),
        )
        .route("/panel/salir", post(sesion::salir))
        .route("/panel/trabajos/{id}/cancelar", post(acciones::cancelar))
        .route(
            "/panel/trabajos/{id}/reintentar",
            post(acciones::reintentar),
        )
        .route("/panel/trabajos/{id}/prioridad", post(acciones::prioridad))
        .route("/panel/limpiar", post(acciones::limpiar))
        .route("/panel/estilo.css", get(activos::estilo))
        .route("/panel/vivo.js", get(activos::script))
}

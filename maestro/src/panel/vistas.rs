//! The dashboard's templates (`maestro/templates/panel/`, compiled in by askama) and what each
//! one shows, already written for people; [`html`] answers one with the page's headers.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::sesion::Sesion;

/// What every page's frame shows: title, navigation, live indicator, login or logout.
pub struct Marco {
    pub titulo: String,
    /// `data-pagina`.
    pub pagina: &'static str,
    /// `data-sesion`: the viewer's role.
    pub sesion: &'static str,
    /// The CSRF token of the page's forms (empty for a viewer who may not act).
    pub csrf: String,
    /// Whether there is a token to log in with.
    pub con_token: bool,
    /// Whether the viewer is logged in.
    pub identificada: bool,
    /// This page, percent-encoded, for the login to come back to.
    pub volver: String,
    /// The maestro's version, to refresh cached assets after an upgrade.
    pub version: &'static str,
}

/// The login page.
#[derive(Template)]
#[template(path = "panel/entrar.html")]
pub struct Entrar<'a> {
    pub marco: Marco,
    pub volver: &'a str,
    pub error: Option<&'a str>,
}

impl<'a> Entrar<'a> {
    pub fn new(sesion: &Sesion, volver: &'a str, error: Option<&'a str>) -> Self {
        Entrar {
            marco: sesion.marco("Log in", "entrar", volver),
            volver,
            error,
        }
    }
}

/// A refused or failed request, as a page that says why (`#error[data-estado-http]`).
#[derive(Debug)]
pub struct Fallo {
    pub estado: StatusCode,
    pub mensaje: String,
    /// Where the page's "Back" link goes.
    pub volver: String,
}

impl Fallo {
    pub fn new(estado: StatusCode, mensaje: impl Into<String>) -> Self {
        Fallo {
            estado,
            mensaje: mensaje.into(),
            volver: "/".into(),
        }
    }

    /// The same, with its "Back" link to `volver`.
    pub fn volviendo_a(mut self, volver: impl Into<String>) -> Self {
        self.volver = volver.into();
        self
    }

    /// An internal error: logged with its cause, opaque to the viewer.
    pub fn interno(e: impl std::fmt::Display) -> Self {
        tracing::error!("dashboard: {e}");
        Fallo::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error (see the maestro's log)",
        )
    }
}

/// The API's error, as a page: its status and message (an internal one stays opaque).
impl From<plataforma::http::ErrorApi> for Fallo {
    fn from(e: plataforma::http::ErrorApi) -> Self {
        match e {
            plataforma::http::ErrorApi::Cliente(estado, cuerpo) => Fallo::new(estado, cuerpo.error),
            plataforma::http::ErrorApi::Interno(e) => Fallo::interno(format!("{e:#}")),
        }
    }
}

#[derive(Template)]
#[template(path = "panel/error.html")]
struct PaginaError<'a> {
    marco: Marco,
    estado: String,
    codigo: u16,
    mensaje: &'a str,
    volver: &'a str,
}

impl IntoResponse for Fallo {
    fn into_response(self) -> Response {
        let marco = Marco {
            titulo: self.estado.to_string(),
            pagina: "error",
            sesion: "ninguna",
            csrf: String::new(),
            con_token: false,
            identificada: false,
            volver: super::sesion::codificar(&self.volver),
            version: env!("CARGO_PKG_VERSION"),
        };
        let pagina = PaginaError {
            marco,
            estado: self.estado.to_string(),
            codigo: self.estado.as_u16(),
            mensaje: &self.mensaje,
            volver: &self.volver,
        };
        html(self.estado, &pagina)
    }
}

/// What the pages allow: their own scripts, styles and images only; no framing.
const POLITICA: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; \
                        script-src 'self'; connect-src 'self'; form-action 'self'; \
                        frame-ancestors 'none'; base-uri 'none'";

/// Renders `pagina` as an HTML answer with `estado`, never cached, under [`POLITICA`].
pub fn html(estado: StatusCode, pagina: &impl Template) -> Response {
    match pagina.render() {
        Ok(cuerpo) => (
            estado,
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/html; charset=utf-8"),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
                (
                    header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static(POLITICA),
                ),
                (
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ),
                (
                    header::REFERRER_POLICY,
                    HeaderValue::from_static("same-origin"),
                ),
            ],
            cuerpo,
        )
            .into_response(),
        Err(e) => {
            tracing::error!("dashboard: rendering a page failed: {e}");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "rendering the page failed",
            )
                .into_response()
        }
    }
}

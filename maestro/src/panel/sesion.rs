//! Who is looking at the dashboard and what they may do: the session cookie, the login and
//! logout, and the checks every page and action makes (the API's access rules, read from the
//! cookie instead of a header), with the CSRF token that every action carries.

use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, OnceLock};

use axum::extract::{Form, FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use plataforma::Acceso;
use plataforma::acceso::iguales_en_tiempo_constante;
use serde::Deserialize;

use super::vistas::{Entrar, Fallo, Marco, html};
use crate::servicio::Servicio;

/// The cookie that keeps the token.
pub const COOKIE: &str = "hpc_panel";
/// The header a script may carry the CSRF token in, instead of the `csrf` field.
pub const CABECERA_CSRF: &str = "x-csrf";
/// How long the login lasts in the browser: 30 days.
const DURACION_S: u64 = 30 * 24 * 3600;

/// What a viewer may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rol {
    /// Reads and acts: it has the token, or none is configured.
    Operador,
    /// Reads only: reads are open and it has no token.
    Lector,
    /// Nothing until it logs in: reads are guarded.
    Ninguno,
}

impl Rol {
    /// The name the pages carry in `data-sesion`.
    pub fn nombre(self) -> &'static str {
        match self {
            Rol::Operador => "operador",
            Rol::Lector => "lector",
            Rol::Ninguno => "ninguna",
        }
    }
}

/// The viewer of one request.
#[derive(Clone, Debug)]
pub struct Sesion {
    pub rol: Rol,
    /// Whether the maestro has a token at all (else there is nothing to log into).
    pub con_token: bool,
    /// Whether the request carried the right token in its cookie.
    pub identificada: bool,
    /// The CSRF token this viewer's forms carry: derived from its token, unguessable
    /// without it.
    pub csrf: String,
    /// Whether the maestro serves HTTPS (the cookie is then `Secure`).
    pub segura: bool,
}

impl FromRequestParts<Arc<Servicio>> for Sesion {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        s: &Arc<Servicio>,
    ) -> Result<Self, Self::Rejection> {
        Ok(Sesion::de(s, &parts.headers))
    }
}

impl Sesion {
    /// The session of a request with these headers.
    pub fn de(s: &Servicio, cabeceras: &HeaderMap) -> Sesion {
        let acceso = Acceso::new(s.config.token.clone(), s.config.lecturas_abiertas);
        let presentado = token_de_cookie(cabeceras);
        let (rol, identificada) = match acceso.token.as_deref() {
            None => (Rol::Operador, false),
            Some(t) if presentado.as_deref().is_some_and(|p| mismos(p, t)) => (Rol::Operador, true),
            Some(_) if acceso.lecturas_abiertas => (Rol::Lector, false),
            Some(_) => (Rol::Ninguno, false),
        };
        let token = if identificada { presentado } else { None };
        Sesion {
            rol,
            con_token: acceso.token.is_some(),
            identificada,
            csrf: csrf_de(token.as_deref().unwrap_or_default()),
            segura: s.config.transporte.tls.is_some(),
        }
    }

    /// Whether this viewer may act (its pages then show the actions).
    pub fn puede_actuar(&self) -> bool {
        self.rol == Rol::Operador
    }

    /// `Ok` if this viewer may read the page at `ruta`, else the redirect to the login.
    pub fn leer(&self, ruta: &str) -> Result<(), Redirect> {
        match self.rol {
            Rol::Ninguno => Err(Redirect::to(&format!(
                "/panel/entrar?volver={}",
                codificar(ruta)
            ))),
            _ => Ok(()),
        }
    }

    /// `Ok` if this viewer may read data a page embeds (an image, the event stream), else a
    /// plain 401.
    pub fn leer_datos(&self) -> Result<(), Fallo> {
        match self.rol {
            Rol::Ninguno => Err(Fallo::new(
                StatusCode::UNAUTHORIZED,
                "log in first: this maestro's reads need the cluster token",
            )),
            _ => Ok(()),
        }
    }

    /// `Ok` if this viewer may act with this request: it has the token, the request is not
    /// a cross-site one, and it carries this session's CSRF token (the `csrf` field, else the
    /// `X-CSRF` header).
    pub fn actuar(&self, cabeceras: &HeaderMap, campo: Option<&str>) -> Result<(), Fallo> {
        if !self.puede_actuar() {
            return Err(Fallo::new(
                StatusCode::UNAUTHORIZED,
                "this action needs the cluster token: log in first",
            ));
        }
        entre_sitios(cabeceras)?;
        let presentado =
            campo.or_else(|| cabeceras.get(CABECERA_CSRF).and_then(|v| v.to_str().ok()));
        match presentado {
            Some(c) if mismos(c, &self.csrf) => Ok(()),
            Some(_) => Err(Fallo::new(
                StatusCode::FORBIDDEN,
                "the form's CSRF token does not match this session: reload the page and try again",
            )),
            None => Err(Fallo::new(
                StatusCode::FORBIDDEN,
                "the request carries no CSRF token (field csrf or header X-CSRF): \
                 actions are taken from the dashboard's own forms",
            )),
        }
    }

    /// The frame every page shares.
    pub fn marco(&self, titulo: impl Into<String>, pagina: &'static str, ruta: &str) -> Marco {
        Marco {
            titulo: titulo.into(),
            pagina,
            sesion: self.rol.nombre(),
            csrf: if self.puede_actuar() {
                self.csrf.clone()
            } else {
                String::new()
            },
            con_token: self.con_token,
            identificada: self.identificada,
            volver: codificar(ruta),
            version: env!("CARGO_PKG_VERSION"),
        }
    }
}

/// Refuses what a browser says comes from another site (`Sec-Fetch-Site`).
fn entre_sitios(cabeceras: &HeaderMap) -> Result<(), Fallo> {
    match cabeceras
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
    {
        Some("cross-site" | "same-site") => Err(Fallo::new(
            StatusCode::FORBIDDEN,
            "refused: the request comes from another site",
        )),
        _ => Ok(()),
    }
}

fn mismos(a: &str, b: &str) -> bool {
    iguales_en_tiempo_constante(a.as_bytes(), b.as_bytes())
}

/// The token the cookie carries (hex-encoded there, as a token may hold any character).
fn token_de_cookie(cabeceras: &HeaderMap) -> Option<String> {
    cabeceras
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|par| par.trim().split_once('='))
        .find(|(nombre, _)| *nombre == COOKIE)
        .and_then(|(_, valor)| desde_hex(valor))
}

/// The CSRF token of a session with this token: a keyed hash under a secret drawn when the
/// process starts, so it cannot be derived from the page's other contents nor reused after a
/// restart.
fn csrf_de(token: &str) -> String {
    static SECRETO: OnceLock<RandomState> = OnceLock::new();
    let secreto = SECRETO.get_or_init(RandomState::new);
    let a = secreto.hash_one(("csrf-a", token));
    let b = secreto.hash_one(("csrf-b", token));
    format!("{a:016x}{b:016x}")
}

fn a_hex(texto: &str) -> String {
    texto.bytes().map(|b| format!("{b:02x}")).collect()
}

fn desde_hex(hex: &str) -> Option<String> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect();
    String::from_utf8(bytes?).ok()
}

/// Percent-encodes a path for a query string (everything but unreserved characters and `/`).
pub fn codificar(texto: &str) -> String {
    texto
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A path inside this site to go back to: relative, never `//host` nor a scheme, and only
/// visible ASCII (what a `Location` header carries; pages link percent-encoded paths).
pub fn destino_local(volver: Option<&str>) -> String {
    match volver {
        Some(v)
            if v.starts_with('/')
                && !v.starts_with("//")
                && !v.contains('\\')
                && v.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            v.into()
        }
        _ => "/".into(),
    }
}

/// The `Set-Cookie` value that keeps `token` (or clears the cookie, with `None`).
fn cookie(token: Option<&str>, segura: bool) -> HeaderValue {
    let (valor, edad) = match token {
        Some(t) => (a_hex(t), DURACION_S),
        None => (String::new(), 0),
    };
    let seguro = if segura { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE}={valor}; Path=/; Max-Age={edad}; HttpOnly; SameSite=Strict{seguro}"
    ))
    .expect("hex and fixed text make a valid header")
}

#[derive(Deserialize)]
pub struct Volver {
    volver: Option<String>,
}

/// The login form.
pub async fn formulario(sesion: Sesion, Query(q): Query<Volver>) -> Response {
    let volver = destino_local(q.volver.as_deref());
    html(StatusCode::OK, &Entrar::new(&sesion, &volver, None))
}

#[derive(Deserialize)]
pub struct Credencial {
    token: String,
    volver: Option<String>,
}

/// Checks the token entered; right: sets the cookie and goes back; wrong: the form again,
/// with a 401 and why.
pub async fn entrar(
    State(s): State<Arc<Servicio>>,
    sesion: Sesion,
    cabeceras: HeaderMap,
    Form(c): Form<Credencial>,
) -> Response {
    let volver = destino_local(c.volver.as_deref());
    if let Err(f) = entre_sitios(&cabeceras) {
        return f.into_response();
    }
    let Some(token) = s.config.token.as_deref().filter(|t| !t.is_empty()) else {
        return Redirect::to(&volver).into_response();
    };
    if !mismos(c.token.trim(), token) {
        tracing::warn!("dashboard login with a wrong token; refused with 401");
        let error = "wrong token: enter the cluster token (HPC_TOKEN) the maestro runs with";
        return html(
            StatusCode::UNAUTHORIZED,
            &Entrar::new(&sesion, &volver, Some(error)),
        );
    }
    (
        [(header::SET_COOKIE, cookie(Some(token), sesion.segura))],
        Redirect::to(&volver),
    )
        .into_response()
}

#[derive(Deserialize)]
pub struct Salida {
    csrf: Option<String>,
}

/// Logs out: clears the cookie, back to the overview.
pub async fn salir(sesion: Sesion, cabeceras: HeaderMap, Form(f): Form<Salida>) -> Response {
    if let Err(e) = sesion.actuar(&cabeceras, f.csrf.as_deref()) {
        return e.into_response();
    }
    (
        [(header::SET_COOKIE, cookie(None, sesion.segura))],
        Redirect::to("/"),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_carries_any_token_and_reads_it_back() {
        let token = "s3creto; con=raros ñ";
        let mut h = HeaderMap::new();
        let valor = format!("otra=1; {COOKIE}={}; y=2", a_hex(token));
        h.insert(header::COOKIE, valor.parse().unwrap());
        assert_eq!(token_de_cookie(&h).as_deref(), Some(token));
        assert_eq!(desde_hex("zz"), None);
        assert_eq!(desde_hex("abc"), None);
    }

    #[test]
    fn the_csrf_token_depends_on_the_session_token() {
        assert_eq!(csrf_de("a"), csrf_de("a"));
        assert_ne!(csrf_de("a"), csrf_de("b"));
        assert_eq!(csrf_de("a").len(), 32);
    }

    #[test]
    fn going_back_stays_on_this_site() {
        assert_eq!(
            destino_local(Some("/panel/trabajos?estado=fallido")),
            "/panel/trabajos?estado=fallido"
        );
        for fuera in [
            "//evil.example/",
            "https://evil.example/",
            "panel",
            "/\\evil",
            "/x\r\nSet-Cookie: a=b",
            "/ñ",
        ] {
            assert_eq!(destino_local(Some(fuera)), "/", "{fuera}");
        }
        assert_eq!(destino_local(None), "/");
    }

    #[test]
    fn the_cookie_is_http_only_strict_and_secure_over_tls() {
        let c = cookie(Some("t"), true);
        let c = c.to_str().unwrap();
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict") && c.contains("Secure"));
        assert!(
            !cookie(Some("t"), false)
                .to_str()
                .unwrap()
                .contains("Secure")
        );
        assert!(cookie(None, false).to_str().unwrap().contains("Max-Age=0"));
    }
}

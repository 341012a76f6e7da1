//! The OpenAPI contract of a service's API, generated from its code: each route is added to an
//! [`OpenApiRouter`] with `utoipa_axum::routes!`, which takes the handler's `#[utoipa::path]`
//! description with it, so a route cannot exist undescribed. [`base`] starts a service's
//! document (its title, the bearer-token scheme, the shared [`CuerpoError`]); [`documentar`]
//! adds `GET /openapi.json`, the answers every route shares, and hands back the plain
//! [`Router`] with the finished document; [`json_estable`] writes it the way `docs/openapi/`
//! keeps it.
//!
//! The answers every route shares, added where a handler's description does not already say
//! them: 401 on every operation that needs the token (all but `GET /ping`); 400, 413 and 422
//! on every operation with a JSON body ([`super::Cuerpo`]); 400 on every operation with query
//! or path parameters ([`super::Consulta`], [`super::Ruta`]). All carry a [`CuerpoError`].

use std::sync::Arc;

use axum::http::header;
use axum::response::IntoResponse;
use axum::{Extension, Router};
use comun::CuerpoError;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, Ref, RefOr,
};
use utoipa::{PartialSchema, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The name of the bearer-token security scheme in every document.
pub const ESQUEMA_TOKEN: &str = "token";

/// The tag of the routes the original systems already had (the Flask maestro-esclavo's, the
/// orchestrator's `/stats`), and the extension that marks them (`x-original: true`).
pub const TAG_ORIGINAL: &str = "original";

/// What every document says about the token.
const SOBRE_EL_TOKEN: &str = "The cluster token (`--token`, `HPC_TOKEN`), sent as \
    `Authorization: Bearer <token>`. With a token configured every request but `GET /ping` \
    needs it; with `--lecturas-abiertas` GET requests (reads, `/openapi.json` included) pass \
    without it. Without a token configured nothing is checked.";

/// The start of a service's document: `titulo`, `descripcion`, the token scheme (required by
/// every operation unless its description says otherwise), the shared error body and the
/// `original` tag.
pub fn base(titulo: &str, descripcion: &str) -> OpenApi {
    let token = SecurityScheme::Http(
        HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some(SOBRE_EL_TOKEN))
            .build(),
    );
    let componentes = ComponentsBuilder::new()
        .security_scheme(ESQUEMA_TOKEN, token)
        .schema(CuerpoError::name(), CuerpoError::schema())
        .build();
    let original = TagBuilder::new()
        .name(TAG_ORIGINAL)
        .description(Some(
            "Routes the systems this cluster replaces already had (the Flask \
             hpc-maestro-esclavo system's; the orchestrator's `/stats`), kept with their \
             names and bodies; each is also marked `x-original: true`.",
        ))
        .build();
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title(titulo)
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(descripcion))
                .build(),
        )
        .components(Some(componentes))
        .security(Some(vec![
            utoipa::openapi::security::SecurityRequirement::new(
                ESQUEMA_TOKEN,
                Vec::<String>::new(),
            ),
        ]))
        .tags(Some(vec![original]))
        .build()
}

/// The plain router of `rutas`, with `GET /openapi.json` serving the finished document, and
/// that document.
pub fn documentar<S>(rutas: OpenApiRouter<S>) -> (Router<S>, OpenApi)
where
    S: Clone + Send + Sync + 'static,
{
    let (router, mut api) = rutas.routes(routes!(openapi_json)).split_for_parts();
    completar(&mut api);
    let texto = Arc::new(json_estable(&api));
    (router.layer(Extension(Documento(texto))), api)
}

/// The document as `docs/openapi/` keeps it: pretty-printed, keys sorted, a final newline.
pub fn json_estable(api: &OpenApi) -> String {
    let valor = serde_json::to_value(api).expect("an OpenAPI document serializes");
    let mut texto = serde_json::to_string_pretty(&ordenar(valor)).expect("a JSON value prints");
    texto.push('\n');
    texto
}

/// `valor` with every object's keys in order, whatever map serde_json was built with.
fn ordenar(valor: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match valor {
        Value::Object(mapa) => {
            let mut pares: Vec<_> = mapa.into_iter().collect();
            pares.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(pares.into_iter().map(|(k, v)| (k, ordenar(v))).collect())
        }
        Value::Array(v) => Value::Array(v.into_iter().map(ordenar).collect()),
        otro => otro,
    }
}

/// The served document, written once when the router is built.
#[derive(Clone)]
struct Documento(Arc<String>);

/// This service's OpenAPI document (this one).
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "contrato",
    operation_id = "openapi",
    description = "This service's OpenAPI 3 document, generated from its code. A read: it \
                   follows the token rules of every GET.",
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json"))
)]
async fn openapi_json(Extension(Documento(texto)): Extension<Documento>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        texto.as_str().to_owned(),
    )
}

/// Adds to every operation the answers it shares with the others (see the module doc).
fn completar(api: &mut OpenApi) {
    for item in api.paths.paths.values_mut() {
        let operaciones = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.options,
            &mut item.head,
            &mut item.patch,
            &mut item.trace,
        ];
        for op in operaciones.into_iter().flatten() {
            respuestas_comunes(op);
        }
    }
}

fn respuestas_comunes(op: &mut Operation) {
    if op.tags.iter().flatten().any(|t| t == TAG_ORIGINAL) {
        op.extensions
            .get_or_insert_with(Default::default)
            .insert("x-original".to_owned(), serde_json::Value::Bool(true));
    }
    let abierta = op
        .security
        .as_ref()
        .is_some_and(|s| s.iter().any(|r| r == &Default::default()));
    if !abierta {
        anadir(
            op,
            401,
            "Missing or wrong token (`Authorization: Bearer <token>`); the body names the header",
        );
    }
    let parametros = op.parameters.iter().flatten().filter_map(|p| match p {
        RefOr::T(p) => Some(p.parameter_in.clone()),
        RefOr::Ref(_) => None,
    });
    let (mut consulta, mut ruta) = (false, false);
    for en in parametros {
        consulta |= matches!(en, ParameterIn::Query);
        ruta |= matches!(en, ParameterIn::Path);
    }
    if op.request_body.is_some() {
        anadir(
            op,
            400,
            "Malformed JSON: the body names the line and column",
        );
        anadir(op, 413, "The body is larger than this endpoint takes");
        anadir(
            op,
            422,
            "Well-formed JSON with a wrong, missing or unknown field: `campo` names it, \
             `limite` the limit it broke",
        );
    } else if consulta || ruta {
        anadir(
            op,
            400,
            "A query or path parameter that cannot be read: `campo` names it",
        );
    }
    cuerpos_de_error(op);
}

/// Adds `estado` with a [`CuerpoError`] body unless the operation already describes it.
fn anadir(op: &mut Operation, estado: u16, descripcion: &str) {
    let respuesta = ResponseBuilder::new().description(descripcion).build();
    op.responses
        .responses
        .entry(estado.to_string())
        .or_insert(RefOr::T(respuesta));
}

/// Gives every error answer (4xx, 5xx) described without a body the [`CuerpoError`] every
/// refusal carries ([`super::ErrorApi`]).
fn cuerpos_de_error(op: &mut Operation) {
    for (estado, respuesta) in &mut op.responses.responses {
        let RefOr::T(respuesta) = respuesta else {
            continue;
        };
        if estado.starts_with(['4', '5']) && respuesta.content.is_empty() {
            let esquema = ContentBuilder::new()
                .schema(Some(Ref::from_schema_name(CuerpoError::name())))
                .build();
            respuesta
                .content
                .insert("application/json".to_owned(), RefOr::T(esquema));
        }
    }
}

//! Handlers of the uploaded images: `POST /imagenes` (a PNG as the body: checked by
//! [`comun::imagenes::validar_png`], stored durably, its id answered) and `GET /imagenes/{id}`
//! (the PNG as uploaded, which esclavos fetch before running a job that names it as `entrada`).

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use comun::CuerpoError;
use comun::imagenes::{ImagenSubida, MAX_BYTES_PNG};

use super::extraer::Ruta;
use crate::servicio::Servicio;
use plataforma::http::ErrorApi;

#[utoipa::path(
    post,
    path = "/imagenes",
    tag = "imagenes",
    operation_id = "subir_imagen",
    request_body(
        content(("image/png")),
        description = "The PNG file as it is, at most 128 MiB (134,217,728 bytes)"
    ),
    description = "Uploads a PNG for `imagen` jobs to take as their input: \
                   `{\"tipo\": \"imagen\", \"entrada\": <id>}`. The whole file is checked \
                   before it is stored: a PNG (any colour type and depth, read as 8-bit RGB or \
                   RGBA), not cut short, its checksums right, at most 16,384 pixels a side and \
                   67,108,864 pixels. Durable before the answer.",
    responses(
        (status = 201, description = "Stored: its id (also in `Location`), size and channels", body = ImagenSubida),
        (status = 400, description = "The body could not be read (cut off)"),
        (status = 413, description = "Larger than 128 MiB: `limite` is the limit in bytes"),
        (status = 422, description = "Not a PNG, a corrupt or truncated one, or one over the \
                                      pixel limits: the message says which, `campo` is `png`, \
                                      `limite` the limit broken"),
        (status = 500, description = "The store failed; the details are in the maestro's log"),
    )
)]
pub async fn subir(
    State(s): State<Arc<Servicio>>,
    peticion: Request,
) -> Result<Response, ErrorApi> {
    let png = Bytes::from_request(peticion, &()).await.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            demasiado_grande()
        } else {
            ErrorApi::from(r)
        }
    })?;
    let png = png.to_vec();
    let (png, forma) = tokio::task::spawn_blocking(move || {
        comun::imagenes::validar_png(&png).map(|forma| (png, forma))
    })
    .await
    .map_err(|e| anyhow::anyhow!("checking an uploaded PNG panicked: {e}"))??;
    let bytes = png.len() as u64;
    let (id, commit) = s.almacen.guardar_entrada(png, forma);
    commit.esperar().await?;
    tracing::info!(id, forma.width, forma.height, bytes, "image uploaded");
    let cuerpo = ImagenSubida {
        id,
        width: forma.width,
        height: forma.height,
        canales: forma.canales,
        bytes,
    };
    let ubicacion = format!("/imagenes/{id}");
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, ubicacion)],
        Json(cuerpo),
    )
        .into_response())
}

/// The 413 of a body over [`MAX_BYTES_PNG`], naming the limit.
fn demasiado_grande() -> ErrorApi {
    ErrorApi::Cliente(
        StatusCode::PAYLOAD_TOO_LARGE,
        CuerpoError {
            limite: Some(MAX_BYTES_PNG as u64),
            ..CuerpoError::new(format!(
                "the PNG is larger than the limit of {MAX_BYTES_PNG} bytes (128 MiB)"
            ))
        },
    )
}

#[utoipa::path(
    get,
    path = "/imagenes/{id}",
    tag = "imagenes",
    operation_id = "ver_imagen",
    params(("id" = u64, Path, description = "The id `POST /imagenes` answered")),
    description = "An uploaded PNG, byte for byte as it was uploaded. Esclavos fetch it before \
                   running a job that names it as `entrada`.",
    responses(
        (status = 200, description = "The PNG", content_type = "image/png"),
        (status = 404, description = "No image was uploaded with that id"),
        (status = 500, description = "The store failed; the details are in the maestro's log"),
    )
)]
pub async fn ver(
    State(s): State<Arc<Servicio>>,
    Ruta(id): Ruta<String>,
) -> Result<Response, ErrorApi> {
    let id: u64 = id
        .parse()
        .map_err(|_| ErrorApi::parametro("id", format!("id: '{id}' is not a whole number")))?;
    match s.almacen.entrada(id).await? {
        Some(png) => Ok(([(header::CONTENT_TYPE, "image/png")], png).into_response()),
        None => Err(ErrorApi::no_encontrado(format!(
            "no uploaded image {id}: POST a PNG to /imagenes to get an id"
        ))),
    }
}

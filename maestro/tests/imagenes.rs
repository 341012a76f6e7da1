//! Uploaded images, through real HTTP: `POST /imagenes` checks a PNG whole before it stores it
//! and answers its id, `GET /imagenes/{id}` gives it back byte for byte, both under the token's
//! rules; a job naming an image that does not exist is refused at every door; and an `imagen`
//! job over an upload runs on an esclavo, which fetches the PNG, and its output PNG is the
//! kernel's filters of the upload.

mod apoyo;

use std::time::Duration;

use apoyo::*;
use comun::api::{Detalle, RespuestaCarga};
use comun::imagenes::{FormaPng, ImagenSubida, MAX_BYTES_PNG, decodificar_png};
use comun::trabajo::Filtro;
use comun::{Algoritmo, CuerpoError, Estado};
use reqwest::StatusCode;
use serde_json::json;

const PLAZO: Duration = Duration::from_secs(60);

/// An 8-bit PNG of `w × h` in `color`, its samples from the sample index.
fn png_de(w: u32, h: u32, color: png::ColorType) -> Vec<u8> {
    let n = (w * h) as usize * color.samples();
    let datos: Vec<u8> = (0..n).map(|i| (i * 7 + i / 13) as u8).collect();
    let mut salida = Vec::new();
    let mut e = png::Encoder::new(&mut salida, w, h);
    e.set_color(color);
    e.set_depth(png::BitDepth::Eight);
    e.write_header().unwrap().write_image_data(&datos).unwrap();
    salida
}

/// `POST /imagenes` of `cuerpo`, with `token` if given.
async fn subir(url: &str, token: Option<&str>, cuerpo: Vec<u8>) -> reqwest::Response {
    let mut peticion = reqwest::Client::new()
        .post(format!("{url}/imagenes"))
        .header("content-type", "image/png")
        .body(cuerpo);
    if let Some(t) = token {
        peticion = peticion.bearer_auth(t);
    }
    peticion.send().await.unwrap()
}

/// Uploads `png`, which must be accepted: the answer's body.
async fn subida(url: &str, png: &[u8]) -> ImagenSubida {
    let r = subir(url, None, png.to_vec()).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let ubicacion = r.headers()["location"].to_str().unwrap().to_owned();
    let cuerpo: ImagenSubida = r.json().await.unwrap();
    assert_eq!(ubicacion, format!("/imagenes/{}", cuerpo.id));
    cuerpo
}

/// The status and error body of a refused request.
async fn refusal(r: reqwest::Response) -> (StatusCode, CuerpoError) {
    let status = r.status();
    let texto = r.text().await.unwrap();
    let cuerpo = serde_json::from_str(&texto).unwrap_or_else(|e| panic!("{e}: {texto}"));
    (status, cuerpo)
}

async fn get(url: &str, ruta: &str) -> reqwest::Response {
    reqwest::get(format!("{url}{ruta}")).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_is_checked_stored_and_served_back_as_sent() {
    let datos = tempfile::tempdir().unwrap();
    let m = maestro(config_maestro(datos.path()), 0).await;
    let rgba = png_de(30, 20, png::ColorType::Rgba);
    let gris = png_de(5, 7, png::ColorType::Grayscale);
    let a = subida(&m.url, &rgba).await;
    assert_eq!(
        a,
        ImagenSubida {
            id: 1,
            width: 30,
            height: 20,
            canales: 4,
            bytes: rgba.len() as u64
        }
    );
    let b = subida(&m.url, &gris).await;
    assert_eq!((b.id, b.width, b.height, b.canales), (2, 5, 7, 3));
    for (id, png) in [(1, &rgba), (2, &gris)] {
        let r = get(&m.url, &format!("/imagenes/{id}")).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "image/png");
        assert_eq!(&r.bytes().await.unwrap()[..], &png[..]);
    }
    let (status, e) = refusal(get(&m.url, "/imagenes/3").await).await;
    assert_eq!(status, 404);
    assert!(e.error.contains("no uploaded image 3"), "{e:?}");
    let (status, e) = refusal(get(&m.url, "/imagenes/tres").await).await;
    assert_eq!(
        (status, e.campo.as_deref()),
        (StatusCode::BAD_REQUEST, Some("id"))
    );
    m.parar().await;

    // Durable: a new maestro on the same data serves them, and numbers on.
    let m = maestro(config_maestro(datos.path()), 0).await;
    let r = get(&m.url, "/imagenes/1").await;
    assert_eq!(&r.bytes().await.unwrap()[..], &rgba[..]);
    assert_eq!(subida(&m.url, &gris).await.id, 3);
    m.parar().await;
}

/// A 1 × 1 PNG whose header claims `width × height` (its CRC fixed: only the size is wrong).
fn con_cabecera(width: u32, height: u32) -> Vec<u8> {
    let mut png = png_de(1, 1, png::ColorType::Rgb);
    png[16..20].copy_from_slice(&width.to_be_bytes());
    png[20..24].copy_from_slice(&height.to_be_bytes());
    let mut crc = !0u32;
    for &b in &png[12..29] {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                0xEDB8_8320 ^ (crc >> 1)
            } else {
                crc >> 1
            };
        }
    }
    png[29..33].copy_from_slice(&(!crc).to_be_bytes());
    png
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_uploads_are_refused_naming_what_is_wrong_and_nothing_is_stored() {
    let datos = tempfile::tempdir().unwrap();
    let m = maestro(config_maestro(datos.path()), 0).await;
    let bueno = png_de(40, 30, png::ColorType::Rgb);
    let mut corrupto = bueno.clone();
    corrupto[8 + 25 + 8 + 20] ^= 0x40;
    let casos: Vec<(&str, Vec<u8>, &str, Option<u64>)> = vec![
        ("empty", vec![], "png: empty: no PNG was sent", None),
        (
            "JPEG",
            vec![0xff, 0xd8, 0xff, 0xe0, 0, 16],
            "png: not a PNG (it is a JPEG)",
            None,
        ),
        (
            "text",
            b"hello".to_vec(),
            "png: not a PNG: a PNG starts",
            None,
        ),
        (
            "truncated",
            bueno[..bueno.len() / 2].to_vec(),
            "png: truncated",
            None,
        ),
        ("corrupt", corrupto, "png: corrupt", None),
        (
            "too wide",
            con_cabecera(100_000, 1),
            "png: 100000 × 1 pixels: a side of 100000 exceeds the limit of 16384 pixels",
            Some(16_384),
        ),
        (
            "too many pixels",
            con_cabecera(16_384, 16_384),
            "exceeds the limit of 67108864 pixels",
            Some(67_108_864),
        ),
    ];
    for (que, cuerpo, texto, limite) in casos {
        let (status, e) = refusal(subir(&m.url, None, cuerpo).await).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{que}: {e:?}");
        assert_eq!(e.campo.as_deref(), Some("png"), "{que}");
        assert!(e.error.contains(texto), "{que}: {}", e.error);
        assert_eq!(e.limite, limite, "{que}");
    }
    let mut enorme = bueno.clone();
    enorme.resize(MAX_BYTES_PNG + 1, 0);
    let (status, e) = refusal(subir(&m.url, None, enorme).await).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{e:?}");
    assert_eq!(e.limite, Some(MAX_BYTES_PNG as u64));
    assert!(e.error.contains("128 MiB"), "{e:?}");
    // Nothing was stored: the first good upload is number 1.
    assert_eq!(get(&m.url, "/imagenes/1").await.status(), 404);
    assert_eq!(subida(&m.url, &bueno).await.id, 1);
    m.parar().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_need_the_token_and_fetches_follow_the_rules_of_reads() {
    let png = png_de(3, 3, png::ColorType::Rgb);
    for abiertas in [false, true] {
        let datos = tempfile::tempdir().unwrap();
        let mut config = config_maestro(datos.path());
        config.token = Some("s3creto".into());
        config.lecturas_abiertas = abiertas;
        let m = maestro(config, 0).await;
        assert_eq!(subir(&m.url, None, png.clone()).await.status(), 401);
        assert_eq!(subir(&m.url, Some("otro"), png.clone()).await.status(), 401);
        assert_eq!(
            subir(&m.url, Some("s3creto"), png.clone()).await.status(),
            201
        );
        let sin_token = get(&m.url, "/imagenes/1").await.status();
        assert_eq!(sin_token, if abiertas { 200 } else { 401 });
        let con_token = reqwest::Client::new()
            .get(format!("{}/imagenes/1", m.url))
            .bearer_auth("s3creto")
            .send()
            .await
            .unwrap();
        assert_eq!(con_token.bytes().await.unwrap(), png);
        m.parar().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_naming_a_missing_image_is_refused_at_every_door() {
    let datos = tempfile::tempdir().unwrap();
    let vigilado = datos.path().join("trabajos.txt");
    let mut config = config_maestro(&datos.path().join("datos"));
    config.archivo = Some(vigilado.clone());
    let m = maestro(config, 0).await;
    let id = subida(&m.url, &png_de(4, 4, png::ColorType::Rgb)).await.id;
    let http = reqwest::Client::new();
    let post = |ruta: &str, cuerpo: serde_json::Value| {
        http.post(format!("{}{ruta}", m.url)).json(&cuerpo).send()
    };

    let r = post("/agregar_trabajo", json!({"tipo": "imagen", "entrada": 9})).await;
    let (status, e) = refusal(r.unwrap()).await;
    assert_eq!(
        (status, e.campo.as_deref()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("entrada"))
    );
    assert!(e.error.contains("no uploaded image 9"), "{e:?}");

    let lote = json!({"trabajos": [
        {"tipo": "imagen", "entrada": id},
        {"tipo": "image_processing", "entrada": 77},
    ]});
    let (status, e) = refusal(post("/trabajos", lote).await.unwrap()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e.campo.as_deref(), Some("trabajos[1].entrada"));
    assert_eq!(
        resumen(&m.url).await.total(),
        0,
        "all or none: nothing queued"
    );

    let texto = format!("imagen,entrada={id}\nimagen,entrada=78\nespera,0\n");
    let r = post("/cargar_trabajos", json!({ "contenido": texto })).await;
    let carga: RespuestaCarga = r.unwrap().json().await.unwrap();
    assert_eq!(carga.cargados, 2);
    let motivos = |rechazadas: &[comun::api::LineaRechazada]| -> Vec<(usize, String)> {
        rechazadas
            .iter()
            .map(|r| (r.linea, r.motivo.clone()))
            .collect()
    };
    let esperado = vec![(
        2,
        "entrada: no uploaded image 78: POST the PNG to /imagenes and name the id it answers"
            .to_owned(),
    )];
    assert_eq!(motivos(&carga.rechazadas), esperado);

    // The watched file refuses the same line, and queues the others.
    std::fs::write(&vigilado, &texto).unwrap();
    esperar_hasta(
        PLAZO,
        "the watched file's good lines are queued",
        || async { resumen(&m.url).await.total() == 4 },
    )
    .await;
    let estado: comun::api::EstadoCluster = get(&m.url, "/estado").await.json().await.unwrap();
    let informe = estado.archivo.expect("a report of the watched file");
    assert_eq!(motivos(&informe.rechazadas), esperado);
    m.parar().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_imagen_job_over_an_upload_runs_on_an_esclavo_and_its_png_is_the_filtered_upload() {
    let datos = tempfile::tempdir().unwrap();
    let m = maestro(config_maestro(datos.path()), 0).await;
    let e = esclavo(&m.url, "e1", 2).await;
    let png = png_de(97, 61, png::ColorType::Rgba);
    let subida = subida(&m.url, &png).await;
    let filtros = [Filtro::Desenfoque, Filtro::Sobel, Filtro::Grises];
    let esperado = kernels::imagen::filtrar_imagen(
        &decodificar_png(&png).unwrap(),
        &filtros,
        1.5,
        Algoritmo::Secuencial,
        &kernels::Control::ninguno(),
    )
    .unwrap();
    for algoritmo in ["Secuencial", "Paralelo"] {
        let peticion = json!({"tipo": "imagen", "algoritmo": algoritmo, "entrada": subida.id,
            "filtros": ["blur", "edges", "grayscale"], "sigma": 1.5, "width": 8, "height": 8});
        let r = reqwest::Client::new()
            .post(format!("{}/agregar_trabajo", m.url))
            .json(&peticion)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let id = r.json::<comun::api::RespuestaAgregar>().await.unwrap().id;
        let t = esperar_final(&m.url, id, PLAZO).await;
        assert_eq!(t.estado, Estado::Completado, "{algoritmo}: {t:?}");
        let r = t.resultado.expect("a result");
        let Detalle::Imagen {
            width,
            height,
            checksum,
            ..
        } = r.detalle
        else {
            panic!("{:?}", r.detalle);
        };
        assert_eq!(
            (width, height),
            (97, 61),
            "the upload's size, not width × height"
        );
        assert_eq!(
            checksum,
            esperado.iter().map(|&b| u64::from(b)).sum::<u64>()
        );
        let salida = get(&m.url, &format!("/trabajos/{id}/imagen")).await;
        assert_eq!(salida.status(), 200);
        let salida = decodificar_png(&salida.bytes().await.unwrap()).unwrap();
        assert_eq!(
            salida.forma,
            FormaPng {
                width: 97,
                height: 61,
                canales: 4
            }
        );
        assert!(
            salida.datos == esperado,
            "{algoritmo}: not the filtered upload"
        );
    }
    e.parar().await;
    m.parar().await;
}

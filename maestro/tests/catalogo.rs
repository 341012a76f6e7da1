//! The catalogue's five tipos (`red_neuronal`, `imagen`, `fft`, `autovalores`, `kmeans`)
//! through the API, against a real esclavo over HTTP: each completes on Secuencial, Paralelo
//! and Auto (no GPU here: Auto runs as Paralelo), asked for by its wire name or its original
//! one; `{"tipo": X}` alone is a job with every default; bad parameters are refused naming the
//! field and the limit, with nothing queued; `Cuda` is refused for a tipo without a GPU
//! version; and `Auto` sends a tipo to a GPU esclavo as `Cuda` exactly when it has one.

mod apoyo;

use std::time::Duration;

use apoyo::falso::{EsclavoFalso, completado};
use apoyo::*;
use comun::api::{Detalle, PeticionTrabajo, RespuestaAgregar, Trabajo};
use comun::{Algoritmo, CuerpoError, Estado, Parametros, Tipo, TrabajoId};
use serde_json::{Value, json};

const PLAZO: Duration = Duration::from_secs(120);

/// A small job of each catalogue tipo, in the wire's JSON: its parameters, and the same job
/// with the original system's names.
fn pequenos() -> [(Tipo, Value, Value); 5] {
    [
        (
            Tipo::Fft,
            json!({"tipo": "fft", "n": 1000, "m": 3, "semilla": 5}),
            json!({"tipo": "fft", "size": 1000, "m": 3, "semilla": 5}),
        ),
        (
            Tipo::Autovalores,
            json!({"tipo": "autovalores", "n": 64}),
            json!({"tipo": "eigenvalue", "size": 64}),
        ),
        (
            Tipo::Kmeans,
            json!({"tipo": "kmeans", "muestras": 2000, "dimensiones": 4, "k": 5,
                   "iteraciones": 6}),
            json!({"tipo": "kmeans_clustering", "n_samples": 2000, "n_features": 4,
                   "n_clusters": 5, "iterations": 6}),
        ),
        (
            Tipo::RedNeuronal,
            json!({"tipo": "red_neuronal", "capas": [16], "epocas": 3, "muestras": 400,
                   "lote": 32}),
            json!({"tipo": "neural_network", "hidden_size": 16, "epochs": 3,
                   "n_samples": 400, "batch_size": 32}),
        ),
        (
            Tipo::Imagen,
            json!({"tipo": "imagen", "width": 64, "height": 64,
                   "filtros": ["desenfoque", "sobel"], "sigma": 1.5}),
            json!({"tipo": "image_processing", "image_size": 64,
                   "filtros": ["blur", "edges"], "sigma": 1.5}),
        ),
    ]
}

/// `POST /agregar_trabajo` with a raw JSON body: the status and the body.
async fn enviar(url: &str, cuerpo: &Value) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{url}/agregar_trabajo"))
        .json(cuerpo)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

/// Queues `cuerpo` with `algoritmo`, which must be accepted; its id.
async fn agregar_json(url: &str, cuerpo: &Value, algoritmo: Algoritmo) -> TrabajoId {
    let mut cuerpo = cuerpo.clone();
    cuerpo["algoritmo"] = algoritmo.nombre().into();
    let (estado, r) = enviar(url, &cuerpo).await;
    assert_eq!(estado, 200, "{cuerpo}: {r}");
    serde_json::from_value::<RespuestaAgregar>(r).unwrap().id
}

/// Checks a completed job's detail is its tipo's, with the figures its kernel promises.
fn comprobar_detalle(t: &Trabajo) {
    let r = t.resultado.as_ref().expect("a completed job has a result");
    assert!(
        r.duracion_s >= 0.0 && r.duracion_con_copias_s.is_none(),
        "{r:?}"
    );
    match (&t.parametros, &r.detalle) {
        (Parametros::Fft(p), Detalle::Fft { n, m, parseval, .. }) => {
            assert_eq!((*n, *m), (p.n, p.m));
            assert!(*parseval < 1e-9, "Parseval error {parseval}");
        }
        (
            Parametros::Autovalores(p),
            Detalle::Autovalores {
                n,
                mayor,
                menor,
                suma,
                traza,
                residuo,
                ..
            },
        ) => {
            assert_eq!(*n, p.n);
            assert!(menor <= mayor);
            assert!((suma - traza).abs() <= 1e-9 * f64::from(*n) * traza.abs().max(1.0));
            assert!(*residuo < 1e-8, "residual {residuo}");
        }
        (
            Parametros::Kmeans(p),
            Detalle::Kmeans {
                muestras,
                k,
                iteraciones,
                inercia,
                ..
            },
        ) => {
            assert_eq!((*muestras, *k), (p.muestras, p.k));
            assert!(*iteraciones >= 1 && *iteraciones <= p.iteraciones);
            assert_eq!(inercia.len(), *iteraciones as usize);
            let subidas = inercia.windows(2).filter(|w| w[1] > w[0] * (1.0 + 1e-6));
            assert_eq!(
                subidas.count(),
                0,
                "Lloyd's inertia never grows: {inercia:?}"
            );
        }
        (
            Parametros::RedNeuronal(p),
            Detalle::RedNeuronal {
                perdida,
                precision_entrenamiento,
                precision_prueba,
                ..
            },
        ) => {
            assert_eq!(perdida.len(), p.epocas as usize);
            assert!(
                perdida.iter().all(|x| x.is_finite() && *x >= 0.0),
                "{perdida:?}"
            );
            assert!((0.0..=1.0).contains(precision_entrenamiento));
            assert!((0.0..=1.0).contains(precision_prueba));
        }
        (Parametros::Imagen(p), Detalle::Imagen { width, height, .. }) => {
            assert_eq!((*width, *height), (p.width, p.height));
            assert!(r.imagen, "an imagen job has a PNG");
        }
        (p, d) => panic!("detail {d:?} does not belong to {p:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_catalogue_tipo_completes_on_every_cpu_backend_by_either_name() {
    let datos = tempfile::tempdir().unwrap();
    let m = maestro(config_maestro(datos.path()), 0).await;
    let e = esclavo(&m.url, "e1", 2).await;
    for (tipo, cuerpo, original) in pequenos() {
        let mut ids = Vec::new();
        for algoritmo in [Algoritmo::Secuencial, Algoritmo::Paralelo, Algoritmo::Auto] {
            ids.push(agregar_json(&m.url, &cuerpo, algoritmo).await);
        }
        ids.push(agregar_json(&m.url, &original, Algoritmo::Paralelo).await);
        let mut parametros = Vec::new();
        for id in ids {
            let t = esperar_final(&m.url, id, PLAZO).await;
            assert_eq!(t.estado, Estado::Completado, "{tipo}: {t:#?}");
            assert_eq!(t.parametros.tipo(), tipo);
            comprobar_detalle(&t);
            parametros.push(t.parametros);
        }
        assert_eq!(
            parametros[0], parametros[3],
            "{tipo}: the original names mean the same"
        );
    }
    let id = agregar_json(&m.url, &pequenos()[4].1, Algoritmo::Secuencial).await;
    let t = esperar_final(&m.url, id, PLAZO).await;
    assert_eq!(t.estado, Estado::Completado);
    let png = reqwest::get(format!("{}/trabajos/{id}/imagen", m.url))
        .await
        .unwrap();
    assert_eq!(png.status(), 200);
    assert_eq!(&png.bytes().await.unwrap()[..8], b"\x89PNG\r\n\x1a\n");
    e.parar().await;
    m.parar().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tipo_alone_is_a_job_with_every_default_and_the_alias_is_stored_by_its_wire_name() {
    let datos = tempfile::tempdir().unwrap();
    let m = maestro(config_maestro(datos.path()), 0).await;
    let e = esclavo(&m.url, "e1", 2).await;
    for tipo in Tipo::TODOS {
        let Some(defecto) = Parametros::por_defecto(tipo) else {
            continue;
        };
        let nombre = tipo.alias().unwrap_or(tipo.nombre());
        let (estado, r) = enviar(&m.url, &json!({ "tipo": nombre })).await;
        assert_eq!(estado, 200, "{nombre}: {r}");
        let id = serde_json::from_value::<RespuestaAgregar>(r).unwrap().id;
        let crudo: Value = reqwest::get(format!("{}/trabajos/{id}", m.url))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(crudo["tipo"], tipo.nombre(), "shown by its wire name");
        let t = esperar_final(&m.url, id, PLAZO).await;
        assert_eq!(t.parametros, defecto);
        assert_eq!(t.algoritmo, Algoritmo::Paralelo);
        assert_eq!(
            t.estado,
            Estado::Completado,
            "{tipo}'s defaults run: {t:#?}"
        );
        comprobar_detalle(&t);
    }
    e.parar().await;
    m.parar().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_parameters_are_refused_naming_the_field_and_the_limit_and_nothing_is_queued() {
    let datos = tempfile::tempdir().unwrap();
    let m = maestro(config_maestro(datos.path()), 0).await;
    let casos = [
        (
            json!({"tipo": "fft", "n": 100_000, "m": 100_000}),
            "n",
            Some(1u64 << 26),
        ),
        (json!({"tipo": "eigenvalue", "size": 9000}), "n", Some(8192)),
        (
            json!({"tipo": "kmeans", "muestras": 10, "k": 11}),
            "k",
            Some(10),
        ),
        (
            json!({"tipo": "kmeans", "iteraciones": 0}),
            "iteraciones",
            None,
        ),
        (
            json!({"tipo": "red_neuronal", "capas": [8, 8, 8, 8, 8]}),
            "capas",
            Some(4),
        ),
        (
            json!({"tipo": "red_neuronal", "tasa": 11.0}),
            "tasa",
            Some(10),
        ),
        (
            json!({"tipo": "red_neuronal", "dimensiones": 3}),
            "dimensiones",
            None,
        ),
        (json!({"tipo": "imagen", "sigma": 65.0}), "sigma", Some(64)),
        (
            json!({"tipo": "imagen", "filtros": []}),
            "filtros",
            Some(16),
        ),
        (
            json!({"tipo": "imagen", "width": 20_000}),
            "width",
            Some(16_384),
        ),
        (json!({"tipo": "fft", "k": 3}), "k", None),
    ];
    for (cuerpo, campo, limite) in casos {
        let (estado, r) = enviar(&m.url, &cuerpo).await;
        assert_eq!(estado, 422, "{cuerpo}: {r}");
        let error: CuerpoError = serde_json::from_value(r).unwrap();
        assert_eq!(error.campo.as_deref(), Some(campo), "{cuerpo}: {error:?}");
        assert_eq!(error.limite, limite, "{cuerpo}: {error:?}");
        assert!(error.error.starts_with(&format!("{campo}: ")), "{error:?}");
    }
    let (estado, r) = enviar(&m.url, &json!({"tipo": "fft", "filtros": "sobel"})).await;
    assert!(estado == 400 || estado == 422, "{r}");
    let (estado, r) = enviar(&m.url, &json!({"tipo": "kmeans", "n_clusters": "many"})).await;
    assert!(estado == 400 || estado == 422, "{r}");
    assert_eq!(resumen(&m.url).await.total(), 0, "nothing was queued");
    m.parar().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cuda_is_taken_only_for_a_tipo_with_a_gpu_version() {
    let datos = tempfile::tempdir().unwrap();
    let m = maestro(config_maestro(datos.path()), 0).await;
    for tipo in Tipo::TODOS
        .into_iter()
        .filter(|t| Parametros::por_defecto(*t).is_some())
    {
        let cuerpo = json!({"tipo": tipo.nombre(), "algoritmo": "Cuda"});
        let (estado, r) = enviar(&m.url, &cuerpo).await;
        if tipo.tiene_cuda() {
            assert_eq!(estado, 200, "{tipo}: {r}");
        } else {
            assert_eq!(estado, 422, "{tipo}: {r}");
            let error: CuerpoError = serde_json::from_value(r).unwrap();
            assert_eq!(error.campo.as_deref(), Some("algoritmo"));
            assert!(error.error.contains("no GPU version"), "{error:?}");
        }
    }
    m.parar().await;
}

/// With only a GPU esclavo (a scripted one: no GPU here), each `Auto` job is sent as `Cuda`
/// when its tipo has a GPU version, as `Paralelo` otherwise.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_sends_a_tipo_to_the_gpu_exactly_when_it_has_a_gpu_version() {
    let datos = tempfile::tempdir().unwrap();
    let m = maestro(config_maestro(datos.path()), 0).await;
    let gpu = comun::nodo::Gpu {
        indice: 0,
        nombre: "H100".into(),
        memoria_bytes: 80 << 30,
        capacidad_computo: "9.0".into(),
        driver: "550".into(),
        pci: String::new(),
        limites: None,
    };
    let mut falso = EsclavoFalso::iniciar_con_gpus(&m.url, "g1", 1, None, vec![gpu]).await;
    for (tipo, cuerpo, _) in pequenos() {
        let id = agregar_json(&m.url, &cuerpo, Algoritmo::Auto).await;
        let a = falso.recibir().await;
        assert_eq!(a.id, id);
        let esperado = if tipo.tiene_cuda() {
            Algoritmo::Cuda
        } else {
            Algoritmo::Paralelo
        };
        assert_eq!(a.algoritmo, esperado, "{tipo}");
        falso.informar(&a, completado(1)).await;
        let t = esperar_final(&m.url, id, PLAZO).await;
        assert_eq!(t.estado, Estado::Completado);
    }
    falso.parar();
    m.parar().await;
}

/// The typed request (`PeticionTrabajo`) says the same as the JSON the tests send.
#[test]
fn the_small_jobs_read_as_requests() {
    for (tipo, cuerpo, original) in pequenos() {
        let a: PeticionTrabajo = serde_json::from_value(cuerpo).unwrap();
        let b: PeticionTrabajo = serde_json::from_value(original).unwrap();
        assert_eq!(a.validar().unwrap(), b.validar().unwrap(), "{tipo}");
    }
}

//! Hostile bodies through the esclavo's router (the same decoding and validation path as a real
//! request): arbitrary bytes, arbitrary JSON and mutated valid bodies of `/ejecutar` and
//! `/cancelar` never panic, and every rejection names a field or a position. (Bad requests
//! over HTTP, case by case, are `tests/malformado.rs`.)

use std::cell::Cell;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use comun::CuerpoError;
use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestRunner};
use pruebas::generadores::{hostil, nombra_el_problema, peticion_cancelar, peticion_ejecutar};

/// `POST ruta` with `cuerpo` through the router of a closed esclavo (it decodes and checks
/// everything, then takes nothing): the status and the body.
async fn por_el_router(
    esclavo: &Arc<esclavo::Esclavo>,
    ruta: &str,
    cuerpo: Vec<u8>,
) -> (StatusCode, Vec<u8>) {
    let peticion = Request::post(ruta)
        .header("content-type", "application/json")
        .body(Body::from(cuerpo))
        .unwrap();
    pruebas::sondas::llamar(esclavo::router(Arc::clone(esclavo)), peticion).await
}

#[test]
fn hostile_bodies_never_panic_and_every_rejection_names_the_problem() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (esclavo, _informes) = esclavo::Esclavo::new(
        &esclavo::Config::new("http://127.0.0.1:9", "e-prop"),
        "http://127.0.0.1:5011".into(),
    );
    esclavo.cerrar();
    // A well-formed body within limits gets: 503 from /ejecutar (the esclavo is closed), 200
    // from /cancelar (nothing runs, so every job is unknown).
    let rutas = [
        (
            "/ejecutar",
            peticion_ejecutar().boxed(),
            StatusCode::SERVICE_UNAVAILABLE,
        ),
        ("/cancelar", peticion_cancelar().boxed(), StatusCode::OK),
    ];
    for (ruta, valido, tomado) in rutas {
        let mut runner = TestRunner::new(ProptestConfig {
            cases: 500,
            failure_persistence: None,
            ..ProptestConfig::default()
        });
        let (rechazados, tomados) = (Cell::new(0u32), Cell::new(0u32));
        runner
            .run(&hostil(valido), |cuerpo| {
                let texto = String::from_utf8_lossy(&cuerpo).into_owned();
                let (status, respuesta) = rt.block_on(por_el_router(&esclavo, ruta, cuerpo));
                if status == tomado {
                    tomados.set(tomados.get() + 1);
                    return Ok(());
                }
                rechazados.set(rechazados.get() + 1);
                prop_assert!(
                    status == StatusCode::BAD_REQUEST || status == StatusCode::UNPROCESSABLE_ENTITY,
                    "{ruta}: {status} for {texto:?}"
                );
                let e: CuerpoError = serde_json::from_slice(&respuesta).map_err(|_| {
                    TestCaseError::fail(format!("{ruta}: not a JSON error for {texto:?}"))
                })?;
                prop_assert!(
                    nombra_el_problema(&e.error, e.campo.as_deref()),
                    "{ruta}: {e:?} for {texto:?}"
                );
                Ok(())
            })
            .unwrap();
        println!(
            "esclavo {ruta}: {} hostile bodies refused, {} well-formed",
            rechazados.get(),
            tomados.get()
        );
        assert!(rechazados.get() > 0 && tomados.get() > 0, "{ruta}");
    }
    assert!(esclavo.estado().ejecutando.is_empty());
}

//! An `imagen` job naming an uploaded PNG that the maestro cannot hand over fails its attempt
//! saying why (the maestro then retries it or gives up), against a fake maestro that serves no
//! `/imagenes/{id}`.

#[allow(dead_code)]
mod apoyo;

use apoyo::{EsclavoDePrueba, MaestroFalso, PLAZO, config};
use comun::TrabajoId;
use comun::nodo::Salida;
use pruebas::Falso as _;
use pruebas::esperar_hasta;
use serde_json::json;

#[tokio::test]
async fn an_upload_the_maestro_cannot_hand_over_fails_the_attempt_naming_it() {
    let (maestro, url) = MaestroFalso::iniciar().await;
    let e = EsclavoDePrueba::iniciar(config(&url)).await;
    esperar_hasta(PLAZO, "the esclavo registers", || async {
        !maestro.recibido().registros.is_empty()
    })
    .await;
    let trabajo = json!({"id": 7, "intento": 1, "tipo": "imagen", "entrada": 5,
        "filtros": ["sobel"], "algoritmo": "Secuencial"});
    let (estado, r) = e.ejecutar(json!({ "trabajos": [trabajo] })).await;
    assert_eq!(estado, 200, "{r}");
    assert_eq!(r["aceptados"], json!([7]));
    esperar_hasta(PLAZO, "its result reaches the maestro", || async {
        maestro
            .recibido()
            .resultados
            .iter()
            .any(|i| i.id == TrabajoId(7))
    })
    .await;
    let informe = maestro.recibido().resultados[0].clone();
    let Salida::Fallido { error } = informe.salida else {
        panic!("{informe:?}");
    };
    assert!(
        error.starts_with("fetching uploaded image 5 from the maestro: maestro answered 404"),
        "{error}"
    );
    e.parar().await.unwrap();
}

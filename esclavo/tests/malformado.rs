//! Bad input, at scale, on every route of a running esclavo (real HTTP on loopback): each
//! malformed, mistyped, incomplete, out-of-range or oversize request gets a 4xx whose JSON body
//! names the problem, and the esclavo runs nothing and reports nothing.
//! (Random and mutated bodies through the router are `tests/cuerpos.rs`.)
//!
//! Deliberate tolerances: the `Content-Type` is not checked (a JSON body is read whatever the
//! header says), so bad bodies are also sent under wrong ones and must be named the same; and
//! unknown fields of `/ejecutar` are ignored (a newer maestro may send fields an older esclavo
//! does not know), so the cases with one check it does not make a bad body good.

#[allow(dead_code)]
mod apoyo;

use apoyo::{EsclavoDePrueba, MaestroFalso, config};
use axum::http::StatusCode;
use pruebas::Falso as _;
use pruebas::malformado::{self, Caso, caso, probar_todos};
use serde_json::{Value, json};

/// A valid job for `/ejecutar`, long enough that, if a bad body were taken, it would still be
/// running when `/estado` is read.
fn asignacion() -> Value {
    json!({"id": 8, "intento": 1, "tipo": "espera", "ms": 60_000, "algoritmo": "Secuencial"})
}

/// The job that runs during the whole test: a bad `/cancelar` must not stop it.
const EN_CURSO: u64 = 1;

/// The `/ejecutar` body of `asignacion()` with `campo` replaced by `valor` (`Value::Null`:
/// removed).
fn con(campo: &str, valor: Value) -> String {
    let valor = (!valor.is_null()).then_some(valor);
    malformado::con(&lote(), &format!("/trabajos/0/{campo}"), valor)
}

/// `con` with a raw JSON text for the value (numbers serde_json cannot hold: `1e400`).
fn con_crudo(campo: &str, crudo: &str) -> String {
    malformado::con_crudo(&lote(), &format!("/trabajos/0/{campo}"), crudo)
}

/// The `/ejecutar` body of `asignacion()` alone.
fn lote() -> Value {
    json!({ "trabajos": [asignacion()] })
}

#[rustfmt::skip] // A table: one case a line.
fn casos_ejecutar() -> Vec<Caso> {
    let r = "/ejecutar";
    let mut v = vec![
        // Malformed JSON: 400 with the parse position.
        caso(r, "", 400, None, "EOF while parsing a value at line 1 column 0"),
        caso(r, r#"{"trabajos": [{"id": 1,"#, 400, None, "EOF while parsing"),
        caso(r, "hola", 400, None, "expected value at line 1 column 1"),
        caso(r, "{trabajos: []}", 400, None, "key must be a string"),
        caso(r, r#"{"trabajos": [}"#, 400, None, "line 1 column 15"),
        caso(r, format!("{} x", con("ms", json!(1))), 400, None, "trailing characters"),
        caso(r, "\u{feff}{}", 400, None, "expected value"),
        caso(r, [0xff_u8, 0xfe].map(char::from).iter().collect::<String>(), 400, None, "expected value"),
        // Wrong types.
        caso(r, "[]", 422, None, "the body is a JSON array (at line 1 column 1); it must be a JSON object"),
        caso(r, format!(" \n [{}]", asignacion()), 422, None, "the body is a JSON array (at line 2 column 2)"),
        caso(r, "\"trabajos\"", 422, None, "expected struct PeticionEjecutar"),
        caso(r, "null", 422, None, "expected struct PeticionEjecutar"),
        caso(r, r#"{"trabajos": {}}"#, 422, Some("trabajos"), "expected a sequence"),
        caso(r, r#"{"trabajos": null}"#, 422, Some("trabajos"), "expected a sequence"),
        caso(r, r#"{"trabajos": [1]}"#, 422, Some("trabajos[0]"), "invalid type"),
        caso(r, con("id", json!("siete")), 422, Some("trabajos[0].id"), "invalid type: string \"siete\""),
        caso(r, con("intento", json!([1])), 422, Some("trabajos[0].intento"), "invalid type: sequence"),
        caso(r, con("ms", json!("60")), 422, None, "invalid type: string \"60\""),
        caso(r, con("algoritmo", json!(3)), 422, Some("trabajos[0].algoritmo"), "invalid type: integer `3`"),
        caso(r, con("plazo_ms", json!(true)), 422, Some("trabajos[0].plazo_ms"), "invalid type: boolean"),
        // Missing required fields.
        caso(r, "{}", 422, Some("trabajos"), "missing field `trabajos`"),
        caso(r, con("id", Value::Null), 422, Some("trabajos[0].id"), "missing field `id`"),
        caso(r, con("intento", Value::Null), 422, Some("trabajos[0].intento"), "missing field `intento`"),
        caso(r, con("algoritmo", Value::Null), 422, Some("trabajos[0].algoritmo"), "missing field `algoritmo`"),
        caso(r, con("tipo", Value::Null), 422, None, "missing field `tipo`"),
        caso(r, con("ms", Value::Null), 422, None, "missing field `ms`"),
        caso(r, r#"{"trabajos": []}"#, 422, Some("trabajos"), "at least one job"),
        // Huge numbers: past u64, past f64, past each documented limit.
        caso(r, con_crudo("id", "18446744073709551616"), 422, Some("trabajos[0].id"), "expected u64"),
        caso(r, con_crudo("intento", "4294967296"), 422, Some("trabajos[0].intento"), "expected u32"),
        caso(r, con_crudo("plazo_ms", "1e400"), 400, None, "number out of range"),
        caso(r, con_crudo("plazo_ms", "18446744073709551616"), 422, Some("trabajos[0].plazo_ms"), "expected u64"),
        caso(r, con("ms", json!(3_600_001)), 422, Some("trabajos[0].ms"), "exceeds the limit of 3600000"),
        caso(
            r,
            json!({"trabajos": [{"id": 1, "intento": 1, "tipo": "julia", "width": 16_385,
                "height": 8, "iteraciones": 5, "algoritmo": "Paralelo"}]})
            .to_string(),
            422,
            Some("trabajos[0].width"),
            "exceeds the limit of 16384",
        ),
        caso(
            r,
            json!({"trabajos": [{"id": 1, "intento": 1, "tipo": "julia", "width": 8192,
                "height": 8193, "iteraciones": 5, "algoritmo": "Paralelo"}]})
            .to_string(),
            422,
            Some("trabajos[0].width"),
            "width × height",
        ),
        caso(
            r,
            json!({"trabajos": [{"id": 1, "intento": 1, "tipo": "matmul", "n": 8193,
                "iteraciones": 1, "algoritmo": "Paralelo"}]})
            .to_string(),
            422,
            Some("trabajos[0].n"),
            "exceeds the limit of 8192",
        ),
        caso(
            r,
            json!({"trabajos": [{"id": 1, "intento": 1, "tipo": "vector_add",
                "n": (1u64 << 28) + 1, "iteraciones": 1, "algoritmo": "Paralelo"}]})
            .to_string(),
            422,
            Some("trabajos[0].n"),
            "exceeds the limit",
        ),
        caso(
            r,
            json!({"trabajos": [{"id": 1, "intento": 1, "tipo": "montecarlo",
                "muestras": 1_000_000_000_001u64, "semilla": 0, "algoritmo": "Paralelo"}]})
            .to_string(),
            422,
            Some("trabajos[0].muestras"),
            "exceeds the limit",
        ),
        caso(
            r,
            json!({"trabajos": [{"id": 1, "intento": 1, "tipo": "nbody", "particulas": 65_537,
                "pasos": 1, "semilla": 0, "algoritmo": "Paralelo"}]})
            .to_string(),
            422,
            Some("trabajos[0].particulas"),
            "exceeds the limit",
        ),
        caso(
            r,
            json!({"trabajos": [{"id": 1, "intento": 1, "tipo": "nbody", "particulas": 2,
                "pasos": 100_001, "semilla": 0, "algoritmo": "Paralelo"}]})
            .to_string(),
            422,
            Some("trabajos[0].pasos"),
            "exceeds the limit",
        ),
        caso(
            r,
            json!({"trabajos": [{"id": 1, "intento": 1, "tipo": "julia", "width": 8,
                "height": 8, "iteraciones": 100_001, "algoritmo": "Paralelo"}]})
            .to_string(),
            422,
            Some("trabajos[0].iteraciones"),
            "exceeds the limit",
        ),
        // Zero and negative numbers.
        caso(r, con("id", json!(-1)), 422, Some("trabajos[0].id"), "invalid value: integer `-1`"),
        caso(r, con("intento", json!(-3)), 422, Some("trabajos[0].intento"), "invalid value: integer `-3`"),
        caso(r, con("ms", json!(-5)), 422, None, "-5"),
        caso(r, con("plazo_ms", json!(-1)), 422, Some("trabajos[0].plazo_ms"), "invalid value: integer `-1`"),
        caso(r, con("id", json!(1.5)), 422, Some("trabajos[0].id"), "floating point `1.5`"),
        caso(
            r,
            json!({"trabajos": [{"id": 1, "intento": 1, "tipo": "julia", "width": 0,
                "height": 8, "iteraciones": 5, "algoritmo": "Paralelo"}]})
            .to_string(),
            422,
            Some("trabajos[0].width"),
            "at least 1",
        ),
        // Unknown enum values.
        caso(r, con("tipo", json!("svd")), 422, None, "unknown variant `svd`"),
        caso(r, con("tipo", json!("JULIA")), 422, None, "unknown variant `JULIA`"),
        caso(r, con("algoritmo", json!("Fortran")), 422, Some("trabajos[0].algoritmo"), "unknown algoritmo 'Fortran'"),
        caso(r, con("algoritmo", json!("")), 422, Some("trabajos[0].algoritmo"), "unknown algoritmo ''"),
        // A number is not a kernel, though serde would read it as the variant's index
        // (`Asignacion` flattens `Parametros`, so the tag is buffered).
        caso(r, con("tipo", json!(1)), 422, Some("trabajos[0].tipo"), "must be a kernel name"),
        caso(r, con("tipo", json!(5)), 422, Some("trabajos[0].tipo"), "5 must be a kernel name"),
        // Unknown fields are tolerated, but never make a bad body good.
        caso(r, r#"{"trabajos": [], "urgente": true}"#, 422, Some("trabajos"), "at least one job"),
        caso(r, r#"{"tareas": []}"#, 422, Some("trabajos"), "missing field `trabajos`"),
        // The Content-Type is not checked: a bad body is named whatever the header says.
        Caso { tipo_contenido: Some("text/plain"), ..caso(r, "{", 400, None, "EOF while parsing an object") },
        Caso { tipo_contenido: Some("application/x-www-form-urlencoded"), ..caso(r, "trabajos=1", 400, None, "expected ident at line 1 column 3") },
        Caso { tipo_contenido: None, ..caso(r, "{}", 422, Some("trabajos"), "missing field `trabajos`") },
        Caso { tipo_contenido: Some("application/xml"), ..caso(r, "<trabajos/>", 400, None, "expected value at line 1 column 1") },
        // Oversize: just past the 2 MiB default limit of an esclavo's body.
        caso(r, format!(r#"{{"trabajos": [], "relleno": "{}"}}"#, "x".repeat(2 * 1024 * 1024)), 413, None, "length limit exceeded"),
    ];
    // A bad job anywhere in a batch refuses the whole batch, naming its index.
    let mut lote: Vec<Value> = (0..50).map(|_| asignacion()).collect();
    lote[37]["ms"] = json!(u64::MAX);
    v.push(caso(
        r,
        json!({ "trabajos": lote }).to_string(),
        422,
        Some("trabajos[37].ms"),
        "exceeds the limit",
    ));
    v.extend(casos_cancelar());
    // Wrong methods and unknown routes.
    for (metodo, ruta, status, texto) in [
        ("GET", "/ejecutar", 405, "GET /ejecutar is not allowed"),
        ("PUT", "/ejecutar", 405, "PUT /ejecutar is not allowed"),
        ("DELETE", "/estado", 405, "DELETE /estado is not allowed"),
        ("POST", "/ping", 405, "POST /ping is not allowed"),
        ("GET", "/cancelar", 405, "GET /cancelar is not allowed"),
        ("DELETE", "/cancelar", 405, "DELETE /cancelar is not allowed"),
        ("POST", "/ejecutar/1", 404, "/ejecutar/1"),
        ("POST", "/agregar_trabajo", 404, "/agregar_trabajo"),
    ] {
        v.push(Caso {
            metodo,
            ..caso(ruta, con("ms", json!(1)), status, None, texto)
        });
    }
    v
}

/// `POST /cancelar`, every one naming the running job: none may stop it.
#[rustfmt::skip] // A table: one case a line.
fn casos_cancelar() -> Vec<Caso> {
    let r = "/cancelar";
    let c = |extra: &str| format!(r#"{{"trabajos": [{EN_CURSO}]{extra}}}"#);
    vec![
        // Malformed JSON.
        caso(r, "", 400, None, "EOF while parsing a value at line 1 column 0"),
        caso(r, r#"{"trabajos": [1"#, 400, None, "EOF while parsing a list"),
        caso(r, format!("{} x", c("")), 400, None, "trailing characters at line 1 column 19"),
        caso(r, "trabajos=1", 400, None, "expected ident at line 1 column 3"),
        caso(r, r#"{"trabajos": [1,]}"#, 400, None, "trailing comma"),
        // Wrong types.
        caso(r, format!("[[{EN_CURSO}]]"), 422, None, "must be a JSON object"),
        caso(r, "\"1\"", 422, None, "expected struct PeticionCancelar"),
        caso(r, r#"{"trabajos": 1}"#, 422, Some("trabajos"), "invalid type: integer `1`, expected a sequence"),
        caso(r, r#"{"trabajos": "1"}"#, 422, Some("trabajos"), "invalid type: string \"1\""),
        caso(r, r#"{"trabajos": [[1]]}"#, 422, Some("trabajos[0]"), "invalid type: sequence"),
        caso(r, r#"{"trabajos": ["1"]}"#, 422, Some("trabajos[0]"), "invalid type: string \"1\""),
        caso(r, c(r#", "motivo": 5"#), 422, Some("motivo"), "invalid type: integer `5`"),
        caso(r, c(r#", "motivo": ["x"]"#), 422, Some("motivo"), "invalid type: sequence"),
        // Missing fields, an empty list, unknown and repeated fields.
        caso(r, "{}", 422, Some("trabajos"), "missing field `trabajos`"),
        caso(r, r#"{"motivo": "x"}"#, 422, Some("trabajos"), "missing field `trabajos`"),
        caso(r, r#"{"trabajos": []}"#, 422, Some("trabajos"), "must name at least one job"),
        caso(r, c(r#", "razon": "x""#), 422, None, "unknown field `razon`"),
        caso(r, c(r#", "trabajos": [2]"#), 422, None, "duplicate field `trabajos`"),
        // Huge, fractional and negative ids; a motivo past its limit.
        caso(r, r#"{"trabajos": [18446744073709551616]}"#, 422, Some("trabajos[0]"), "expected u64"),
        caso(r, r#"{"trabajos": [1e400]}"#, 400, None, "number out of range"),
        caso(r, r#"{"trabajos": [1.0]}"#, 422, Some("trabajos[0]"), "floating point `1.0`"),
        caso(r, r#"{"trabajos": [-1]}"#, 422, Some("trabajos[0]"), "invalid value: integer `-1`"),
        caso(r, c(&format!(r#", "motivo": "{}""#, "m".repeat(501))), 422, Some("motivo"), "at most 500 characters, got 501"),
        // The Content-Type is not checked; oversize is just past the 2 MiB default.
        Caso { tipo_contenido: Some("text/plain"), ..caso(r, "{", 400, None, "EOF while parsing an object") },
        caso(r, c(&format!(r#", "motivo": "{}""#, "m".repeat(2 * 1024 * 1024))), 413, None, "length limit exceeded"),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_request_is_a_4xx_naming_the_problem_and_runs_nothing() {
    let (maestro, url_maestro) = MaestroFalso::iniciar().await;
    let e = EsclavoDePrueba::iniciar(config(&url_maestro)).await;
    let (s, r) = e
        .ejecutar(
            json!({"trabajos": [{"id": EN_CURSO, "intento": 1, "tipo": "espera",
            "ms": 60_000, "algoritmo": "Secuencial"}]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let antes = e.estado().await;

    probar_todos(&e.http, &e.url, "esclavo", &casos_ejecutar()).await;

    let despues = e.estado().await;
    assert_eq!(
        despues.ejecutando, antes.ejecutando,
        "runs the same job, and only it"
    );
    assert_eq!(
        (
            despues.completados,
            despues.fallidos,
            despues.resultados_por_enviar
        ),
        (
            antes.completados,
            antes.fallidos,
            antes.resultados_por_enviar
        ),
        "nothing ran"
    );
    assert!(despues.historial.is_empty(), "{:?}", despues.historial);
    assert_eq!(
        maestro.recibido().envios_de_resultados,
        0,
        "nothing reported"
    );
    // The esclavo still works after all that: a good job runs.
    let (s, r) = e.ejecutar(json!({ "trabajos": [asignacion()] })).await;
    assert_eq!((s, &r["aceptados"]), (StatusCode::OK, &json!([8])), "{r}");
    e.parar().await.unwrap();
}

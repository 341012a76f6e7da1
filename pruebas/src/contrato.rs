//! A service's OpenAPI document against the copy committed in `docs/openapi/`: the test fails
//! naming the first place they differ and how to regenerate the copy; with
//! `HPC_ACTUALIZAR_OPENAPI=1` it rewrites the copy instead. Also the documented operations,
//! each with its path parameters filled in, for a test that calls every one of them, and what
//! the router's fallbacks answer, so that test can tell a served route from an unserved one.

use std::path::PathBuf;

use serde_json::Value;

/// The variable that makes [`comparar_con_copia`] rewrite the copy.
pub const ACTUALIZAR: &str = "HPC_ACTUALIZAR_OPENAPI";

/// The committed copy of `servicio`'s document: `docs/openapi/<servicio>.json`.
pub fn copia(servicio: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("pruebas lives in the workspace")
        .join("docs/openapi")
        .join(format!("{servicio}.json"))
}

/// Fails unless `generado` (the document as `GET /openapi.json` serves it) is the committed
/// copy, naming the first JSON pointer where they differ; rewrites the copy when
/// [`ACTUALIZAR`] is `1`.
pub fn comparar_con_copia(servicio: &str, generado: &str) {
    let ruta = copia(servicio);
    let regenerar = format!("{ACTUALIZAR}=1 cargo nextest run -p {servicio} --test openapi");
    if std::env::var(ACTUALIZAR).as_deref() == Ok("1") {
        std::fs::create_dir_all(ruta.parent().unwrap()).unwrap();
        std::fs::write(&ruta, generado).unwrap();
        eprintln!("rewrote {}", ruta.display());
        return;
    }
    let guardado = std::fs::read_to_string(&ruta).unwrap_or_else(|e| {
        panic!(
            "cannot read {} ({e}); to write it: {regenerar}",
            ruta.display()
        )
    });
    if guardado == generado {
        return;
    }
    let nuevo: Value = serde_json::from_str(generado).expect("the generated document is JSON");
    let viejo: Value = serde_json::from_str(&guardado).unwrap_or(Value::Null);
    let donde = primera_diferencia(&viejo, &nuevo, String::new())
        .unwrap_or_else(|| "(same JSON, different layout)".to_owned());
    panic!(
        "{servicio}'s API no longer matches {} at {donde}.\n\
         If the change is intended, regenerate the copy and commit it with the change:\n    {regenerar}",
        ruta.display()
    );
}

/// Fails unless `docs/api.md`'s table of `servicio`'s routes (its `### <servicio>` section)
/// has a row for every operation of `doc`, so the page people read does not fall behind.
pub fn tabla_al_dia(servicio: &str, doc: &Value) {
    let ruta = copia(servicio)
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("api.md");
    let texto = std::fs::read_to_string(&ruta).unwrap();
    let inicio = texto
        .find(&format!("### {servicio}\n"))
        .unwrap_or_else(|| panic!("{} has no section ### {servicio}", ruta.display()));
    let seccion = &texto[inicio..];
    let seccion = &seccion[..seccion[4..].find("\n### ").map_or(seccion.len(), |i| i + 4)];
    let faltan: Vec<String> = operaciones(doc, |p| format!("{{{p}}}"))
        .into_iter()
        .filter(|(metodo, ruta)| !seccion.contains(&format!("| {metodo} | `{ruta}` |")))
        .map(|(metodo, ruta)| format!("{metodo} {ruta}"))
        .collect();
    assert!(
        faltan.is_empty(),
        "{}'s table of {servicio}'s routes lacks {}: add a row for each (original or new)",
        ruta.display(),
        faltan.join(", ")
    );
}

/// Fails unless `router` serves at `GET /openapi.json` exactly `generado` (the document its
/// code builds, as `plataforma::http::openapi::json_estable` writes it) with status 200 and a
/// JSON content type, and that is the committed copy ([`comparar_con_copia`]).
pub async fn comprobar_servido(servicio: &str, router: axum::Router, generado: &str) {
    let peticion = axum::http::Request::get("/openapi.json")
        .body(axum::body::Body::empty())
        .unwrap();
    let (estado, cuerpo) = crate::sondas::llamar(router, peticion).await;
    assert_eq!(estado, 200, "GET /openapi.json");
    let servido = String::from_utf8(cuerpo).expect("the document is UTF-8");
    assert_eq!(
        servido, generado,
        "GET /openapi.json serves another document"
    );
    comparar_con_copia(servicio, &servido);
}

/// The JSON pointer of the first place `a` and `b` differ, keys in order, with both values
/// (cut short) when they are not objects.
pub fn primera_diferencia(a: &Value, b: &Value, donde: String) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut claves: Vec<&String> = x.keys().chain(y.keys()).collect();
            claves.sort();
            claves.dedup();
            claves.into_iter().find_map(|k| {
                let sub = format!("{donde}/{}", k.replace('~', "~0").replace('/', "~1"));
                match (x.get(k), y.get(k)) {
                    (Some(u), Some(v)) => primera_diferencia(u, v, sub),
                    (None, _) => Some(format!("{sub} (new in the code)")),
                    (_, None) => Some(format!("{sub} (gone from the code)")),
                }
            })
        }
        (Value::Array(x), Value::Array(y)) => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (u, v))| primera_diferencia(u, v, format!("{donde}/{i}")))
            .or_else(|| {
                (x.len() != y.len()).then(|| {
                    format!(
                        "{donde} ({} items committed, {} in the code)",
                        x.len(),
                        y.len()
                    )
                })
            }),
        _ if a == b => None,
        _ => Some(format!(
            "{donde}: committed {}, the code says {}",
            corto(a),
            corto(b)
        )),
    }
}

fn corto(v: &Value) -> String {
    let texto = v.to_string();
    match texto.char_indices().nth(120) {
        Some((i, _)) => format!("{}…", &texto[..i]),
        None => texto,
    }
}

/// Every documented operation: its method (upper case) and its path with each `{parametro}`
/// replaced by `relleno(parametro)`.
pub fn operaciones(doc: &Value, relleno: impl Fn(&str) -> String) -> Vec<(String, String)> {
    let mut ops = Vec::new();
    for (ruta, item) in doc["paths"].as_object().expect("a document has paths") {
        let concreta = rellenar(ruta, &relleno);
        for metodo in ["get", "put", "post", "delete", "patch", "head", "options"] {
            if item.get(metodo).is_some() {
                ops.push((metodo.to_uppercase(), concreta.clone()));
            }
        }
    }
    ops
}

fn rellenar(ruta: &str, relleno: &impl Fn(&str) -> String) -> String {
    let mut salida = String::new();
    let mut resto = ruta;
    while let Some(i) = resto.find('{') {
        let fin = resto[i..].find('}').expect("a closed path parameter") + i;
        salida.push_str(&resto[..i]);
        salida.push_str(&relleno(&resto[i + 1..fin]));
        resto = &resto[fin + 1..];
    }
    salida.push_str(resto);
    salida
}

/// Calls every operation `doc` documents through `llamar` (method, path with `relleno`'s
/// parameters; it sends `{}` as the body of a POST, PUT or PATCH) and fails naming each that
/// only a fallback answered: a documented route the router does not serve.
pub async fn todas_servidas<F, Fut>(doc: &Value, relleno: impl Fn(&str) -> String, llamar: F)
where
    F: Fn(String, String) -> Fut,
    Fut: std::future::Future<Output = (u16, Value)>,
{
    let ops = operaciones(doc, relleno);
    assert!(!ops.is_empty(), "the document lists no operation");
    let mut sin_servir = Vec::new();
    for (metodo, ruta) in ops {
        let (estado, cuerpo) = llamar(metodo.clone(), ruta.clone()).await;
        if es_del_respaldo(estado, &cuerpo) {
            sin_servir.push(format!("{metodo} {ruta} → {estado} {cuerpo}"));
        }
    }
    assert!(
        sin_servir.is_empty(),
        "documented but not served (a fallback answered):\n{}",
        sin_servir.join("\n")
    );
}

/// Whether an answer is a router fallback's (the JSON 404 of an unknown path, or the 405 of a
/// method the path does not take) rather than a handler's.
pub fn es_del_respaldo(estado: u16, cuerpo: &Value) -> bool {
    let mensaje = cuerpo["error"].as_str().unwrap_or("");
    estado == 405 || (estado == 404 && mensaje.starts_with("no endpoint "))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_first_difference_is_named_by_its_pointer() {
        let a = json!({"paths": {"/a": {"get": {"x": 1}}, "/b": {}}});
        let b = json!({"paths": {"/a": {"get": {"x": 2}}, "/b": {"post": {}}}});
        assert_eq!(
            primera_diferencia(&a, &b, String::new()).unwrap(),
            "/paths/~1a/get/x: committed 1, the code says 2"
        );
        assert_eq!(primera_diferencia(&a, &a, String::new()), None);
        let c = json!({"paths": {"/a": {"get": {"x": 1}}, "/b": {"post": {}}}});
        assert_eq!(
            primera_diferencia(&a, &c, String::new()).unwrap(),
            "/paths/~1b/post (new in the code)"
        );
    }

    #[test]
    fn operations_come_with_their_parameters_filled() {
        let doc = json!({"paths": {"/t/{id}/x": {"get": {}, "delete": {}}, "/p": {"post": {}}}});
        let ops = operaciones(&doc, |p| format!("<{p}>"));
        assert_eq!(
            ops,
            [
                ("POST".to_owned(), "/p".to_owned()),
                ("GET".to_owned(), "/t/<id>/x".to_owned()),
                ("DELETE".to_owned(), "/t/<id>/x".to_owned()),
            ]
        );
    }

    #[test]
    fn only_the_fallbacks_answers_count_as_unserved() {
        assert!(es_del_respaldo(
            404,
            &json!({"error": "no endpoint GET /x; see"})
        ));
        assert!(es_del_respaldo(
            405,
            &json!({"error": "GET /x is not allowed"})
        ));
        assert!(!es_del_respaldo(404, &json!({"error": "no job 1"})));
        assert!(!es_del_respaldo(200, &json!({})));
    }
}

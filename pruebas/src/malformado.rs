//! The table-driven bad-request check of the services' `tests/malformado.rs`: one bad request
//! and what its answer must say ([`Caso`]), the probe that sends it ([`probar`]), the run of a
//! whole table ([`probar_todos`]) and the figures file it leaves for docs/reliability.md.

use std::path::Path;

use comun::CuerpoError;
use serde_json::{Value, json};

/// 2^64: one past `u64::MAX`, as JSON text.
pub const U64_MAS_1: &str = "18446744073709551616";
/// 2^32: one past `u32::MAX`, as JSON text.
pub const U32_MAS_1: &str = "4294967296";

/// One bad request and what the answer must say.
#[derive(Debug, Clone)]
pub struct Caso {
    pub metodo: &'static str,
    pub ruta: String,
    pub tipo_contenido: Option<&'static str>,
    pub cuerpo: String,
    pub status: u16,
    /// The `campo` of the answer, when it must name one.
    pub campo: Option<&'static str>,
    /// A piece of the message that names the problem.
    pub texto: &'static str,
}

/// A `POST` of a JSON body (`application/json`) to `ruta`.
pub fn caso(
    ruta: impl Into<String>,
    cuerpo: impl Into<String>,
    status: u16,
    campo: Option<&'static str>,
    texto: &'static str,
) -> Caso {
    Caso {
        metodo: "POST",
        ruta: ruta.into(),
        tipo_contenido: Some("application/json"),
        cuerpo: cuerpo.into(),
        status,
        campo,
        texto,
    }
}

/// A `GET` of `ruta`, without a body or a `Content-Type`.
pub fn get(
    ruta: impl Into<String>,
    status: u16,
    campo: Option<&'static str>,
    texto: &'static str,
) -> Caso {
    Caso {
        metodo: "GET",
        tipo_contenido: None,
        ..caso(ruta, "", status, campo, texto)
    }
}

/// `base` with the value at JSON pointer `puntero` replaced by `valor` (`None`: removed),
/// serialized.
pub fn con(base: &Value, puntero: &str, valor: Option<Value>) -> String {
    let mut v = base.clone();
    let (padre, clave) = puntero.rsplit_once('/').unwrap();
    let padre = v.pointer_mut(padre).unwrap();
    match (padre, valor) {
        (Value::Object(o), Some(x)) => {
            o.insert(clave.into(), x);
        }
        (Value::Object(o), None) => {
            o.remove(clave);
        }
        (Value::Array(a), Some(x)) => a[clave.parse::<usize>().unwrap()] = x,
        (Value::Array(a), None) => {
            a.remove(clave.parse::<usize>().unwrap());
        }
        (otro, _) => panic!("{puntero} is inside {otro}"),
    }
    v.to_string()
}

/// [`con`] with raw JSON text for the value (numbers no `Value` holds: `1e400`, `2^64`).
pub fn con_crudo(base: &Value, puntero: &str, crudo: &str) -> String {
    con(base, puntero, Some(json!("@@crudo@@"))).replace("\"@@crudo@@\"", crudo)
}

/// Sends `c` and returns what is wrong with the answer, if anything: a status other than the
/// expected one, a body that is not a JSON error, a `campo` or a message that does not name the
/// problem.
pub async fn probar(http: &reqwest::Client, base: &str, c: &Caso) -> Option<String> {
    let metodo = reqwest::Method::from_bytes(c.metodo.as_bytes()).unwrap();
    let mut p = http
        .request(metodo, format!("{base}{}", c.ruta))
        .body(c.cuerpo.clone());
    if let Some(t) = c.tipo_contenido {
        p = p.header("content-type", t);
    }
    let quien = format!(
        "{} {} {}",
        c.metodo,
        c.ruta.chars().take(80).collect::<String>(),
        c.cuerpo.chars().take(120).collect::<String>()
    );
    let r = match p.send().await {
        Ok(r) => r,
        Err(e) => return Some(format!("{quien}: no answer ({e})")),
    };
    let status = r.status().as_u16();
    let texto = r.text().await.unwrap_or_default();
    let e: CuerpoError = match serde_json::from_str(&texto) {
        Ok(e) => e,
        Err(_) => return Some(format!("{quien}: {status}, not a JSON error: {texto:?}")),
    };
    let mut mal = Vec::new();
    if status != c.status {
        mal.push(format!("status {status}, expected {}", c.status));
    }
    if let Some(campo) = c.campo
        && e.campo.as_deref() != Some(campo)
    {
        mal.push(format!("campo {:?}, expected {campo:?}", e.campo));
    }
    if !e.error.contains(c.texto) {
        mal.push(format!("message lacks {:?}", c.texto));
    }
    (!mal.is_empty()).then(|| format!("{quien}: {} ← {e:?}", mal.join("; ")))
}

/// Sends every case of `casos` to `servicio` at `base`, writes how many were tried (see
/// [`anotar_casos`]), and fails listing every case answered badly.
pub async fn probar_todos(http: &reqwest::Client, base: &str, servicio: &str, casos: &[Caso]) {
    let mut fallos = Vec::new();
    for c in casos {
        fallos.extend(probar(http, base, c).await);
    }
    println!("{servicio}: {} bad inputs tried", casos.len());
    anotar_casos(servicio, casos.len());
    assert!(
        fallos.is_empty(),
        "{} of {} cases answered badly:\n{}",
        fallos.len(),
        casos.len(),
        fallos.join("\n")
    );
}

/// Writes `{"casos": N}` to `target/fallos/malformado-<servicio>.json` of the workspace (the
/// "bad inputs tried" of docs/reliability.md).
pub fn anotar_casos(servicio: &str, casos: usize) {
    let carpeta = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/fallos");
    std::fs::create_dir_all(&carpeta).unwrap();
    std::fs::write(
        carpeta.join(format!("malformado-{servicio}.json")),
        format!("{{\"casos\": {casos}}}\n"),
    )
    .unwrap();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn con_replaces_or_removes_the_value_at_a_pointer() {
        let base = json!({"trabajos": [{"id": 1, "ms": 5}], "x": true});
        assert_eq!(
            con(&base, "/trabajos/0/ms", Some(json!("5"))),
            r#"{"trabajos":[{"id":1,"ms":"5"}],"x":true}"#
        );
        assert_eq!(
            con(&base, "/trabajos/0/id", None),
            r#"{"trabajos":[{"ms":5}],"x":true}"#
        );
        assert_eq!(
            con(&base, "/trabajos/0", None),
            r#"{"trabajos":[],"x":true}"#
        );
        assert_eq!(
            con_crudo(&base, "/x", U64_MAS_1),
            r#"{"trabajos":[{"id":1,"ms":5}],"x":18446744073709551616}"#
        );
    }
}

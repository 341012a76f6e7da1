//! The table-driven bad-request check shared by the services' `tests/malformado.rs` (each
//! includes this file with `#[path]`; it needs `reqwest`, which those crates have and `comun`
//! does not, so it is not part of `generadores/mod.rs`).

use std::path::Path;

use comun::CuerpoError;

/// One bad request and what the answer must say.
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

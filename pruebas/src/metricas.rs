//! A service's `GET /metrics` as the tests read it: the Prometheus text exposition parsed
//! strictly (every sample belongs to a family declared with `# TYPE`, labels and values well
//! formed), and the figures looked up by name and a subset of labels.

use std::collections::{BTreeMap, BTreeSet};

/// One sample line: `nombre{etiquetas} valor`.
#[derive(Debug, Clone, PartialEq)]
pub struct Muestra {
    pub nombre: String,
    pub etiquetas: BTreeMap<String, String>,
    pub valor: f64,
}

/// A parsed exposition.
#[derive(Debug, Clone, Default)]
pub struct Exposicion {
    /// Each family's declared type (`counter`, `gauge`, `histogram`…), by name.
    pub tipos: BTreeMap<String, String>,
    pub muestras: Vec<Muestra>,
}

impl Exposicion {
    /// Parses `texto`; an error names the line at fault.
    pub fn leer(texto: &str) -> Result<Exposicion, String> {
        let mut e = Exposicion::default();
        for (n, linea) in texto.lines().enumerate() {
            let error = |m: &str| format!("line {}: {m}: {linea:?}", n + 1);
            if linea.is_empty() || linea.starts_with("# HELP ") {
                continue;
            }
            if let Some(resto) = linea.strip_prefix("# TYPE ") {
                let (nombre, tipo) = resto.split_once(' ').ok_or_else(|| error("bad TYPE"))?;
                if !nombre_valido(nombre)
                    || !["counter", "gauge", "histogram", "summary", "untyped"].contains(&tipo)
                {
                    return Err(error("bad TYPE"));
                }
                if e.tipos.insert(nombre.into(), tipo.into()).is_some() {
                    return Err(error("family declared twice"));
                }
                continue;
            }
            let m = leer_muestra(linea).map_err(|m| error(&m))?;
            if e.familia(&m.nombre).is_none() {
                return Err(error("sample of no declared family"));
            }
            e.muestras.push(m);
        }
        Ok(e)
    }

    /// The family a sample name belongs to (`x_bucket`, `x_sum`, `x_count` of a histogram).
    pub fn familia(&self, muestra: &str) -> Option<&str> {
        if let Some((k, _)) = self.tipos.get_key_value(muestra) {
            return Some(k);
        }
        ["_bucket", "_sum", "_count"].iter().find_map(|s| {
            let base = muestra.strip_suffix(s)?;
            let (k, tipo) = self.tipos.get_key_value(base)?;
            (tipo == "histogram" || tipo == "summary").then_some(k.as_str())
        })
    }

    /// The samples named `nombre` whose labels include every pair of `etiquetas`.
    pub fn de<'a>(
        &'a self,
        nombre: &'a str,
        etiquetas: &'a [(&'a str, &'a str)],
    ) -> impl Iterator<Item = &'a Muestra> + 'a {
        self.muestras.iter().filter(move |m| {
            m.nombre == nombre
                && etiquetas
                    .iter()
                    .all(|(k, v)| m.etiquetas.get(*k).is_some_and(|x| x == v))
        })
    }

    /// The sum of the samples [`Exposicion::de`] picks (0 when none).
    pub fn valor(&self, nombre: &str, etiquetas: &[(&str, &str)]) -> f64 {
        self.de(nombre, etiquetas).map(|m| m.valor).sum()
    }

    /// Whether a sample named `nombre` with those labels exists.
    pub fn hay(&self, nombre: &str, etiquetas: &[(&str, &str)]) -> bool {
        self.de(nombre, etiquetas).next().is_some()
    }

    /// The distinct values the label `etiqueta` takes in the samples named `nombre`.
    pub fn valores(&self, nombre: &str, etiqueta: &str) -> BTreeSet<String> {
        self.de(nombre, &[])
            .filter_map(|m| m.etiquetas.get(etiqueta).cloned())
            .collect()
    }
}

fn nombre_valido(n: &str) -> bool {
    let mut c = n.chars();
    c.next()
        .is_some_and(|p| p.is_ascii_alphabetic() || p == '_' || p == ':')
        && c.all(|x| x.is_ascii_alphanumeric() || x == '_' || x == ':')
}

/// `nombre{k="v",…} valor`, label values with `\\`, `\"` and `\n` escapes.
fn leer_muestra(linea: &str) -> Result<Muestra, String> {
    let fin_nombre = linea
        .find(['{', ' '])
        .ok_or("no value after the name")?;
    let nombre = &linea[..fin_nombre];
    if !nombre_valido(nombre) {
        return Err("bad metric name".into());
    }
    let mut resto = &linea[fin_nombre..];
    let mut etiquetas = BTreeMap::new();
    if let Some(r) = resto.strip_prefix('{') {
        resto = r;
        loop {
            if let Some(r) = resto.strip_prefix('}') {
                resto = r;
                break;
            }
            let (clave, r) = resto.split_once("=\"").ok_or("bad label")?;
            if !nombre_valido(clave) || clave.contains(':') {
                return Err(format!("bad label name {clave:?}"));
            }
            let (valor, r) = leer_cadena(r)?;
            if etiquetas.insert(clave.to_owned(), valor).is_some() {
                return Err(format!("label {clave} twice"));
            }
            resto = r.strip_prefix(',').unwrap_or(r);
        }
    }
    let valor = resto.strip_prefix(' ').ok_or("no space before the value")?;
    let valor = match valor {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v.parse().map_err(|_| format!("bad value {v:?}"))?,
    };
    Ok(Muestra {
        nombre: nombre.to_owned(),
        etiquetas,
        valor,
    })
}

/// A quoted label value up to its closing quote; returns it unescaped and what follows.
fn leer_cadena(s: &str) -> Result<(String, &str), String> {
    let mut valor = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((valor, &s[i + 1..])),
            '\\' => match chars.next() {
                Some((_, '\\')) => valor.push('\\'),
                Some((_, '"')) => valor.push('"'),
                Some((_, 'n')) => valor.push('\n'),
                _ => return Err("bad escape in a label value".into()),
            },
            c => valor.push(c),
        }
    }
    Err("unterminated label value".into())
}

/// `GET {url}/metrics` with the token if given: asserts a 200 in the text format and parses it.
pub async fn raspar(url: &str, token: Option<&str>) -> Exposicion {
    let mut peticion = reqwest::Client::new().get(format!("{url}/metrics"));
    if let Some(t) = token {
        peticion = peticion.bearer_auth(t);
    }
    let r = peticion.send().await.expect("GET /metrics");
    assert_eq!(r.status(), 200, "GET {url}/metrics");
    let tipo = r.headers()["content-type"].to_str().unwrap().to_owned();
    assert_eq!(tipo, "text/plain; version=0.0.4", "content type of /metrics");
    let texto = r.text().await.expect("the body of /metrics");
    Exposicion::leer(&texto).unwrap_or_else(|e| panic!("{e}\nin:\n{texto}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_well_formed_exposition_is_read_and_looked_up() {
        let e = Exposicion::leer(
            "# HELP a_total things\n# TYPE a_total counter\na_total{x=\"1\",y=\"q\\\"\"} 2\n\
             a_total{x=\"2\"} 3\n# TYPE h histogram\nh_bucket{le=\"+Inf\"} 4\nh_sum 1.5\nh_count 4\n",
        )
        .unwrap();
        assert_eq!(e.valor("a_total", &[]), 5.0);
        assert_eq!(e.valor("a_total", &[("x", "1"), ("y", "q\"")]), 2.0);
        assert_eq!(e.valor("h_count", &[]), 4.0);
        assert!(!e.hay("a_total", &[("x", "3")]));
        assert_eq!(e.valores("a_total", "x").len(), 2);
    }

    #[test]
    fn a_malformed_exposition_is_refused_naming_the_line() {
        for (texto, linea) in [
            ("b 1\n", "line 1"),
            ("# TYPE a gauge\na{x=1} 2\n", "line 2"),
            ("# TYPE a gauge\na 2x\n", "line 2"),
            ("# TYPE a gauge\n# TYPE a gauge\n", "line 2"),
            ("# TYPE a gauge\na{x=\"1} 2\n", "line 2"),
        ] {
            let e = Exposicion::leer(texto).unwrap_err();
            assert!(e.starts_with(linea), "{texto:?}: {e}");
        }
    }
}

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

    /// Checks the label sets are bounded: every series is named `prefijo*`, carries only labels
    /// of `conocidas` (and `constante`, with its value, on every series), and its `route` is a
    /// router pattern or `(desconocida)`, never a path with an id in it.
    pub fn comprobar_etiquetas(
        &self,
        prefijo: &str,
        conocidas: &[&str],
        constante: Option<(&str, &str)>,
    ) {
        for m in &self.muestras {
            assert!(m.nombre.starts_with(prefijo), "{}", m.nombre);
            if let Some((k, v)) = constante {
                assert_eq!(m.etiquetas.get(k).map(String::as_str), Some(v), "{m:?}");
            }
            for (k, v) in &m.etiquetas {
                let conocida =
                    conocidas.contains(&k.as_str()) || constante.is_some_and(|c| c.0 == k);
                assert!(conocida, "label {k} of {}", m.nombre);
                if k == "route" {
                    let patron = v == "(desconocida)" || v.starts_with('/');
                    assert!(
                        patron && !v.chars().any(|c| c.is_ascii_digit()),
                        "route {v}"
                    );
                }
            }
        }
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
    let fin_nombre = linea.find(['{', ' ']).ok_or("no value after the name")?;
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

/// The metric names starting with `prefijo` that `texto` mentions, a histogram's `_bucket`,
/// `_sum` and `_count` series as the histogram's own name.
pub fn nombres_en(texto: &str, prefijo: &str) -> BTreeSet<String> {
    let es_parte = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut nombres = BTreeSet::new();
    let mut resto = texto;
    while let Some(i) = resto.find(prefijo) {
        let antes = resto[..i].chars().next_back();
        let cola = &resto[i..];
        let fin = cola.find(|c: char| !es_parte(c)).unwrap_or(cola.len());
        let nombre = &cola[..fin];
        if !antes.is_some_and(es_parte) && nombre.len() > prefijo.len() {
            let base = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|s| nombre.strip_suffix(s))
                .unwrap_or(nombre);
            nombres.insert(base.to_owned());
        }
        resto = &cola[fin..];
    }
    nombres
}

/// Checks the docs against a scrape `e` of the service whose names start with `prefijo`
/// (`hpc_maestro_`): docs/metrics.md names exactly the families the service exposes (the two
/// HTTP ones are documented once for every service), and every one of its metrics that
/// docs/grafana-hpc.json queries exists.
pub fn comprobar_documentacion(e: &Exposicion, prefijo: &str) {
    let docs = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/");
    let leer = |f: &str| std::fs::read_to_string(format!("{docs}{f}")).expect(f);
    let http =
        ["http_requests_total", "http_request_duration_seconds"].map(|n| format!("{prefijo}{n}"));
    let expuestas: BTreeSet<String> = e
        .tipos
        .keys()
        .filter(|n| n.starts_with(prefijo))
        .cloned()
        .collect();
    let sin_http: BTreeSet<String> = expuestas
        .iter()
        .filter(|n| !http.contains(n))
        .cloned()
        .collect();
    let mut documentadas = nombres_en(&leer("metrics.md"), prefijo);
    documentadas.retain(|n| !http.contains(n));
    assert_eq!(
        documentadas, sin_http,
        "docs/metrics.md against the metrics exposed"
    );
    let tablero = nombres_en(&leer("grafana-hpc.json"), prefijo);
    let ajenas: Vec<_> = tablero.difference(&expuestas).collect();
    assert!(
        ajenas.is_empty(),
        "docs/grafana-hpc.json queries metrics that do not exist: {ajenas:?}"
    );
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
    assert_eq!(
        tipo, "text/plain; version=0.0.4",
        "content type of /metrics"
    );
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
    fn metric_names_are_found_in_prose_and_queries() {
        let texto = "`hpc_a_x_total` and rate(hpc_a_y_bucket{le=\"1\"}[5m]), not xhpc_a_z nor hpc_b_w; hpc_a_y_sum";
        let n: Vec<String> = nombres_en(texto, "hpc_a_").into_iter().collect();
        assert_eq!(n, ["hpc_a_x_total", "hpc_a_y"]);
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

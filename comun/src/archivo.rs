//! The `trabajos.txt` format, as the original system defined it:
//!
//! ```text
//! # comments start with '#'; blank lines are ignored
//! algoritmo,width,height,iteraciones,prioridad
//! Secuencial,800,600,100,1
//! Numpy,1000,800,150          # prioridad may be left out: 2 (media)
//! espera,250,3                # an `espera` job: ms[,prioridad]
//! ```
//!
//! Fields are trimmed; a `#` starts a comment anywhere on a line. A header line whose first
//! field is `algoritmo` is skipped. A line that does not parse is returned with its number and
//! the reason; the others still load.

use crate::ErrorCampo;
use crate::api::LineaRechazada;
use crate::trabajo::{Algoritmo, NuevoTrabajo, Parametros, ParamsEspera, ParamsJulia, Prioridad};

/// A job line of a jobs file.
#[derive(Debug, Clone, PartialEq)]
pub struct LineaTrabajo {
    /// 1-based line number.
    pub linea: usize,
    /// The line without comment and surrounding blanks: what identifies it when the file
    /// changes.
    pub texto: String,
    pub trabajo: NuevoTrabajo,
}

/// A jobs file, parsed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Archivo {
    pub trabajos: Vec<LineaTrabajo>,
    pub rechazadas: Vec<LineaRechazada>,
}

/// Parses the text of a jobs file. Never fails: malformed lines land in `rechazadas`.
pub fn parsear(texto: &str) -> Archivo {
    let mut archivo = Archivo::default();
    for (i, cruda) in texto.lines().enumerate() {
        let linea = i + 1;
        let util = cruda.split('#').next().unwrap_or("").trim();
        if util.is_empty() || es_cabecera(util) {
            continue;
        }
        match parsear_linea(util) {
            Ok(trabajo) => archivo.trabajos.push(LineaTrabajo {
                linea,
                texto: util.to_string(),
                trabajo,
            }),
            Err(e) => archivo.rechazadas.push(LineaRechazada {
                linea,
                texto: util.chars().take(200).collect(),
                motivo: e.to_string(),
            }),
        }
    }
    archivo
}

fn es_cabecera(linea: &str) -> bool {
    linea
        .split(',')
        .next()
        .is_some_and(|c| c.trim().eq_ignore_ascii_case("algoritmo"))
}

/// Parses one non-blank, comment-free line.
pub fn parsear_linea(linea: &str) -> Result<NuevoTrabajo, ErrorCampo> {
    let campos: Vec<&str> = linea.split(',').map(str::trim).collect();
    if campos[0].eq_ignore_ascii_case("espera") {
        return parsear_espera(&campos);
    }
    if !(4..=5).contains(&campos.len()) {
        return Err(ErrorCampo::new(
            "linea",
            format!(
                "expected 5 comma-separated fields (algoritmo,width,height,iteraciones,prioridad), \
                 found {}",
                campos.len()
            ),
        ));
    }
    let algoritmo: Algoritmo = campos[0].parse()?;
    let parametros = Parametros::Julia(ParamsJulia::new(
        entero("width", campos[1])?,
        entero("height", campos[2])?,
        entero("iteraciones", campos[3])?,
    )?);
    let prioridad = prioridad(campos.get(4))?;
    Ok(NuevoTrabajo {
        parametros,
        algoritmo,
        prioridad,
    })
}

fn parsear_espera(campos: &[&str]) -> Result<NuevoTrabajo, ErrorCampo> {
    if !(2..=3).contains(&campos.len()) {
        return Err(ErrorCampo::new(
            "linea",
            format!(
                "expected espera,ms[,prioridad], found {} fields",
                campos.len()
            ),
        ));
    }
    Ok(NuevoTrabajo {
        parametros: Parametros::Espera(ParamsEspera::new(entero("ms", campos[1])?)?),
        algoritmo: Algoritmo::Secuencial,
        prioridad: prioridad(campos.get(2))?,
    })
}

fn prioridad(campo: Option<&&str>) -> Result<Prioridad, ErrorCampo> {
    match campo {
        None => Ok(Prioridad::default()),
        Some(&"") => Ok(Prioridad::default()),
        Some(p) => p.parse(),
    }
}

fn entero<T: std::str::FromStr>(campo: &str, texto: &str) -> Result<T, ErrorCampo> {
    texto.parse().map_err(|_| {
        let que = if texto.is_empty() {
            "is empty".to_string()
        } else if texto.starts_with('-') {
            format!("'{texto}' is negative")
        } else {
            format!("'{texto}' is not a whole number in range")
        };
        ErrorCampo::new(campo, que)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trabajo::Tipo;

    #[test]
    fn the_original_format_loads_with_comments_and_blanks() {
        let a = parsear(
            "# comentario\nalgoritmo,width,height,iteraciones,prioridad\n\n\
             Secuencial,800,600,100,1\nNumpy, 1000 ,800,150,2  # fin\njuliaCython,1200,900,200\n",
        );
        assert!(a.rechazadas.is_empty(), "{:?}", a.rechazadas);
        let lineas: Vec<usize> = a.trabajos.iter().map(|t| t.linea).collect();
        assert_eq!(lineas, vec![4, 5, 6]);
        assert_eq!(a.trabajos[1].texto, "Numpy, 1000 ,800,150,2");
        assert_eq!(a.trabajos[2].trabajo.prioridad, Prioridad::MEDIA);
        assert_eq!(a.trabajos[0].trabajo.algoritmo, Algoritmo::Secuencial);
    }

    #[test]
    fn malformed_lines_are_reported_with_number_and_reason_and_others_load() {
        let a = parsear(
            "Secuencial,10,10,10,1\nSecuencial,10,10\nFoo,1,1,1,1\nParalelo,-3,2,2,2\n\
             Paralelo,2,2,2,9\nParalelo,2,x,2,1\nParalelo,99999,2,2,1\nespera,5\n",
        );
        assert_eq!(a.trabajos.len(), 2);
        assert_eq!(a.trabajos[1].trabajo.parametros.tipo(), Tipo::Espera);
        let motivos: Vec<(usize, &str)> = a
            .rechazadas
            .iter()
            .map(|r| (r.linea, r.motivo.as_str()))
            .collect();
        assert_eq!(motivos.len(), 6, "{motivos:?}");
        assert!(motivos[0].1.contains("found 3"), "{motivos:?}");
        assert!(motivos[1].1.starts_with("algoritmo:"), "{motivos:?}");
        assert!(motivos[2].1.starts_with("width:") && motivos[2].1.contains("negative"));
        assert!(motivos[3].1.starts_with("prioridad:"), "{motivos:?}");
        assert!(motivos[4].1.starts_with("height:"), "{motivos:?}");
        assert!(motivos[5].1.contains("limit"), "{motivos:?}");
        assert_eq!(motivos[5].0, 7);
    }
}

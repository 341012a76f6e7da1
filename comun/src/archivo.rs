//! The `trabajos.txt` format, as the original system defined it:
//!
//! ```text
//! # comments start with '#'; blank lines are ignored
//! algoritmo,width,height,iteraciones,prioridad
//! Secuencial,800,600,100,1
//! Numpy,1000,800,150          # prioridad may be left out: 2 (media)
//! espera,250,3                # an `espera` job: ms[,prioridad]
//! matmul,Paralelo,n=2048,iteraciones=3,prioridad=1
//! montecarlo,Auto,muestras=100000000,semilla=7
//! nbody,Cuda,particulas=4096,pasos=10
//! vector_add,n=50000000,iteraciones=5     # algoritmo may be left out: Paralelo
//! fft                                     # the catalogue's kernels: every parameter defaults
//! fft,Auto,n=4096,m=4096
//! red_neuronal,capas=64,64,epocas=5,optimizador=sgd
//! imagen,Secuencial,width=2048,height=2048,filtros=desenfoque,sobel,sigma=3
//! eigenvalue,size=1024                    # the original names (tipo and parameters) work too
//! kmeans_clustering,n_samples=100000,n_clusters=8
//! ```
//!
//! A line that starts with a kernel's name or its alias (`julia`, `matmul`, `vector_add`,
//! `montecarlo`, `nbody`, `espera`, `red_neuronal`/`neural_network`, `imagen`/
//! `image_processing`, `fft`, `autovalores`/`eigenvalue`, `kmeans`/`kmeans_clustering`) is
//! `tipo[,algoritmo],clave=valor,...`: the same parameter names as the HTTP API (see
//! [`PeticionTrabajo`]), and their original names ([`ALIAS`]). A list (`capas`, `filtros`) runs
//! on over the following fields that have no `=`: `capas=64,64`; `capas=` is an empty list.
//! Any other line is the original five-column Julia line.
//!
//! Fields are trimmed; a `#` starts a comment anywhere on a line. A header line whose first
//! field is `algoritmo` is skipped. A line that does not parse is returned with its number and
//! the reason; the others still load.

use crate::ErrorCampo;
use crate::api::{ALIAS, LineaRechazada, PeticionTrabajo};
use crate::trabajo::{
    Algoritmo, Etiquetas, NuevoTrabajo, Parametros, ParamsEspera, ParamsJulia, Prioridad, Tipo,
};

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

/// The UTF-8 byte-order mark a Windows editor puts at the start of a file it saves.
pub const BOM: char = '\u{feff}';

/// Parses the text of a jobs file. Never fails: malformed lines land in `rechazadas`. A leading
/// byte-order mark ([`BOM`]) is not part of the first line.
pub fn parsear(texto: &str) -> Archivo {
    let texto = texto.strip_prefix(BOM).unwrap_or(texto);
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
    if let Ok(tipo) = campos[0].parse::<Tipo>() {
        let con_claves = campos.get(1).is_some_and(|c| c.contains('='))
            || campos.get(2).is_some_and(|c| c.contains('='));
        if tipo == Tipo::Espera && !con_claves {
            return parsear_espera(&campos);
        }
        return parsear_claves(tipo, &campos[1..]);
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
        plazo_s: None,
        etiquetas: Etiquetas {
            algoritmo_pedido: Algoritmo::nombre_original(campos[0]),
            ..Etiquetas::default()
        },
    })
}

/// The keys whose value is a list, running on over the following fields without `=`.
const LISTAS: [&str; 2] = ["capas", "filtros"];

/// Every key a line may have (after its aliases are read as the names they stand for).
const CLAVES: [&str; 26] = [
    "algoritmo",
    "prioridad",
    "plazo_s",
    "width",
    "height",
    "iteraciones",
    "ms",
    "n",
    "m",
    "muestras",
    "dimensiones",
    "k",
    "semilla",
    "particulas",
    "pasos",
    "epocas",
    "lote",
    "clases",
    "image_size",
    "entrada",
    "tasa",
    "sigma",
    "optimizador",
    "conjunto",
    "capas",
    "filtros",
];

/// `[algoritmo,]clave=valor,...` after the kernel's name.
fn parsear_claves(tipo: Tipo, campos: &[&str]) -> Result<NuevoTrabajo, ErrorCampo> {
    let mut p = PeticionTrabajo {
        tipo: Some(tipo),
        ..PeticionTrabajo::default()
    };
    let mut pares: Vec<(&str, Vec<&str>)> = Vec::new();
    for (i, campo) in campos.iter().enumerate() {
        let Some((clave, valor)) = campo.split_once('=') else {
            if i == 0 {
                p.algoritmo = Some(campo.parse()?);
                continue;
            }
            if let Some((_, valores)) = pares.last_mut().filter(|(c, _)| LISTAS.contains(c)) {
                valores.push(campo);
                continue;
            }
            return Err(ErrorCampo::new(
                "linea",
                format!(
                    "'{campo}' is not clave=valor (after {tipo}[,algoritmo]; only capas and \
                     filtros run on over several fields)"
                ),
            ));
        };
        let clave = clave.trim();
        let clave = ALIAS
            .iter()
            .find(|(alias, _)| *alias == clave)
            .map_or(clave, |&(_, nombre)| nombre);
        if clave.is_empty() {
            return Err(ErrorCampo::new(
                "linea",
                format!("'{campo}' has no parameter name before '='"),
            ));
        }
        if !CLAVES.contains(&clave) {
            return Err(ErrorCampo::new(
                clave,
                format!("unknown parameter '{clave}' of a {tipo} line"),
            ));
        }
        if pares.iter().any(|(c, _)| *c == clave) {
            return Err(ErrorCampo::new(clave, "given twice"));
        }
        pares.push((clave, vec![valor.trim()]));
    }
    for (clave, valores) in pares {
        poner(&mut p, tipo, clave, &valores)?;
    }
    p.validar()
}

/// Sets the request's field `clave` from its text (`valores` has several entries only for a
/// list).
fn poner(
    p: &mut PeticionTrabajo,
    tipo: Tipo,
    clave: &str,
    valores: &[&str],
) -> Result<(), ErrorCampo> {
    let valor = valores[0];
    match clave {
        "algoritmo" => p.algoritmo = Some(valor.parse()?),
        "prioridad" => p.prioridad = Some(valor.parse()?),
        "width" => p.width = Some(entero(clave, valor)?),
        "height" => p.height = Some(entero(clave, valor)?),
        "iteraciones" => p.iteraciones = Some(entero(clave, valor)?),
        "ms" => p.ms = Some(entero(clave, valor)?),
        "n" => p.n = Some(entero(clave, valor)?),
        "m" => p.m = Some(entero(clave, valor)?),
        "muestras" => p.muestras = Some(entero(clave, valor)?),
        "dimensiones" => p.dimensiones = Some(entero(clave, valor)?),
        "k" => p.k = Some(entero(clave, valor)?),
        "semilla" => p.semilla = Some(entero(clave, valor)?),
        "particulas" => p.particulas = Some(entero(clave, valor)?),
        "pasos" => p.pasos = Some(entero(clave, valor)?),
        "plazo_s" => p.plazo_s = Some(entero(clave, valor)?),
        "epocas" => p.epocas = Some(entero(clave, valor)?),
        "lote" => p.lote = Some(entero(clave, valor)?),
        "clases" => p.clases = Some(entero(clave, valor)?),
        "image_size" => p.image_size = Some(entero(clave, valor)?),
        "entrada" => p.entrada = Some(entero(clave, valor)?),
        "tasa" => p.tasa = Some(decimal(clave, valor)?),
        "sigma" => p.sigma = Some(decimal(clave, valor)?),
        "optimizador" => p.optimizador = Some(valor.parse()?),
        "conjunto" => p.conjunto = Some(valor.parse()?),
        "capas" if valores == [""] => p.capas = Some(Vec::new()),
        "capas" => {
            p.capas = Some(
                valores
                    .iter()
                    .map(|v| entero(clave, v))
                    .collect::<Result<_, _>>()?,
            )
        }
        "filtros" => {
            p.filtros = Some(
                valores
                    .iter()
                    .map(|v| v.parse())
                    .collect::<Result<_, _>>()?,
            )
        }
        otra => {
            return Err(ErrorCampo::new(
                otra,
                format!("unknown parameter '{otra}' of a {tipo} line"),
            ));
        }
    }
    Ok(())
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
        plazo_s: None,
        etiquetas: Etiquetas::default(),
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

fn decimal(campo: &str, texto: &str) -> Result<f32, ErrorCampo> {
    texto
        .parse()
        .map_err(|_| ErrorCampo::new(campo, format!("'{texto}' is not a number")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trabajo::Tipo;

    /// The tipos of the loaded lines, in order.
    fn tipos(a: &Archivo) -> Vec<Tipo> {
        a.trabajos
            .iter()
            .map(|t| t.trabajo.parametros.tipo())
            .collect()
    }

    /// Asserts the rejected lines' reasons start with `esperados`, in order, and are no more.
    fn motivos_empiezan(a: &Archivo, esperados: &[&str]) {
        let motivos: Vec<&str> = a.rechazadas.iter().map(|r| r.motivo.as_str()).collect();
        assert_eq!(motivos.len(), esperados.len(), "{motivos:?}");
        for (motivo, esperado) in motivos.iter().zip(esperados) {
            assert!(motivo.starts_with(esperado), "{esperado}: {motivos:?}");
        }
    }

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
    fn a_leading_byte_order_mark_is_not_part_of_the_first_line() {
        for primera in ["# saved by Notepad", "Secuencial,8,8,10,1"] {
            let a = parsear(&format!("{BOM}{primera}\nNumpy,8,8,10\nFoo,1,1,1,1\n"));
            let lineas: Vec<usize> = a.trabajos.iter().map(|t| t.linea).collect();
            let esperadas = if primera.starts_with('#') {
                vec![2]
            } else {
                vec![1, 2]
            };
            assert_eq!(lineas, esperadas, "{primera}: {:?}", a.rechazadas);
            assert_eq!(a.rechazadas.len(), 1, "{primera}: {:?}", a.rechazadas);
            assert_eq!(a.rechazadas[0].linea, 3);
            assert!(!a.trabajos[0].texto.contains(BOM));
        }
        // Only at the start: elsewhere it is a character like any other.
        let a = parsear(&format!("Secuencial,8,8,10,1\n{BOM}Numpy,8,8,10\n"));
        assert_eq!(a.rechazadas.len(), 1, "{a:?}");
    }

    #[test]
    fn kernel_lines_take_named_parameters() {
        let a = parsear(
            "matmul,Paralelo,n=64,iteraciones=2,prioridad=1\n\
             montecarlo,Auto,muestras=1000,semilla=7\n\
             nbody,particulas=16,pasos=3\n\
             vector_add,Cuda,n=100,iteraciones=1\n\
             julia,Secuencial,width=4,height=3,iteraciones=9\n\
             espera,ms=5,prioridad=3\n\
             matmul,Paralelo,n=64\n\
             matmul,n=64,iteraciones=1,width=3\n\
             nbody,particulas=16,pasos=3,pasos=4\n\
             montecarlo,muestras=0\n\
             vector_add,Paralelo,n=10,color=rojo\n",
        );
        assert_eq!(
            tipos(&a),
            [
                Tipo::Matmul,
                Tipo::Montecarlo,
                Tipo::Nbody,
                Tipo::VectorAdd,
                Tipo::Julia,
                Tipo::Espera
            ]
        );
        assert_eq!(a.trabajos[0].trabajo.prioridad, Prioridad::ALTA);
        assert_eq!(a.trabajos[1].trabajo.algoritmo, Algoritmo::Auto);
        assert_eq!(a.trabajos[2].trabajo.algoritmo, Algoritmo::Paralelo);
        motivos_empiezan(
            &a,
            &[
                "iteraciones: missing",
                "width: not a parameter of tipo matmul",
                "pasos: given twice",
                "muestras: must be at least 1",
                "color: unknown parameter",
            ],
        );
    }

    #[test]
    fn catalogue_lines_take_defaults_lists_and_the_original_names() {
        let a = parsear(
            "fft\n\
             red_neuronal,Secuencial,capas=64,32,epocas=5,optimizador=sgd,tasa=0.1\n\
             imagen,filtros=blur,sobel,sigma=3,image_size=64\n\
             eigenvalue,Auto,size=64\n\
             kmeans_clustering,n_samples=1000,n_clusters=8,iterations=3\n\
             neural_network,capas=,hidden_size=3\n\
             fft,n=3,m\n\
             imagen,filtros=desenfoque,emboss\n\
             red_neuronal,tasa=rapida\n\
             kmeans,n_samples=10,k=11\n",
        );
        assert_eq!(
            tipos(&a),
            [
                Tipo::Fft,
                Tipo::RedNeuronal,
                Tipo::Imagen,
                Tipo::Autovalores,
                Tipo::Kmeans
            ]
        );
        assert_eq!(
            a.trabajos[0].trabajo.parametros,
            Parametros::por_defecto(Tipo::Fft).unwrap()
        );
        let Parametros::RedNeuronal(r) = &a.trabajos[1].trabajo.parametros else {
            panic!("{:?}", a.trabajos[1])
        };
        assert_eq!(
            (r.capas.as_slice(), r.epocas, r.tasa),
            (&[64, 32][..], 5, 0.1)
        );
        let Parametros::Imagen(i) = &a.trabajos[2].trabajo.parametros else {
            panic!("{:?}", a.trabajos[2])
        };
        assert_eq!(
            (i.width, i.height, i.filtros.len(), i.sigma),
            (64, 64, 2, 3.0)
        );
        assert_eq!(a.trabajos[3].trabajo.algoritmo, Algoritmo::Auto);
        motivos_empiezan(
            &a,
            &[
                "capas: given twice",
                "linea: 'm' is not clave=valor",
                "filtros: unknown filtros 'emboss'",
                "tasa: 'rapida' is not a number",
                "k: 11 clusters exceed",
            ],
        );
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

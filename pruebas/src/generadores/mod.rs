//! Generators of hostile request bodies for the property tests of `comun`, `maestro` and
//! `esclavo`: random bytes, random JSON, and valid bodies of every request type
//! ([`cuerpos`]) with one or two things broken; valid parameters of every kernel
//! ([`parametros`]); and the run that counts how many of them a decoder takes
//! ([`contar_hostiles`]).

pub mod cuerpos;
pub mod parametros;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::Value;

pub use cuerpos::*;

/// Fields a job's parameters, algorithm or priority may be rejected for, in a `trabajos.txt`
/// line or a job request.
pub const CAMPOS_DE_TRABAJO: &[&str] = &[
    "algoritmo",
    "width",
    "height",
    "iteraciones",
    "prioridad",
    "ms",
    "n",
    "muestras",
    "semilla",
    "particulas",
    "pasos",
    "tipo",
    "m",
    "dimensiones",
    "k",
    "capas",
    "epocas",
    "lote",
    "tasa",
    "optimizador",
    "conjunto",
    "clases",
    "image_size",
    "filtros",
    "sigma",
    "entrada",
];

/// Whether a job request's validation may name `campo`: one of [`CAMPOS_DE_TRABAJO`], or the
/// job's time limit `plazo_s`.
pub fn campo_de_peticion(campo: &str) -> bool {
    CAMPOS_DE_TRABAJO.contains(&campo) || campo == "plazo_s"
}

/// Arbitrary JSON values, nested a few levels, with the words of the API among the strings.
pub fn json_cualquiera() -> impl Strategy<Value = Value> {
    let hoja = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-3i64..70_000).prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| { serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number) }),
        "[a-zA-Z_ñ0-9 :/.]{0,12}".prop_map(Value::from),
        prop::sample::select(vec![
            "Paralelo",
            "Secuencial",
            "Cuda",
            "Auto",
            "Numpy",
            "julia",
            "espera",
            "matmul",
            "vector_add",
            "montecarlo",
            "nbody",
            "fft",
            "red_neuronal",
            "neural_network",
            "imagen",
            "autovalores",
            "eigenvalue",
            "kmeans",
            "sobel",
            "blur",
            "adam",
            "espirales",
            "alta",
            "baja",
            "completado",
            "fallido",
            "cpu",
            "disco",
            "aviso",
            "critico",
            "http://x:1",
        ])
        .prop_map(Value::from),
    ];
    hoja.prop_recursive(3, 24, 5, |interior| {
        prop_oneof![
            prop::collection::vec(interior.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,10}", interior, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// One change to a valid body.
#[derive(Debug, Clone)]
pub enum Mutacion {
    /// Remove a field of one of its objects.
    Quitar(prop::sample::Index, prop::sample::Index),
    /// Replace a field of one of its objects with anything.
    Cambiar(prop::sample::Index, prop::sample::Index, Value),
    /// Add a field (usually unknown) to one of its objects.
    Agregar(prop::sample::Index, String, Value),
    /// Cut the serialized text short.
    Truncar(prop::sample::Index),
    /// Overwrite one byte of the serialized text.
    Byte(prop::sample::Index, u8),
}

/// Any [`Mutacion`].
pub fn mutacion() -> impl Strategy<Value = Mutacion> {
    prop_oneof![
        (any::<prop::sample::Index>(), any::<prop::sample::Index>())
            .prop_map(|(o, k)| Mutacion::Quitar(o, k)),
        (
            any::<prop::sample::Index>(),
            any::<prop::sample::Index>(),
            json_cualquiera()
        )
            .prop_map(|(o, k, v)| Mutacion::Cambiar(o, k, v)),
        (
            any::<prop::sample::Index>(),
            "[a-z_]{1,10}",
            json_cualquiera()
        )
            .prop_map(|(o, k, v)| Mutacion::Agregar(o, k, v)),
        any::<prop::sample::Index>().prop_map(Mutacion::Truncar),
        (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(i, b)| Mutacion::Byte(i, b)),
    ]
}

/// The JSON pointers of every object in `v`, `v` itself first.
fn objetos(v: &Value, aqui: String, out: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            out.push(aqui.clone());
            for (k, x) in o {
                let k = k.replace('~', "~0").replace('/', "~1");
                objetos(x, format!("{aqui}/{k}"), out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                objetos(x, format!("{aqui}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// `valido` with `m` applied, serialized.
pub fn mutar(mut valido: Value, m: &Mutacion) -> Vec<u8> {
    let mut punteros = Vec::new();
    objetos(&valido, String::new(), &mut punteros);
    let elegir = |i: &prop::sample::Index| (!punteros.is_empty()).then(|| i.get(&punteros).clone());
    match m {
        Mutacion::Quitar(o, k) | Mutacion::Cambiar(o, k, _) => {
            if let Some(obj) = elegir(o)
                .and_then(|p| valido.pointer_mut(&p))
                .and_then(Value::as_object_mut)
                && !obj.is_empty()
            {
                let clave = k.get(&obj.keys().cloned().collect::<Vec<_>>()).clone();
                if let Mutacion::Cambiar(_, _, x) = m {
                    obj.insert(clave, x.clone());
                } else {
                    obj.remove(&clave);
                }
            }
        }
        Mutacion::Agregar(o, k, x) => {
            if let Some(obj) = elegir(o)
                .and_then(|p| valido.pointer_mut(&p))
                .and_then(Value::as_object_mut)
            {
                obj.insert(k.clone(), x.clone());
            }
        }
        Mutacion::Truncar(_) | Mutacion::Byte(..) => {}
    }
    let mut bytes = serde_json::to_vec(&valido).unwrap();
    match m {
        Mutacion::Truncar(i) if !bytes.is_empty() => bytes.truncate(i.index(bytes.len())),
        Mutacion::Byte(i, b) if !bytes.is_empty() => {
            let i = i.index(bytes.len());
            bytes[i] = *b;
        }
        _ => {}
    }
    bytes
}

/// Hostile bodies around the valid ones of `valido`: random bytes, random JSON, and valid
/// bodies broken one or two ways.
pub fn hostil(valido: impl Strategy<Value = Value> + Clone) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 0..64),
        1 => "(?s).{0,64}".prop_map(String::into_bytes),
        2 => json_cualquiera().prop_map(|v| serde_json::to_vec(&v).unwrap()),
        6 => (valido.clone(), mutacion()).prop_map(|(v, m)| mutar(v, &m)),
        2 => (valido, mutacion(), mutacion()).prop_map(|(v, m1, m2)| {
            let v: Value = serde_json::from_slice(&mutar(v, &m1)).unwrap_or(Value::Null);
            mutar(v, &m2)
        }),
    ]
}

/// Whether a rejection names the problem: a field, or a line and column of the text.
pub fn nombra_el_problema(mensaje: &str, campo: Option<&str>) -> bool {
    let posicion = mensaje.contains(" line ") && mensaje.contains(" column ");
    !mensaje.trim().is_empty() && (campo.is_some_and(|c| !c.is_empty()) || posicion)
}

/// Checks `comprobar` (decode, and validate as the receiver would: `Ok(true)` taken, `Ok(false)`
/// refused properly, `Err` refused badly) on `casos` valid bodies of `valido`, every one of which
/// must be taken, then on `casos` hostile bodies around them. Returns how many hostile bodies
/// were (refused, taken); panics naming `nombre` at the first failure.
pub fn contar_hostiles(
    nombre: &str,
    valido: BoxedStrategy<Value>,
    casos: u32,
    comprobar: impl Fn(&[u8]) -> Result<bool, TestCaseError>,
) -> (u32, u32) {
    // A fresh runner each time: a runner counts cases across runs.
    let corredor = || {
        TestRunner::new(Config {
            cases: casos,
            failure_persistence: None,
            ..Config::default()
        })
    };
    corredor()
        .run(&valido, |v| {
            let bytes = serde_json::to_vec(&v).unwrap();
            if comprobar(&bytes)? {
                Ok(())
            } else {
                Err(TestCaseError::fail(format!(
                    "a valid {nombre} was refused: {v}"
                )))
            }
        })
        .unwrap_or_else(|e| panic!("{nombre}: {e}"));
    let (rechazados, tomados) = (std::cell::Cell::new(0u32), std::cell::Cell::new(0u32));
    corredor()
        .run(&hostil(valido), |bytes| {
            let c = if comprobar(&bytes)? {
                &tomados
            } else {
                &rechazados
            };
            c.set(c.get() + 1);
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{nombre}: {e}"));
    (rechazados.get(), tomados.get())
}

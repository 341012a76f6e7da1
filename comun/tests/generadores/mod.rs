//! Generators of hostile request bodies, shared by the property tests of `comun`, `maestro` and
//! `esclavo` (the last two include this file by path): random bytes, random JSON, and valid
//! bodies of every request type with one thing broken.
#![allow(dead_code)] // Each test file uses a different part of this module.

use comun::api::{Carga, Detalle, PeticionCarga, PeticionLote, PeticionTrabajo, Resultado};
use comun::memoria::{Alerta, Disco, GpuMuestra, Muestra, Nivel, Recurso, ReporteMemoria};
use comun::nodo::{
    Asignacion, Capacidades, Gpu, InformeResultado, Latido, LoteResultados, PeticionCancelar,
    PeticionEjecutar, Registro, Salida,
};
use comun::trabajo::{ParamsEspera, ParamsJulia, ParamsMatmul, ParamsMontecarlo};
use comun::{Algoritmo, Parametros, Prioridad, TrabajoId};
use proptest::prelude::*;
use serde_json::Value;

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

fn a_json(v: impl serde::Serialize) -> Value {
    serde_json::to_value(v).unwrap()
}

fn parametros() -> impl Strategy<Value = Parametros> + Clone {
    prop_oneof![
        (1u32..64, 1u32..64, 1u32..100)
            .prop_map(|(w, h, i)| Parametros::Julia(ParamsJulia::new(w, h, i).unwrap())),
        (0u64..50).prop_map(|ms| Parametros::Espera(ParamsEspera::new(ms).unwrap())),
        (1u32..16).prop_map(|n| Parametros::Matmul(ParamsMatmul::new(n, 1).unwrap())),
        (1u64..1000, any::<u64>())
            .prop_map(|(m, s)| Parametros::Montecarlo(ParamsMontecarlo::new(m, s).unwrap())),
    ]
}

fn algoritmo() -> impl Strategy<Value = Algoritmo> + Clone {
    prop::sample::select(vec![
        Algoritmo::Secuencial,
        Algoritmo::Paralelo,
        Algoritmo::Cuda,
        Algoritmo::Auto,
    ])
}

fn prioridad() -> impl Strategy<Value = Prioridad> + Clone {
    prop::sample::select(Prioridad::TODAS.to_vec())
}

/// Valid `PeticionTrabajo` bodies.
pub fn peticion_trabajo() -> impl Strategy<Value = Value> + Clone {
    (
        parametros(),
        algoritmo(),
        prioridad(),
        prop::option::of(1u32..100),
    )
        .prop_map(|(parametros, algoritmo, prioridad, plazo_s)| {
            a_json(PeticionTrabajo::de(&comun::NuevoTrabajo {
                parametros,
                algoritmo,
                prioridad,
                plazo_s,
            }))
        })
}

/// Valid `PeticionLote` bodies.
pub fn peticion_lote() -> impl Strategy<Value = Value> + Clone {
    prop::collection::vec(peticion_trabajo(), 1..4).prop_map(|t| {
        let lote = PeticionLote {
            trabajos: t
                .into_iter()
                .map(|v| serde_json::from_value(v).unwrap())
                .collect(),
        };
        a_json(lote)
    })
}

/// Valid `PeticionCarga` bodies.
pub fn peticion_carga() -> impl Strategy<Value = Value> + Clone {
    prop_oneof![
        "[a-z0-9,=\n]{0,40}".prop_map(|c| a_json(PeticionCarga {
            contenido: Some(c),
            archivo: None,
        })),
        "[a-z]{1,8}\\.txt".prop_map(|a| a_json(PeticionCarga {
            contenido: None,
            archivo: Some(a),
        })),
    ]
}

/// Valid `Registro` bodies.
pub fn registro() -> impl Strategy<Value = Value> + Clone {
    ("[a-z]{1,8}", any::<u64>(), 1u32..8, any::<bool>()).prop_map(|(nombre, instancia, c, gpu)| {
        a_json(Registro {
            url: format!("http://{nombre}:5011"),
            nodo: nombre.clone(),
            nombre,
            instancia,
            capacidad: c,
            capacidades: Capacidades {
                nucleos: c,
                memoria_bytes: 1 << 30,
                gpu: gpu.then(|| Gpu {
                    nombre: "H100".into(),
                    memoria_bytes: 80 << 30,
                    capacidad_computo: "9.0".into(),
                    driver: "550".into(),
                }),
            },
        })
    })
}

/// Valid `Latido` bodies.
pub fn latido() -> impl Strategy<Value = Value> + Clone {
    (
        "[a-z]{1,8}",
        any::<u64>(),
        prop::collection::vec(any::<u64>(), 0..4),
    )
        .prop_map(|(nombre, instancia, ids)| {
            a_json(Latido {
                nombre,
                instancia,
                carga: Carga {
                    cpu: 12.5,
                    memoria_usada: 1,
                    memoria_total: 2,
                },
                ejecutando: ids.into_iter().map(TrabajoId).collect(),
            })
        })
}

/// Valid `LoteResultados` bodies.
pub fn lote_resultados() -> impl Strategy<Value = Value> + Clone {
    let informe =
        (any::<u64>(), 1u32..4, any::<bool>()).prop_map(|(id, intento, ok)| InformeResultado {
            id: TrabajoId(id),
            intento,
            esclavo: "e1".into(),
            instancia: 3,
            salida: if ok {
                Salida::Completado {
                    resultado: Resultado {
                        duracion_s: 0.5,
                        dispositivo: "cpu".into(),
                        detalle: Detalle::Espera { ms: 5 },
                        imagen: false,
                    },
                    imagen_png: None,
                }
            } else {
                Salida::Fallido {
                    error: "boom".into(),
                }
            },
        });
    prop::collection::vec(informe, 0..3)
        .prop_map(|resultados| a_json(LoteResultados { resultados }))
}

/// Valid `ReporteMemoria` bodies.
pub fn reporte_memoria() -> impl Strategy<Value = Value> + Clone {
    ("[a-z]{1,8}", any::<u64>(), 0.0f64..100.0).prop_map(|(nodo, instancia, cpu)| {
        a_json(ReporteMemoria {
            nodo: nodo.clone(),
            instancia,
            muestra: Muestra {
                nodo,
                instante_ms: 1,
                cpu_porcentaje: cpu,
                memoria_usada: 1,
                memoria_total: 2,
                discos: vec![Disco {
                    punto_montaje: "/".into(),
                    usado: 1,
                    total: 2,
                }],
                gpus: vec![GpuMuestra::default()],
                ..Muestra::default()
            },
            alertas: vec![Alerta {
                recurso: Recurso::Disco {
                    punto_montaje: "/".into(),
                },
                nivel: Nivel::Aviso,
                valor: cpu,
                umbral: 50.0,
                desde_ms: 1,
            }],
            intervalo_ms: 5000,
        })
    })
}

/// Valid `PeticionEjecutar` bodies of small jobs.
pub fn peticion_ejecutar() -> impl Strategy<Value = Value> + Clone {
    let asignacion = (1u64..1000, 1u32..4, parametros(), algoritmo(), 0u64..10_000).prop_map(
        |(id, intento, parametros, algoritmo, plazo_ms)| Asignacion {
            id: TrabajoId(id),
            intento,
            parametros,
            algoritmo,
            plazo_ms,
        },
    );
    prop::collection::vec(asignacion, 1..4)
        .prop_map(|trabajos| a_json(PeticionEjecutar { trabajos }))
}

/// Valid `PeticionCancelar` bodies.
pub fn peticion_cancelar() -> impl Strategy<Value = Value> + Clone {
    (
        prop::collection::vec(any::<u64>(), 0..4),
        prop::option::of("[a-z ]{0,20}"),
    )
        .prop_map(|(ids, motivo)| {
            a_json(PeticionCancelar {
                trabajos: ids.into_iter().map(TrabajoId).collect(),
                motivo,
            })
        })
}

/// Every request body type's name and its valid bodies.
pub fn todos() -> Vec<(&'static str, BoxedStrategy<Value>)> {
    vec![
        ("PeticionTrabajo", peticion_trabajo().boxed()),
        ("PeticionLote", peticion_lote().boxed()),
        ("PeticionCarga", peticion_carga().boxed()),
        ("Registro", registro().boxed()),
        ("Latido", latido().boxed()),
        ("LoteResultados", lote_resultados().boxed()),
        ("ReporteMemoria", reporte_memoria().boxed()),
        ("PeticionEjecutar", peticion_ejecutar().boxed()),
        ("PeticionCancelar", peticion_cancelar().boxed()),
    ]
}

//! Valid bodies of every request type of the cluster, as JSON values: the starting points
//! that [`super::hostil`] breaks.

use comun::api::{Carga, Detalle, PeticionCarga, PeticionLote, PeticionTrabajo, Resultado};
use comun::memoria::{Alerta, Disco, GpuMuestra, Muestra, Nivel, Recurso, ReporteMemoria};
use comun::nodo::{
    Asignacion, Capacidades, Gpu, InformeResultado, Latido, LoteResultados, PeticionCancelar,
    PeticionEjecutar, Registro, Salida,
};
use comun::{Algoritmo, Prioridad, TrabajoId};
use proptest::prelude::*;
use serde_json::Value;

use super::parametros::parametros;

fn a_json(v: impl serde::Serialize) -> Value {
    serde_json::to_value(v).unwrap()
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
            // `Cuda` is refused for a tipo without a GPU version: not a valid body.
            let sin_gpu = algoritmo == Algoritmo::Cuda && !parametros.tipo().tiene_cuda();
            let algoritmo = if sin_gpu { Algoritmo::Auto } else { algoritmo };
            a_json(PeticionTrabajo::de(&comun::NuevoTrabajo {
                parametros,
                algoritmo,
                prioridad,
                plazo_s,
                etiquetas: comun::trabajo::Etiquetas::default(),
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

/// Valid `Registro` bodies: with no GPU, one or several.
pub fn registro() -> impl Strategy<Value = Value> + Clone {
    ("[a-z]{1,8}", any::<u64>(), 1u32..8, 0u32..4).prop_map(|(nombre, instancia, c, gpus)| {
        a_json(Registro {
            url: format!("http://{nombre}:5011"),
            nodo: nombre.clone(),
            nombre,
            instancia,
            capacidad: c,
            capacidad_gpu: gpus,
            capacidades: Capacidades {
                nucleos: c,
                memoria_bytes: 1 << 30,
                gpus: (0..gpus)
                    .map(|indice| Gpu {
                        indice,
                        nombre: "H100".into(),
                        memoria_bytes: 80 << 30,
                        capacidad_computo: "9.0".into(),
                        driver: "550".into(),
                        pci: format!("0000:{:02x}:00.0", 0x17 + indice),
                        limites: None,
                    })
                    .collect(),
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
                drenando: false,
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
                    resultado: Resultado::nuevo(
                        0.5,
                        None,
                        "cpu".into(),
                        Detalle::Espera { ms: 5 },
                        false,
                    ),
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

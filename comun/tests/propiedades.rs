//! Property tests of everything that reads user input: the `trabajos.txt` parser and the job
//! request body. Whatever comes in, nothing panics, and every rejection names what is wrong.

use comun::api::PeticionTrabajo;
use comun::archivo::parsear;
use proptest::prelude::*;
use pruebas::generadores::CAMPOS_DE_TRABAJO;

/// The names a rejection may start with: a parameter, or the line as a whole.
fn campo_conocido(campo: &str) -> bool {
    campo == "linea" || CAMPOS_DE_TRABAJO.contains(&campo)
}

/// A rejection starts with the field it is about: a known one, or the unknown name the line
/// used (quoted again in the message).
fn nombra_un_campo(motivo: &str) -> bool {
    let campo = motivo.split(": ").next().unwrap_or("");
    campo_conocido(campo) || (!campo.is_empty() && motivo.contains(&format!("'{campo}'")))
}

/// Lines that look like jobs lines: fields drawn from plausible and implausible pieces.
fn linea_parecida() -> impl Strategy<Value = String> {
    let pieza = prop_oneof![
        Just("Secuencial".to_string()),
        Just("Paralelo".to_string()),
        Just("Cuda".to_string()),
        Just("matmul".to_string()),
        Just("espera".to_string()),
        Just("nbody".to_string()),
        Just("fft".to_string()),
        Just("neural_network".to_string()),
        Just("imagen".to_string()),
        Just("capas=8".to_string()),
        Just("filtros=sobel".to_string()),
        Just("tasa=0.5".to_string()),
        Just("n_clusters=3".to_string()),
        Just("n=".to_string()),
        Just("pasos=3".to_string()),
        Just(String::new()),
        any::<i64>().prop_map(|v| v.to_string()),
        any::<u64>().prop_map(|v| v.to_string()),
        (0u32..20_000).prop_map(|v| v.to_string()),
        "[a-z=#ñ ]{0,8}",
    ];
    prop::collection::vec(pieza, 0..8).prop_map(|v| v.join(","))
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 2_000,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn the_parser_never_panics_and_accounts_for_every_line(texto in "(?s).{0,400}") {
        let a = parsear(&texto);
        let lineas = texto.lines().count();
        prop_assert!(a.trabajos.len() + a.rechazadas.len() <= lineas);
        for r in &a.rechazadas {
            prop_assert!(r.linea >= 1 && r.linea <= lineas);
            prop_assert!(!r.motivo.is_empty());
        }
    }

    #[test]
    fn job_like_lines_load_or_say_which_field_is_wrong(lineas in prop::collection::vec(linea_parecida(), 1..20)) {
        let texto = lineas.join("\n");
        let a = parsear(&texto);
        for r in &a.rechazadas {
            prop_assert!(nombra_un_campo(&r.motivo), "line {}: {:?}", r.linea, r.motivo);
        }
        for t in &a.trabajos {
            prop_assert!(t.trabajo.parametros.validar().is_ok(), "{:?}", t);
        }
    }

    #[test]
    fn request_bodies_never_panic_and_valid_ones_are_within_limits(
        tipo in prop::option::of(prop_oneof![Just("julia"), Just("espera"), Just("matmul"),
            Just("vector_add"), Just("montecarlo"), Just("nbody"), Just("fft"),
            Just("autovalores"), Just("kmeans_clustering"), Just("red_neuronal")]),
        numeros in prop::collection::vec(prop::option::of(any::<i64>()), 9),
        prioridad in prop::option::of(-2i64..6),
    ) {
        let nombres = ["width", "height", "iteraciones", "ms", "n", "muestras", "semilla",
            "particulas", "pasos"];
        let mut cuerpo = serde_json::Map::new();
        if let Some(t) = tipo {
            cuerpo.insert("tipo".into(), t.into());
        }
        for (nombre, v) in nombres.iter().zip(&numeros) {
            if let Some(v) = v {
                cuerpo.insert((*nombre).into(), (*v).into());
            }
        }
        if let Some(p) = prioridad {
            cuerpo.insert("prioridad".into(), p.into());
        }
        let json = serde_json::Value::Object(cuerpo);
        match serde_json::from_value::<PeticionTrabajo>(json) {
            Err(e) => prop_assert!(!e.to_string().is_empty()),
            Ok(p) => match p.validar() {
                Ok(t) => prop_assert!(t.parametros.validar().is_ok()),
                Err(e) => prop_assert!(campo_conocido(&e.campo), "{e}"),
            },
        }
    }
}

/// Task values drawn from plausible and implausible pieces of the orchestrator's format.
fn valor_de_tarea() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::{Value, json};
    let hoja = prop_oneof![
        Just(json!("python")),
        Just(json!("cython")),
        Just(json!("matmul")),
        Just(json!("fft")),
        Just(json!("high")),
        Just(json!("low")),
        Just(json!("task_001")),
        Just(json!("12")),
        Just(json!("")),
        Just(Value::Null),
        Just(json!(true)),
        any::<i64>().prop_map(|v| json!(v)),
        any::<f64>().prop_map(|v| json!(v)),
        ".{0,12}".prop_map(|s| json!(s)),
    ];
    let claves = prop_oneof![
        Just("task_id".to_string()),
        Just("algorithm".to_string()),
        Just("priority".to_string()),
        Just("description".to_string()),
        Just("num_particles".to_string()),
        Just("num_steps".to_string()),
        Just("seed".to_string()),
        Just("n".to_string()),
        Just("iteraciones".to_string()),
        Just("algoritmo".to_string()),
        "[a-z_]{1,8}",
    ];
    let parametros = prop::collection::btree_map(claves.clone(), hoja.clone(), 0..5)
        .prop_map(|m| Value::Object(m.into_iter().collect()));
    let campo = prop_oneof![hoja, parametros];
    let claves_tarea = prop_oneof![
        Just("task_id".to_string()),
        Just("algorithm".to_string()),
        Just("priority".to_string()),
        Just("description".to_string()),
        Just("parameters".to_string()),
        Just("parameters".to_string()),
        claves,
    ];
    prop::collection::btree_map(claves_tarea, campo, 0..6)
        .prop_map(|m| Value::Object(m.into_iter().collect()))
}

proptest! {
    /// Whatever a task file holds, reading it does not panic; it is taken whole, one job per
    /// task, or refused with every fault naming a field, and each task fault its index.
    #[test]
    fn task_files_are_taken_whole_or_refused_with_named_faults(
        tareas in prop::collection::vec(valor_de_tarea(), 0..6),
        total in prop::option::of(0u64..8),
    ) {
        let mut archivo = serde_json::json!({ "tasks": tareas });
        if let Some(t) = total {
            archivo["metadata"] = serde_json::json!({ "total_tasks": t });
        }
        match comun::tareas::leer_archivo(&archivo.to_string()) {
            Ok(trabajos) => prop_assert_eq!(trabajos.len(), tareas.len()),
            Err(errores) => {
                prop_assert!(!errores.is_empty());
                for e in &errores {
                    prop_assert!(!e.reason.is_empty(), "{e:?}");
                    match e.index {
                        Some(i) => {
                            prop_assert!(i < tareas.len(), "{e:?}");
                            let prefijo = format!("tasks[{i}]");
                            prop_assert!(e.field.starts_with(&prefijo), "{e:?}");
                        }
                        None => prop_assert!(!e.field.is_empty(), "{e:?}"),
                    }
                }
            }
        }
    }

    /// Any text at all: no panic, and a refusal names where.
    #[test]
    fn any_text_as_a_task_file_is_read_or_refused(texto in ".{0,200}") {
        if let Err(errores) = comun::tareas::leer_archivo(&texto) {
            prop_assert!(errores.iter().all(|e| !e.field.is_empty() && !e.reason.is_empty()));
        }
    }
}

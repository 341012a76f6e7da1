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

//! The alert engine against hand-written sequences (thresholds, oscillations, ramps) and against
//! a brute-force reference model: every short sequence over values at and around the
//! thresholds, and long pseudo-random ones.

use comun::memoria::{Disco, GpuMuestra};

use super::*;

const AVISO: f64 = 80.0;
const CRITICO: f64 = 95.0;
const HISTERESIS: f64 = 5.0;

fn umbrales() -> Umbrales {
    Umbrales::new(AVISO, CRITICO, HISTERESIS).unwrap()
}

fn solo_cpu(u: Umbrales) -> Politica {
    Politica {
        cpu: Some(u),
        memoria: None,
        swap: None,
        disco: None,
        gpu_memoria: None,
    }
}

fn todas(u: Umbrales) -> Politica {
    Politica {
        cpu: Some(u),
        memoria: Some(u),
        swap: Some(u),
        disco: Some(u),
        gpu_memoria: Some(u),
    }
}

fn cpu(valor: f64) -> Muestra {
    Muestra {
        cpu_porcentaje: valor,
        ..Muestra::default()
    }
}

/// The instant of step `i` of a sequence.
fn t(i: usize) -> u64 {
    1_000 + i as u64 * 10
}

/// Runs CPU values through a fresh evaluator; each step's changes.
fn recorrer(u: Umbrales, valores: &[f64]) -> (Evaluador, Vec<Cambios>) {
    let mut e = Evaluador::new(solo_cpu(u));
    let cambios = valores
        .iter()
        .enumerate()
        .map(|(i, &v)| e.evaluar(&cpu(v), t(i)))
        .collect();
    (e, cambios)
}

/// `(step, "+" or "-", nivel, desde step)` for every change, to compare sequences at a glance.
fn eventos(cambios: &[Cambios]) -> Vec<(usize, &'static str, Nivel, u64)> {
    let mut eventos = Vec::new();
    for (i, c) in cambios.iter().enumerate() {
        eventos.extend(c.terminadas.iter().map(|a| (i, "-", a.nivel, a.desde_ms)));
        eventos.extend(c.iniciadas.iter().map(|a| (i, "+", a.nivel, a.desde_ms)));
    }
    eventos
}

#[test]
fn a_level_starts_exactly_at_its_threshold() {
    let (e, cambios) = recorrer(umbrales(), &[79.999, 80.0]);
    assert!(cambios[0].is_empty());
    assert_eq!(eventos(&cambios), [(1, "+", Nivel::Aviso, t(1))]);
    let a = &e.activas()[0];
    assert_eq!(
        (&a.recurso, a.nivel, a.valor, a.umbral, a.desde_ms),
        (&Recurso::Cpu, Nivel::Aviso, 80.0, AVISO, t(1))
    );

    let (e, cambios) = recorrer(umbrales(), &[94.999, 95.0]);
    assert_eq!(
        eventos(&cambios),
        [
            (0, "+", Nivel::Aviso, t(0)),
            (1, "-", Nivel::Aviso, t(0)),
            (1, "+", Nivel::Critico, t(1))
        ]
    );
    assert_eq!(e.activas()[0].umbral, CRITICO);
}

#[test]
fn a_level_ends_only_below_its_threshold_less_the_hysteresis() {
    let (e, cambios) = recorrer(umbrales(), &[80.0, 75.0, 75.0, 74.999]);
    assert_eq!(
        eventos(&cambios),
        [(0, "+", Nivel::Aviso, t(0)), (3, "-", Nivel::Aviso, t(0))]
    );
    assert_eq!(
        cambios[3].terminadas[0].valor, 74.999,
        "the value that ended it"
    );
    assert!(e.activas().is_empty());
}

#[test]
fn a_value_oscillating_around_a_threshold_starts_one_alert_and_never_flaps() {
    for umbral in [AVISO, CRITICO] {
        for amplitud in [0.001, 0.5, 2.5, 4.999, HISTERESIS] {
            let valores: Vec<f64> = (0..2_000)
                .map(|i| {
                    if i % 2 == 0 {
                        umbral - amplitud
                    } else {
                        umbral + amplitud
                    }
                })
                .collect();
            let (e, cambios) = recorrer(umbrales(), &valores);
            let terminadas: usize = cambios.iter().map(|c| c.terminadas.len()).sum();
            let nivel = if umbral == AVISO {
                Nivel::Aviso
            } else {
                Nivel::Critico
            };
            let activas = e.activas();
            assert_eq!(activas.len(), 1);
            assert_eq!(
                (activas[0].nivel, activas[0].desde_ms),
                (nivel, t(1)),
                "threshold {umbral} ± {amplitud}: one alert, since the first crossing"
            );
            let esperadas = if umbral == AVISO { 0 } else { 1 };
            assert_eq!(
                terminadas, esperadas,
                "threshold {umbral} ± {amplitud}: no flapping (only the aviso under the \
                 critico ends, at the escalation)"
            );
        }
    }
}

#[test]
fn an_oscillation_wider_than_the_hysteresis_does_end_and_restart() {
    let valores: Vec<f64> = (0..10)
        .map(|i| if i % 2 == 0 { 81.0 } else { 74.0 })
        .collect();
    let (_, cambios) = recorrer(umbrales(), &valores);
    assert!(
        cambios
            .iter()
            .all(|c| c.iniciadas.len() + c.terminadas.len() == 1)
    );
}

#[test]
fn a_ramp_up_and_down_escalates_and_de_escalates_keeping_the_aviso_start() {
    let subida = (0..=100).map(f64::from);
    let bajada = (0..100).rev().map(f64::from);
    let valores: Vec<f64> = subida.chain(bajada).collect();
    let (e, cambios) = recorrer(umbrales(), &valores);
    let paso_de_bajada = |v: usize| 100 + (100 - v);
    assert_eq!(
        eventos(&cambios),
        [
            (80, "+", Nivel::Aviso, t(80)),
            (95, "-", Nivel::Aviso, t(80)),
            (95, "+", Nivel::Critico, t(95)),
            // Below 95 - 5: the crítico ends, the aviso shows again with its first start.
            (paso_de_bajada(89), "-", Nivel::Critico, t(95)),
            (paso_de_bajada(89), "+", Nivel::Aviso, t(80)),
            (paso_de_bajada(74), "-", Nivel::Aviso, t(80)),
        ]
    );
    assert!(e.activas().is_empty());
}

#[test]
fn a_jump_to_critico_and_back_to_zero_changes_one_alert_each_way() {
    let (_, cambios) = recorrer(umbrales(), &[10.0, 100.0, 99.0, 0.0]);
    assert_eq!(
        eventos(&cambios),
        [
            (1, "+", Nivel::Critico, t(1)),
            (3, "-", Nivel::Critico, t(1))
        ]
    );
}

#[test]
fn zero_hysteresis_ends_as_soon_as_the_value_is_below_the_threshold() {
    let u = Umbrales::new(AVISO, CRITICO, 0.0).unwrap();
    let (_, cambios) = recorrer(u, &[80.0, 80.0, 79.999]);
    assert_eq!(
        eventos(&cambios),
        [(0, "+", Nivel::Aviso, t(0)), (2, "-", Nivel::Aviso, t(0))]
    );
}

#[test]
fn values_that_are_not_numbers_change_nothing() {
    let (e, cambios) = recorrer(umbrales(), &[90.0, f64::NAN, f64::INFINITY, 90.0]);
    assert_eq!(eventos(&cambios), [(0, "+", Nivel::Aviso, t(0))]);
    assert_eq!(e.activas()[0].valor, 90.0);
}

fn disco(punto: &str, usado: u64) -> Disco {
    Disco {
        punto_montaje: punto.into(),
        usado,
        total: 100,
    }
}

fn gpu(indice: u32, usada: u64) -> GpuMuestra {
    GpuMuestra {
        indice,
        memoria_usada: usada,
        memoria_total: 100,
        ..GpuMuestra::default()
    }
}

#[test]
fn each_filesystem_and_gpu_is_its_own_resource_and_one_that_disappears_ends_its_alert() {
    let mut e = Evaluador::new(todas(umbrales()));
    let m = Muestra {
        discos: vec![disco("/", 99), disco("/datos", 10), disco("/tmp", 85)],
        gpus: vec![gpu(0, 10), gpu(1, 96)],
        ..Muestra::default()
    };
    let c = e.evaluar(&m, 1);
    let recursos: Vec<String> = c.iniciadas.iter().map(|a| a.recurso.to_string()).collect();
    assert_eq!(recursos, ["disco /", "disco /tmp", "gpu_memoria 1"]);
    assert_eq!(e.activas().len(), 3);

    let sin_tmp_ni_gpus = Muestra {
        discos: vec![disco("/", 99), disco("/datos", 10)],
        ..Muestra::default()
    };
    let c = e.evaluar(&sin_tmp_ni_gpus, 2);
    assert!(c.iniciadas.is_empty());
    let terminadas: Vec<String> = c.terminadas.iter().map(|a| a.recurso.to_string()).collect();
    assert_eq!(terminadas, ["disco /tmp", "gpu_memoria 1"]);
    let activas: Vec<String> = e.activas().iter().map(|a| a.recurso.to_string()).collect();
    assert_eq!(activas, ["disco /"]);
}

#[test]
fn disabled_resources_and_resources_without_a_total_never_alert() {
    let mut e = Evaluador::new(solo_cpu(umbrales()));
    let m = Muestra {
        memoria_usada: 100,
        memoria_total: 100,
        swap_usada: 5,
        swap_total: 0,
        discos: vec![disco("/", 100)],
        ..Muestra::default()
    };
    assert!(e.evaluar(&m, 1).is_empty());
    let mut e = Evaluador::new(todas(umbrales()));
    let sin_swap = Muestra {
        swap_usada: 5,
        swap_total: 0,
        ..Muestra::default()
    };
    assert!(e.evaluar(&sin_swap, 1).is_empty());
}

#[test]
fn thresholds_that_make_no_sense_are_refused() {
    for (aviso, critico, h) in [
        (0.0, 50.0, 0.0),
        (50.0, 101.0, 1.0),
        (90.0, 80.0, 1.0),
        (80.0, 90.0, -1.0),
        (80.0, 90.0, 80.0),
        (f64::NAN, 90.0, 1.0),
        (80.0, 90.0, f64::NAN),
    ] {
        assert!(
            Umbrales::new(aviso, critico, h).is_err(),
            "{aviso},{critico} h {h}"
        );
    }
    assert!(Umbrales::new(100.0, 100.0, 99.0).is_ok());
}

/// The alert shown after `valores`, computed from the whole history: a level is active iff
/// some value since the last one below `U - h` reached `U`; it started at the first such value.
fn modelo(u: &Umbrales, valores: &[f64]) -> Option<(Nivel, u64)> {
    let desde = |nivel: Nivel| {
        let umbral = u.umbral(nivel);
        let fin = valores.iter().rposition(|&v| v < umbral - u.histeresis());
        let inicio = fin.map_or(0, |f| f + 1);
        (inicio..valores.len())
            .find(|&i| valores[i] >= umbral)
            .map(|i| (nivel, t(i)))
    };
    desde(Nivel::Critico).or_else(|| desde(Nivel::Aviso))
}

/// Runs `valores` step by step, checking the shown alert against [`modelo`] and the changes
/// against the difference between consecutive shown alerts. Returns how many changes there were.
fn comprobar_contra_el_modelo(u: Umbrales, valores: &[f64]) -> usize {
    let mut e = Evaluador::new(solo_cpu(u));
    let mut antes: Option<(Nivel, u64)> = None;
    let mut total = 0;
    for (i, &v) in valores.iter().enumerate() {
        let cambios = e.evaluar(&cpu(v), t(i));
        let ahora = modelo(&u, &valores[..=i]);
        let activas: Vec<_> = e.activas().iter().map(|a| (a.nivel, a.desde_ms)).collect();
        assert_eq!(activas, Vec::from_iter(ahora), "{valores:?} at step {i}");
        let (terminadas, iniciadas) = match (antes, ahora) {
            (Some(a), Some(d)) if a.0 == d.0 => (None, None),
            (a, d) => (a, d),
        };
        let pares = |v: &[Alerta]| v.iter().map(|a| (a.nivel, a.desde_ms)).collect::<Vec<_>>();
        assert_eq!(pares(&cambios.terminadas), Vec::from_iter(terminadas));
        assert_eq!(pares(&cambios.iniciadas), Vec::from_iter(iniciadas));
        assert!(cambios.terminadas.iter().all(|a| a.valor == v));
        total += cambios.iniciadas.len() + cambios.terminadas.len();
        antes = ahora;
    }
    total
}

#[test]
fn every_short_sequence_of_values_around_the_thresholds_matches_the_model() {
    let valores = [
        0.0, 74.999, 75.0, 79.999, 80.0, 89.999, 90.0, 94.999, 95.0, 100.0,
    ];
    let largo = 5;
    let mut secuencia = vec![0.0; largo];
    let mut cambios = 0;
    for n in 0..valores.len().pow(largo as u32) {
        let mut resto = n;
        for v in &mut secuencia {
            *v = valores[resto % valores.len()];
            resto /= valores.len();
        }
        cambios += comprobar_contra_el_modelo(umbrales(), &secuencia);
    }
    assert!(cambios > 100_000, "{cambios}");
}

#[test]
fn long_pseudo_random_sequences_match_the_model() {
    // A fixed linear congruential generator: reproducible without a dependency.
    let mut estado: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut siguiente = move || {
        estado = estado
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (estado >> 33) as f64 / (1u64 << 31) as f64
    };
    for (aviso, critico, h) in [(80.0, 95.0, 5.0), (50.0, 50.0, 10.0), (30.0, 60.0, 0.0)] {
        let u = Umbrales::new(aviso, critico, h).unwrap();
        // A random walk between just below the aviso's end and just above the crítico, so the
        // value lingers near the thresholds instead of jumping past them.
        let (bajo, alto) = (aviso - h - 10.0, (critico + 5.0_f64).min(100.0));
        let mut v: f64 = aviso;
        let valores: Vec<f64> = (0..3_000)
            .map(|_| {
                v += (siguiente() - 0.5) * 8.0;
                if !(bajo..=alto).contains(&v) {
                    v = v.clamp(bajo, alto);
                }
                v
            })
            .collect();
        let cambios = comprobar_contra_el_modelo(u, &valores);
        assert!(
            cambios >= 20,
            "the walk crosses the thresholds often: {cambios} changes"
        );
    }
}

//! The overview's charts over time, drawn from the maestro's bounded series of the last hour
//! ([`crate::series`]): the queue by priority, jobs finished per second, esclavos alive.

use comun::estadisticas::Series;

use super::grafico::{Grafico, Linea, lineas};

/// Samples averaged for "jobs per second over the last minute" (at the series' step).
fn muestras_por_minuto(s: &Series) -> usize {
    if s.paso_s > 0.0 {
        ((60.0 / s.paso_s).round() as usize).max(1)
    } else {
        1
    }
}

/// Jobs finished per second over the last minute of the series (0 without samples).
pub fn ritmo_ultimo_minuto(s: &Series) -> f64 {
    let n = muestras_por_minuto(s).min(s.terminados_por_s.len());
    if n == 0 {
        return 0.0;
    }
    s.terminados_por_s.iter().rev().take(n).sum::<f64>() / n as f64
}

/// Seconds since the first sample of each instant.
fn tiempos(s: &Series) -> Vec<f64> {
    let t0 = s.instantes_ms.first().copied().unwrap_or_default();
    s.instantes_ms
        .iter()
        .map(|&t| t.saturating_sub(t0) as f64 / 1000.0)
        .collect()
}

fn linea<T: Copy + Into<f64>>(
    nombre: &str,
    clase: &'static str,
    t: &[f64],
    valores: &[T],
) -> Linea {
    Linea {
        nombre: nombre.into(),
        clase,
        puntos: t
            .iter()
            .zip(valores)
            .map(|(&t, &v)| (t, v.into()))
            .collect(),
    }
}

/// The charts of the series: queue by priority, throughput, esclavos alive.
pub fn graficos(s: &Series) -> Vec<Grafico> {
    let t = tiempos(s);
    let a_f64 = |v: &[u64]| v.iter().map(|&x| x as f64).collect::<Vec<f64>>();
    let cola = [
        linea("alta", "s-alta", &t, &a_f64(&s.cola.alta)),
        linea("media", "s-media", &t, &a_f64(&s.cola.media)),
        linea("baja", "s-baja", &t, &a_f64(&s.cola.baja)),
    ];
    let paso = format!("a sample every {:.0} s", s.paso_s);
    vec![
        Grafico {
            clave: "cola",
            titulo: "Queue length by priority".into(),
            nota: paso.clone(),
            svg: lineas(&cola, "pending"),
        },
        Grafico {
            clave: "rendimiento",
            titulo: "Throughput".into(),
            nota: format!("{:.2} jobs/s over the last minute", ritmo_ultimo_minuto(s)),
            svg: lineas(
                &[linea("finished", "s-completado", &t, &s.terminados_por_s)],
                "jobs/s",
            ),
        },
        Grafico {
            clave: "esclavos",
            titulo: "Esclavos alive".into(),
            nota: paso,
            svg: lineas(
                &[linea("alive", "s-asignado", &t, &s.esclavos_vivos)],
                "esclavos",
            ),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_minute_averages_the_samples_it_holds() {
        let mut s = Series {
            paso_s: 5.0,
            instantes_ms: (0..20).map(|i| i * 5000).collect(),
            terminados_por_s: vec![100.0; 8].into_iter().chain(vec![2.0; 12]).collect(),
            ..Series::default()
        };
        assert_eq!(ritmo_ultimo_minuto(&s), 2.0);
        s.terminados_por_s.truncate(0);
        assert_eq!(ritmo_ultimo_minuto(&s), 0.0);
        let g = graficos(&Series {
            paso_s: 5.0,
            ..Series::default()
        });
        assert_eq!(g.len(), 3);
        assert!(g[0].svg.contains("collecting data"));
    }
}

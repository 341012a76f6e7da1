//! The charts of a benchmark report, drawn with plotters as PNG and SVG from the summary: time
//! against size per backend for each tipo (log scales), the speedups at each tipo's largest
//! size, throughput against the device's limit where it is known, and what the cluster adds
//! to a job against the job's length. Text is drawn with the DejaVu Sans font embedded in the
//! binary, so a chart looks the same on any machine.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Once;

use anyhow::anyhow;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::informe::{BACKENDS, FilaResumen};

/// DejaVu Sans (assets/DejaVuSans.LICENSE: free to embed and redistribute).
const FUENTE: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");
/// Width and height of every chart, in pixels.
pub const TAMANO: (u32, u32) = (960, 600);

fn fuente() {
    static REGISTRADA: Once = Once::new();
    REGISTRADA.call_once(|| {
        if plotters::style::register_font("sans-serif", FontStyle::Normal, FUENTE).is_err() {
            tracing::warn!("the charts' embedded font could not be read: text left out");
        }
    });
}

fn color(backend: &str) -> RGBColor {
    match backend {
        "Secuencial" => RGBColor(86, 119, 164),
        "Paralelo" => RGBColor(221, 132, 82),
        "Cuda" => RGBColor(85, 168, 104),
        _ => RGBColor(120, 120, 120),
    }
}

/// Time against size, one line per backend, log scales on both axes: one chart per tipo.
fn tiempo<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    tipo: &str,
    filas: &[&FilaResumen],
) -> anyhow::Result<()> {
    area.fill(&WHITE).map_err(|e| anyhow!("{e:?}"))?;
    let (tmin, tmax) = rango(filas.iter().map(|f| f.tamano as f64));
    let (ymin, ymax) = rango(filas.iter().flat_map(|f| [f.min_s, f.max_s]));
    let mut grafico = ChartBuilder::on(area)
        .caption(
            format!("{tipo}: kernel time against size"),
            ("sans-serif", 24),
        )
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(80)
        .build_cartesian_2d(
            (tmin / 1.5..tmax * 1.5).log_scale(),
            (ymin / 2.0..ymax * 2.0).log_scale(),
        )
        .map_err(|e| anyhow!("{e:?}"))?;
    grafico
        .configure_mesh()
        .x_desc("size (the tipo's size parameter)")
        .y_desc("kernel time")
        .x_labels(8)
        .y_labels(8)
        .x_label_formatter(&|x| super::informe::si(*x))
        .y_label_formatter(&|y| super::informe::segundos(*y))
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .draw()
        .map_err(|e| anyhow!("{e:?}"))?;
    for backend in BACKENDS {
        let mut puntos: Vec<(f64, f64)> = filas
            .iter()
            .filter(|f| f.backend == backend)
            .map(|f| (f.tamano as f64, f.media_s))
            .collect();
        if puntos.is_empty() {
            continue;
        }
        puntos.sort_by(|a, b| a.0.total_cmp(&b.0));
        let c = color(backend);
        grafico
            .draw_series(LineSeries::new(puntos.clone(), c.stroke_width(3)))
            .map_err(|e| anyhow!("{e:?}"))?
            .label(backend)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], c.stroke_width(3)));
        grafico
            .draw_series(puntos.into_iter().map(|p| Circle::new(p, 4, c.filled())))
            .map_err(|e| anyhow!("{e:?}"))?;
    }
    grafico
        .configure_series_labels()
        .label_font(("sans-serif", 16))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperLeft)
        .draw()
        .map_err(|e| anyhow!("{e:?}"))?;
    area.present().map_err(|e| anyhow!("{e:?}"))?;
    Ok(())
}

/// Speedup against Secuencial at each tipo's largest size: a bar per faster backend.
fn aceleraciones<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    filas: &[FilaResumen],
) -> anyhow::Result<()> {
    area.fill(&WHITE).map_err(|e| anyhow!("{e:?}"))?;
    let mut mayor: BTreeMap<&str, u64> = BTreeMap::new();
    for f in filas {
        let m = mayor.entry(&f.tipo).or_default();
        *m = (*m).max(f.tamano);
    }
    let tipos: Vec<&str> = mayor.keys().copied().collect();
    let barras: Vec<(usize, &str, f64)> = filas
        .iter()
        .filter(|f| mayor.get(f.tipo.as_str()) == Some(&f.tamano) && f.backend != "Secuencial")
        .filter_map(|f| {
            let i = tipos.iter().position(|t| *t == f.tipo)?;
            Some((i, f.backend.as_str(), f.aceleracion_vs_secuencial?))
        })
        .collect();
    // A log scale: speedups run from below 1 to thousands, and each bar must be readable.
    let tope = barras.iter().map(|b| b.2).fold(1.0f64, f64::max) * 2.0;
    let suelo = barras.iter().map(|b| b.2).fold(1.0f64, f64::min) / 2.0;
    let n = tipos.len().max(1);
    let mut grafico = ChartBuilder::on(area)
        .caption(
            "Speedup against Secuencial at each tipo's largest size",
            ("sans-serif", 24),
        )
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(64)
        .build_cartesian_2d(0f64..n as f64, (suelo..tope).log_scale())
        .map_err(|e| anyhow!("{e:?}"))?;
    let nombres: Vec<String> = tipos.iter().map(|t| t.to_string()).collect();
    let categoria = categorias(&nombres);
    grafico
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n * 2 + 1)
        .x_label_formatter(&categoria)
        .y_label_formatter(&|y| format!("{}×", super::informe::si(*y)))
        .y_desc("speedup against Secuencial (log scale)")
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .draw()
        .map_err(|e| anyhow!("{e:?}"))?;
    let otros = ["Paralelo", "Cuda"];
    for (k, backend) in otros.iter().enumerate() {
        let c = color(backend);
        let ancho = 0.35;
        let desde = 0.15 + ancho * k as f64;
        grafico
            .draw_series(barras.iter().filter(|b| b.1 == *backend).map(|&(i, _, v)| {
                let x0 = i as f64 + desde;
                Rectangle::new([(x0, suelo), (x0 + ancho, v)], c.filled())
            }))
            .map_err(|e| anyhow!("{e:?}"))?
            .label(*backend)
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 16, y + 6)], c.filled()));
        grafico
            .draw_series(barras.iter().filter(|b| b.1 == *backend).map(|&(i, _, v)| {
                let texto = if v >= 10.0 {
                    format!("{v:.0}")
                } else {
                    format!("{v:.1}")
                };
                Text::new(texto, (i as f64 + desde, v * 1.12), ("sans-serif", 12))
            }))
            .map_err(|e| anyhow!("{e:?}"))?;
    }
    grafico
        .draw_series(LineSeries::new(
            vec![(0.0, 1.0), (n as f64, 1.0)],
            BLACK.stroke_width(1),
        ))
        .map_err(|e| anyhow!("{e:?}"))?;
    grafico
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font(("sans-serif", 16))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()
        .map_err(|e| anyhow!("{e:?}"))?;
    area.present().map_err(|e| anyhow!("{e:?}"))?;
    Ok(())
}

/// The label of a category axis whose category `i` spans `[i, i + 1)`: its name at the
/// middle, nothing elsewhere.
fn categorias(nombres: &[String]) -> impl Fn(&f64) -> String + '_ {
    move |x| {
        let i = x.floor() as usize;
        let centro = (x - x.floor() - 0.5).abs() < 0.05;
        match (centro, nombres.get(i)) {
            (true, Some(t)) => t.clone(),
            _ => String::new(),
        }
    }
}

/// The rows measured against their device's limit: each (tipo, backend) at the tipo's largest
/// size where it has one.
fn con_limite(filas: &[FilaResumen]) -> Vec<&FilaResumen> {
    let mut mayor: BTreeMap<(&str, &str), u64> = BTreeMap::new();
    for f in filas.iter().filter(|f| f.fraccion_del_limite.is_some()) {
        let m = mayor.entry((&f.tipo, &f.backend)).or_default();
        *m = (*m).max(f.tamano);
    }
    filas
        .iter()
        .filter(|f| {
            f.fraccion_del_limite.is_some()
                && mayor.get(&(f.tipo.as_str(), f.backend.as_str())) == Some(&f.tamano)
        })
        .collect()
}

/// Throughput as a share of the device's limit (its peak in the kernel's unit): a bar per
/// (tipo, backend) at the largest size measured against one.
fn limites<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    filas: &[&FilaResumen],
) -> anyhow::Result<()> {
    area.fill(&WHITE).map_err(|e| anyhow!("{e:?}"))?;
    let nombres: Vec<String> = filas
        .iter()
        .map(|f| format!("{} {} ({})", f.tipo, f.tamano, f.backend))
        .collect();
    let porcentajes: Vec<f64> = filas
        .iter()
        .map(|f| 100.0 * f.fraccion_del_limite.unwrap_or(0.0))
        .collect();
    let tope = porcentajes.iter().copied().fold(100.0f64, f64::max) * 1.1;
    let n = filas.len().max(1);
    let mut grafico = ChartBuilder::on(area)
        .caption("Throughput against the device's limit", ("sans-serif", 24))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(64)
        .build_cartesian_2d(0f64..n as f64, 0f64..tope)
        .map_err(|e| anyhow!("{e:?}"))?;
    let categoria = categorias(&nombres);
    grafico
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n * 2 + 1)
        .x_label_formatter(&categoria)
        .y_desc("% of the device's peak in the kernel's unit")
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .draw()
        .map_err(|e| anyhow!("{e:?}"))?;
    grafico
        .draw_series(
            filas
                .iter()
                .zip(&porcentajes)
                .enumerate()
                .map(|(i, (f, v))| {
                    let x0 = i as f64 + 0.2;
                    Rectangle::new([(x0, 0.0), (x0 + 0.6, *v)], color(&f.backend).filled())
                }),
        )
        .map_err(|e| anyhow!("{e:?}"))?;
    grafico
        .draw_series(
            filas
                .iter()
                .zip(&porcentajes)
                .enumerate()
                .map(|(i, (f, v))| {
                    let texto = format!(
                        "{:.0}% of {} {}",
                        v,
                        super::informe::si(f.limite.unwrap_or(0.0)),
                        f.unidad
                    );
                    Text::new(texto, (i as f64 + 0.2, v + tope * 0.02), ("sans-serif", 14))
                }),
        )
        .map_err(|e| anyhow!("{e:?}"))?;
    grafico
        .draw_series(LineSeries::new(
            vec![(0.0, 100.0), (n as f64, 100.0)],
            BLACK.stroke_width(1),
        ))
        .map_err(|e| anyhow!("{e:?}"))?;
    area.present().map_err(|e| anyhow!("{e:?}"))?;
    Ok(())
}

/// What the cluster adds to a job (end to end minus kernel time) against the kernel time.
fn sobrecoste<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    filas: &[FilaResumen],
) -> anyhow::Result<()> {
    area.fill(&WHITE).map_err(|e| anyhow!("{e:?}"))?;
    let (xmin, xmax) = rango(filas.iter().map(|f| f.media_s));
    let (ymin, ymax) = rango(filas.iter().map(|f| f.sobrecoste_s.max(1e-6)));
    let mut grafico = ChartBuilder::on(area)
        .caption(
            "End to end minus kernel time: inputs, copies, checks, the cluster",
            ("sans-serif", 24),
        )
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(80)
        .build_cartesian_2d(
            (xmin / 2.0..xmax * 2.0).log_scale(),
            (ymin / 2.0..ymax * 2.0).log_scale(),
        )
        .map_err(|e| anyhow!("{e:?}"))?;
    grafico
        .configure_mesh()
        .x_desc("mean kernel time of a (tipo, size, backend)")
        .y_desc("end to end minus kernel time")
        .x_labels(8)
        .y_labels(8)
        .x_label_formatter(&|x| super::informe::segundos(*x))
        .y_label_formatter(&|y| super::informe::segundos(*y))
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .draw()
        .map_err(|e| anyhow!("{e:?}"))?;
    for backend in BACKENDS {
        let c = color(backend);
        let puntos: Vec<(f64, f64)> = filas
            .iter()
            .filter(|f| f.backend == backend)
            .map(|f| (f.media_s, f.sobrecoste_s.max(1e-6)))
            .collect();
        if puntos.is_empty() {
            continue;
        }
        grafico
            .draw_series(puntos.into_iter().map(|p| Circle::new(p, 5, c.filled())))
            .map_err(|e| anyhow!("{e:?}"))?
            .label(backend)
            .legend(move |(x, y)| Circle::new((x + 8, y), 5, c.filled()));
    }
    grafico
        .configure_series_labels()
        .label_font(("sans-serif", 16))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()
        .map_err(|e| anyhow!("{e:?}"))?;
    area.present().map_err(|e| anyhow!("{e:?}"))?;
    Ok(())
}

/// The smallest and largest positive value (1 and 10 when there is none).
fn rango(valores: impl Iterator<Item = f64>) -> (f64, f64) {
    let (a, b) = valores
        .filter(|v| *v > 0.0 && v.is_finite())
        .fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(v), b.max(v)));
    if a > b { (1.0, 10.0) } else { (a, b) }
}

/// Writes every chart of `filas` into `carpeta` as `<name>.png` and `<name>.svg`; returns the
/// PNGs' file names, in the order the report shows them.
pub fn dibujar(carpeta: &Path, filas: &[FilaResumen]) -> anyhow::Result<Vec<String>> {
    fuente();
    let mut por_tipo: BTreeMap<&str, Vec<&FilaResumen>> = BTreeMap::new();
    for f in filas {
        por_tipo.entry(&f.tipo).or_default().push(f);
    }
    let mut nombres = Vec::new();
    let mut guardar = |nombre: String,
                       png: &dyn Fn(&DrawingArea<BitMapBackend, Shift>) -> anyhow::Result<()>,
                       svg: &dyn Fn(&DrawingArea<SVGBackend, Shift>) -> anyhow::Result<()>|
     -> anyhow::Result<()> {
        let ruta = carpeta.join(format!("{nombre}.png"));
        png(&BitMapBackend::new(&ruta, TAMANO).into_drawing_area())?;
        let ruta = carpeta.join(format!("{nombre}.svg"));
        svg(&SVGBackend::new(&ruta, TAMANO).into_drawing_area())?;
        nombres.push(format!("{nombre}.png"));
        Ok(())
    };
    for (tipo, fs) in &por_tipo {
        guardar(format!("tiempo_{tipo}"), &|a| tiempo(a, tipo, fs), &|a| {
            tiempo(a, tipo, fs)
        })?;
    }
    guardar("aceleracion".into(), &|a| aceleraciones(a, filas), &|a| {
        aceleraciones(a, filas)
    })?;
    let medidas = con_limite(filas);
    if !medidas.is_empty() {
        guardar("limite".into(), &|a| limites(a, &medidas), &|a| {
            limites(a, &medidas)
        })?;
    }
    guardar("sobrecoste".into(), &|a| sobrecoste(a, filas), &|a| {
        sobrecoste(a, filas)
    })?;
    Ok(nombres)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::benchmark::informe::{Registro, resumir};

    #[test]
    fn every_chart_is_a_png_of_the_expected_size_and_an_svg() {
        let mut r = Vec::new();
        for (tamano, sec, par) in [(64, 0.002, 0.004), (256, 0.1, 0.03), (1024, 6.0, 0.9)] {
            for (backend, t) in [("Secuencial", sec), ("Paralelo", par)] {
                r.push(Registro {
                    tipo: "matmul".into(),
                    tamano,
                    parametros: serde_json::json!({}),
                    backend: backend.into(),
                    repeticion: 0,
                    id: 1,
                    esclavo: "e1".into(),
                    dispositivo: "cpu".into(),
                    kernel_s: t,
                    con_copias_s: None,
                    extremo_a_extremo_s: t + 0.003,
                    rendimiento: None,
                    unidad: String::new(),
                    limite: None,
                    checksum: String::new(),
                });
            }
        }
        let sin_limite = dibujar(tempfile::tempdir().unwrap().path(), &resumir(&r)).unwrap();
        assert!(!sin_limite.contains(&"limite.png".to_string()));
        // A Cuda row with its GPU's peak adds the chart of throughput against the limit.
        let mut cuda = r[0].clone();
        cuda.tamano = 1024;
        cuda.backend = "Cuda".into();
        cuda.kernel_s = 0.01;
        cuda.dispositivo = "cuda: NVIDIA H200".into();
        cuda.rendimiento = Some(20_000.0);
        cuda.unidad = "GFLOP/s".into();
        cuda.limite = Some(66_900.0);
        r.push(cuda);
        let carpeta = tempfile::tempdir().unwrap();
        let nombres = dibujar(carpeta.path(), &resumir(&r)).unwrap();
        if let Ok(ver) = std::env::var("HPC_GRAFICOS_VER") {
            for n in &nombres {
                std::fs::copy(carpeta.path().join(n), Path::new(&ver).join(n)).unwrap();
            }
        }
        assert_eq!(
            nombres,
            [
                "tiempo_matmul.png",
                "aceleracion.png",
                "limite.png",
                "sobrecoste.png"
            ]
        );
        for n in &nombres {
            let f = std::fs::File::open(carpeta.path().join(n)).unwrap();
            let lector = png::Decoder::new(std::io::BufReader::new(f))
                .read_info()
                .unwrap();
            let info = lector.info();
            assert_eq!((info.width, info.height), TAMANO, "{n}");
            let svg =
                std::fs::read_to_string(carpeta.path().join(n.replace(".png", ".svg"))).unwrap();
            let backend = if n == "limite.png" {
                "Cuda"
            } else {
                "Paralelo"
            };
            assert!(svg.starts_with("<svg") && svg.contains(backend), "{n}");
        }
    }
}

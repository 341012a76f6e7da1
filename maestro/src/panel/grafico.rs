//! Small SVG charts drawn on the server, no library: horizontal bars for counts now, lines
//! for values over time. Colours come from the style sheet through each series' class.

use std::fmt::Write as _;

/// A chart ready for a page: its title, a note, and its SVG markup.
pub struct Grafico {
    /// `data-grafico`.
    pub clave: &'static str,
    pub titulo: String,
    pub nota: String,
    pub svg: String,
}

/// One bar: label, value, CSS class.
pub struct Barra {
    pub etiqueta: String,
    pub valor: f64,
    pub clase: &'static str,
}

/// One line: its name, CSS class and `(seconds, value)` points in time order.
pub struct Linea {
    pub nombre: String,
    pub clase: &'static str,
    pub puntos: Vec<(f64, f64)>,
}

const ANCHO: f64 = 480.0;
const ALTO_BARRA: f64 = 26.0;
const ALTO_LINEAS: f64 = 180.0;
/// Room on the left for labels, and at the bottom of a line chart for its time axis.
const MARGEN_IZQ: f64 = 110.0;
const MARGEN_INF: f64 = 22.0;

/// Escapes text for SVG/HTML.
fn escapar(texto: &str) -> String {
    texto
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A number as the axis writes it: integers plainly, others with one decimal.
fn numero(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// Horizontal bars scaled to the largest value.
pub fn barras(barras: &[Barra]) -> String {
    let alto = ALTO_BARRA * barras.len().max(1) as f64;
    let maximo = barras.iter().map(|b| b.valor).fold(0.0, f64::max).max(1.0);
    let util = ANCHO - MARGEN_IZQ - 60.0;
    let mut svg = format!(
        r#"<svg class="grafico barras" viewBox="0 0 {ANCHO} {alto}" role="img" xmlns="http://www.w3.org/2000/svg">"#
    );
    for (i, b) in barras.iter().enumerate() {
        let y = i as f64 * ALTO_BARRA;
        let largo = (b.valor / maximo * util).max(if b.valor > 0.0 { 2.0 } else { 0.0 });
        let _ = write!(
            svg,
            r#"<text class="etiqueta" x="{x}" y="{ty}" text-anchor="end">{e}</text><rect class="{c}" x="{MARGEN_IZQ}" y="{ry}" width="{largo:.1}" height="{h}"/><text class="valor" x="{vx:.1}" y="{ty}">{v}</text>"#,
            x = MARGEN_IZQ - 8.0,
            ty = y + ALTO_BARRA * 0.68,
            e = escapar(&b.etiqueta),
            c = b.clase,
            ry = y + 4.0,
            h = ALTO_BARRA - 8.0,
            vx = MARGEN_IZQ + largo + 6.0,
            v = numero(b.valor),
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Lines over a shared time axis (seconds, the last point is "now"), scaled to the largest
/// value, with a legend.
pub fn lineas(lineas: &[Linea], unidad: &str) -> String {
    let puntos = lineas.iter().flat_map(|l| l.puntos.iter());
    let (t0, t1, maximo) = puntos.fold((f64::MAX, f64::MIN, 0.0f64), |(a, b, m), &(t, v)| {
        (a.min(t), b.max(t), m.max(v))
    });
    let mut svg = format!(
        r#"<svg class="grafico lineas" viewBox="0 0 {ANCHO} {ALTO_LINEAS}" role="img" xmlns="http://www.w3.org/2000/svg">"#
    );
    if t0 >= t1 {
        svg.push_str(r#"<text class="etiqueta" x="10" y="90">collecting data…</text></svg>"#);
        return svg;
    }
    let maximo = if maximo > 0.0 { maximo * 1.1 } else { 1.0 };
    let (x0, ancho, alto) = (40.0, ANCHO - 50.0, ALTO_LINEAS - MARGEN_INF - 8.0);
    let x = |t: f64| x0 + (t - t0) / (t1 - t0) * ancho;
    let y = |v: f64| 8.0 + alto - v / maximo * alto;
    let _ = write!(
        svg,
        r#"<line class="eje" x1="{x0}" y1="{yb}" x2="{xf}" y2="{yb}"/><text class="etiqueta" x="{x0}" y="16">{max} {u}</text><text class="etiqueta" x="{x0}" y="{ye}">−{span}</text><text class="etiqueta" x="{xf}" y="{ye}" text-anchor="end">now</text>"#,
        yb = y(0.0),
        xf = x0 + ancho,
        max = numero((maximo / 1.1 * 10.0).round() / 10.0),
        u = escapar(unidad),
        ye = ALTO_LINEAS - 4.0,
        span = super::formato::duracion_ms(((t1 - t0) * 1000.0) as u64),
    );
    for (i, l) in lineas.iter().enumerate() {
        let camino: Vec<String> = l
            .puntos
            .iter()
            .map(|&(t, v)| format!("{:.1},{:.1}", x(t), y(v)))
            .collect();
        let _ = write!(
            svg,
            r#"<polyline class="{c}" fill="none" points="{p}"/><text class="leyenda {c}" x="{lx}" y="{ly}">{n}</text>"#,
            c = l.clase,
            p = camino.join(" "),
            lx = x0 + 120.0 + 90.0 * i as f64,
            ly = 16.0,
            n = escapar(&l.nombre),
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_and_escape_their_labels() {
        let svg = barras(&[
            Barra {
                etiqueta: "a<b".into(),
                valor: 10.0,
                clase: "s1",
            },
            Barra {
                etiqueta: "c".into(),
                valor: 5.0,
                clase: "s2",
            },
        ]);
        assert!(svg.contains("a&lt;b"));
        let anchos: Vec<f64> = svg
            .match_indices("width=\"")
            .map(|(i, _)| {
                let resto = &svg[i + 7..];
                resto[..resto.find('"').unwrap()].parse().unwrap()
            })
            .collect();
        assert_eq!(anchos.len(), 2);
        assert!((anchos[0] - 2.0 * anchos[1]).abs() < 0.2, "{anchos:?}");
    }

    #[test]
    fn lines_without_a_time_span_say_so() {
        let vacia = lineas(&[], "jobs/s");
        assert!(vacia.contains("collecting data"));
        let svg = lineas(
            &[Linea {
                nombre: "alta".into(),
                clase: "s1",
                puntos: vec![(0.0, 1.0), (60.0, 3.0)],
            }],
            "jobs",
        );
        assert!(svg.contains("<polyline") && svg.contains("−1 min 00 s"));
    }
}

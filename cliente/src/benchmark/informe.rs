//! What `cliente benchmark` writes from its records: the statistics of each (tipo, size,
//! backend), the speedups, the CSV files and the Markdown report. Pure functions of the records,
//! so every figure of a report can be checked on fixed inputs.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use serde::{Deserialize, Serialize};

pub use crate::salida::segundos;

/// The backends in the order every table and chart lists them.
pub const BACKENDS: [&str; 3] = ["Secuencial", "Paralelo", "Cuda"];

/// One job of a benchmark run, as it went through the cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Registro {
    pub tipo: String,
    /// The tipo's size parameter (`n` of a matmul, the side of a Julia image…).
    pub tamano: u64,
    /// Every parameter of the job, as the maestro shows them.
    pub parametros: serde_json::Value,
    /// `Secuencial`, `Paralelo` or `Cuda`.
    pub backend: String,
    /// Which repetition of its (tipo, size, backend), from 0.
    pub repeticion: u32,
    /// The job's id in the maestro.
    pub id: u64,
    pub esclavo: String,
    /// The CPU model or GPU name that ran it.
    pub dispositivo: String,
    /// Kernel time, as the esclavo measured it.
    pub kernel_s: f64,
    /// Kernel time with the copies to and from the GPU, where there were any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub con_copias_s: Option<f64>,
    /// From the submit to the result, as this cliente saw it.
    pub extremo_a_extremo_s: f64,
    /// Work per second in `unidad`, where the tipo has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rendimiento: Option<f64>,
    pub unidad: String,
    /// The device's peak in `unidad`, where it is known ([`limite`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limite: Option<f64>,
    /// What the kernel reported to check its result by.
    pub checksum: String,
}

impl Registro {
    /// Which measurement of the plan it is: tipo, size, backend, repetition.
    pub fn clave(&self) -> (String, u64, String, u32) {
        (
            self.tipo.clone(),
            self.tamano,
            self.backend.clone(),
            self.repeticion,
        )
    }
}

/// n, mean, min, max, standard deviation (of the sample, n − 1) and median of some times.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estadisticas {
    pub n: usize,
    pub media: f64,
    pub min: f64,
    pub max: f64,
    pub desviacion: f64,
    pub mediana: f64,
}

/// The statistics of `xs`; `None` when it is empty. One value has a deviation of 0.
pub fn estadisticas(xs: &[f64]) -> Option<Estadisticas> {
    if xs.is_empty() {
        return None;
    }
    let n = xs.len();
    let media = xs.iter().sum::<f64>() / n as f64;
    let mut orden = xs.to_vec();
    orden.sort_by(f64::total_cmp);
    let mediana = if n % 2 == 1 {
        orden[n / 2]
    } else {
        (orden[n / 2 - 1] + orden[n / 2]) / 2.0
    };
    let desviacion = if n > 1 {
        (xs.iter().map(|x| (x - media).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
    } else {
        0.0
    };
    Some(Estadisticas {
        n,
        media,
        min: orden[0],
        max: orden[n - 1],
        desviacion,
        mediana,
    })
}

/// One line of `resumen.csv`: a (tipo, size, backend) and its figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FilaResumen {
    pub tipo: String,
    pub tamano: u64,
    pub backend: String,
    pub n: usize,
    pub media_s: f64,
    pub min_s: f64,
    pub max_s: f64,
    pub desviacion_s: f64,
    pub mediana_s: f64,
    /// Mean work per second, in `unidad`.
    pub rendimiento: Option<f64>,
    pub unidad: String,
    /// The device's peak in `unidad`, where known.
    pub limite: Option<f64>,
    /// `rendimiento` over `limite`: how near the device's limit the kernel ran.
    pub fraccion_del_limite: Option<f64>,
    /// Mean end-to-end time minus mean kernel time: what the cluster added.
    pub sobrecoste_s: f64,
    /// Mean `Secuencial` kernel time of the same (tipo, size) over this one's.
    pub aceleracion_vs_secuencial: Option<f64>,
    /// For `Cuda`: mean `Paralelo` time over this one's.
    pub cuda_vs_paralelo: Option<f64>,
}

/// The summary of `registros`, by tipo, size and backend (in [`BACKENDS`] order).
pub fn resumir(registros: &[Registro]) -> Vec<FilaResumen> {
    let mut grupos: BTreeMap<(String, u64, usize), Vec<&Registro>> = BTreeMap::new();
    for r in registros {
        let orden = BACKENDS
            .iter()
            .position(|b| *b == r.backend)
            .unwrap_or(BACKENDS.len());
        grupos
            .entry((r.tipo.clone(), r.tamano, orden))
            .or_default()
            .push(r);
    }
    let medias: BTreeMap<(String, u64, String), f64> = grupos
        .values()
        .filter_map(|g| {
            let kernel: Vec<f64> = g.iter().map(|r| r.kernel_s).collect();
            let e = estadisticas(&kernel)?;
            Some((
                (g[0].tipo.clone(), g[0].tamano, g[0].backend.clone()),
                e.media,
            ))
        })
        .collect();
    let media_de = |tipo: &str, tamano: u64, backend: &str| {
        medias
            .get(&(tipo.to_string(), tamano, backend.to_string()))
            .copied()
    };
    let mut filas = Vec::new();
    for g in grupos.values() {
        let r0 = g[0];
        let kernel: Vec<f64> = g.iter().map(|r| r.kernel_s).collect();
        let Some(e) = estadisticas(&kernel) else {
            continue;
        };
        let extremo = g.iter().map(|r| r.extremo_a_extremo_s).sum::<f64>() / g.len() as f64;
        let rendimientos: Vec<f64> = g.iter().filter_map(|r| r.rendimiento).collect();
        let razon = |otro: Option<f64>| otro.filter(|_| e.media > 0.0).map(|m| m / e.media);
        let rendimiento = estadisticas(&rendimientos).map(|e| e.media);
        let limite = g.iter().find_map(|r| r.limite);
        filas.push(FilaResumen {
            tipo: r0.tipo.clone(),
            tamano: r0.tamano,
            backend: r0.backend.clone(),
            n: e.n,
            media_s: e.media,
            min_s: e.min,
            max_s: e.max,
            desviacion_s: e.desviacion,
            mediana_s: e.mediana,
            rendimiento,
            unidad: r0.unidad.clone(),
            limite,
            fraccion_del_limite: rendimiento
                .zip(limite)
                .filter(|(_, l)| *l > 0.0)
                .map(|(r, l)| r / l),
            sobrecoste_s: (extremo - e.media).max(0.0),
            aceleracion_vs_secuencial: razon(media_de(&r0.tipo, r0.tamano, "Secuencial")),
            cuda_vs_paralelo: (r0.backend == "Cuda")
                .then(|| razon(media_de(&r0.tipo, r0.tamano, "Paralelo")))
                .flatten(),
        });
    }
    filas
}

/// The peak of a GPU with `limites` in the unit a `tipo` reports its throughput in, for the
/// kernels one of its peaks bounds: matmul (f32 FLOP/s, without tensor cores), vector_add
/// (memory bandwidth) and julia (FP64 instructions, [`kernels::julia::OPERACIONES_F64_POR_ITERACION`]
/// per iteration). `None` for the others, and where the peak is unknown.
pub fn limite(tipo: &str, unidad: &str, limites: &comun::nodo::LimitesGpu) -> Option<f64> {
    let giga = |v: Option<u64>| v.map(|v| v as f64);
    match (tipo, unidad) {
        ("matmul", "GFLOP/s") => giga(limites.pico_gflops_f32),
        ("vector_add", "GB/s") => giga(limites.ancho_banda_gb_s),
        ("julia", "iteraciones/s") => giga(limites.pico_gflops_f64).map(|g| {
            // FLOP/s count a fused multiply-add as two; the kernel's count is of instructions.
            g * 1e9 / 2.0 / f64::from(kernels::julia::OPERACIONES_F64_POR_ITERACION)
        }),
        _ => None,
    }
}

/// `resultados.csv`: one row per job.
pub fn csv_registros(w: impl Write, registros: &[Registro]) -> anyhow::Result<()> {
    let mut csv = csv::Writer::from_writer(w);
    csv.write_record([
        "tipo",
        "tamano",
        "backend",
        "repeticion",
        "id",
        "esclavo",
        "dispositivo",
        "kernel_s",
        "con_copias_s",
        "extremo_a_extremo_s",
        "rendimiento",
        "unidad",
        "limite",
        "checksum",
        "parametros",
    ])?;
    for r in registros {
        csv.write_record([
            r.tipo.clone(),
            r.tamano.to_string(),
            r.backend.clone(),
            r.repeticion.to_string(),
            r.id.to_string(),
            r.esclavo.clone(),
            r.dispositivo.clone(),
            r.kernel_s.to_string(),
            r.con_copias_s.map(|v| v.to_string()).unwrap_or_default(),
            r.extremo_a_extremo_s.to_string(),
            r.rendimiento.map(|v| v.to_string()).unwrap_or_default(),
            r.unidad.clone(),
            r.limite.map(|v| v.to_string()).unwrap_or_default(),
            r.checksum.clone(),
            r.parametros.to_string(),
        ])?;
    }
    csv.flush()?;
    Ok(())
}

/// `resumen.csv`: one row per (tipo, size, backend).
pub fn csv_resumen(w: impl Write, filas: &[FilaResumen]) -> anyhow::Result<()> {
    let mut csv = csv::Writer::from_writer(w);
    for f in filas {
        csv.serialize(f)?;
    }
    csv.flush()?;
    Ok(())
}

/// A reading of the summary, generated from its numbers: for each tipo, which backend is
/// fastest at its largest size and by how much, and where a faster backend overtakes
/// `Secuencial` (the first size from which it stays ahead).
pub fn lectura(filas: &[FilaResumen]) -> Vec<String> {
    let mut por_tipo: BTreeMap<&str, Vec<&FilaResumen>> = BTreeMap::new();
    for f in filas {
        por_tipo.entry(&f.tipo).or_default().push(f);
    }
    let mut frases = Vec::new();
    for (tipo, fs) in por_tipo {
        let mayor = fs.iter().map(|f| f.tamano).max().unwrap_or(0);
        let mut en_mayor: Vec<&&FilaResumen> = fs.iter().filter(|f| f.tamano == mayor).collect();
        en_mayor.sort_by(|a, b| a.media_s.total_cmp(&b.media_s));
        if let [mejor, siguiente, ..] = en_mayor[..] {
            frases.push(format!(
                "{tipo}: at size {mayor}, {} is fastest ({}), {:.2}× {} ({}).",
                mejor.backend,
                segundos(mejor.media_s),
                siguiente.media_s / mejor.media_s,
                siguiente.backend,
                segundos(siguiente.media_s)
            ));
        } else if let [solo] = en_mayor[..] {
            frases.push(format!(
                "{tipo}: only {} ran ({} at size {mayor}).",
                solo.backend,
                segundos(solo.media_s)
            ));
        }
        for f in en_mayor.iter().filter(|f| f.fraccion_del_limite.is_some()) {
            if let (Some(r), Some(l), Some(x)) = (f.rendimiento, f.limite, f.fraccion_del_limite) {
                frases.push(format!(
                    "{tipo}: {} at size {mayor} runs at {:.0}% of its device's limit ({} of {} {}).",
                    f.backend,
                    100.0 * x,
                    si(r),
                    si(l),
                    f.unidad
                ));
            }
        }
        for backend in ["Paralelo", "Cuda"] {
            let mut tamanos: Vec<(u64, f64)> = fs
                .iter()
                .filter(|f| f.backend == backend)
                .filter_map(|f| Some((f.tamano, f.aceleracion_vs_secuencial?)))
                .collect();
            tamanos.sort_by_key(|(t, _)| *t);
            if tamanos.is_empty() {
                continue;
            }
            // The first size from which it stays faster than Secuencial.
            let desde = tamanos
                .iter()
                .rposition(|(_, a)| *a <= 1.0)
                .map_or(Some(0), |i| (i + 1 < tamanos.len()).then_some(i + 1));
            frases.push(match desde {
                Some(0) => format!("{tipo}: {backend} beats Secuencial at every size measured."),
                Some(i) => format!(
                    "{tipo}: {backend} overtakes Secuencial from size {} (slower up to {}).",
                    tamanos[i].0,
                    tamanos[i - 1].0
                ),
                None => format!("{tipo}: {backend} is not faster than Secuencial at any size measured up to {}.", tamanos[tamanos.len() - 1].0),
            });
        }
    }
    frases
}

/// Whether the backends agree, from the checksums the kernels reported: for each tipo measured
/// on more than one backend, either every job at each size reported the same checksum (exact
/// agreement), or at how many sizes they differ, and whether each backend at least repeated its
/// own checksum (a deterministic kernel whose backends sum in different orders).
pub fn acuerdo(registros: &[Registro]) -> Vec<String> {
    type PorBackend<'a> = BTreeMap<&'a str, BTreeSet<&'a str>>;
    let mut por_tipo: BTreeMap<&str, BTreeMap<u64, PorBackend>> = BTreeMap::new();
    for r in registros {
        por_tipo
            .entry(&r.tipo)
            .or_default()
            .entry(r.tamano)
            .or_default()
            .entry(&r.backend)
            .or_default()
            .insert(&r.checksum);
    }
    let mut frases = Vec::new();
    for (tipo, tamanos) in por_tipo {
        let backends: BTreeSet<&str> = tamanos.values().flat_map(|b| b.keys().copied()).collect();
        if backends.len() < 2 {
            continue;
        }
        let nombres: Vec<&str> = BACKENDS
            .iter()
            .copied()
            .filter(|b| backends.contains(b))
            .collect();
        let difieren = tamanos
            .values()
            .filter(|b| b.values().flatten().collect::<BTreeSet<_>>().len() > 1)
            .count();
        let repetibles = tamanos
            .values()
            .flat_map(|b| b.values())
            .all(|c| c.len() == 1);
        frases.push(if difieren == 0 {
            format!(
                "{tipo}: {} reported the same checksum at every size measured: exact agreement.",
                nombres.join(", ")
            )
        } else {
            format!(
                "{tipo}: the backends' checksums differ at {difieren} of {} sizes (floating-point \
                 sums in another order: compare within the kernel's tolerance, docs/kernels.md){}.",
                tamanos.len(),
                if repetibles {
                    "; each backend repeated its own exactly"
                } else {
                    ""
                }
            )
        });
    }
    frases
}

/// `BENCHMARK_REPORT.md`: the environment, the method, the summary table, the charts, the
/// reading generated from the numbers, and the notes (a backend left out, and why).
pub fn markdown(
    entorno: &[(String, String)],
    metodo: &[String],
    filas: &[FilaResumen],
    acuerdos: &[String],
    graficos: &[String],
    notas: &[String],
) -> String {
    let mut md = String::from("# Benchmark report\n\n## Environment\n\n| | |\n|---|---|\n");
    for (k, v) in entorno {
        md.push_str(&format!("| {k} | {v} |\n"));
    }
    md.push_str("\n## Method\n\n");
    for m in metodo {
        md.push_str(&format!("- {m}\n"));
    }
    if !notas.is_empty() {
        md.push_str("\n## Notes\n\n");
        for n in notas {
            md.push_str(&format!("- {n}\n"));
        }
    }
    md.push_str("\n## Results\n\nKernel time per job, as the esclavo measured it; speedups are ratios of mean kernel times at the same size.\n\n");
    md.push_str("| tipo | size | backend | n | mean | min | max | std dev | median | throughput | of limit | overhead | × Secuencial | Cuda × Paralelo |\n");
    md.push_str("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    let razon = |r: Option<f64>| r.map(|r| format!("{r:.2}")).unwrap_or_else(|| "–".into());
    for f in filas {
        let rendimiento = f
            .rendimiento
            .map(|r| format!("{} {}", si(r), f.unidad))
            .unwrap_or_else(|| "–".into());
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            f.tipo,
            f.tamano,
            f.backend,
            f.n,
            segundos(f.media_s),
            segundos(f.min_s),
            segundos(f.max_s),
            segundos(f.desviacion_s),
            segundos(f.mediana_s),
            rendimiento,
            f.fraccion_del_limite
                .map(|x| format!("{:.0}%", 100.0 * x))
                .unwrap_or_else(|| "–".into()),
            segundos(f.sobrecoste_s),
            razon(f.aceleracion_vs_secuencial),
            razon(f.cuda_vs_paralelo),
        ));
    }
    md.push_str("\n## Reading\n\n");
    for l in lectura(filas) {
        md.push_str(&format!("- {l}\n"));
    }
    if !acuerdos.is_empty() {
        md.push_str("\n## Agreement\n\n");
        for a in acuerdos {
            md.push_str(&format!("- {a}\n"));
        }
    }
    md.push_str("\n## Charts\n\n");
    for g in graficos {
        md.push_str(&format!("![{g}]({g})\n\n"));
    }
    md
}

/// A quantity for people, with an SI prefix and three significant digits: `293 M`, `1.56`,
/// `18.3 k`.
pub fn si(x: f64) -> String {
    let (v, prefijo) = match x.abs() {
        a if a >= 1e12 => (x / 1e12, " T"),
        a if a >= 1e9 => (x / 1e9, " G"),
        a if a >= 1e6 => (x / 1e6, " M"),
        a if a >= 1e4 => (x / 1e3, " k"),
        _ => (x, ""),
    };
    let decimales = match v.abs() {
        a if a >= 100.0 => 0,
        a if a >= 10.0 => 1,
        _ => 2,
    };
    format!("{v:.decimales$}{prefijo}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registro(tipo: &str, tamano: u64, backend: &str, kernel_s: f64, extremo: f64) -> Registro {
        Registro {
            tipo: tipo.into(),
            tamano,
            parametros: serde_json::json!({ "n": tamano }),
            backend: backend.into(),
            repeticion: 0,
            id: 1,
            esclavo: "e1".into(),
            dispositivo: "cpu".into(),
            kernel_s,
            con_copias_s: None,
            extremo_a_extremo_s: extremo,
            rendimiento: Some(2.0 / kernel_s),
            unidad: "GFLOP/s".into(),
            limite: None,
            checksum: "c".into(),
        }
    }

    #[test]
    fn quantities_read_with_si_prefixes() {
        assert_eq!(si(292_606_393.4), "293 M");
        assert_eq!(si(1.564), "1.56");
        assert_eq!(si(18_275.0), "18.3 k");
        assert_eq!(si(2.5e9), "2.50 G");
    }

    #[test]
    fn statistics_of_fixed_samples() {
        let e = estadisticas(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]).unwrap();
        assert_eq!(
            (e.n, e.media, e.min, e.max, e.mediana),
            (8, 5.0, 2.0, 9.0, 4.5)
        );
        assert!((e.desviacion - (32.0f64 / 7.0).sqrt()).abs() < 1e-12);
        let uno = estadisticas(&[3.0]).unwrap();
        assert_eq!((uno.desviacion, uno.mediana), (0.0, 3.0));
        assert_eq!(estadisticas(&[1.0, 3.0, 2.0]).unwrap().mediana, 2.0);
        assert!(estadisticas(&[]).is_none());
    }

    #[test]
    fn the_summary_has_speedups_against_secuencial_and_cuda_against_paralelo() {
        let r = [
            registro("matmul", 256, "Secuencial", 0.8, 0.85),
            registro("matmul", 256, "Secuencial", 1.2, 1.25),
            registro("matmul", 256, "Paralelo", 0.25, 0.3),
            registro("matmul", 256, "Cuda", 0.05, 0.2),
            registro("matmul", 64, "Paralelo", 0.1, 0.1),
        ];
        let f = resumir(&r);
        let claves: Vec<(u64, &str)> = f.iter().map(|f| (f.tamano, f.backend.as_str())).collect();
        assert_eq!(
            claves,
            [
                (64, "Paralelo"),
                (256, "Secuencial"),
                (256, "Paralelo"),
                (256, "Cuda")
            ]
        );
        let sec = &f[1];
        assert_eq!((sec.n, sec.media_s), (2, 1.0));
        assert_eq!(sec.aceleracion_vs_secuencial, Some(1.0));
        assert!((sec.sobrecoste_s - 0.05).abs() < 1e-12);
        assert_eq!(f[2].aceleracion_vs_secuencial, Some(4.0));
        assert_eq!(f[2].cuda_vs_paralelo, None);
        assert_eq!(f[3].aceleracion_vs_secuencial, Some(20.0));
        assert_eq!(f[3].cuda_vs_paralelo, Some(5.0));
        // No Secuencial at 64: no speedup to give.
        assert_eq!(f[0].aceleracion_vs_secuencial, None);
    }

    #[test]
    fn csv_files_have_their_columns_and_a_row_per_job_or_group() {
        let r = [
            registro("fft", 1024, "Secuencial", 0.5, 0.6),
            registro("fft", 1024, "Paralelo", 0.25, 0.3),
        ];
        let mut salida = Vec::new();
        csv_registros(&mut salida, &r).unwrap();
        let texto = String::from_utf8(salida).unwrap();
        let lineas: Vec<&str> = texto.lines().collect();
        assert_eq!(lineas.len(), 3);
        assert!(
            lineas[0].starts_with("tipo,tamano,backend,repeticion,id,esclavo,dispositivo,kernel_s")
        );
        assert!(
            lineas[2].starts_with("fft,1024,Paralelo,0,1,e1,cpu,0.25,,0.3,"),
            "{}",
            lineas[2]
        );
        let mut salida = Vec::new();
        csv_resumen(&mut salida, &resumir(&r)).unwrap();
        let texto = String::from_utf8(salida).unwrap();
        let cabecera = texto.lines().next().unwrap();
        assert_eq!(
            cabecera,
            "tipo,tamano,backend,n,media_s,min_s,max_s,desviacion_s,mediana_s,rendimiento,unidad,\
             limite,fraccion_del_limite,sobrecoste_s,aceleracion_vs_secuencial,cuda_vs_paralelo"
        );
        assert_eq!(texto.lines().count(), 3);
    }

    #[test]
    fn the_reading_is_made_of_the_numbers() {
        let r = [
            registro("matmul", 64, "Secuencial", 0.01, 0.02),
            registro("matmul", 64, "Paralelo", 0.02, 0.03),
            registro("matmul", 512, "Secuencial", 1.0, 1.1),
            registro("matmul", 512, "Paralelo", 0.25, 0.3),
        ];
        let l = lectura(&resumir(&r));
        assert_eq!(
            l,
            [
                "matmul: at size 512, Paralelo is fastest (250.0 ms), 4.00× Secuencial (1.00 s).",
                "matmul: Paralelo overtakes Secuencial from size 512 (slower up to 64).",
            ]
        );
        let l = lectura(&resumir(&[registro("fft", 8, "Paralelo", 1.0, 1.0)]));
        assert_eq!(l, ["fft: only Paralelo ran (1.00 s at size 8)."]);
    }

    #[test]
    fn each_bounded_kernel_is_measured_against_its_own_peak() {
        // An H100 SXM: 132 SMs at 1.98 GHz, 5120-bit HBM3 at 2.619 GHz.
        let h100 = comun::nodo::LimitesGpu {
            pico_gflops_f32: Some(66_908),
            pico_gflops_f64: Some(33_454),
            ancho_banda_gb_s: Some(3_352),
        };
        assert_eq!(limite("matmul", "GFLOP/s", &h100), Some(66_908.0));
        assert_eq!(limite("vector_add", "GB/s", &h100), Some(3_352.0));
        let julia = limite("julia", "iteraciones/s", &h100).unwrap();
        assert!((julia - 33_454e9 / 2.0 / 9.0).abs() < 1.0, "{julia}");
        assert_eq!(limite("montecarlo", "muestras/s", &h100), None);
        assert_eq!(limite("fft", "GFLOP/s", &h100), None);
        let sin_f64 = comun::nodo::LimitesGpu {
            pico_gflops_f64: None,
            ..h100
        };
        assert_eq!(limite("julia", "iteraciones/s", &sin_f64), None);

        // The summary and the reading give the fraction of the limit reached.
        let mut cuda = registro("matmul", 4096, "Cuda", 0.004, 0.05);
        cuda.rendimiento = Some(16_727.0);
        cuda.limite = Some(66_908.0);
        let filas = resumir(&[cuda, registro("matmul", 4096, "Paralelo", 1.0, 1.0)]);
        let f = filas.iter().find(|f| f.backend == "Cuda").unwrap();
        assert_eq!(f.fraccion_del_limite, Some(0.25));
        assert_eq!(filas[0].fraccion_del_limite, None);
        assert!(
            lectura(&filas).contains(
                &"matmul: Cuda at size 4096 runs at 25% of its device's limit (16.7 k of 66.9 k GFLOP/s)."
                    .to_string()
            ),
            "{:?}",
            lectura(&filas)
        );
        assert!(markdown(&[], &[], &filas, &[], &[], &[]).contains("| 25% |"));
    }

    #[test]
    fn agreement_is_read_from_the_checksums() {
        let con = |tipo: &str, tamano, backend: &str, checksum: &str| Registro {
            checksum: checksum.into(),
            ..registro(tipo, tamano, backend, 1.0, 1.0)
        };
        let r = [
            con("julia", 64, "Secuencial", "a"),
            con("julia", 64, "Paralelo", "a"),
            con("julia", 64, "Cuda", "a"),
            con("julia", 128, "Paralelo", "b"),
            con("julia", 128, "Secuencial", "b"),
            con("matmul", 64, "Secuencial", "x"),
            con("matmul", 64, "Secuencial", "x"),
            con("matmul", 64, "Paralelo", "y"),
            con("matmul", 128, "Secuencial", "z"),
            con("matmul", 128, "Paralelo", "z"),
            con("fft", 8, "Paralelo", "p"),
            con("fft", 8, "Paralelo", "q"),
            con("fft", 8, "Secuencial", "p"),
            con("espera", 1, "Paralelo", "e"),
        ];
        assert_eq!(
            acuerdo(&r),
            [
                "fft: the backends' checksums differ at 1 of 1 sizes (floating-point sums in \
                 another order: compare within the kernel's tolerance, docs/kernels.md).",
                "julia: Secuencial, Paralelo, Cuda reported the same checksum at every size \
                 measured: exact agreement.",
                "matmul: the backends' checksums differ at 1 of 2 sizes (floating-point sums in \
                 another order: compare within the kernel's tolerance, docs/kernels.md); each \
                 backend repeated its own exactly.",
            ]
        );
        let md = markdown(&[], &[], &[], &acuerdo(&r), &[], &[]);
        assert!(md.contains("## Agreement\n\n- fft: "), "{md}");
    }
}

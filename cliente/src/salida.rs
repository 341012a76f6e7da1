//! What people read: tables (comfy-table) and short descriptions of the maestro's answers.
//! Scripts get JSON instead ([`json`]).

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, Table};
use comun::api::{
    Detalle, EstadoCluster, InfoAlmacen, InfoReplica, InformeArchivo, LineaRechazada, Resultado,
    Resumen, Trabajo,
};
use comun::{Algoritmo, Estado};
use serde::Serialize;

mod detalle;
pub use detalle::resultado;

/// Prints `v` as pretty JSON on stdout.
pub fn json<T: Serialize + ?Sized>(v: &T) {
    match serde_json::to_string_pretty(v) {
        Ok(t) => println!("{t}"),
        Err(e) => eprintln!("cannot write JSON: {e}"),
    }
}

/// An empty table with a header, in the house style.
pub fn tabla<const N: usize>(cabecera: [&str; N]) -> Table {
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED).set_header(cabecera);
    t
}

/// Right-aligns the given columns (numbers).
pub fn alinear_derecha(t: &mut Table, columnas: &[usize]) {
    for &i in columnas {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
}

/// `12 jobs: 3 pendientes, 2 asignados, 6 completados, 1 fallidos, 0 cancelados`.
pub fn resumen(r: &Resumen) -> String {
    format!(
        "{} jobs: {} pendientes, {} asignados, {} completados, {} fallidos, {} cancelados",
        r.total(),
        r.pendientes,
        r.asignados,
        r.completados,
        r.fallidos,
        r.cancelados
    )
}

/// The `estado` view: counts, queue by priority, esclavos, watched file.
pub fn estado(url: &str, e: &EstadoCluster) -> String {
    let mut s = format!(
        "maestro {url}\n{}\n{}\n\n",
        resumen(&e.resumen),
        almacen(&e.almacen)
    );
    if !e.replicas.is_empty() {
        s.push_str(&format!("Maestro replicas\n{}\n\n", replicas(&e.replicas)));
    }
    let mut cola = tabla(["prioridad", "pendientes", "asignados"]);
    for c in &e.cola {
        cola.add_row(vec![
            c.prioridad.to_string(),
            c.pendientes.to_string(),
            c.asignados.to_string(),
        ]);
    }
    alinear_derecha(&mut cola, &[1, 2]);
    s.push_str(&format!("Queue by priority\n{cola}\n\n"));
    if e.esclavos.is_empty() {
        s.push_str(
            "Esclavos: none registered (start one with `esclavo`, or use `cliente local`)\n",
        );
    } else {
        s.push_str(&format!("Esclavos\n{}\n", esclavos(e)));
    }
    if let Some(a) = &e.archivo {
        s.push('\n');
        s.push_str(&archivo(a));
    }
    s
}

/// `store: postgresql hpc@db:5432/hpc, healthy (last commit 0 s ago)`.
fn almacen(a: &InfoAlmacen) -> String {
    let mut s = format!("store: {} {}, ", a.tipo, a.ubicacion);
    if a.sano {
        s.push_str("healthy");
    } else {
        s.push_str("UNREACHABLE");
    }
    if let Some(t) = a.ultimo_commit_ms {
        s.push_str(&format!(" (last commit {} ago)", hace(t)));
    }
    if a.retenidos > 0 {
        s.push_str(&format!("; {} changes held until it is back", a.retenidos));
    }
    if let (Some(e), Some(t)) = (&a.error, a.error_ms) {
        s.push_str(&format!("\nlast store error, {} ago: {e}", hace(t)));
    }
    s
}

fn replicas(r: &[InfoReplica]) -> Table {
    let mut t = tabla(["replica", "url", "role", "leads since", "epoch", "seen"]);
    for x in r {
        let papel = x.papel();
        t.add_row(vec![
            x.nombre.clone(),
            x.url.clone(),
            papel.into(),
            x.lider_desde_ms.map_or("-".into(), |d| {
                format!("{} ({} ago)", comun::fecha::iso8601(d), hace(d))
            }),
            x.epoca.map_or("-".into(), |e| e.to_string()),
            format!("{} ago", hace(x.visto_ms)),
        ]);
    }
    t
}

fn esclavos(e: &EstadoCluster) -> Table {
    let mut t = tabla([
        "nombre",
        "url",
        "nodo",
        "vivo",
        "ejecutando",
        "cpu %",
        "completados",
        "gpu",
    ]);
    for x in &e.esclavos {
        let vivo = if x.vivo {
            "sí".to_string()
        } else {
            format!("no ({} s sin latido)", x.ultimo_latido_hace_ms / 1000)
        };
        let gpu = x.capacidades.resumen_gpus().map_or("-".to_string(), |g| {
            format!("{g} ({}/{} Cuda)", x.ejecutando_gpu, x.capacidad_gpu)
        });
        t.add_row(vec![
            x.nombre.clone(),
            x.url.clone(),
            x.nodo.clone(),
            vivo,
            format!("{}/{}", x.ejecutando, x.capacidad),
            format!("{:.0}", x.carga.cpu),
            x.completados.to_string(),
            gpu,
        ]);
    }
    alinear_derecha(&mut t, &[4, 5, 6]);
    t
}

/// What the maestro made of its watched jobs file.
pub fn archivo(a: &InformeArchivo) -> String {
    let cuando = match a.leido_ms {
        Some(ms) => format!("read {} ago", hace(ms)),
        None => "not read yet".into(),
    };
    let mut s = format!(
        "Watched file {} ({cuando}; {} jobs queued from it since the maestro started)\n",
        a.archivo, a.cargados
    );
    if let Some(e) = &a.error {
        s.push_str(&format!("  error: {e}\n"));
    }
    if !a.rechazadas.is_empty() {
        s.push_str(&format!("{}\n", rechazadas(&a.rechazadas)));
    }
    s
}

/// Rejected lines of a jobs file: number, text, reason.
pub fn rechazadas(r: &[LineaRechazada]) -> Table {
    let mut t = tabla(["línea", "texto", "motivo"]);
    for l in r {
        t.add_row(vec![l.linea.to_string(), l.texto.clone(), l.motivo.clone()]);
    }
    alinear_derecha(&mut t, &[0]);
    t
}

/// A table of jobs: the columns of [`fila_de_trabajo`], then `extra`.
pub fn tabla_de_trabajos(extra: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED).set_header(
        [
            "id",
            "trabajo",
            "algoritmo",
            "prioridad",
            "estado",
            "esclavo",
            "duración",
        ]
        .iter()
        .chain(extra),
    );
    t
}

/// The first cells of a job's row in a [`tabla_de_trabajos`]: id, what it computes, algoritmo,
/// prioridad, estado, esclavo, duración (columns 0 and 6 are numbers).
pub fn fila_de_trabajo(x: &Trabajo) -> Vec<String> {
    vec![
        x.id.to_string(),
        x.parametros.descripcion(),
        algoritmo(x),
        x.prioridad.to_string(),
        x.estado.to_string(),
        x.esclavo.clone().unwrap_or_else(|| "-".into()),
        duracion(x),
    ]
}

/// The `trabajos` table.
pub fn trabajos(ts: &[Trabajo]) -> Table {
    let mut t = tabla_de_trabajos(&["origen"]);
    for x in ts {
        let mut fila = fila_de_trabajo(x);
        fila.push(x.origen.to_string());
        t.add_row(fila);
    }
    alinear_derecha(&mut t, &[0, 6]);
    t
}

/// The algoritmo column: meaningless for `espera` jobs.
pub fn algoritmo(t: &Trabajo) -> String {
    match t.parametros {
        comun::Parametros::Espera(_) if t.algoritmo != Algoritmo::Cuda => "-".into(),
        // The original name the user asked for, kept beside the backend that ran it.
        _ => match &t.algoritmo_pedido {
            Some(p) => format!("{} ({p})", t.algoritmo),
            None => t.algoritmo.to_string(),
        },
    }
}

/// Kernel time of a finished job, time so far of a running one.
pub fn duracion(t: &Trabajo) -> String {
    if let Some(r) = &t.resultado {
        return segundos(r.duracion_s);
    }
    match (t.estado, t.iniciado_ms, t.terminado_ms) {
        (Estado::Asignado, Some(i), _) => {
            format!(
                "{} …",
                segundos(comun::ahora_ms().saturating_sub(i) as f64 / 1e3)
            )
        }
        (_, Some(i), Some(f)) => segundos(f.saturating_sub(i) as f64 / 1e3),
        _ => "-".into(),
    }
}

/// The throughput of a result in its kernel's unit: iter/s, GFLOP/s, GB/s, samples/s,
/// interactions/s.
pub fn iteraciones_por_segundo(r: Option<&Resultado>) -> String {
    match r.map(|r| &r.detalle) {
        Some(Detalle::Julia {
            iteraciones_por_segundo,
            ..
        }) => cantidad(*iteraciones_por_segundo),
        Some(Detalle::Matmul { gflops, .. }) => format!("{gflops:.1} GFLOP/s"),
        Some(Detalle::VectorAdd { gbps, .. }) => format!("{gbps:.1} GB/s"),
        Some(Detalle::Montecarlo {
            muestras_por_segundo,
            ..
        }) => format!("{} muestras/s", cantidad(*muestras_por_segundo)),
        Some(Detalle::Nbody {
            interacciones_por_segundo,
            ..
        }) => format!("{} int/s", cantidad(*interacciones_por_segundo)),
        _ => "-".into(),
    }
}

/// `1 job`, `3 jobs`: a count and its noun.
pub fn cuenta(n: impl Into<u64>, singular: &str, plural: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { singular } else { plural })
}

/// `0.84 ms`, `12.3 ms`, `4.20 s`.
pub fn segundos(s: f64) -> String {
    if s < 1e-3 {
        format!("{:.0} µs", s * 1e6)
    } else if s < 1.0 {
        format!("{:.1} ms", s * 1e3)
    } else {
        format!("{s:.2} s")
    }
}

/// `950`, `12.3 k`, `4.56 M`, `1.23 G`.
pub fn cantidad(v: f64) -> String {
    let (d, u) = match v {
        v if v >= 1e9 => (1e9, " G"),
        v if v >= 1e6 => (1e6, " M"),
        v if v >= 1e3 => (1e3, " k"),
        _ => return format!("{v:.0}"),
    };
    format!("{:.2}{u}", v / d)
}

/// How long ago an instant of the wire was: `3 s`, `2 min`.
fn hace(ms: u64) -> String {
    let s = comun::ahora_ms().saturating_sub(ms) / 1000;
    if s < 120 {
        format!("{s} s")
    } else {
        format!("{} min", s / 60)
    }
}

/// One job in detail: what it is, where it is, its result and its attempts.
pub fn detalle(t: &Trabajo) -> String {
    let mut s = format!(
        "job {}: {} ({}), prioridad {}\nestado: {}\norigen: {}\n",
        t.id,
        t.parametros.descripcion(),
        algoritmo(t),
        t.prioridad,
        t.estado,
        t.origen
    );
    if let Some(id) = &t.task_id {
        s.push_str(&format!("task_id: {id}\n"));
    }
    if let Some(d) = &t.descripcion {
        s.push_str(&format!("description: {d}\n"));
    }
    if let Some(e) = &t.esclavo {
        s.push_str(&format!("esclavo: {e}\n"));
    }
    if let Some(m) = &t.motivo {
        s.push_str(&format!("motivo: {m}\n"));
    }
    if let Some(p) = t.plazo_s {
        s.push_str(&format!("time limit: {p} s per attempt\n"));
    }
    if let (Some(i), Some(f)) = (t.iniciado_ms, t.terminado_ms) {
        s.push_str(&format!(
            "queued {} before it started; {} from start to end\n",
            segundos(i.saturating_sub(t.creado_ms) as f64 / 1e3),
            segundos(f.saturating_sub(i) as f64 / 1e3)
        ));
    }
    if let Some(r) = &t.resultado {
        s.push_str(&resultado(r));
    }
    if !t.intentos.is_empty() {
        s.push_str(&format!("Attempts\n{}\n", intentos(t)));
    }
    s
}

fn intentos(t: &Trabajo) -> Table {
    let mut tabla = tabla(["#", "esclavo", "duración", "error"]);
    for i in &t.intentos {
        let d = i.fin_ms.map_or("running".into(), |f| {
            segundos(f.saturating_sub(i.inicio_ms) as f64 / 1e3)
        });
        tabla.add_row(vec![
            i.numero.to_string(),
            i.esclavo.clone(),
            d,
            i.error.clone().unwrap_or_else(|| "-".into()),
        ]);
    }
    tabla
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_like_a_person_writes_them() {
        assert_eq!(segundos(0.0004), "400 µs");
        assert_eq!(segundos(0.0123), "12.3 ms");
        assert_eq!(segundos(4.2), "4.20 s");
        assert_eq!(cantidad(950.0), "950");
        assert_eq!(cantidad(12_300.0), "12.30 k");
        assert_eq!(cantidad(1.23e9), "1.23 G");
    }

    #[test]
    fn a_job_s_detail_shows_its_time_limit_why_it_waits_and_each_attempt_s_error() {
        use comun::api::{Intento, Origen};
        use comun::trabajo::ParamsEspera;
        use comun::{Parametros, Prioridad, TrabajoId};
        let error = "time limit of 1 s exceeded";
        let t = Trabajo {
            id: TrabajoId(3),
            parametros: Parametros::Espera(ParamsEspera { ms: 5000 }),
            algoritmo: Algoritmo::Secuencial,
            prioridad: Prioridad::MEDIA,
            estado: Estado::Pendiente,
            intentos: vec![Intento {
                numero: 1,
                esclavo: "e1".into(),
                inicio_ms: 0,
                fin_ms: Some(1_000),
                error: Some(error.into()),
            }],
            esclavo: None,
            creado_ms: 0,
            iniciado_ms: Some(0),
            terminado_ms: None,
            origen: Origen::Api,
            plazo_s: Some(1),
            resultado: None,
            motivo: Some(format!(
                "retry 1 after an error, in 0.8 s (last error: {error})"
            )),
            task_id: None,
            descripcion: None,
            algoritmo_pedido: None,
        };
        let texto = detalle(&t);
        assert!(texto.contains("time limit: 1 s per attempt"), "{texto}");
        assert!(texto.contains("motivo: retry 1 after an error"), "{texto}");
        assert!(
            texto.contains("e1") && texto.matches(error).count() == 2,
            "{texto}"
        );
        let sin_plazo = Trabajo {
            plazo_s: None,
            ..t.clone()
        };
        assert!(!detalle(&sin_plazo).contains("time limit:"));
        let tarea = Trabajo {
            task_id: Some("task_007".into()),
            descripcion: Some("100 bodies".into()),
            algoritmo_pedido: Some("Numpy".into()),
            algoritmo: Algoritmo::Paralelo,
            parametros: comun::Parametros::Julia(
                comun::trabajo::ParamsJulia::new(8, 8, 10).unwrap(),
            ),
            ..t
        };
        let texto = detalle(&tarea);
        assert!(
            texto.contains("task_id: task_007\ndescription: 100 bodies\n"),
            "{texto}"
        );
        assert!(texto.contains("(Paralelo (Numpy))"), "{texto}");
    }
}

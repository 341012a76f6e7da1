//! `estadisticas` (alias `stats`): the maestro's statistics as tables (`GET /estadisticas`),
//! or one esclavo's history (`GET /esclavos/{nombre}`) with `--esclavo`; `--json` prints the
//! answer as it came.

use comfy_table::Table;
use comun::estadisticas::{
    Distribucion, Estadisticas, HistorialEsclavo, IntentoReciente, Rendimiento,
};

use crate::Contexto;
use crate::args::ArgsEstadisticas;
use crate::error::Error;
use crate::salida::{self, alinear_derecha, segundos, tabla};

/// Runs the verb.
pub async fn estadisticas(cx: &Contexto, a: &ArgsEstadisticas) -> Result<u8, Error> {
    match &a.esclavo {
        Some(nombre) => {
            let h = cx.maestro.esclavo(nombre).await?;
            cx.mostrar(&h, || historial(&h));
        }
        None => {
            let e = cx.maestro.estadisticas().await?;
            cx.mostrar(&e, || general(&e));
        }
    }
    Ok(0)
}

/// `mean / p50 / p95 / max` of a distribution.
fn distribucion(d: &Distribucion) -> String {
    if d.muestras == 0 {
        return "-".into();
    }
    format!(
        "{} / {} / {} / {}",
        segundos(d.media_s),
        segundos(d.p50_s),
        segundos(d.p95_s),
        segundos(d.max_s)
    )
}

/// The whole statistics view.
pub fn general(e: &Estadisticas) -> String {
    let horas = e.ahora_ms.saturating_sub(e.inicio_ms) as f64 / 3.6e6;
    let mut s = format!(
        "{}\nmaestro up {horas:.2} h\n\n{}",
        salida::resumen(&e.trabajos),
        rendimiento(&e.rendimiento)
    );
    if e.esclavos.is_empty() {
        s.push_str("Esclavos: none registered\n");
        return s;
    }
    let mut t = tabla([
        "esclavo",
        "vivo",
        "ranuras",
        "ocupadas",
        "uso",
        "ventana",
        "completados",
        "fallidos",
    ]);
    for u in &e.esclavos {
        t.add_row(vec![
            u.nombre.clone(),
            if u.vivo { "sí" } else { "no" }.into(),
            u.capacidad.to_string(),
            u.ejecutando.to_string(),
            format!("{:.0}%", u.utilizacion * 100.0),
            format!("{:.0} s", u.ventana_s),
            u.completados.to_string(),
            u.fallidos.to_string(),
        ]);
    }
    alinear_derecha(&mut t, &[2, 3, 4, 5, 6, 7]);
    s.push_str(&format!("Esclavos: slot utilisation\n{t}\n"));
    s
}

/// Throughput, times by tipo and backend, speedups.
fn rendimiento(r: &Rendimiento) -> String {
    let c = &r.caudal;
    let mut s = format!(
        "Throughput: {:.2} jobs/s over the last minute ({} jobs), {:.2} jobs/s since start \
         ({} completados, {} fallidos)\n\n",
        c.ultimo_minuto_por_s,
        c.terminados_ultimo_minuto,
        c.desde_inicio_por_s,
        c.completados_desde_inicio,
        c.fallidos_desde_inicio
    );
    if r.tiempos.is_empty() {
        s.push_str("Times: no job completed since the maestro started\n\n");
    } else {
        s.push_str(&format!(
            "Times of completed jobs (mean / p50 / p95 / max)\n{}\n\n",
            tiempos(r)
        ));
    }
    if !r.aceleracion.is_empty() {
        let mut t = tabla(["tipo", "GPU vs", "speedup", "sizes", "GPU jobs", "CPU jobs"]);
        for a in &r.aceleracion {
            t.add_row(vec![
                a.tipo.to_string(),
                a.cpu.to_string(),
                format!("{:.2}×", a.factor),
                a.tamanos.to_string(),
                a.trabajos_gpu.to_string(),
                a.trabajos_cpu.to_string(),
            ]);
        }
        alinear_derecha(&mut t, &[2, 3, 4, 5]);
        s.push_str(&format!(
            "GPU speedup (same tipo and size; geometric mean over sizes)\n{t}\n\n"
        ));
    }
    s
}

fn tiempos(r: &Rendimiento) -> Table {
    let mut t = tabla(["tipo", "algoritmo", "jobs", "wait", "run", "kernel"]);
    for g in &r.tiempos {
        t.add_row(vec![
            g.tipo.to_string(),
            g.algoritmo.to_string(),
            g.ejecucion.muestras.to_string(),
            distribucion(&g.espera),
            distribucion(&g.ejecucion),
            distribucion(&g.kernel),
        ]);
    }
    alinear_derecha(&mut t, &[2]);
    t
}

/// An esclavo's GPUs, one line each, after how many of its GPU slots are busy; nothing without.
fn gpus(e: &comun::api::EsclavoInfo) -> String {
    let Some(resumen) = e.capacidades.resumen_gpus() else {
        return String::new();
    };
    let mut s = format!(
        "GPUs: {resumen}, {} of {} GPU slots busy\n",
        e.ejecutando_gpu, e.capacidad_gpu
    );
    for g in &e.capacidades.gpus {
        let pci = if g.pci.is_empty() {
            String::new()
        } else {
            format!(", {}", g.pci)
        };
        s.push_str(&format!(
            "  GPU {}: {} ({} MiB, compute {}{pci})\n",
            g.indice,
            g.nombre,
            g.memoria_bytes >> 20,
            g.capacidad_computo
        ));
    }
    s.push('\n');
    s
}

/// One esclavo's history.
pub fn historial(h: &HistorialEsclavo) -> String {
    let e = &h.esclavo;
    let u = &h.uso;
    let mut s = format!(
        "esclavo {} at {} (node {}): {}, {} of {} slots busy, {:.0}% used over the last {:.0} s\n\
         {} completados, {} failed attempts, lost {} times\n\n",
        e.nombre,
        e.url,
        e.nodo,
        if e.vivo { "alive" } else { "lost" },
        u.ejecutando,
        u.capacidad,
        u.utilizacion * 100.0,
        u.ventana_s,
        u.completados,
        u.fallidos,
        h.perdidas
    );
    s.push_str(&gpus(e));
    if !h.promedios.is_empty() {
        let mut t = tabla(["tipo", "algoritmo", "jobs", "mean run", "max run"]);
        for p in &h.promedios {
            t.add_row(vec![
                p.tipo.to_string(),
                p.algoritmo.to_string(),
                p.trabajos.to_string(),
                segundos(p.media_s),
                segundos(p.max_s),
            ]);
        }
        alinear_derecha(&mut t, &[2, 3, 4]);
        s.push_str(&format!("Run times\n{t}\n\n"));
    }
    if h.recientes.is_empty() {
        s.push_str("No attempt ended on it since the maestro started\n");
    } else {
        s.push_str(&format!("Latest attempts\n{}\n", recientes(&h.recientes)));
    }
    s
}

fn recientes(v: &[IntentoReciente]) -> Table {
    let mut t = tabla([
        "id",
        "intento",
        "tipo",
        "algoritmo",
        "estado",
        "run",
        "error",
    ]);
    for r in v {
        t.add_row(vec![
            r.id.to_string(),
            r.intento.to_string(),
            r.tipo.to_string(),
            r.algoritmo.to_string(),
            r.estado.to_string(),
            segundos(r.ejecucion_s),
            r.error.clone().unwrap_or_default(),
        ]);
    }
    alinear_derecha(&mut t, &[0, 1, 5]);
    t
}

#[cfg(test)]
mod tests {
    use comun::api::{Carga, EsclavoInfo};
    use comun::nodo::{Capacidades, Gpu};

    use super::*;

    #[test]
    fn an_esclavo_s_gpus_get_a_line_each_after_their_busy_slots() {
        let gpu = |indice, pci: &str| Gpu {
            indice,
            nombre: "H100".into(),
            memoria_bytes: 80 << 30,
            capacidad_computo: "9.0".into(),
            driver: "550".into(),
            pci: pci.into(),
            limites: None,
        };
        let mut e = EsclavoInfo {
            nombre: "e".into(),
            url: "http://e".into(),
            nodo: "n".into(),
            capacidad: 4,
            ejecutando: 1,
            capacidad_gpu: 2,
            ejecutando_gpu: 1,
            vivo: true,
            ultimo_latido_hace_ms: 0,
            carga: Carga::default(),
            capacidades: Capacidades::default(),
            completados: 0,
            drenando: false,
        };
        assert_eq!(gpus(&e), "");
        e.capacidades.gpus = vec![gpu(0, "0000:17:00.0"), gpu(1, "")];
        assert_eq!(
            gpus(&e),
            "GPUs: 2 × H100, 1 of 2 GPU slots busy\n\
             \x20 GPU 0: H100 (81920 MiB, compute 9.0, 0000:17:00.0)\n\
             \x20 GPU 1: H100 (81920 MiB, compute 9.0)\n\n"
        );
    }
}

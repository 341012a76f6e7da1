//! The run of `cliente benchmark`: the plan (each tipo × size × backend × repetition,
//! interleaved so that no backend always runs first or last, after a discarded warm-up of each
//! (tipo, backend)), its jobs submitted one at a time through the cluster, and a [`Registro`] of
//! each, appended to `resultados.ndjson` as it arrives so that an interrupted run can resume.

use std::collections::HashSet;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use comun::api::{PeticionTrabajo, Trabajo};
use comun::{Algoritmo, Estado, Tipo};
use serde_json::Value;

use super::informe::Registro;
use crate::api::Maestro;
use crate::error::Error;

/// One job of the plan.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Paso {
    pub tipo: Tipo,
    pub tamano: u64,
    pub backend: Algoritmo,
    pub repeticion: u32,
    /// A warm-up: run, not recorded.
    pub calentamiento: bool,
}

impl Paso {
    /// What identifies a recorded job, to resume a run without repeating one.
    pub fn clave(&self) -> (String, u64, String, u32) {
        (
            self.tipo.nombre().to_string(),
            self.tamano,
            self.backend.nombre().to_string(),
            self.repeticion,
        )
    }
}

/// The sizes a tipo is measured at when `--tamanos` does not say (`rapido`: small ones).
pub fn tamanos_por_defecto(tipo: Tipo, rapido: bool) -> Vec<u64> {
    match (tipo, rapido) {
        (Tipo::Julia, true) => vec![64, 128],
        (Tipo::Julia, false) => vec![256, 512, 1024, 2048],
        (Tipo::Matmul, true) => vec![64, 128],
        (Tipo::Matmul, false) => vec![128, 256, 512, 1024, 2048],
        (Tipo::VectorAdd, true) => vec![100_000],
        (Tipo::VectorAdd, false) => vec![1_000_000, 10_000_000, 50_000_000],
        (Tipo::Montecarlo, true) => vec![100_000],
        (Tipo::Montecarlo, false) => vec![1_000_000, 10_000_000, 100_000_000],
        (Tipo::Nbody, true) => vec![64],
        (Tipo::Nbody, false) => vec![256, 1024, 4096],
        (Tipo::Fft, true) => vec![1024, 4096],
        (Tipo::Fft, false) => vec![1 << 16, 1 << 20, 1 << 22],
        (Tipo::Autovalores, true) => vec![32, 64],
        (Tipo::Autovalores, false) => vec![128, 256, 512, 1024],
        (Tipo::Kmeans, true) => vec![2_000],
        (Tipo::Kmeans, false) => vec![10_000, 100_000, 1_000_000],
        (Tipo::RedNeuronal, true) => vec![256],
        (Tipo::RedNeuronal, false) => vec![1_000, 10_000, 50_000],
        (Tipo::Imagen, true) => vec![64],
        (Tipo::Imagen, false) => vec![256, 1024, 4096],
        (Tipo::Espera, _) => vec![1],
    }
}

/// The plan: for each repetition and size, every backend, in an order that turns with each
/// step; the first job of each (tipo, backend) is a warm-up at the smallest size.
pub fn planificar(
    tipos: &[Tipo],
    tamanos: &dyn Fn(Tipo) -> Vec<u64>,
    backends: &[Algoritmo],
    repeticiones: u32,
) -> Vec<Paso> {
    let mut plan = Vec::new();
    for &tipo in tipos {
        let mut ts = tamanos(tipo);
        ts.sort_unstable();
        ts.dedup();
        let Some(&menor) = ts.first() else { continue };
        for &backend in backends {
            plan.push(Paso {
                tipo,
                tamano: menor,
                backend,
                repeticion: 0,
                calentamiento: true,
            });
        }
        let mut giro = 0;
        for repeticion in 0..repeticiones {
            for &tamano in &ts {
                for k in 0..backends.len() {
                    let backend = backends[(k + giro) % backends.len()];
                    plan.push(Paso {
                        tipo,
                        tamano,
                        backend,
                        repeticion,
                        calentamiento: false,
                    });
                }
                giro += 1;
            }
        }
    }
    plan
}

/// The request of a step: its tipo at its size (the `size` each tipo reads as its size
/// parameter), on its backend, with the other parameters a tipo needs.
pub fn peticion(p: &Paso) -> PeticionTrabajo {
    let mut r = PeticionTrabajo {
        tipo: Some(p.tipo),
        algoritmo: Some(p.backend.into()),
        size: Some(p.tamano),
        ..PeticionTrabajo::default()
    };
    match p.tipo {
        Tipo::Julia => r.iteraciones = Some(100),
        Tipo::Matmul | Tipo::VectorAdd => r.iteraciones = Some(1),
        Tipo::Nbody => r.pasos = Some(10),
        _ => {}
    }
    r
}

/// The throughput a result's detail reports (`gflops`, `…_por_segundo`), with its unit.
fn rendimiento(detalle: &Value) -> Option<(f64, String)> {
    let o = detalle.as_object()?;
    o.iter().find_map(|(k, v)| {
        let v = v.as_f64()?;
        match k.as_str() {
            "gflops" => Some((v, "GFLOP/s".to_string())),
            "gbps" => Some((v, "GB/s".to_string())),
            k if k.ends_with("_por_segundo") => Some((v, k.replace("_por_segundo", "/s"))),
            _ => None,
        }
    })
}

/// The detail without its time-dependent figures: what two backends agree on.
fn checksum(detalle: &Value) -> String {
    let mut d = detalle.clone();
    if let Some(o) = d.as_object_mut() {
        o.retain(|k, _| k != "gflops" && k != "gbps" && !k.ends_with("_por_segundo"));
    }
    d.to_string()
}

/// The record of a completed job.
pub fn registro(p: &Paso, t: &Trabajo, extremo_a_extremo_s: f64) -> Option<Registro> {
    let r = t.resultado.as_ref()?;
    let detalle = serde_json::to_value(&r.detalle).unwrap_or(Value::Null);
    let (rendimiento, unidad) =
        rendimiento(&detalle).map_or((None, String::new()), |(v, u)| (Some(v), u));
    Some(Registro {
        tipo: p.tipo.nombre().to_string(),
        tamano: p.tamano,
        parametros: serde_json::to_value(&t.parametros).unwrap_or(Value::Null),
        backend: p.backend.nombre().to_string(),
        repeticion: p.repeticion,
        id: t.id.0,
        esclavo: t.esclavo.clone().unwrap_or_default(),
        dispositivo: r.dispositivo.clone(),
        kernel_s: r.duracion_s,
        con_copias_s: r.duracion_con_copias_s,
        extremo_a_extremo_s,
        rendimiento,
        unidad,
        limite: None,
        checksum: checksum(&detalle),
    })
}

/// The records already in `resultados.ndjson` of `carpeta` (none when it does not exist).
pub fn leer_registros(carpeta: &Path) -> anyhow::Result<Vec<Registro>> {
    let ruta = carpeta.join("resultados.ndjson");
    let texto = match std::fs::read_to_string(&ruta) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => anyhow::bail!("cannot read {}: {e}", ruta.display()),
    };
    texto
        .lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| {
            serde_json::from_str(l)
                .map_err(|e| anyhow::anyhow!("{}:{}: not a record: {e}", ruta.display(), i + 1))
        })
        .collect()
}

/// How a run ended.
#[derive(Debug)]
pub struct Corrida {
    /// The records of the jobs it ran.
    pub nuevos: Vec<Registro>,
    /// Whether `parar` cut it short.
    pub interrumpida: bool,
}

/// Runs the steps of `plan` not in `hechos`, one job at a time, appending each record (its
/// device's limit from `limite_de`) to `carpeta/resultados.ndjson`; stops early when `parar`
/// resolves (Ctrl-C). Calls `avance` after each step with what ran and whether it was run now
/// (`false`: recorded by an earlier run).
pub async fn correr(
    m: &Maestro,
    plan: &[Paso],
    hechos: &HashSet<(String, u64, String, u32)>,
    carpeta: &Path,
    limite_de: &dyn Fn(&Registro) -> Option<f64>,
    mut avance: impl FnMut(&Paso, bool),
    parar: impl std::future::Future<Output = ()>,
) -> Result<Corrida, Error> {
    let mut salida = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(carpeta.join("resultados.ndjson"))
        .map_err(|e| Error::local(format!("cannot open resultados.ndjson: {e}")))?;
    let mut nuevos = Vec::new();
    let mut interrumpida = false;
    tokio::pin!(parar);
    for p in plan {
        if !p.calentamiento && hechos.contains(&p.clave()) {
            avance(p, false);
            continue;
        }
        let inicio = Instant::now();
        let uno = async {
            let id = m.agregar(&peticion(p)).await?.id;
            loop {
                let t = m.esperar_trabajo(id, Duration::from_secs(60)).await?;
                if t.estado.es_final() {
                    return Ok::<_, Error>(t);
                }
            }
        };
        let t = tokio::select! {
            t = uno => t?,
            () = &mut parar => {
                interrumpida = true;
                break;
            }
        };
        let segundos = inicio.elapsed().as_secs_f64();
        if t.estado != Estado::Completado {
            tracing::warn!(
                "{} {} on {}: {} ({}), not recorded",
                p.tipo,
                p.tamano,
                p.backend,
                t.estado,
                t.motivo.as_deref().unwrap_or("")
            );
        } else if !p.calentamiento
            && let Some(mut r) = registro(p, &t, segundos)
        {
            r.limite = limite_de(&r);
            let linea = serde_json::to_string(&r).map_err(Error::local)?;
            writeln!(salida, "{linea}")
                .map_err(|e| Error::local(format!("cannot write a record: {e}")))?;
            nuevos.push(r);
        }
        avance(p, true);
    }
    Ok(Corrida {
        nuevos,
        interrumpida,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_warms_up_then_interleaves_backends_at_every_size() {
        let backends = [Algoritmo::Secuencial, Algoritmo::Paralelo];
        let plan = planificar(&[Tipo::Matmul], &|_| vec![128, 64], &backends, 2);
        let calentamientos: Vec<_> = plan.iter().filter(|p| p.calentamiento).collect();
        assert_eq!(calentamientos.len(), 2);
        assert!(calentamientos.iter().all(|p| p.tamano == 64));
        let medidos: Vec<(u64, Algoritmo, u32)> = plan
            .iter()
            .filter(|p| !p.calentamiento)
            .map(|p| (p.tamano, p.backend, p.repeticion))
            .collect();
        assert_eq!(medidos.len(), 2 * 2 * 2);
        // The order of the backends turns: neither always runs first.
        let primeros: HashSet<Algoritmo> = medidos.chunks(2).map(|c| c[0].1).collect();
        assert_eq!(primeros.len(), 2);
        let claves: HashSet<_> = plan
            .iter()
            .filter(|p| !p.calentamiento)
            .map(Paso::clave)
            .collect();
        assert_eq!(claves.len(), 8, "each measured step once");
    }

    #[test]
    fn every_default_request_is_a_valid_job() {
        for tipo in Tipo::TODOS {
            for rapido in [true, false] {
                for tamano in tamanos_por_defecto(tipo, rapido) {
                    let p = Paso {
                        tipo,
                        tamano,
                        backend: Algoritmo::Paralelo,
                        repeticion: 0,
                        calentamiento: false,
                    };
                    let t = peticion(&p)
                        .validar()
                        .unwrap_or_else(|e| panic!("{tipo} {tamano}: {e}"));
                    assert_eq!(t.parametros.tipo(), tipo);
                }
            }
        }
    }

    #[test]
    fn throughput_and_checksum_come_from_the_detail() {
        let d = serde_json::json!({"tipo": "matmul", "n": 64, "suma": 12.5, "gflops": 3.5});
        assert_eq!(rendimiento(&d), Some((3.5, "GFLOP/s".into())));
        assert_eq!(checksum(&d), r#"{"n":64,"suma":12.5,"tipo":"matmul"}"#);
        let d = serde_json::json!({"megapixeles_por_segundo": 9.0});
        assert_eq!(rendimiento(&d), Some((9.0, "megapixeles/s".into())));
    }
}

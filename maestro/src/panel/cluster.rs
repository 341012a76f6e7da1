//! The dashboard's views of the cluster as memory holds it: the overview (jobs by state,
//! charts, esclavos alive, GPUs, active alerts) and the esclavos and memoria nodes page.

use std::sync::Arc;
use std::time::Instant;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use comun::api::{AlertaNodo, EsclavoInfo, EstadoMemoria, NodoMemoriaInfo, Resumen};
use comun::memoria::Alerta;

use super::formato::{bytes, duracion_ms, instante, porcentaje};
use super::grafico::{Barra, Grafico, barras};
use super::sesion::Sesion;
use super::vistas::{Marco, html};
use crate::servicio::Servicio;

/// A count on the overview, linking to the jobs in that state.
pub struct Contador {
    pub nombre: &'static str,
    pub valor: u64,
    pub enlace: String,
}

/// An alert, written for people.
pub struct AlertaVista {
    pub nodo: String,
    pub nivel: String,
    pub recurso: String,
    pub valor: String,
    pub umbral: String,
    pub desde: String,
}

impl AlertaVista {
    fn new(nodo: &str, a: &Alerta) -> Self {
        AlertaVista {
            nodo: nodo.into(),
            nivel: a.nivel.to_string(),
            recurso: a.recurso.to_string(),
            valor: format!("{:.1}%", a.valor),
            umbral: format!("{:.0}%", a.umbral),
            desde: instante(a.desde_ms),
        }
    }
}

#[derive(Template)]
#[template(path = "panel/resumen.html")]
struct Inicio {
    marco: Marco,
    contadores: Vec<Contador>,
    graficos: Vec<Grafico>,
    esclavos_vivos: usize,
    esclavos_total: usize,
    ranuras_ocupadas: u32,
    ranuras_total: u32,
    gpus: Vec<String>,
    /// `(value, name, pending, running)` per priority.
    cola: Vec<(u8, String, u64, u64)>,
    alertas: Vec<AlertaVista>,
    almacen: AlmacenVista,
    replicas: Vec<ReplicaVista>,
}

/// The store, written for people.
pub struct AlmacenVista {
    pub tipo: String,
    pub ubicacion: String,
    pub sano: bool,
    pub ultimo_commit: String,
    pub retenidos: u64,
    /// The last error, with how long ago.
    pub error: Option<String>,
}

impl AlmacenVista {
    fn new(a: comun::api::InfoAlmacen) -> Self {
        let ahora = comun::ahora_ms();
        let hace = |t: u64| format!("{} ago", duracion_ms(ahora.saturating_sub(t)));
        AlmacenVista {
            ultimo_commit: a.ultimo_commit_ms.map_or("none yet".into(), hace),
            error: a
                .error
                .zip(a.error_ms)
                .map(|(e, t)| format!("{}: {e}", hace(t))),
            tipo: a.tipo,
            ubicacion: a.ubicacion,
            sano: a.sano,
            retenidos: a.retenidos,
        }
    }
}

/// A maestro replica, written for people.
pub struct ReplicaVista {
    pub nombre: String,
    pub url: String,
    /// `leader`, `follower` or `silent` (not seen within two lease times).
    pub papel: &'static str,
    pub desde: String,
    pub epoca: String,
    pub visto: String,
}

impl ReplicaVista {
    fn new(r: &comun::api::InfoReplica) -> Self {
        let ahora = comun::ahora_ms();
        ReplicaVista {
            nombre: r.nombre.clone(),
            url: r.url.clone(),
            papel: r.papel(),
            desde: r.lider_desde_ms.map_or(String::new(), instante),
            epoca: r.epoca.map_or(String::new(), |e| e.to_string()),
            visto: format!("{} ago", duracion_ms(ahora.saturating_sub(r.visto_ms))),
        }
    }
}

/// What the overview reads from memory, under one short lock.
struct Foto {
    resumen: Resumen,
    cola: Vec<comun::api::ColaPrioridad>,
    esclavos: Vec<EsclavoInfo>,
    memoria: EstadoMemoria,
    series: comun::estadisticas::Series,
}

impl Foto {
    fn tomar(s: &Servicio) -> Foto {
        let ahora = Instant::now();
        let series = s.series().vista();
        let e = s.estado();
        Foto {
            resumen: e.resumen(),
            cola: e.cola_por_prioridad(),
            esclavos: e.esclavos_info(ahora),
            memoria: e.nodos.vista(ahora),
            series,
        }
    }
}

/// `GET /`.
pub async fn resumen(State(s): State<Arc<Servicio>>, sesion: Sesion) -> Response {
    if let Err(r) = sesion.leer("/") {
        return r.into_response();
    }
    let f = Foto::tomar(&s);
    let r = f.resumen;
    let contadores = [
        ("pendientes", r.pendientes, "pendiente"),
        ("asignados", r.asignados, "asignado"),
        ("completados", r.completados, "completado"),
        ("fallidos", r.fallidos, "fallido"),
        ("cancelados", r.cancelados, "cancelado"),
        ("total", r.total(), ""),
    ]
    .into_iter()
    .map(|(nombre, valor, estado)| Contador {
        nombre,
        valor,
        enlace: format!("/panel/trabajos?estado={estado}"),
    })
    .collect();
    let pagina = Inicio {
        marco: sesion.marco("Overview", "resumen", "/"),
        contadores,
        graficos: graficos(&f),
        esclavos_vivos: f.esclavos.iter().filter(|e| e.vivo).count(),
        esclavos_total: f.esclavos.len(),
        ranuras_ocupadas: f
            .esclavos
            .iter()
            .filter(|e| e.vivo)
            .map(|e| e.ejecutando)
            .sum(),
        ranuras_total: f
            .esclavos
            .iter()
            .filter(|e| e.vivo)
            .map(|e| e.capacidad)
            .sum(),
        gpus: gpus(&f.esclavos, &f.memoria),
        cola: f
            .cola
            .iter()
            .map(|c| {
                (
                    c.prioridad.valor(),
                    c.prioridad.to_string(),
                    c.pendientes,
                    c.asignados,
                )
            })
            .collect(),
        alertas: alertas(&f.memoria.alertas),
        almacen: AlmacenVista::new(s.almacen.info()),
        replicas: s
            .config
            .replicas
            .as_ref()
            .map(|r| r.borrow().iter().map(ReplicaVista::new).collect())
            .unwrap_or_default(),
    };
    html(StatusCode::OK, &pagina)
}

/// The overview's charts: jobs by state and the queue by priority as they are now, then the
/// series of the last hour.
fn graficos(f: &Foto) -> Vec<Grafico> {
    let r = f.resumen;
    let estados = [
        ("pendiente", r.pendientes),
        ("asignado", r.asignados),
        ("completado", r.completados),
        ("fallido", r.fallidos),
        ("cancelado", r.cancelados),
    ];
    let por_estado = estados
        .iter()
        .map(|&(e, n)| Barra {
            etiqueta: e.into(),
            valor: n as f64,
            clase: clase_estado(e),
        })
        .collect::<Vec<_>>();
    let cola = f
        .cola
        .iter()
        .map(|c| Barra {
            etiqueta: c.prioridad.to_string(),
            valor: c.pendientes as f64,
            clase: CLASES_PRIORIDAD[c.prioridad.indice()],
        })
        .collect::<Vec<_>>();
    let mut graficos = vec![
        Grafico {
            clave: "estados",
            titulo: "Jobs by state".into(),
            nota: format!("{} in all", r.total()),
            svg: barras(&por_estado),
        },
        Grafico {
            clave: "cola-ahora",
            titulo: "Queue by priority".into(),
            nota: "pending now".into(),
            svg: barras(&cola),
        },
    ];
    graficos.extend(super::tendencias::graficos(&f.series));
    graficos
}

/// The series class of each priority, alta first.
pub const CLASES_PRIORIDAD: [&str; 3] = ["s-alta", "s-media", "s-baja"];

fn clase_estado(estado: &str) -> &'static str {
    match estado {
        "pendiente" => "s-pendiente",
        "asignado" => "s-asignado",
        "completado" => "s-completado",
        "fallido" => "s-fallido",
        _ => "s-cancelado",
    }
}

/// Every GPU the cluster knows: those esclavos run `Cuda` jobs on, and those memoria nodes
/// see.
fn gpus(esclavos: &[EsclavoInfo], memoria: &EstadoMemoria) -> Vec<String> {
    let de_esclavos = esclavos.iter().flat_map(|e| {
        e.capacidades.gpus.iter().map(move |g| {
            format!(
                "{} GPU {}: {} ({}, compute {})",
                e.nombre,
                g.indice,
                g.nombre,
                bytes(g.memoria_bytes),
                g.capacidad_computo
            )
        })
    });
    let de_nodos = memoria.nodos.iter().flat_map(|n| {
        n.reporte
            .muestra
            .gpus
            .iter()
            .map(move |g| format!("{} GPU {}: {}", n.nodo, g.indice, uso_gpu(g)))
    });
    de_esclavos.chain(de_nodos).collect()
}

/// A GPU's use: utilisation, memory and temperature (where the driver tells it).
fn uso_gpu(g: &comun::memoria::GpuMuestra) -> String {
    let temperatura = g
        .temperatura_c
        .map(|t| format!(", {t:.0} °C"))
        .unwrap_or_default();
    format!(
        "{}, {:.0}% busy, memory {} of {} ({:.0}%){temperatura}",
        g.nombre,
        g.utilizacion,
        bytes(g.memoria_usada),
        bytes(g.memoria_total),
        porcentaje(g.memoria_usada, g.memoria_total)
    )
}

fn alertas(a: &[AlertaNodo]) -> Vec<AlertaVista> {
    a.iter()
        .map(|a| AlertaVista::new(&a.nodo, &a.alerta))
        .collect()
}

/// An esclavo, written for people.
pub struct EsclavoVista {
    pub nombre: String,
    /// Its jobs in the table.
    pub enlace: String,
    pub url: String,
    pub nodo: String,
    pub vivo: bool,
    /// Draining: it gets no new job.
    pub drenando: bool,
    pub capacidad: u32,
    pub ejecutando: u32,
    pub trabajos: Vec<u64>,
    pub cpu: String,
    pub memoria: String,
    pub gpu: String,
    pub completados: u64,
    pub latido: String,
}

/// A memoria node, written for people.
pub struct NodoVista {
    pub nodo: String,
    pub obsoleto: bool,
    pub hace: String,
    pub cpu: String,
    pub carga: String,
    pub memoria: String,
    pub swap: String,
    pub discos: Vec<(String, String)>,
    /// `(index, what it does)`.
    pub gpus: Vec<(u32, String)>,
    pub alertas: Vec<AlertaVista>,
}

#[derive(Template)]
#[template(path = "panel/esclavos.html")]
struct PaginaEsclavos {
    marco: Marco,
    esclavos: Vec<EsclavoVista>,
    nodos: Vec<NodoVista>,
}

/// `GET /panel/esclavos`.
pub async fn esclavos(State(s): State<Arc<Servicio>>, sesion: Sesion) -> Response {
    let ruta = "/panel/esclavos";
    if let Err(r) = sesion.leer(ruta) {
        return r.into_response();
    }
    let ahora = Instant::now();
    let (esclavos, memoria) = {
        let e = s.estado();
        let esclavos: Vec<EsclavoVista> = e
            .esclavos_info(ahora)
            .into_iter()
            .map(|info| {
                let mut ids: Vec<u64> = e
                    .trabajos
                    .intentos_en(&info.nombre)
                    .iter()
                    .map(|i| i.trabajo.0)
                    .collect();
                ids.sort_unstable();
                esclavo(info, ids)
            })
            .collect();
        (esclavos, e.nodos.vista(ahora))
    };
    let pagina = PaginaEsclavos {
        marco: sesion.marco("Esclavos & nodes", "esclavos", ruta),
        esclavos,
        nodos: memoria.nodos.iter().map(nodo).collect(),
    };
    html(StatusCode::OK, &pagina)
}

/// An esclavo's GPUs and their slots: `2 × NVIDIA H100 (80 GiB each), 1/2 Cuda jobs`.
fn gpus_esclavo(e: &EsclavoInfo) -> String {
    let Some(resumen) = e.capacidades.resumen_gpus() else {
        return "none (CPU jobs)".into();
    };
    let memoria: Vec<String> = e
        .capacidades
        .gpus
        .iter()
        .map(|g| bytes(g.memoria_bytes))
        .collect();
    let mut distintas = memoria.clone();
    distintas.dedup();
    let memoria = match distintas.len() {
        1 if memoria.len() > 1 => format!("{} each", distintas[0]),
        _ => memoria.join(", "),
    };
    format!(
        "{resumen} ({memoria}), {}/{} Cuda jobs",
        e.ejecutando_gpu, e.capacidad_gpu
    )
}

fn esclavo(e: EsclavoInfo, trabajos: Vec<u64>) -> EsclavoVista {
    let c = e.carga;
    EsclavoVista {
        cpu: format!("{:.0}% of {} cores", c.cpu, e.capacidades.nucleos),
        memoria: format!(
            "{} of {} ({:.0}%)",
            bytes(c.memoria_usada),
            bytes(c.memoria_total),
            porcentaje(c.memoria_usada, c.memoria_total)
        ),
        gpu: gpus_esclavo(&e),
        latido: format!("{} ago", duracion_ms(e.ultimo_latido_hace_ms)),
        enlace: format!(
            "/panel/trabajos?esclavo={}",
            super::sesion::codificar(&e.nombre)
        ),
        nombre: e.nombre,
        url: e.url,
        nodo: e.nodo,
        vivo: e.vivo,
        drenando: e.drenando,
        capacidad: e.capacidad,
        ejecutando: e.ejecutando,
        trabajos,
        completados: e.completados,
    }
}

fn nodo(n: &NodoMemoriaInfo) -> NodoVista {
    let m = &n.reporte.muestra;
    NodoVista {
        nodo: n.nodo.clone(),
        obsoleto: n.obsoleto,
        hace: duracion_ms(n.hace_ms),
        cpu: format!("{:.0}%", m.cpu_porcentaje),
        carga: format!("{:.2} {:.2} {:.2}", m.carga_1, m.carga_5, m.carga_15),
        memoria: uso(m.memoria_usada, m.memoria_total),
        swap: if m.swap_total == 0 {
            "none".into()
        } else {
            uso(m.swap_usada, m.swap_total)
        },
        discos: m
            .discos
            .iter()
            .map(|d| (d.punto_montaje.clone(), uso(d.usado, d.total)))
            .collect(),
        gpus: m.gpus.iter().map(|g| (g.indice, uso_gpu(g))).collect(),
        alertas: n
            .reporte
            .alertas
            .iter()
            .map(|a| AlertaVista::new(&n.nodo, a))
            .collect(),
    }
}

fn uso(usado: u64, total: u64) -> String {
    format!(
        "{} of {} ({:.0}%)",
        bytes(usado),
        bytes(total),
        porcentaje(usado, total)
    )
}

#[cfg(test)]
mod tests {
    use comun::nodo::{Capacidades, Gpu};

    use super::*;

    fn con_gpus(memorias_gib: &[u64], ejecutando_gpu: u32) -> EsclavoInfo {
        let gpus = memorias_gib
            .iter()
            .enumerate()
            .map(|(i, &gib)| Gpu {
                indice: i as u32,
                nombre: "H100".into(),
                memoria_bytes: gib << 30,
                capacidad_computo: "9.0".into(),
                driver: "550".into(),
                pci: String::new(),
                limites: None,
            })
            .collect();
        EsclavoInfo {
            nombre: "e".into(),
            url: "http://e".into(),
            nodo: "n".into(),
            capacidad: 8,
            ejecutando: ejecutando_gpu,
            capacidad_gpu: memorias_gib.len() as u32,
            ejecutando_gpu,
            vivo: true,
            ultimo_latido_hace_ms: 0,
            carga: comun::api::Carga::default(),
            capacidades: Capacidades {
                gpus,
                ..Capacidades::default()
            },
            completados: 0,
            drenando: false,
        }
    }

    #[test]
    fn an_esclavo_s_gpus_are_summed_up_with_their_slots() {
        assert_eq!(gpus_esclavo(&con_gpus(&[], 0)), "none (CPU jobs)");
        let una = gpus_esclavo(&con_gpus(&[80], 1));
        assert!(
            una.starts_with("H100 (") && una.ends_with("), 1/1 Cuda jobs"),
            "{una}"
        );
        let dos = gpus_esclavo(&con_gpus(&[80, 80], 1));
        assert!(
            dos.starts_with("2 × H100 (") && dos.contains(" each), 1/2"),
            "{dos}"
        );
    }

    #[test]
    fn every_gpu_of_every_esclavo_gets_its_line() {
        let memoria = EstadoMemoria {
            nodos: Vec::new(),
            alertas: Vec::new(),
            plazo_ms: 0,
        };
        let lineas = gpus(&[con_gpus(&[80, 40], 0)], &memoria);
        assert_eq!(lineas.len(), 2);
        assert!(lineas[0].starts_with("e GPU 0: H100 ("), "{lineas:?}");
        assert!(lineas[1].starts_with("e GPU 1: H100 ("), "{lineas:?}");
    }
}

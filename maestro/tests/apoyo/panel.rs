//! Support for the dashboard's browser tests: the maestro's API with the cluster token (the
//! helpers of [`pruebas::api`] send none), a realistic cluster to look at, and what a person
//! does first on a page (log in, wait for the live updates to connect). The browser is
//! [`pruebas::navegador`]; its calls block, so the tests run on a multi-thread runtime.

use std::cell::RefCell;
use std::path::Path;
use std::time::Duration;

use comun::api::{PeticionTrabajo, RespuestaAgregar, Trabajo};
use comun::memoria::{Alerta, Disco, GpuMuestra, Muestra, Nivel, Recurso, ReporteMemoria};
use comun::{Estado, TrabajoId};
use pruebas::navegador::Pagina;
use pruebas::sondas::esclavos;
use pruebas::{Servicio, esperar_hasta, sondear};

/// The cluster token of the tests that have one.
pub const TOKEN: &str = "s3creto-del-panel";
/// How long a page or a job may take to get where a test waits for it.
pub const PLAZO: Duration = Duration::from_secs(30);
const GIB: u64 = 1 << 30;

/// A maestro config with the cluster token; reads open or guarded.
pub fn config_con_token(datos: &Path, lecturas_abiertas: bool) -> maestro::Config {
    let mut c = super::config_maestro(datos);
    c.token = Some(TOKEN.into());
    c.lecturas_abiertas = lecturas_abiertas;
    c
}

/// The maestro's API, with the cluster token when it has one.
pub struct Api {
    pub url: String,
    token: Option<&'static str>,
    http: reqwest::Client,
}

impl Api {
    pub fn new(url: &str, token: Option<&'static str>) -> Api {
        Api {
            url: url.to_owned(),
            token,
            http: reqwest::Client::new(),
        }
    }

    fn con_token(&self, p: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match self.token {
            Some(t) => p.bearer_auth(t),
            None => p,
        }
    }

    /// `POST /agregar_trabajo`, which must answer 200; the new job's id.
    pub async fn agregar(&self, p: &PeticionTrabajo) -> TrabajoId {
        let r = self.con_token(self.http.post(format!("{}/agregar_trabajo", self.url)));
        let r = r.json(p).send().await.unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        r.json::<RespuestaAgregar>().await.unwrap().id
    }

    /// `GET /trabajos/{id}`, which must answer 200.
    pub async fn trabajo(&self, id: TrabajoId) -> Trabajo {
        let r = self.con_token(self.http.get(format!("{}/trabajos/{id}", self.url)));
        let r = r.send().await.unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        r.json().await.unwrap()
    }

    /// `DELETE /trabajos/{id}`, which must answer 200.
    pub async fn cancelar(&self, id: TrabajoId) {
        let r = self.con_token(self.http.delete(format!("{}/trabajos/{id}", self.url)));
        let r = r.send().await.unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    }

    /// Waits until the job is in `estado` and returns it; panics with its last view after
    /// `plazo`.
    pub async fn esperar_estado(&self, id: TrabajoId, estado: Estado, plazo: Duration) -> Trabajo {
        let ultimo = RefCell::new(None);
        let t = sondear(plazo, || async {
            let t = self.trabajo(id).await;
            let hecho = (t.estado == estado).then(|| t.clone());
            ultimo.replace(Some(t));
            hecho
        })
        .await;
        t.unwrap_or_else(|| panic!("job {id} not {estado} within {plazo:?}: {ultimo:?}"))
    }

    /// `POST /reporte_memoria`, which must answer 200.
    pub async fn reportar_memoria(&self, r: &ReporteMemoria) {
        let p = self.con_token(self.http.post(format!("{}/reporte_memoria", self.url)));
        let r = p.json(r).send().await.unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    }
}

/// An esclavo with the cluster token, registered with `maestro`, with `capacidad` slots.
pub async fn esclavo_con_token(maestro: &str, nombre: &str, capacidad: u32) -> Servicio {
    let mut config = esclavo::Config::new(maestro, nombre);
    config.capacidad = capacidad;
    config.token = Some(TOKEN.into());
    config.latido = Duration::from_millis(250);
    config.gracia = Duration::ZERO;
    let e = Servicio::iniciar(|listener, parada| esclavo::run(config, listener, parada)).await;
    let listado = || {
        let peticion = reqwest::Client::new()
            .get(format!("{maestro}/esclavos"))
            .bearer_auth(TOKEN);
        async move {
            let lista = esclavos(peticion).await;
            lista.iter().any(|e| e.nombre == nombre && e.vivo)
        }
    };
    esperar_hasta(PLAZO, &format!("esclavo {nombre} registered"), listado).await;
    e
}

/// A memoria report of `nodo` as a real one reads: a loaded host with one GPU, and a warning
/// on its memory when `aviso`.
pub fn reporte_memoria(nodo: &str, aviso: bool) -> ReporteMemoria {
    let ahora = comun::ahora_ms();
    let alertas = aviso
        .then(|| Alerta {
            recurso: Recurso::Memoria,
            nivel: Nivel::Aviso,
            valor: 88.5,
            umbral: 85.0,
            desde_ms: ahora - 95_000,
        })
        .into_iter()
        .collect();
    ReporteMemoria {
        nodo: nodo.into(),
        instancia: 1,
        muestra: Muestra {
            nodo: nodo.into(),
            instante_ms: ahora,
            cpu_porcentaje: if aviso { 71.0 } else { 23.5 },
            carga_1: 5.2,
            carga_5: 4.8,
            carga_15: 3.9,
            memoria_usada: if aviso { 57 * GIB } else { 21 * GIB },
            memoria_total: 64 * GIB,
            swap_usada: 0,
            swap_total: 8 * GIB,
            discos: vec![Disco {
                punto_montaje: "/".into(),
                usado: 310 * GIB,
                total: 930 * GIB,
            }],
            gpus: vec![GpuMuestra {
                indice: 0,
                nombre: "NVIDIA H100 80GB HBM3".into(),
                memoria_usada: if aviso { 61 * GIB } else { 9 * GIB },
                memoria_total: 80 * GIB,
                utilizacion: if aviso { 93.0 } else { 12.0 },
                temperatura_c: Some(if aviso { 84.0 } else { 41.0 }),
                pci: String::new(),
            }],
        },
        alertas,
        intervalo_ms: 5000,
    }
}

/// `peticion` with `cuerpo` as a form's fields (`a=1&b=2`, already encoded).
pub fn formulario(
    peticion: reqwest::RequestBuilder,
    cuerpo: &'static str,
) -> reqwest::RequestBuilder {
    peticion
        .header("content-type", "application/x-www-form-urlencoded")
        .body(cuerpo)
}

/// The JavaScript test of the page being `pagina` (`data-pagina` of its body).
pub fn es_pagina(pagina: &str) -> String {
    format!("document.body?.dataset.pagina === '{pagina}'")
}

/// Who the page says its viewer is (`data-sesion` of its body: operador, lector, ninguna).
pub fn sesion(p: &Pagina) -> String {
    let v = p.evaluar("document.body?.dataset.sesion ?? null");
    v.ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Waits until the page's script has its event stream open (`#vivo[data-conectado=si]`).
pub fn esperar_vivo(p: &Pagina) {
    p.esperar_js(
        PLAZO,
        "the live updates are connected",
        "document.getElementById('vivo')?.dataset.conectado === 'si'",
    );
}

/// Logs in through the form, as a person does once, and waits until the page it leads back
/// to (`volver`) shows an operator's session.
pub fn entrar(p: &Pagina, url: &str, volver: &str) {
    p.ir(&format!("{url}/panel/entrar?volver={volver}"));
    p.esperar_js(PLAZO, "the login form is shown", &es_pagina("entrar"));
    p.escribir("#login-token", TOKEN);
    p.clic_y_cargar("#login-enviar");
    p.esperar_js(
        PLAZO,
        "the login leads back with an operator's session",
        "document.body?.dataset.sesion === 'operador' && document.body.dataset.pagina !== 'entrar'",
    );
}

/// Opens job `id`'s page and waits until it shows the job.
pub fn abrir_trabajo(p: &Pagina, url: &str, id: TrabajoId) {
    p.ir(&format!("{url}/panel/trabajos/{id}"));
    esperar_estado_en_pagina(p, id, None);
}

/// Waits until job `id`'s page shows it (in `estado`, when given) and returns the state shown;
/// fails at once if the page is instead the dashboard's refusal.
pub fn esperar_estado_en_pagina(p: &Pagina, id: TrabajoId, estado: Option<Estado>) -> String {
    let estado = estado.map(|e| e.to_string());
    let js = format!(
        "(() => {{ const t = document.getElementById('trabajo'); \
         return t && t.dataset.trabajoId === '{id}' && {} ? t.dataset.estado : null }})()",
        match &estado {
            Some(e) => format!("t.dataset.estado === '{e}'"),
            None => "true".into(),
        }
    );
    let que = format!(
        "job {id}'s page shows it {}",
        estado.as_deref().unwrap_or("")
    );
    esperar_sin_rechazo(p, &que, &js)
        .as_str()
        .unwrap()
        .to_owned()
}

/// Waits until `js` gives a truthy value, as [`Pagina::esperar_js`], but fails at once, with
/// the reason it gives, if the page is the dashboard's refusal of an action
/// (`#error[data-estado-http]`).
pub fn esperar_sin_rechazo(p: &Pagina, que: &str, js: &str) -> serde_json::Value {
    let envuelto = format!(
        "(() => {{ const e = document.getElementById('error'); \
         if (e) return {{ rechazo: e.dataset.estadoHttp + ' ' + e.innerText }}; \
         const v = {js}; return v ? {{ valor: v }} : null }})()"
    );
    let v = p.esperar_js(PLAZO, que, &envuelto);
    if let Some(r) = v.get("rechazo") {
        panic!("waiting until {que}, the dashboard refused: {r}");
    }
    v["valor"].clone()
}

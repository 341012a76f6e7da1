//! A real browser for the dashboard's tests: Debian's `chromium`, headless, driven over the
//! DevTools protocol by `headless_chrome` (never a browser it downloads). A [`Pagina`] records
//! every console message, log entry and uncaught exception of its tab, waits for a condition
//! on the page by polling the DOM with a deadline, clicks and types like a person, and writes
//! PNG screenshots under `target/panel/`.
//!
//! The calls block (the crate is synchronous): a test calls them from the body of a
//! `#[tokio::test(flavor = "multi_thread")]`, whose services run on the runtime's workers.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::prelude::BASE64_STANDARD;
use headless_chrome::protocol::cdp::types::Event;
use headless_chrome::protocol::cdp::{Page, Runtime};
use headless_chrome::{Browser, LaunchOptions, Tab};
use serde_json::Value;

use crate::espera::SONDEO;

/// The browser's window, the same in every test so that screenshots compare.
pub const VENTANA: (u32, u32) = (1280, 900);
/// How long a page may take to load, and the protocol's calls to answer.
pub const PLAZO_CARGA: Duration = Duration::from_secs(20);
/// Where Debian installs the browser, tried when `chromium` is not on `PATH`.
const CHROMIUM_DEBIAN: &str = "/usr/bin/chromium";
/// The tallest screenshot, in CSS pixels (a page of 100,000 rows is not photographed whole).
pub const ALTO_MAXIMO: f64 = 4000.0;
/// How long the browser may stay silent (a test filling the store, say) before the crate
/// drops its connection.
const SILENCIO_MAXIMO: Duration = Duration::from_secs(600);

/// A headless chromium for one test; dropping it ends the browser process.
pub struct Navegador {
    navegador: Browser,
    /// Names the screenshots (`target/panel/<prueba>-<pagina>.png`).
    prueba: String,
}

/// What the page said on its console or its log, or an exception it did not catch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mensaje {
    /// `error`, `warning`, `info`, `log`, `debug`... (an uncaught exception is `error`).
    pub nivel: String,
    /// Where it came from: `console`, `log` (the browser: a failed load, a CSP refusal...) or
    /// `exception`.
    pub origen: &'static str,
    /// Its text, with the URL it names when it names one.
    pub texto: String,
}

impl fmt::Display for Mensaje {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{} {}] {}", self.origen, self.nivel, self.texto)
    }
}

/// One tab of the browser and what its page has said so far.
pub struct Pagina {
    pestana: Arc<Tab>,
    mensajes: Arc<Mutex<Vec<Mensaje>>>,
    prueba: String,
}

/// The browser's binary: `chromium` on `PATH`, else Debian's path; panics telling how to
/// install it when there is none.
pub fn chromium() -> PathBuf {
    buscar_chromium(std::env::var_os("PATH"), Path::new(CHROMIUM_DEBIAN))
        .unwrap_or_else(|e| panic!("{e}"))
}

/// `chromium` in one of the folders of `rutas` (a `PATH`), else `debian` if it is a file; else
/// why not, and how to install it.
fn buscar_chromium(rutas: Option<OsString>, debian: &Path) -> Result<PathBuf, String> {
    let en_path = rutas.and_then(|rutas| {
        std::env::split_paths(&rutas)
            .map(|d| d.join("chromium"))
            .find(|p| p.is_file())
    });
    en_path
        .or_else(|| Some(debian.to_owned()).filter(|p| p.is_file()))
        .ok_or_else(|| {
            format!(
                "no chromium on PATH nor at {}: install Debian's chromium: apt-get install \
                 chromium",
                debian.display()
            )
        })
}

/// Whether this process runs as root (chromium's sandbox refuses root).
fn es_root() -> bool {
    use std::os::unix::fs::MetadataExt as _;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

impl Navegador {
    /// Launches a headless chromium for the test named `prueba`; panics with the cause (and
    /// how to install the browser when it is missing).
    pub fn lanzar(prueba: &str) -> Navegador {
        let opciones = LaunchOptions {
            headless: true,
            sandbox: !es_root(),
            window_size: Some(VENTANA),
            path: Some(chromium()),
            idle_browser_timeout: SILENCIO_MAXIMO,
            args: vec![
                OsStr::new("--hide-scrollbars"),
                OsStr::new("--disable-dev-shm-usage"),
            ],
            ..LaunchOptions::default()
        };
        let navegador = Browser::new(opciones)
            .unwrap_or_else(|e| panic!("launching {}: {e:#}", chromium().display()));
        Navegador {
            navegador,
            prueba: prueba.to_owned(),
        }
    }

    /// A new tab recording its console, its log and its uncaught exceptions.
    pub fn pagina(&self) -> Pagina {
        let pestana = self.navegador.new_tab().expect("opening a tab");
        pestana.set_default_timeout(PLAZO_CARGA);
        let mensajes = Arc::new(Mutex::new(Vec::new()));
        let registro = Arc::clone(&mensajes);
        pestana
            .add_event_listener(Arc::new(move |e: &Event| {
                if let Some(m) = mensaje(e) {
                    registro.lock().unwrap().push(m);
                }
            }))
            .expect("listening to the tab");
        pestana.enable_runtime().expect("Runtime.enable");
        pestana.enable_log().expect("Log.enable");
        Pagina {
            pestana,
            mensajes,
            prueba: self.prueba.clone(),
        }
    }
}

/// The [`Mensaje`] an event of the tab carries, if it is one.
fn mensaje(e: &Event) -> Option<Mensaje> {
    match e {
        Event::RuntimeConsoleAPICalled(c) => Some(Mensaje {
            nivel: nombre_serde(&c.params.Type),
            origen: "console",
            texto: c
                .params
                .args
                .iter()
                .map(texto_de)
                .collect::<Vec<_>>()
                .join(" "),
        }),
        Event::RuntimeExceptionThrown(x) => {
            let d = &x.params.exception_details;
            let causa = d.exception.as_ref().map(texto_de).unwrap_or_default();
            Some(Mensaje {
                nivel: "error".into(),
                origen: "exception",
                texto: format!(
                    "{} {causa} at {}:{}",
                    d.text,
                    d.url.as_deref().unwrap_or("?"),
                    d.line_number
                ),
            })
        }
        Event::LogEntryAdded(l) => Some(Mensaje {
            nivel: nombre_serde(&l.params.entry.level),
            origen: "log",
            texto: format!(
                "{} ({})",
                l.params.entry.text,
                l.params.entry.url.as_deref().unwrap_or("")
            ),
        }),
        _ => None,
    }
}

/// The protocol's name of an enum value (`error`, `warning`...).
fn nombre_serde<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(Value::String(s)) => s,
        otro => format!("{otro:?}"),
    }
}

/// A console argument or an exception as a person reads it.
fn texto_de(o: &Runtime::RemoteObject) -> String {
    match (&o.value, &o.description) {
        (Some(Value::String(s)), _) => s.clone(),
        (Some(v), _) => v.to_string(),
        (None, Some(d)) => d.clone(),
        (None, None) => format!("{:?}", o.Type),
    }
}

impl Pagina {
    /// The tab, for what this module does not wrap.
    pub fn pestana(&self) -> &Tab {
        &self.pestana
    }

    /// Opens `url` and waits until it has loaded.
    pub fn ir(&self, url: &str) -> &Self {
        self.pestana
            .navigate_to(url)
            .and_then(|t| t.wait_until_navigated())
            .unwrap_or_else(|e| panic!("loading {url}: {e:#}"));
        self
    }

    /// The value of the JavaScript expression `js` on the page (awaited when it is a promise);
    /// `Err` with the exception's text when it throws.
    pub fn evaluar(&self, js: &str) -> Result<Value, String> {
        let r = self
            .pestana
            .call_method(Runtime::Evaluate {
                expression: js.to_owned(),
                return_by_value: Some(true),
                await_promise: Some(true),
                object_group: None,
                include_command_line_api: None,
                silent: Some(true),
                context_id: None,
                generate_preview: None,
                user_gesture: Some(true),
                throw_on_side_effect: None,
                timeout: None,
                disable_breaks: None,
                repl_mode: None,
                allow_unsafe_eval_blocked_by_csp: None,
                unique_context_id: None,
                serialization_options: None,
            })
            .map_err(|e| format!("{e:#}"))?;
        match r.exception_details {
            Some(x) => Err(format!(
                "{} {}",
                x.text,
                x.exception.as_ref().map(texto_de).unwrap_or_default()
            )),
            None => Ok(r.result.value.unwrap_or(Value::Null)),
        }
    }

    /// Evaluates `js` until it gives a truthy value (not `null`, `false`, `0`, `""`, nor an
    /// exception: the element may not be there yet) and returns it; panics naming `que`, the
    /// last value and the page's messages after `plazo`.
    pub fn esperar_js(&self, plazo: Duration, que: &str, js: &str) -> Value {
        let mut ultimo = None;
        let v = sondear_bloqueando(plazo, || {
            let v = self.evaluar(js);
            let hecho = v.as_ref().ok().filter(|v| es_verdadero(v)).cloned();
            ultimo = Some(v);
            hecho
        });
        v.unwrap_or_else(|| self.agotado(plazo, que, &format!("`{js}` gave {ultimo:?}")))
    }

    /// Waits until an element matches the CSS `selector`.
    pub fn esperar_elemento(&self, plazo: Duration, selector: &str) {
        let js = format!("document.querySelector({}) !== null", cadena_js(selector));
        self.esperar_js(plazo, &format!("`{selector}` is on the page"), &js);
    }

    /// Waits until the text of the element matching `selector` satisfies `cumple`, and returns
    /// it.
    pub fn esperar_texto(
        &self,
        plazo: Duration,
        selector: &str,
        que: &str,
        cumple: impl Fn(&str) -> bool,
    ) -> String {
        let mut ultimo = None;
        let t = sondear_bloqueando(plazo, || {
            ultimo = self.texto(selector);
            ultimo.clone().filter(|t| cumple(t))
        });
        t.unwrap_or_else(|| {
            let que = format!("`{selector}` {que}");
            self.agotado(plazo, &que, &format!("its text was {ultimo:?}"))
        })
    }

    /// Waits until the page has said `n` or more things at level `error`, and returns them.
    pub fn esperar_errores(&self, plazo: Duration, n: usize) -> Vec<Mensaje> {
        let errores = sondear_bloqueando(plazo, || Some(self.errores()).filter(|e| e.len() >= n));
        errores.unwrap_or_else(|| self.agotado(plazo, &format!("{n} errors are logged"), ""))
    }

    /// Fails a wait for `que` after `plazo`, with what was last seen, all the page said and a
    /// screenshot of it (`<prueba>-fallo.png`).
    fn agotado(&self, plazo: Duration, que: &str, visto: &str) -> ! {
        let ruta = dir_capturas().join(format!("{}-fallo.png", self.prueba));
        let captura = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.captura_en(&ruta);
        }));
        let captura = match captura {
            Ok(()) => format!("; screenshot: {}", ruta.display()),
            Err(_) => String::new(),
        };
        panic!(
            "timed out after {plazo:?} waiting until {que} on {}; {visto}; the page said: \
             {:?}{captura}",
            self.pestana.get_url(),
            self.mensajes()
        )
    }

    /// The visible text of the first element matching `selector`, if there is one.
    pub fn texto(&self, selector: &str) -> Option<String> {
        let js = format!(
            "(() => {{ const e = document.querySelector({}); return e ? e.innerText : null }})()",
            cadena_js(selector)
        );
        self.evaluar(&js)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
    }

    /// How many elements match `selector`.
    pub fn contar(&self, selector: &str) -> usize {
        let js = format!("document.querySelectorAll({}).length", cadena_js(selector));
        let n = self
            .evaluar(&js)
            .unwrap_or_else(|e| panic!("counting `{selector}`: {e}"));
        n.as_u64().unwrap_or(0) as usize
    }

    /// The value of attribute `atributo` of the first element matching `selector`.
    pub fn atributo(&self, selector: &str, atributo: &str) -> Option<String> {
        let js = format!(
            "document.querySelector({})?.getAttribute({}) ?? null",
            cadena_js(selector),
            cadena_js(atributo)
        );
        self.evaluar(&js)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
    }

    /// Clicks the element matching `selector` once it is there, scrolled into view and not
    /// covered by anything at its middle (where a person would click). The click is one
    /// `HTMLElement.click()`, not a mouse press and release: a page that swaps its live
    /// regions between the two would eat a mouse click, and the test would wait for nothing.
    /// It runs in a task of its own, so what its handlers log or throw is recorded as the
    /// page's.
    pub fn clic(&self, selector: &str) -> &Self {
        let js = format!(
            "(() => {{ const e = document.querySelector({}); if (!e) return 'not on the page'; \
             e.scrollIntoView({{ block: 'center' }}); const r = e.getBoundingClientRect(); \
             if (r.width === 0 || r.height === 0) return 'not visible'; \
             const a = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2); \
             if (!a || !(a === e || e.contains(a))) \
               return 'covered by ' + (a ? a.outerHTML.slice(0, 100) : 'nothing'); \
             setTimeout(() => e.click()); return 'ok' }})()",
            cadena_js(selector)
        );
        let mut ultimo = None;
        let hecho = sondear_bloqueando(PLAZO_CARGA, || {
            let r = self.evaluar(&js);
            let ok = r.as_ref().is_ok_and(|v| v == "ok");
            ultimo = Some(r);
            ok.then_some(())
        });
        if hecho.is_none() {
            let que = format!("`{selector}` can be clicked");
            self.agotado(PLAZO_CARGA, &que, &format!("it was {ultimo:?}"));
        }
        self
    }

    /// [`Pagina::clic`] on what leads to another page (a link, a form's button), then waits
    /// until that page has loaded: the old page's state can never pass for the new one's.
    pub fn clic_y_cargar(&self, selector: &str) -> &Self {
        self.evaluar("window.__paginaAnterior = true")
            .unwrap_or_else(|e| panic!("marking the page before clicking `{selector}`: {e}"));
        self.clic(selector);
        self.esperar_js(
            PLAZO_CARGA,
            &format!("the page `{selector}` leads to has loaded"),
            "window.__paginaAnterior === undefined && document.readyState === 'complete'",
        );
        self
    }

    /// Types `texto` into the element matching `selector` (an input, say) with the keyboard.
    pub fn escribir(&self, selector: &str, texto: &str) -> &Self {
        self.pestana
            .wait_for_element_with_custom_timeout(selector, PLAZO_CARGA)
            .and_then(|e| e.type_into(texto).map(|_| ()))
            .unwrap_or_else(|e| panic!("typing into `{selector}`: {e:#}"));
        self
    }

    /// Makes `confirm()` answer yes and `alert()` return at once on every page this tab opens
    /// from now on (a person confirming "clear the queue?"), recording what they asked as
    /// `info` messages.
    pub fn aceptar_dialogos(&self) -> &Self {
        let script = "window.confirm = (m) => { console.info('confirm: ' + m); return true; };\
                      window.alert = (m) => { console.info('alert: ' + m); };";
        self.pestana
            .call_method(Page::AddScriptToEvaluateOnNewDocument {
                source: script.to_owned(),
                world_name: None,
                include_command_line_api: None,
                run_immediately: None,
            })
            .expect("Page.addScriptToEvaluateOnNewDocument");
        self
    }

    /// Everything the page has said so far.
    pub fn mensajes(&self) -> Vec<Mensaje> {
        self.mensajes.lock().unwrap().clone()
    }

    /// What the page has said at level `error` (console errors, failed loads, uncaught
    /// exceptions).
    pub fn errores(&self) -> Vec<Mensaje> {
        self.mensajes()
            .into_iter()
            .filter(|m| m.nivel == "error")
            .collect()
    }

    /// Panics listing them if the page has said anything at level `error`.
    pub fn sin_errores(&self) -> &Self {
        let errores = self.errores();
        assert!(
            errores.is_empty(),
            "the page at {} logged errors:\n{}",
            self.pestana.get_url(),
            errores
                .iter()
                .map(|m| format!("  {m}\n"))
                .collect::<String>()
        );
        self
    }

    /// Writes a PNG of the whole page (the window's width, the page's height up to
    /// [`ALTO_MAXIMO`]) to `target/panel/<prueba>-<nombre>.png` and returns its path.
    pub fn captura(&self, nombre: &str) -> PathBuf {
        let ruta = dir_capturas().join(format!("{}-{nombre}.png", self.prueba));
        self.captura_en(&ruta);
        ruta
    }

    /// Writes a PNG of the whole page to `ruta` (a committed picture under `docs/`, say).
    pub fn captura_en(&self, ruta: &Path) {
        let alto = self
            .evaluar("document.documentElement.scrollHeight")
            .ok()
            .and_then(|v| v.as_f64())
            .unwrap_or(f64::from(VENTANA.1))
            .clamp(1.0, ALTO_MAXIMO);
        let captura = self.pestana.call_method(Page::CaptureScreenshot {
            format: Some(Page::CaptureScreenshotFormatOption::Png),
            quality: None,
            clip: Some(Page::Viewport {
                x: 0.0,
                y: 0.0,
                width: f64::from(VENTANA.0),
                height: alto,
                scale: 1.0,
            }),
            from_surface: Some(true),
            capture_beyond_viewport: Some(true),
            optimize_for_speed: None,
        });
        let png = captura
            .map_err(|e| format!("{e:#}"))
            .and_then(|c| BASE64_STANDARD.decode(c.data).map_err(|e| e.to_string()))
            .unwrap_or_else(|e| panic!("screenshot of {}: {e}", self.pestana.get_url()));
        if let Some(dir) = ruta.parent() {
            std::fs::create_dir_all(dir)
                .unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
        }
        std::fs::write(ruta, png).unwrap_or_else(|e| panic!("writing {}: {e}", ruta.display()));
    }
}

/// Calls `f` every [`SONDEO`] until it gives a value; `None` once `plazo` has passed (`f` is
/// tried at least once, and once more after the deadline). The blocking twin of
/// [`crate::espera::sondear`], for the browser's blocking calls.
pub fn sondear_bloqueando<T>(plazo: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let limite = Instant::now() + plazo;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() >= limite {
            return None;
        }
        std::thread::sleep(SONDEO);
    }
}

/// JavaScript's truthiness of a value read back from the page.
fn es_verdadero(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

/// `s` as a JavaScript string literal.
pub fn cadena_js(s: &str) -> String {
    Value::String(s.to_owned()).to_string()
}

/// The workspace's root (where `Cargo.lock` and `docs/` are).
pub fn raiz() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("pruebas lives in the workspace")
        .to_owned()
}

/// `target/panel/` under `CARGO_TARGET_DIR`, or under the workspace's `target/`.
pub fn dir_capturas() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|t| if t.is_relative() { raiz().join(t) } else { t })
        .unwrap_or_else(|| raiz().join("target"));
    target.join("panel")
}

#[cfg(test)]
mod tests;

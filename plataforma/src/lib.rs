//! What the cluster's three services (`maestro`, `esclavo`, `memoria`) stand on: what every
//! `main.rs` does before handing a listener and a shutdown future to its library's `run`, how a
//! running service supervises its tasks, its HTTP layer, and what every HTTP link of the cluster
//! is built with.
//!
//! - [`proceso`]: [`iniciar_logs`] (`tracing` to stderr, filtered by `RUST_LOG`, default
//!   `info`); [`escuchar`] (binds the port and prints `<service> escuchando en
//!   http://127.0.0.1:PORT`, `https://` with TLS, as the first line of stdout, so scripts can
//!   start services on port 0); [`senal_de_parada`] (SIGINT or SIGTERM); [`nueva_instancia`]
//!   (the number that tells a restart from a reconnection).
//! - [`Tareas`] ([`tareas`]): a service's server and background loops, run until shutdown or
//!   a failure, then stopped in order (loops aborted, requests in flight given a grace period).
//! - [`servir`] ([`servidor`]): the hardened HTTP(S) server every service runs instead of
//!   `axum::serve`, with its [`Transporte`]: optional TLS and the [`Limites`] of each
//!   connection (headers, bodies, simultaneous connections).
//! - [`proteger`] ([`acceso`]): the cluster token in front of a router ([`Acceso`]): every
//!   request but `GET /ping` needs it, reads too unless `--lecturas-abiertas`.
//! - [`cliente_http`] ([`tls`]): the builder of every HTTP client (rustls with `ring`, the
//!   system's roots plus the cluster's [`Ca`]); [`Tls`] loads a server's certificate and key.
//! - [`http`]: the one HTTP error type of the three services' APIs ([`http::ErrorApi`]), the
//!   extractors that name the field at fault, and the JSON 404 and 405.
//! - [`Metricas`] ([`metricas`]): a service's own Prometheus registry (prefix
//!   `hpc_<service>_`), the helpers that declare metrics in it, the middleware counting and
//!   timing HTTP requests by route pattern, method and status, and the text of `GET /metrics`.
//! - [`ArgsRed`] ([`args`]): the flags of all this, shared by the three services;
//!   [`ArgsMaestro`], the `--maestro` of esclavos and memoria nodes.
//! - [`maestro::ClienteMaestro`]: the maestro's node API as esclavos and memoria nodes call it
//!   (register, heartbeat, results, memoria reports), with [`maestro::ErrorMaestro`], and
//!   [`Reintento`] ([`reintento`]), the backoff of every loop that calls it.
//! - [`esclavo::ClienteEsclavo`]: the esclavos' API as the maestro calls it (`/ejecutar`,
//!   `/cancelar`), with [`esclavo::ErrorEsclavo`].

pub mod acceso;
pub mod args;
pub mod esclavo;
pub mod http;
pub mod maestro;
pub mod metricas;
pub mod proceso;
pub mod reintento;
pub mod servidor;
pub mod tareas;
pub mod tls;

pub use acceso::{Acceso, proteger};
pub use args::{ArgsMaestro, ArgsRed};
pub use metricas::Metricas;
pub use proceso::{escuchar, iniciar_logs, nueva_instancia, senal_de_parada};
pub use reintento::Reintento;
pub use servidor::{Limites, Transporte, servir};
pub use tareas::Tareas;
pub use tls::{Ca, Tls, cliente_http, instalar_proveedor_tls};

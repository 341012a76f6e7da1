//! Test support shared by the cluster's crates (a dev-dependency of each, and a dependency of
//! the tests-only `fallos`). It knows no service: a service under test is started through the
//! closure that calls its `run`, so no crate is linked twice into its own tests.
//!
//! # Layout
//!
//! - [`espera`]: waiting for a condition with a deadline (the one polling loop).
//! - [`servicio`]: a service in-process on a loopback port, its URL, its shutdown; a fake peer.
//! - [`api`]: the maestro's API as the tests call it.
//! - [`contrato`]: a service's OpenAPI document against its copy in `docs/openapi/`, and its
//!   documented operations, for the tests that call each.
//! - [`sondas`]: what a test asks a running service before it goes on (`/ping`, a registered
//!   esclavo), and a router called without a network.
//! - [`metricas`]: a service's `GET /metrics`, parsed strictly, its figures looked up by name
//!   and labels.
//! - [`proceso`]: a service's binary as a child process, and the address it announces.
//! - [`navegador`]: Debian's chromium, headless, for the dashboard's tests: console errors
//!   recorded, waits on the DOM with a deadline, clicks, screenshots under `target/panel/`.
//! - [`postgres`]: a throwaway PostgreSQL server (Debian's binaries, `initdb` in a temporary
//!   folder), for the maestro's PostgreSQL store.
//! - [`pki`]: a throwaway CA and server certificate for the TLS tests.
//! - [`malformado`]: the table-driven bad-request probe and its figures file.
//! - [`generadores`]: hostile request bodies for the property tests.
//! - [`registros`]: test logs on demand (`TEST_LOG=1`).

pub mod api;
pub mod contrato;
pub mod espera;
pub mod generadores;
pub mod malformado;
pub mod metricas;
pub mod navegador;
pub mod pki;
pub mod postgres;
pub mod proceso;
pub mod registros;
pub mod servicio;
pub mod sondas;

pub use espera::{esperar_a, esperar_hasta, sondear, sostener};
pub use servicio::{Falso, Parada, Servicio, direccion_libre};

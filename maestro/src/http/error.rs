//! The maestro's HTTP error is the one of every service: [`arranque::http::ErrorApi`] (client
//! errors with their real status and a JSON body naming the field; internal errors logged with
//! their cause chain and opaque to the client).

pub use arranque::http::ErrorApi;

//! A service's binary run as a child process: the first line it prints, which names the address
//! it bound (`maestro escuchando en http://127.0.0.1:PORT`).

use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, BufReader, Lines};
use tokio::process::{Child, ChildStdout};

/// The lines of a child's stdout still to be read; dropping it closes the pipe.
pub type Lineas = Lines<BufReader<ChildStdout>>;

/// The first line `hijo` prints on its (piped) stdout, within `plazo`, and the reader of the
/// lines after it; `quien` names the program in a failure.
pub async fn primera_linea(hijo: &mut Child, quien: &str, plazo: Duration) -> (String, Lineas) {
    let salida = hijo.stdout.take().expect("the child's stdout is piped");
    let mut lineas = BufReader::new(salida).lines();
    let primera = tokio::time::timeout(plazo, lineas.next_line())
        .await
        .unwrap_or_else(|_| panic!("the {quien} printed nothing within {plazo:?}"))
        .unwrap()
        .unwrap_or_else(|| panic!("the {quien} exited before printing its address"));
    (primera, lineas)
}

/// The URL `hijo` announces on its first line (`<quien> escuchando en URL`), and the reader of
/// the lines after it.
pub async fn url_anunciada(hijo: &mut Child, quien: &str, plazo: Duration) -> (String, Lineas) {
    let (primera, lineas) = primera_linea(hijo, quien, plazo).await;
    let url = primera
        .strip_prefix(&format!("{quien} escuchando en "))
        .unwrap_or_else(|| panic!("unexpected first line: {primera}"))
        .to_owned();
    (url, lineas)
}

//! Progress bars and spinners (indicatif), drawn on stderr and only for a person: hidden when
//! stdout is not a terminal (piped into a script or a file) or with `--json`.

use std::io::IsTerminal as _;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressState, ProgressStyle};

/// Whether bars should be drawn at all.
pub fn visibles(json: bool) -> bool {
    !json && std::io::stdout().is_terminal() && std::io::stderr().is_terminal()
}

/// A bar of `total` jobs finished, with rate and ETA.
pub fn barra(total: u64, visible: bool) -> ProgressBar {
    if !visible {
        return ProgressBar::hidden();
    }
    let estilo = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} jobs ({tasa}, ETA {eta}) {msg}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .with_key("tasa", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
        let _ = write!(w, "{:.1}/s", s.per_sec());
    })
    .progress_chars("█▉▊▋▌▍▎▏ ");
    let b = ProgressBar::new(total).with_style(estilo);
    b.enable_steady_tick(Duration::from_millis(120));
    b
}

/// A spinner with a message, for one job.
pub fn girador(mensaje: String, visible: bool) -> ProgressBar {
    if !visible {
        return ProgressBar::hidden();
    }
    let estilo = ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
    let b = ProgressBar::new_spinner()
        .with_style(estilo)
        .with_message(mensaje);
    b.enable_steady_tick(Duration::from_millis(120));
    b
}

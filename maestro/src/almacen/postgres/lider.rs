//! Leadership among maestro replicas sharing one database: a lease in the row `lider`, with a
//! fencing number (`epoca`).
//!
//! - A replica **takes** the lease when it has expired (or when it is its own, from before a
//!   restart): the row gets its name, its URL, a new `epoca` (one more than the last) and an
//!   expiry `vence` of now plus the lease time, all by the database's clock.
//! - The leader **renews** it every third of the lease, for its own `epoca` only; a renewal that
//!   changes no row means another replica has taken over, and the leader stops.
//! - **Fencing:** every transaction of the leader's writer first reads the row `FOR SHARE` and
//!   goes on only if `epoca` is still its own ([`FENCING`]); a takeover's update waits for
//!   the transactions that hold that lock, and every later one of the old leader is refused. A
//!   leader cut off from the database, or paused, cannot dispatch or record anything once
//!   another has taken over, whether it knows it yet or not.
//! - A leader that stops cleanly **releases** the lease (expires it now), so another replica
//!   takes over at its next try instead of after the lease time.

use std::time::Duration;

use anyhow::Context;
use comun::api::InfoReplica;
use tokio_postgres::Client;

/// The fencing statement: one row while `epoca` ($1) is still the leader's.
pub const FENCING: &str = "SELECT 1 FROM lider WHERE id = 1 AND epoca = $1 FOR SHARE";

/// Who leads, as the row says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lider {
    pub replica: String,
    pub url: String,
    pub epoca: i64,
    /// Whether the lease has not expired yet.
    pub vigente: bool,
    /// Since when it leads, in milliseconds since the epoch.
    pub desde_ms: u64,
}

/// Takes the lease for `replica` (reachable at `url`) if it is free or already its own: the new
/// `epoca`, or `None` while another replica holds it.
pub async fn tomar(
    c: &Client,
    replica: &str,
    url: &str,
    plazo: Duration,
) -> anyhow::Result<Option<i64>> {
    let fila = c
        .query_opt(
            "UPDATE lider SET replica = $1, url = $2, epoca = epoca + 1,
               vence = now() + make_interval(secs => $3), desde = now()
             WHERE id = 1 AND (vence < now() OR replica = $1)
             RETURNING epoca",
            &[&replica, &url, &plazo.as_secs_f64()],
        )
        .await
        .context("taking the leadership")?;
    Ok(fila.map(|f| f.get(0)))
}

/// Renews the lease of `epoca` for another `plazo`: false once another replica took over.
pub async fn renovar(c: &Client, epoca: i64, plazo: Duration) -> anyhow::Result<bool> {
    let n = c
        .execute(
            "UPDATE lider SET vence = now() + make_interval(secs => $2)
             WHERE id = 1 AND epoca = $1",
            &[&epoca, &plazo.as_secs_f64()],
        )
        .await
        .context("renewing the leadership")?;
    Ok(n == 1)
}

/// Releases the lease of `epoca` (it expires now).
pub async fn soltar(c: &Client, epoca: i64) -> anyhow::Result<()> {
    c.execute(
        "UPDATE lider SET vence = now() - interval '1 millisecond' WHERE id = 1 AND epoca = $1",
        &[&epoca],
    )
    .await
    .context("releasing the leadership")?;
    Ok(())
}

/// The row as it is now.
pub async fn leer(c: &Client) -> anyhow::Result<Lider> {
    let f = c
        .query_one(
            "SELECT replica, url, epoca, vence > now(),
               (extract(epoch FROM desde) * 1000)::bigint FROM lider WHERE id = 1",
            &[],
        )
        .await
        .context("reading who leads")?;
    Ok(Lider {
        replica: f.try_get(0)?,
        url: f.try_get(1)?,
        epoca: f.try_get(2)?,
        vigente: f.try_get(3)?,
        desde_ms: f.try_get::<_, i64>(4)?.max(0) as u64,
    })
}

/// Records that replica `nombre`, reachable at `url`, is alive now (every replica, every
/// third of the lease), for `GET /estado`.
pub async fn anunciar(c: &Client, nombre: &str, url: &str) -> anyhow::Result<()> {
    c.execute(
        "INSERT INTO replicas (nombre, url, visto) VALUES ($1, $2, now())
         ON CONFLICT (nombre) DO UPDATE SET url = $2, visto = now()",
        &[&nombre, &url],
    )
    .await
    .context("announcing this replica")?;
    Ok(())
}

/// The replicas seen in the last ten minutes, by name; alive: seen within two lease times.
pub async fn replicas(c: &Client, plazo: Duration) -> anyhow::Result<Vec<InfoReplica>> {
    let filas = c
        .query(
            "SELECT r.nombre, r.url, l.replica = r.nombre AND l.vence > now(),
               (extract(epoch FROM l.desde) * 1000)::bigint, l.epoca,
               (extract(epoch FROM r.visto) * 1000)::bigint,
               r.visto > now() - make_interval(secs => $1)
             FROM replicas r CROSS JOIN lider l
             WHERE r.visto > now() - interval '10 minutes' ORDER BY r.nombre",
            &[&(2.0 * plazo.as_secs_f64())],
        )
        .await
        .context("reading the replicas")?;
    filas
        .iter()
        .map(|f| {
            let lider: bool = f.try_get(2)?;
            Ok(InfoReplica {
                nombre: f.try_get(0)?,
                url: f.try_get(1)?,
                lider,
                lider_desde_ms: lider.then(|| f.get::<_, i64>(3).max(0) as u64),
                epoca: lider.then(|| f.get(4)),
                visto_ms: f.try_get::<_, i64>(5)?.max(0) as u64,
                viva: f.try_get(6)?,
            })
        })
        .collect()
}

/// Fails unless `epoca` is still the leader's.
pub async fn vigente(c: &Client, epoca: i64) -> anyhow::Result<()> {
    let filas = c.execute(FENCING, &[&epoca]).await?;
    anyhow::ensure!(filas == 1, Depuesto(epoca));
    Ok(())
}

/// The error of a write refused by fencing: another replica took over after `epoca`.
#[derive(Debug, thiserror::Error)]
#[error("fenced: this maestro's leadership (epoch {0}) was taken over by another replica")]
pub struct Depuesto(pub i64);

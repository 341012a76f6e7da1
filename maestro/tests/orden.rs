//! Priority order and first-in first-out within a priority, end to end.

mod apoyo;

use std::time::Duration;

use apoyo::*;
use comun::Prioridad;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_start_by_priority_then_in_order_of_arrival() {
    let datos = tempfile::tempdir().unwrap();
    let m = maestro(config_maestro(datos.path()), 0).await;
    // Queued while no esclavo exists, so the whole queue is there when the first slot opens.
    let prioridades = [3, 2, 1, 2, 3, 1, 1, 2];
    let mut ids = Vec::new();
    for p in prioridades {
        ids.push((p, espera(&m.url, 15, Prioridad::new(p).unwrap()).await));
    }
    let pendiente = trabajo(&m.url, ids[0].1).await;
    assert!(
        pendiente
            .motivo
            .as_deref()
            .unwrap_or("")
            .contains("no esclavo"),
        "{pendiente:?}"
    );
    let e = esclavo(&m.url, "solo", 1).await;
    esperar_vacia(&m.url, Duration::from_secs(30)).await;
    let mut inicios = Vec::new();
    for &(p, id) in &ids {
        let t = trabajo(&m.url, id).await;
        inicios.push((t.iniciado_ms.expect("started"), p, id));
    }
    inicios.sort();
    let orden: Vec<_> = inicios.iter().map(|&(_, p, id)| (p, id)).collect();
    let mut esperado = ids.clone();
    esperado.sort();
    assert_eq!(orden, esperado, "start order must be (prioridad, arrival)");
    e.parar().await;
    m.parar().await;
}

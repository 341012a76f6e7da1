// The dashboard's live updates: listen to the maestro's server-sent events and, on each one,
// fetch this page again and swap every element marked data-vivo (by its id). At most one fetch
// runs at a time; events that arrive meanwhile cause one more fetch afterwards. A region the
// person is working in (a control focused, a choice not sent yet) is left as it is.
"use strict";
(function () {
  const indicador = document.getElementById("vivo");
  const MINIMO_MS = 250;
  let enCurso = false, pendiente = false, ultimo = 0;

  function marcar(conectado, texto) {
    if (!indicador) return;
    indicador.dataset.conectado = conectado ? "si" : "no";
    indicador.textContent = texto;
  }

  // A region is busy while the person works in it: a control focused, or a choice made and
  // not sent yet (a select or a field no longer at the value the page came with).
  function ocupada(region) {
    const activo = document.activeElement;
    if (activo && activo !== document.body && region.contains(activo) &&
        ["INPUT", "SELECT", "TEXTAREA", "BUTTON"].includes(activo.tagName)) return true;
    for (const campo of region.querySelectorAll("select, input:not([type=hidden]), textarea")) {
      if (campo.tagName === "SELECT") {
        if ([...campo.options].some(o => o.selected !== o.defaultSelected)) return true;
      } else if (campo.value !== campo.defaultValue) {
        return true;
      }
    }
    return false;
  }

  async function refrescar() {
    if (enCurso) { pendiente = true; return; }
    const espera = ultimo + MINIMO_MS - Date.now();
    if (espera > 0) { enCurso = true; await new Promise(r => setTimeout(r, espera)); enCurso = false; }
    enCurso = true; pendiente = false; ultimo = Date.now();
    try {
      const r = await fetch(location.href, { headers: { "Accept": "text/html" }, credentials: "same-origin" });
      if (r.ok && (r.headers.get("content-type") || "").startsWith("text/html")) {
        const nuevo = new DOMParser().parseFromString(await r.text(), "text/html");
        for (const region of document.querySelectorAll("[data-vivo][id]")) {
          const reemplazo = nuevo.getElementById(region.id);
          if (reemplazo && !ocupada(region)) region.replaceWith(document.importNode(reemplazo, true));
        }
      }
    } catch (e) {
      marcar(false, "offline");
    } finally {
      enCurso = false;
      if (pendiente) refrescar();
    }
  }

  function conectar() {
    const fuente = new EventSource("/panel/eventos");
    fuente.onopen = () => marcar(true, "live");
    fuente.addEventListener("resumen", (e) => {
      if (indicador) indicador.dataset.version = e.lastEventId;
      marcar(true, "live");
      refrescar();
    });
    fuente.addEventListener("latido", () => { marcar(true, "live"); refrescar(); });
    fuente.onerror = () => marcar(false, "reconnecting…");
  }

  if (document.querySelector("[data-vivo]")) conectar();
})();

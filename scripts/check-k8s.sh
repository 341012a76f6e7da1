#!/usr/bin/env bash
# Checks of deploy/k8s without a Kubernetes cluster (CI):
#
# 1. `kubectl kustomize` renders each overlay (sencillo, gpu, ha) and each escalado componente
#    (keda, hpa) over sencillo;
# 2. `kubernetes-validate --strict` (PyPI) validates every rendered object against the
#    Kubernetes API's schemas: a misspelt or misplaced field fails;
# 3. KEDA's ScaledObject, a custom resource kubernetes-validate knows nothing of, is validated
#    by `check-jsonschema` against deploy/k8s/esquemas/keda-scaledobject.json;
# 4. for every workload, as scripts/check-compose.sh does for the compose file:
#    - its container runs one of our binaries (`args: [maestro|esclavo|memoria]`);
#    - every variable it sets, directly or through envFrom (the ConfigMap and Secret as
#      rendered), is one that binary's `--help` shows (or RUST_LOG), except POD_IP when another
#      value reads it as `$(POD_IP)`;
#    - its port named http is PUERTO (or the binary's default), and the probes ask GET /ping on
#      it; an esclavo's URL_PUBLICA points at that port;
#    - MAESTRO_URL names the maestro Service and its port, and that Service sends to the
#      maestro's http port;
#    - it runs as a non-root user with requests and limits; a GPU esclavo asks nvidia.com/gpu;
#    - an esclavo's terminationGracePeriodSeconds leaves 5 s after its GRACIA_S (the drain:
#      running jobs finish, the rest is handed back before the SIGKILL);
#    - several maestro replicas (a Deployment, or replicas > 1) share a PostgreSQL database
#      (BASE_DATOS), each named after its pod (REPLICA from metadata.name) and reachable at its
#      pod IP (URL_REPLICA): on SQLite each would keep a queue of its own;
#    - a workload of another image (the ha overlay's PostgreSQL) runs as a non-root user with
#      requests and limits;
# 5. a self-test: broken variants of the sencillo render (an unknown variable, a probe on another
#    path, too short a grace, a wrong MAESTRO_URL port, a root container) and of the ha render
#    (replicas without BASE_DATOS, replicas sharing one name) must each be refused.
#
# Needs kubectl (with its built-in kustomize) and python3 with venv; installs the two PyPI tools
# into target/py/k8s on first use. Builds the three binaries (debug) to read their --help, or
# reads those in HPC_BINARIOS.
set -euo pipefail
cd "$(dirname "$0")/.."
inicio=$(date +%s%N)

command -v kubectl >/dev/null || {
    echo "kubectl is needed (kubectl kustomize renders the manifests)" >&2
    exit 1
}
VENV=target/py/k8s
if [[ ! -x $VENV/bin/kubernetes-validate || ! -x $VENV/bin/check-jsonschema ]]; then
    echo "== installing kubernetes-validate and check-jsonschema into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check \
        kubernetes-validate==1.37.0 check-jsonschema==0.39.0
fi

TMP=$(mktemp -d)
PRUEBAS=()
trap 'rm -rf "$TMP" "${PRUEBAS[@]}"' EXIT

render() { # $1 name, $2 kustomization folder
    kubectl kustomize "$2" >"$TMP/$1.yaml"
    echo "   $1: $(grep -c '^kind:' "$TMP/$1.yaml") objects"
}
echo "== kubectl kustomize"
render sencillo deploy/k8s/overlays/sencillo
render gpu deploy/k8s/overlays/gpu
render ha deploy/k8s/overlays/ha
for c in keda hpa; do
    # A component is rendered through an overlay that uses it, beside the others.
    d=$(mktemp -d -p deploy/k8s/overlays .prueba-XXXXXX)
    PRUEBAS+=("$d")
    printf 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [../sencillo]\ncomponents: [../../componentes/%s]\n' \
        "$c" >"$d/kustomization.yaml"
    render "escalado-$c" "$d"
done

echo "== kubernetes-validate --strict"
for f in "$TMP"/*.yaml; do
    salida=$("$VENV/bin/kubernetes-validate" --strict --quiet "$f" 2>&1) || {
        echo "$salida" >&2
        exit 1
    }
    # Only the custom resource may lack a schema here: it is checked below.
    if grep -v "Couldn't find schema for kind ScaledObject" <<<"$salida" | grep -q .; then
        echo "$salida" >&2
        exit 1
    fi
done

if [[ -n ${HPC_BINARIOS:-} ]]; then
    BIN=$HPC_BINARIOS # binaries built already (CI: the release ones)
else
    echo "== building the binaries to read their --help"
    cargo build -q --locked -p maestro -p esclavo -p memoria
    BIN=$(cargo metadata --format-version 1 --no-deps --locked |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')/debug
fi
for b in maestro esclavo memoria; do
    env -i "$BIN/$b" --help >"$TMP/$b.help"
done

echo "== workloads"
"$VENV/bin/python" - "$TMP" <<'PY' # PyYAML comes with kubernetes-validate
import glob
import json
import os
import subprocess
import sys
from urllib.parse import urlparse

import yaml

TMP = sys.argv[1]
sys.path.insert(0, "scripts")
from ayuda_clap import aceptadas, variables  # noqa: E402

AYUDAS = {}
for b in ("maestro", "esclavo", "memoria"):
    with open(os.path.join(TMP, f"{b}.help")) as f:
        AYUDAS[b] = f.read()
errores = []


def error(donde, mensaje):
    errores.append(f"{donde}: {mensaje}")


def higiene(donde, pod, c):
    """Every pod, ours or not: a non-root user, requests and limits."""
    seguridad = pod.get("securityContext") or {}
    if not seguridad.get("runAsNonRoot") or not seguridad.get("runAsUser"):
        error(donde, "must run as a non-root user")
    recursos = c.get("resources") or {}
    if not recursos.get("requests") or not recursos.get("limits"):
        error(donde, "needs resource requests and limits")
    return recursos


def revisar(nombre, docs):
    por_clave = {(d["kind"], d["metadata"]["name"]): d for d in docs}
    servicios = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Service"}
    cargas = [d for d in docs if d["kind"] in ("Deployment", "StatefulSet", "DaemonSet")]
    binarios = set()
    for d in cargas:
        pod = d["spec"]["template"]["spec"]
        donde = f"{nombre}: {d['kind']} {d['metadata']['name']}"
        (c,) = pod["containers"]
        if not c.get("image", "").startswith("hpc-cluster"):
            # Not one of ours (the ha overlay's PostgreSQL): the pod's hygiene only.
            higiene(donde, pod, c)
            continue
        args = c.get("args") or []
        if len(args) != 1 or args[0] not in AYUDAS:
            error(donde, f"args must be one of our binaries, not {args}")
            continue
        b = args[0]
        binarios.add(b)
        env = {}
        desde = {}
        for e in c.get("env", []):
            env[e["name"]] = e.get("value")
            desde[e["name"]] = e.get("valueFrom") or {}
        for fuente in c.get("envFrom", []):
            ref = fuente.get("configMapRef") or fuente.get("secretRef")
            tipo = "ConfigMap" if "configMapRef" in fuente else "Secret"
            objeto = next(
                (o for (k, n), o in por_clave.items() if k == tipo and n.startswith(ref["name"])),
                None,
            )
            if objeto is None:
                error(donde, f"envFrom names {tipo} {ref['name']}, which is not rendered")
                continue
            for k, v in {**objeto.get("data", {}), **objeto.get("stringData", {})}.items():
                env.setdefault(k, v)
        leidas = {n for n, v in env.items() for m in env.values() if m and f"$({n})" in m}
        for n in sorted(set(env) - aceptadas(AYUDAS[b]) - leidas):
            error(donde, f"{n} is not a variable {b} reads (its --help lists them)")
        defecto = variables(AYUDAS[b]).get("PUERTO")
        puerto = int(env.get("PUERTO") or defecto)
        http = [p for p in c.get("ports", []) if p.get("name") == "http"]
        if [p["containerPort"] for p in http] != [puerto]:
            error(donde, f"its port named http must be PUERTO ({puerto})")
        for sonda in ("readinessProbe", "livenessProbe"):
            g = (c.get(sonda) or {}).get("httpGet") or {}
            if g.get("path") != "/ping" or g.get("port") not in ("http", puerto):
                error(donde, f"{sonda} must ask GET /ping on the http port")
        if b == "esclavo":
            u = urlparse((env.get("URL_PUBLICA") or "").replace("$(POD_IP)", "ip"))
            if u.port != puerto:
                error(donde, f"URL_PUBLICA's port must be PUERTO ({puerto})")
            gracia = float(env.get("GRACIA_S") or variables(AYUDAS[b]).get("GRACIA_S"))
            plazo = pod.get("terminationGracePeriodSeconds", 30)
            if plazo < gracia + 5:
                error(donde, f"terminationGracePeriodSeconds ({plazo}) must leave 5 s after "
                      f"GRACIA_S ({gracia:g}) to hand running jobs back before SIGKILL")
        if b != "maestro":
            u = urlparse(env.get("MAESTRO_URL") or "")
            s = servicios.get(u.hostname or "")
            if s is None or u.port not in [p["port"] for p in s["spec"]["ports"]]:
                error(donde, f"MAESTRO_URL {env.get('MAESTRO_URL')} is not a Service's port")
        recursos = higiene(donde, pod, c)
        if "gpu" in d["metadata"]["name"]:
            if "nvidia.com/gpu" not in recursos.get("limits", {}):
                error(donde, "a GPU esclavo must ask nvidia.com/gpu in its limits")
            if not pod.get("nodeSelector") or not pod.get("tolerations"):
                error(donde, "a GPU esclavo needs a node selector and tolerations")
        if b == "maestro" and (d["kind"] == "Deployment" or d["spec"].get("replicas", 1) > 1):
            if "BASE_DATOS" not in env:
                error(donde, "several maestro replicas need BASE_DATOS (PostgreSQL): on SQLite "
                      "each would keep a queue of its own")
            campo = (desde.get("REPLICA", {}).get("fieldRef") or {}).get("fieldPath")
            if campo != "metadata.name":
                error(donde, "each maestro replica needs its own name: REPLICA from metadata.name")
            if "$(POD_IP)" not in (env.get("URL_REPLICA") or ""):
                error(donde, "URL_REPLICA must reach this pod: http://$(POD_IP):PUERTO")
        if b == "maestro":
            s = servicios.get("maestro")
            objetivo = [p.get("targetPort") for p in (s or {}).get("spec", {}).get("ports", [])]
            if objetivo not in (["http"], [puerto]):
                error(donde, "the maestro Service must send to its http port")
    if binarios != {"maestro", "esclavo", "memoria"}:
        error(nombre, f"runs {sorted(binarios)}: maestro, esclavo and memoria are all needed")
    return [d for d in docs if d["kind"] == "ScaledObject"]


escalados = []
for ruta in sorted(glob.glob(os.path.join(TMP, "*.yaml"))):
    nombre = os.path.basename(ruta)[:-5]
    with open(ruta) as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    for i, so in enumerate(revisar(nombre, docs)):
        destino = os.path.join(TMP, f"{nombre}-scaledobject-{i}.json")
        with open(destino, "w") as f:
            json.dump(so, f)
        escalados.append(destino)
if not escalados:
    error("escalado-keda", "renders no ScaledObject")
for ruta in escalados:
    r = subprocess.run(
        [os.path.join("target/py/k8s/bin/check-jsonschema"), "--schemafile",
         "deploy/k8s/esquemas/keda-scaledobject.json", ruta],
        capture_output=True, text=True,
    )
    if r.returncode != 0:
        error(os.path.basename(ruta), r.stdout + r.stderr)

# The checks can fail: each mutation of the rendered sencillo overlay must be reported.
import copy  # noqa: E402

with open(os.path.join(TMP, "sencillo.yaml")) as f:
    BASE = [d for d in yaml.safe_load_all(f) if d]


def carga(docs, nombre):
    return next(d for d in docs if d["kind"] in ("Deployment", "StatefulSet", "DaemonSet")
                and d["metadata"]["name"] == nombre)


def contenedor(docs, nombre):
    return carga(docs, nombre)["spec"]["template"]["spec"]["containers"][0]


MUTACIONES = {
    "an unknown variable": lambda ds: contenedor(ds, "esclavo")["env"].append(
        {"name": "VARIABLE_INVENTADA", "value": "1"}),
    "a probe on another path": lambda ds: contenedor(ds, "memoria")["readinessProbe"]["httpGet"]
    .update(path="/salud"),
    "too short a grace for the drain": lambda ds: carga(ds, "esclavo")["spec"]["template"]["spec"]
    .update(terminationGracePeriodSeconds=10),
    "MAESTRO_URL on a wrong port": lambda ds: [
        e.update(value="http://maestro:5999") for e in contenedor(ds, "esclavo")["env"]
        if e["name"] == "MAESTRO_URL"],
    "a root container": lambda ds: carga(ds, "maestro")["spec"]["template"]["spec"]
    ["securityContext"].pop("runAsNonRoot"),
}
with open(os.path.join(TMP, "ha.yaml")) as f:
    HA = [d for d in yaml.safe_load_all(f) if d]


def sin_variable(docs, nombre):
    c = contenedor(docs, "maestro")
    c["env"] = [e for e in c["env"] if e["name"] != nombre]


MUTACIONES_HA = {
    "maestro replicas without BASE_DATOS": lambda ds: sin_variable(ds, "BASE_DATOS"),
    "maestro replicas sharing one name": lambda ds: [
        e.update(value="maestro", valueFrom=None) or e.pop("valueFrom")
        for e in contenedor(ds, "maestro")["env"] if e["name"] == "REPLICA"],
}
reales = errores
for base, mutaciones in ((BASE, MUTACIONES), (HA, MUTACIONES_HA)):
    for que, mutar in mutaciones.items():
        errores = []
        docs = copy.deepcopy(base)
        mutar(docs)
        revisar("mutation", docs)
        if not errores:
            reales.append(f"self-test: the checks let {que} through")
errores = reales
if errores:
    print("\n".join(errores), file=sys.stderr)
    sys.exit(1)
print(f"   {len(MUTACIONES)} broken variants of sencillo and {len(MUTACIONES_HA)} of ha each refused")
print(f"   every workload of {len(glob.glob(os.path.join(TMP, '*.yaml')))} renders checked; "
      f"{len(escalados)} ScaledObject(s) valid")
PY
echo "== deploy/k8s: ok ($((($(date +%s%N) - inicio) / 1000000)) ms)"

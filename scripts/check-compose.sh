#!/usr/bin/env bash
# Static checks of docker-compose.yml and docker/, for machines without a Docker engine (CI):
#
# 1. `docker-compose config -q`, without and with the `gpu` profile: the file is valid Compose
#    (Debian's docker-compose 1.29 checks profiles, GPU reservations and depends_on conditions);
# 2. for every service of `docker-compose --profile gpu config` (the file as Compose reads it):
#    - `command` is only the name of one of our binaries (settings go through the environment);
#    - each variable in `environment` is one that binary accepts: its `--help` shows
#      `[env: NAME`, or it is RUST_LOG, or a legacy name (MAESTRO_IP, MEMORIA_NODE) that its
#      `--help` mentions;
#    - the container port in `ports` is the service's PUERTO (or the binary's default), and so
#      is the port of its URL_PUBLICA, whose host is the service's name;
#    - MAESTRO_URL names the maestro service and its port, HPC_TOKEN is set and the same
#      everywhere, LECTURAS_ABIERTAS the same everywhere and true on the maestro (the original
#      cliente_hpc.py sends no token), every service but the maestro waits for it to be
#      healthy, and the healthcheck asks GET /ping on PUERTO;
#    - the maestro's DATOS is on a named volume and ARCHIVO_TRABAJOS's folder is bind-mounted
#      (a folder, so that editors' saves are seen) from a host folder that holds the file;
#    - each esclavo's NODO is watched by a memoria node, and esclavo names are unique;
#    - only services in a profile reserve GPUs, and the `gpu` profile's esclavo does;
#    - the Dockerfile named by `build` exists, and neither it nor .dockerignore leaves out what
#      it needs: every workspace member's manifest and sources, and the scripts it names;
# 3. the README's section "The cluster in containers" names every variable of every binary
#    used here.
#
# Installs docker-compose (Debian's package, with python3-yaml) when it is missing: run it as
# root, or with sudo available, on Debian or Ubuntu. Builds the four binaries (debug) to read
# their `--help`.
set -euo pipefail
cd "$(dirname "$0")/.."

inicio=$(date +%s%N)
# The committed file only (a local docker-compose.override.yml is not merged in); another one
# with COMPOSE_FILE=other.yml.
COMPOSE_FILE=${COMPOSE_FILE:-docker-compose.yml}
export COMPOSE_FILE

como_root() {
    if ((EUID == 0)); then
        "$@"
    elif command -v sudo >/dev/null; then
        sudo "$@"
    else
        echo "need root (or sudo) to run: $*" >&2
        exit 1
    fi
}

paquetes=()
command -v docker-compose >/dev/null || paquetes+=(docker-compose)
/usr/bin/python3 -c 'import yaml' 2>/dev/null || paquetes+=(python3-yaml)
if ((${#paquetes[@]})); then
    echo "== installing ${paquetes[*]} (apt)"
    como_root apt-get update -qq
    registro=$(mktemp)
    if ! como_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends "${paquetes[@]}" >"$registro" 2>&1; then
        cat "$registro" >&2
        exit 1
    fi
    rm -f "$registro"
fi
echo "== $(docker-compose version --short 2>/dev/null || docker-compose --version)"

echo "== docker-compose config -q"
docker-compose config -q
echo "== docker-compose --profile gpu config -q"
docker-compose --profile gpu config -q

echo "== building the binaries to read their --help"
cargo build -q --locked -p maestro -p esclavo -p memoria -p cliente
BIN=$(cargo metadata --format-version 1 --no-deps --locked |
    /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')/debug
AYUDA=$(mktemp -d)
trap 'rm -rf "$AYUDA"' EXIT
for b in maestro esclavo memoria cliente; do
    env -i "$BIN/$b" --help >"$AYUDA/$b" # -i: no value from this shell shows in the help
done

docker-compose --profile gpu config >"$AYUDA/config.yml"

echo "== services"
/usr/bin/python3 - "$AYUDA" <<'PY'
import fnmatch
import os
import re
import sys
try:
    import tomllib
except ImportError:
    tomllib = None
from urllib.parse import urlparse

import yaml

AYUDA = sys.argv[1]
BINARIOS = ("maestro", "esclavo", "memoria", "cliente")
sys.path.insert(0, "scripts")
from ayuda_clap import aceptadas as aceptadas_en, variables  # noqa: E402

errores = []


def error(servicio, mensaje):
    errores.append(f"{servicio}: {mensaje}")


def ayuda(binario):
    with open(os.path.join(AYUDA, binario)) as f:
        return f.read()


AYUDAS = {b: ayuda(b) for b in BINARIOS}
ENV = {b: variables(t) for b, t in AYUDAS.items()}
for b in ("maestro", "esclavo", "memoria"):
    if "PUERTO" not in ENV[b] or not (ENV[b]["PUERTO"] or "").isdigit():
        sys.exit(f"{b} --help shows no PUERTO with a default: has its command line changed?")


def aceptadas(binario):
    return aceptadas_en(AYUDAS[binario])


with open(os.path.join(AYUDA, "config.yml")) as f:
    config = yaml.safe_load(f)
servicios = config.get("services") or {}
with open("Cargo.toml", "rb") as f:
    if tomllib:
        miembros = tomllib.load(f)["workspace"]["members"]
    else:  # Python < 3.11
        lista = re.search(rb"^members\s*=\s*\[(.*?)\]", f.read(), re.M | re.S).group(1)
        miembros = re.findall(r'"([^"]+)"', lista.decode())
if not servicios:
    sys.exit("docker-compose config shows no services")


def entorno(s):
    e = s.get("environment") or {}
    if isinstance(e, list):
        e = dict(x.split("=", 1) if "=" in x else (x, None) for x in e)
    return {k: (None if v is None else str(v)) for k, v in e.items()}


def comando(s):
    c = s.get("command")
    if c is None:
        return []
    return c.split() if isinstance(c, str) else [str(x) for x in c]


def puertos_contenedor(s):
    """Container ports of `ports`, short syntax ("5001:5001") or long (target: 5001)."""
    resultado = []
    for p in s.get("ports") or []:
        if isinstance(p, dict):
            resultado.append(int(p["target"]))
        else:
            resultado.append(int(str(p).split("/")[0].split(":")[-1]))
    return resultado


def montaje(v):
    """A `volumes` entry as {type, source, target}, from the short or the long syntax."""
    if isinstance(v, dict):
        return {"type": v.get("type"), "source": v.get("source"), "target": v.get("target")}
    partes = str(v).split(":")
    if len(partes) == 1:
        return {"type": "volume", "source": None, "target": partes[0]}
    fuente = partes[0]
    tipo = "bind" if fuente.startswith(("/", ".", "~")) else "volume"
    return {"type": tipo, "source": fuente, "target": partes[1]}


def ignorado(contexto, ruta):
    """Whether the .dockerignore of `contexto` leaves `ruta` (or a folder holding it) out."""
    try:
        with open(os.path.join(contexto, ".dockerignore")) as f:
            reglas = [r.strip() for r in f if r.strip() and not r.lstrip().startswith("#")]
    except FileNotFoundError:
        return False
    partes = ruta.split("/")
    fuera = False
    for regla in reglas:
        negada = regla.startswith("!")
        patron = regla.lstrip("!").strip("/")
        for i in range(1, len(partes) + 1):
            prefijo = "/".join(partes[:i])
            if fnmatch.fnmatchcase(prefijo, patron) or (
                patron.startswith("**/") and fnmatch.fnmatchcase(prefijo.split("/")[-1], patron[3:])
            ):
                fuera = not negada
                break
    return fuera


dockerfiles = {}
binario_de = {}
for nombre, s in servicios.items():
    c = comando(s)
    if not c:
        error(nombre, "no `command`: it must name the binary (maestro, esclavo, memoria)")
        continue
    if c[0] not in BINARIOS:
        error(nombre, f"command `{c[0]}` is not one of our binaries {BINARIOS}")
        continue
    if len(c) > 1:
        error(nombre, f"command `{' '.join(c)}` has arguments: set them as environment variables")
    binario_de[nombre] = c[0]

maestros = [n for n, b in binario_de.items() if b == "maestro"]
if len(maestros) != 1:
    error("(file)", f"expected one maestro service, found {maestros}")
maestro = maestros[0] if maestros else None


def puerto(nombre):
    e = entorno(servicios[nombre])
    return e.get("PUERTO") or ENV[binario_de[nombre]]["PUERTO"]


tokens = {}
nodos_memoria = set()
nombres_esclavo = {}
resumen = []
for nombre, s in servicios.items():
    if nombre not in binario_de:
        continue
    b = binario_de[nombre]
    e = entorno(s)
    ok = aceptadas(b)
    for v in sorted(e):
        if v not in ok:
            error(nombre, f"`{b}` does not accept the variable {v} (not in `{b} --help`)")
    if e.get("HPC_TOKEN") is None:
        error(nombre, "HPC_TOKEN is not set")
    tokens[nombre] = e.get("HPC_TOKEN")
    p = puerto(nombre)
    if not str(p).isdigit():
        error(nombre, f"PUERTO `{p}` is not a port number")
    contenedor = puertos_contenedor(s)
    if b != "cliente" and [str(x) for x in contenedor] != [str(p)]:
        error(nombre, f"ports publish container port(s) {contenedor}, but PUERTO is {p}")
    if "URL_PUBLICA" in e:
        u = urlparse(e["URL_PUBLICA"])
        if u.hostname != nombre or str(u.port) != str(p):
            error(nombre, f"URL_PUBLICA {e['URL_PUBLICA']} is not http://{nombre}:{p}")
    if b in ("esclavo", "memoria", "cliente") and maestro:
        u = urlparse(e.get("MAESTRO_URL") or "")
        if u.hostname != maestro or str(u.port) != str(puerto(maestro)):
            error(nombre, f"MAESTRO_URL {e.get('MAESTRO_URL')} is not "
                  f"http://{maestro}:{puerto(maestro)}")
    if nombre != maestro and maestro:
        d = s.get("depends_on") or {}
        cond = d.get(maestro, {}).get("condition") if isinstance(d, dict) else None
        if cond != "service_healthy":
            error(nombre, f"does not wait for {maestro} (depends_on, condition: service_healthy)")
    prueba = " ".join(map(str, (s.get("healthcheck") or {}).get("test") or []))
    puerto_prueba = re.search(r"127\.0\.0\.1:(\S+?)/ping|localhost:(\S+?)/ping", prueba)
    valor = puerto_prueba and (puerto_prueba.group(1) or puerto_prueba.group(2))
    if not valor or valor.replace("$", "").strip("{}") not in (str(p), "PUERTO"):
        error(nombre, f"healthcheck `{prueba}` does not GET /ping on port {p}")
    if s.get("restart") not in ("always", "unless-stopped", "on-failure"):
        error(nombre, f"restart `{s.get('restart')}`: expected unless-stopped (or always, on-failure)")
    for clave in ("interval", "timeout", "start_period"):
        d = str((s.get("healthcheck") or {}).get(clave, "1s"))
        if not re.fullmatch(r"(\d+(\.\d+)?(ns|us|ms|s|m|h))+", d):
            error(nombre, f"healthcheck {clave} `{d}` is not a duration like 5s or 1m30s")
    if b == "memoria":
        nodos_memoria.add(e.get("NODO") or e.get("MEMORIA_NODE"))
    if b == "esclavo":
        n = e.get("ESCLAVO")
        if not n:
            error(nombre, "ESCLAVO is not set (the default, host-port, is the container id)")
        elif n in nombres_esclavo:
            error(nombre, f"ESCLAVO {n} is already the name of service {nombres_esclavo[n]}")
        nombres_esclavo[n] = nombre

    gpu = [
        d
        for d in (((s.get("deploy") or {}).get("resources") or {}).get("reservations") or {})
        .get("devices") or []
        if "gpu" in (d.get("capabilities") or [])
    ]
    perfiles = s.get("profiles") or []
    # (docker-compose 1.29's `config` lists every service whatever the profile: this is the check.)
    if gpu and not perfiles:
        error(nombre, "reserves a GPU but starts without a profile: hosts without one fail")
    if "gpu" in perfiles and not gpu:
        error(nombre, "is in the gpu profile but reserves no GPU (driver: nvidia, capabilities: [gpu])")
    if gpu and any(d.get("driver") != "nvidia" for d in gpu):
        error(nombre, "GPU reservation without driver: nvidia")

    build = s.get("build")
    if build:
        contexto = build if isinstance(build, str) else build.get("context", ".")
        nombre_df = (build.get("dockerfile") if isinstance(build, dict) else None) or "Dockerfile"
        dockerfiles.setdefault((contexto, os.path.join(contexto, nombre_df)), []).append(nombre)
    elif not any(
        (o.get("image") == s.get("image") and o.get("build")) for o in servicios.values()
    ):
        error(nombre, f"image {s.get('image')} is built by no service")

    if b == "maestro":
        montajes = [montaje(v) for v in s.get("volumes") or []]
        por_destino = {m["target"]: m for m in montajes}
        datos = e.get("DATOS")
        if (por_destino.get(datos) or {}).get("type") != "volume":
            error(nombre, f"DATOS {datos} is not on a named volume")
        archivo = e.get("ARCHIVO_TRABAJOS") or ""
        carpeta = por_destino.get(os.path.dirname(archivo))
        if archivo in por_destino:
            error(nombre, f"{archivo} is bind-mounted as a file: editors' saves would not be seen")
        elif not carpeta or carpeta["type"] != "bind":
            error(nombre, f"the folder of ARCHIVO_TRABAJOS {archivo} is not bind-mounted")
        elif not os.path.isfile(os.path.join(carpeta["source"], os.path.basename(archivo))):
            error(nombre, f"{carpeta['source']} on the host holds no {os.path.basename(archivo)}")

    extra = f", profile {','.join(perfiles)}" if perfiles else ""
    resumen.append(f"  {nombre:12} {b:8} :{p:<5} {len(e)} variables ok: "
                   f"{' '.join(sorted(e))}{extra}")

for (contexto, dockerfile), usuarios in sorted(dockerfiles.items()):
    quien = ", ".join(usuarios)
    if not os.path.isfile(dockerfile):
        error(quien, f"Dockerfile {dockerfile} does not exist")
        continue
    with open(dockerfile) as f:
        texto = "".join(l for l in f if not l.lstrip().startswith("#"))
    # What the build needs from the context: the workspace's manifests and sources, and the
    # scripts the Dockerfile names.
    necesarios = ["Cargo.toml", "Cargo.lock"]
    necesarios += [f"{m}/Cargo.toml" for m in miembros] + [f"{m}/src" for m in miembros]
    # (A pattern, `docker/bin*`, may match nothing: not needed.)
    necesarios += sorted(set(re.findall(r"\b((?:docker|scripts)/[\w.-]+)(?![\w.*-])", texto)))
    for n in necesarios:
        if not os.path.exists(os.path.join(contexto, n)):
            error(quien, f"{os.path.relpath(dockerfile)} needs {n}, which does not exist")
        elif ignorado(contexto, n):
            error(quien, f"{os.path.relpath(dockerfile)} needs {n}, which .dockerignore leaves out")

if len(set(tokens.values())) > 1:
    error("(file)", "HPC_TOKEN differs between services")
# One read rule for the cluster, and reads open by default: the original cliente_hpc.py sends
# no token (docs/compose-access.md).
lecturas = {n: str(entorno(servicios[n]).get("LECTURAS_ABIERTAS")).lower()
            for n in binario_de if binario_de[n] != "cliente"}
if len(set(lecturas.values())) > 1:
    error("(file)", f"LECTURAS_ABIERTAS differs between services: {lecturas}")
if maestro and lecturas.get(maestro) not in ("true", "1", "yes", "on"):
    error(maestro, f"LECTURAS_ABIERTAS is {lecturas.get(maestro)}: the original cliente_hpc.py, "
          "which sends no token, would get 401 on every read")
for nombre, b in binario_de.items():
    if b == "esclavo":
        n = entorno(servicios[nombre]).get("NODO")
        if n not in nodos_memoria:
            error(nombre, f"NODO {n} is watched by no memoria service ({sorted(nodos_memoria)})")
if not any(b == "esclavo" and "gpu" in (servicios[n].get("profiles") or [])
           for n, b in binario_de.items()):
    error("(file)", "no esclavo in the gpu profile")

print("\n".join(resumen))
esclavos = sorted(n for n, b in binario_de.items() if b == "esclavo")
memorias = sorted(n for n, b in binario_de.items() if b == "memoria")
print("== checked: each command is a binary's bare name and each variable is in its --help;")
print("   ports, URL_PUBLICA and the /ping healthcheck on PUERTO; MAESTRO_URL is "
      f"http://{maestro}:{puerto(maestro) if maestro else '?'} and every service waits for it to be healthy;")
print(f"   one HPC_TOKEN on {len(tokens)} services, reads open on all (LECTURAS_ABIERTAS); unique ESCLAVO names; the esclavos' nodes "
      f"{sorted({entorno(servicios[n]).get('NODO') for n in esclavos})} watched by {', '.join(memorias)};")
print("   GPU reserved only in a profile (" + ", ".join(
      n for n, s in servicios.items() if "gpu" in (s.get("profiles") or [])) + ");"
      f" the maestro's DATOS on a volume and its jobs file's folder bind-mounted;")
print(f"   {', '.join(os.path.relpath(d) for _, d in sorted(dockerfiles))} exist, and the build context "
      f"holds what they need: the manifests and sources of {', '.join(miembros)}, and the scripts they name")

# The README documents every variable of every binary used.
with open("README.md") as f:
    readme = f.read()
seccion = re.search(r"^## The cluster in containers\n(.*?)(?=^## |\Z)", readme, re.M | re.S)
if not seccion:
    error("README.md", "no section `## The cluster in containers`")
else:
    usados = sorted(set(binario_de.values()))
    for b in usados:
        for v in sorted(aceptadas(b)):
            if f"`{v}`" not in seccion.group(1):
                error("README.md", f"the containers section does not list {b}'s variable `{v}`")
    print(f"== README: the containers section lists every variable of {', '.join(usados)}")

if errores:
    print("\nFAILED:", file=sys.stderr)
    for e in errores:
        print(f"  {e}", file=sys.stderr)
    sys.exit(1)
PY
echo "== docker-compose.yml: ok ($(( ($(date +%s%N) - inicio) / 1000000 )) ms)"

#!/usr/bin/env bash
# The compose cluster run for real, on a Docker engine, offline, on loopback only.
#
#   scripts/compose-real.sh [BINARIOS] [SALIDA]
#
#   BINARIOS  folder with release builds of maestro, esclavo, memoria and cliente
#             [target/release; built with `cargo build --release` if missing]
#   SALIDA    where the log and the engine's state go [target/compose-real]
#
# 1. Starts its own dockerd (Debian's docker.io) with --bridge=none --iptables=false, on a
#    socket and data folder of its own, and stops it at the end: no network on any private
#    range is created; every container uses the host's network, so all traffic is loopback.
# 2. Makes debian:bookworm-slim, the image docker/Dockerfile's runtime stage starts from, from
#    Debian's packages: debootstrap --variant=minbase, then `docker import` (cached in SALIDA).
# 3. Builds hpc-cluster:local from docker/Dockerfile with BINARIOS=precompilados: the host's
#    binaries, and the very runtime stage users get (user hpc 10001, /datos, CMD).
# 4. `docker-compose up` of docker-compose.yml plus docker/compose-host.yml, which only moves
#    every service to the host's network and loopback addresses; waits for every healthcheck;
#    queues jobs with the host's cliente; appends a line to the mounted trabajos.txt and sees it
#    run; SIGKILLs the maestro's process (as a crash would): its restart policy brings it back
#    on its volume, and every job accepted before finishes, none twice; the database belongs to
#    uid 10001; `docker-compose stop` sends SIGTERM: every service exits 0 (the esclavos drain).
#    Then `down -v`.
#
# Needs root, docker.io, docker-compose (1.29 or v2) and debootstrap (apt-get install -y
# docker.io docker-compose debootstrap), and the ports 5001, 5003, 5004, 5011-5013 free.
set -euo pipefail
cd "$(dirname "$0")/.."
RAIZ=$PWD
BIN=$(realpath -m "${1:-target/release}")
SALIDA=$(realpath -m "${2:-target/compose-real}")
mkdir -p "$SALIDA"
inicio=$(date +%s)
paso() { echo "== [$(($(date +%s) - inicio)) s] $*"; }
falla() { echo "compose-real: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || falla "needs root (dockerd, debootstrap)"
for c in dockerd debootstrap; do
    command -v "$c" >/dev/null || falla "$c is missing: apt-get install -y docker.io debootstrap"
done
if docker-compose version >/dev/null 2>&1; then COMPOSE=(docker-compose)
elif docker compose version >/dev/null 2>&1; then COMPOSE=(docker compose)
else falla "docker-compose is missing: apt-get install -y docker-compose"; fi
# Debian's client, of the engine's version (a newer static client may want buildx for BuildKit).
DOCKER=$(command -v /usr/bin/docker || command -v docker)
for p in 5001 5003 5004 5011 5012 5013; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then falla "port $p is taken"; fi
done
for b in maestro esclavo memoria cliente; do
    if [ ! -x "$BIN/$b" ]; then
        paso "building the release binaries"
        cargo build --release --locked -p maestro -p esclavo -p memoria -p cliente
        break
    fi
done

# 1. The engine.
MOTOR=$(mktemp -d /tmp/hpc-motor.XXXXXX)
export DOCKER_HOST="unix://$MOTOR/docker.sock"
export DOCKER_BUILDKIT=1 COMPOSE_PROJECT_NAME=hpc COMPOSE_DOCKER_CLI_BUILD=1
PROYECTO=$(mktemp -d /tmp/hpc-compose.XXXXXX)
terminar() {
    set +e
    if [ -S "$MOTOR/docker.sock" ]; then
        [ -f "$PROYECTO/compose.yml" ] && "${COMPOSE[@]}" -f "$PROYECTO/compose.yml" down -v >/dev/null 2>&1
        kill "$(cat "$MOTOR/docker.pid" 2>/dev/null)" 2>/dev/null
        for _ in $(seq 100); do [ -e "$MOTOR/docker.pid" ] || break; sleep 0.1; done
    fi
    rm -rf "$PROYECTO" docker/bin
    grep -o " $MOTOR[^ ]*" /proc/mounts | sort -r | xargs -r umount -l 2>/dev/null
    rm -rf "$MOTOR"
}
trap terminar EXIT
paso "dockerd --bridge=none --iptables=false (data in $SALIDA/motor)"
dockerd --host "$DOCKER_HOST" --data-root "$SALIDA/motor" --exec-root "$MOTOR/exec" \
    --pidfile "$MOTOR/docker.pid" --bridge=none --iptables=false --ip-masq=false \
    >"$SALIDA/dockerd.log" 2>&1 &
for _ in $(seq 300); do "$DOCKER" info >/dev/null 2>&1 && break; sleep 0.1; done
"$DOCKER" info >/dev/null 2>&1 || { tail -20 "$SALIDA/dockerd.log"; falla "dockerd did not start"; }
redes_antes=$("$DOCKER" network ls --format '{{.Name}}' | sort | tr '\n' ' ')
echo "   engine $("$DOCKER" version --format '{{.Server.Version}}'), networks: $redes_antes"

# 2. The base image.
if ! "$DOCKER" image inspect debian:bookworm-slim >/dev/null 2>&1; then
    if [ ! -s "$SALIDA/debian-bookworm.tar" ]; then
        paso "debootstrap --variant=minbase bookworm (a few minutes, once)"
        rm -rf "$SALIDA/rootfs"
        debootstrap --variant=minbase bookworm "$SALIDA/rootfs" http://deb.debian.org/debian \
            >"$SALIDA/debootstrap.log" 2>&1 || { tail -20 "$SALIDA/debootstrap.log"; falla "debootstrap failed"; }
        rm -rf "$SALIDA"/rootfs/var/cache/apt/archives/*.deb
        tar -C "$SALIDA/rootfs" -cf "$SALIDA/debian-bookworm.tar" .
        rm -rf "$SALIDA/rootfs"
    fi
    paso "docker import → debian:bookworm-slim"
    "$DOCKER" import "$SALIDA/debian-bookworm.tar" debian:bookworm-slim >/dev/null
fi

# 3. The image, from the shipped Dockerfile's runtime stage.
paso "docker build -f docker/Dockerfile --build-arg BINARIOS=precompilados"
rm -rf docker/bin && mkdir -p docker/bin
for b in maestro esclavo memoria cliente; do
    install -m 0755 "$BIN/$b" docker/bin/ && strip --strip-debug "docker/bin/$b"
done
"$DOCKER" build --network host --build-arg BINARIOS=precompilados -f docker/Dockerfile \
    -t hpc-cluster:local . >"$SALIDA/build.log" 2>&1 || { tail -30 "$SALIDA/build.log"; falla "docker build failed"; }
rm -rf docker/bin
"$DOCKER" run --rm --network host hpc-cluster:local maestro --version
echo "   user $("$DOCKER" image inspect -f '{{.Config.User}}' hpc-cluster:local), $("$DOCKER" image inspect -f '{{.Size}}' hpc-cluster:local) bytes"

# 4. The cluster.
TOKEN=compose-real-$$
printf '# trabajos.txt of scripts/compose-real.sh\nespera,200,2\nSecuencial,32,24,20,3\n' >"$PROYECTO/trabajos.txt"
chmod 0755 "$PROYECTO" && chmod 0644 "$PROYECTO/trabajos.txt"
mkdir -p "$PROYECTO/task_queues" && chown 10001:10001 "$PROYECTO/task_queues"
export HPC_TOKEN=$TOKEN TRABAJOS_DIR=$PROYECTO TAREAS_DIR=$PROYECTO/task_queues
# docker/compose-host.yml moves every service to the host's network; a container there
# cannot also publish ports (compose 1.29 refuses the pair, and an override can only add to a
# list), so the merged file loses its `ports:`, which host networking makes moot.
"${COMPOSE[@]}" -f docker-compose.yml -f docker/compose-host.yml config >"$PROYECTO/fusion.yml"
python3 - "$PROYECTO/fusion.yml" "$PROYECTO/compose.yml" <<'PY'
import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))
for s in c["services"].values():
    assert s.get("network_mode") == "host", s
    s.pop("ports", None)
c.pop("networks", None)
yaml.safe_dump(c, open(sys.argv[2], "w"), sort_keys=False)
PY
C=("${COMPOSE[@]}" -f "$PROYECTO/compose.yml" --project-directory "$RAIZ")
paso "${COMPOSE[*]} up -d (docker-compose.yml + docker/compose-host.yml: host network, loopback)"
"${C[@]}" up -d --no-build 2>&1 | sed 's/^/   /'
servicios=(maestro esclavo1 esclavo2 esclavo3 memoria1 memoria2)
id_de() { "${C[@]}" ps -q "$1"; }
salud() { "$DOCKER" inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{end}}' "$(id_de "$1")"; }
esperar_salud() {
    for _ in $(seq 600); do
        local listos=0
        for s in "${servicios[@]}"; do [ "$(salud "$s")" = healthy ] && listos=$((listos + 1)); done
        [ "$listos" = ${#servicios[@]} ] && return 0
        sleep 0.2
    done
    "${C[@]}" ps; "${C[@]}" logs --tail 20; falla "not every healthcheck passed within 120 s"
}
esperar_salud
paso "every healthcheck passes: ${servicios[*]}"
redes=$("$DOCKER" network ls --format '{{.Name}}' | sort | tr '\n' ' ')
[ "$redes" = "$redes_antes" ] || falla "networks were created: $redes (before: $redes_antes)"
cliente() { "$BIN/cliente" --maestro http://127.0.0.1:5001 --token "$TOKEN" "$@"; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
vivos=$(cliente --json estado | json 'sum(e["vivo"] for e in d["esclavos"])')
[ "$vivos" = 3 ] || falla "the maestro lists $vivos live esclavos, not 3"
for _ in $(seq 300); do
    nodos=$(curl -fsS http://127.0.0.1:5001/memoria | json 'len(d["nodos"])')
    [ "$nodos" = 2 ] && break; sleep 0.2
done
[ "$nodos" = 2 ] || falla "$nodos memoria nodes reported, not 2"
echo "   the maestro lists 3 live esclavos and reports of 2 memoria nodes"

paso "cliente: 30 jobs, then one waited for"
for i in $(seq 30); do cliente --json trabajo --tipo espera --ms 300 | json 'd["id"]'; done >"$SALIDA/ids.txt"
cliente trabajo --tipo matmul --n 256 --iteraciones 1 --esperar | sed 's/^/   /' | head -5
paso "a line appended to the host's trabajos.txt"
echo "Secuencial,64,48,30,1" >>"$PROYECTO/trabajos.txt"
linea=$(wc -l <"$PROYECTO/trabajos.txt")
de_la_linea="[t for t in d['trabajos'] if t['origen'].get('via')=='archivo' and t['origen'].get('linea')==$linea]"
for _ in $(seq 300); do
    e=$(cliente --json trabajos --todos | json "','.join(t['estado'] for t in $de_la_linea)" 2>/dev/null || true)
    [ "$e" = completado ] && break; sleep 0.2
done
[ "$e" = completado ] || falla "line $linea appended to trabajos.txt: its job is '$e', not completado, after 60 s"
del_archivo=$(cliente --json trabajos --todos | json "sorted(t['origen']['linea'] for t in d['trabajos'] if t['origen'].get('via')=='archivo')")
[ "$del_archivo" = "[2, 3, $linea]" ] || falla "jobs from trabajos.txt lines $del_archivo, not [2, 3, $linea]"
echo "   line $linea ran once: completado; the file's jobs are its lines $del_archivo, once each"

paso "SIGKILL of the maestro's process (a crash): the restart policy brings it back"
pid=$("$DOCKER" inspect -f '{{.State.Pid}}' "$(id_de maestro)")
reinicios=$("$DOCKER" inspect -f '{{.RestartCount}}' "$(id_de maestro)")
kill -KILL "$pid"
for _ in $(seq 600); do
    [ "$("$DOCKER" inspect -f '{{.RestartCount}}' "$(id_de maestro)")" -gt "$reinicios" ] && [ "$(salud maestro)" = healthy ] && break
    sleep 0.2
done
[ "$(salud maestro)" = healthy ] || falla "the maestro did not come back healthy"
echo "   restarted ($("$DOCKER" inspect -f '{{.RestartCount}}' "$(id_de maestro)") restart), healthy"
for _ in $(seq 600); do
    r=$(cliente --json estado | json '(d["resumen"]["pendientes"], d["resumen"]["asignados"])' 2>/dev/null || echo x)
    [ "$r" = "(0, 0)" ] && break; sleep 0.2
done
[ "$r" = "(0, 0)" ] || falla "the queue did not drain after the restart: $r"
faltan=0
while read -r id; do
    e=$(cliente --json resultado "$id" | json 'd["estado"]')
    [ "$e" = completado ] || { echo "   job $id is $e"; faltan=$((faltan + 1)); }
done <"$SALIDA/ids.txt"
[ "$faltan" = 0 ] || falla "$faltan of the 30 jobs queued before the crash did not complete"
resumen=$(cliente --json estado | json 'd["resumen"]')
echo "   all 30 jobs queued before the crash completed, once: $resumen"
propietario=$("$DOCKER" exec "$(id_de maestro)" stat -c '%u:%g %n' /datos/maestro.db)
[ "${propietario%% *}" = 10001:10001 ] || falla "the database belongs to $propietario"
echo "   $propietario (the volume datos)"

paso "${COMPOSE[*]} stop: SIGTERM to every service"
"${C[@]}" stop -t 30 2>&1 | sed 's/^/   /'
for s in "${servicios[@]}"; do
    codigo=$("$DOCKER" inspect -f '{{.State.ExitCode}}' "$(id_de "$s")")
    echo "   $s exited $codigo"
    [ "$codigo" = 0 ] || falla "$s exited $codigo on SIGTERM"
done
"${C[@]}" logs --no-color esclavo1 >"$SALIDA/esclavo1.log" 2>&1
grep -m1 "draining" "$SALIDA/esclavo1.log" | sed 's/^/   /' || falla "esclavo1 did not drain on SIGTERM"
paso "down -v"
"${C[@]}" down -v 2>&1 | sed 's/^/   /'
paso "compose-real: ok"

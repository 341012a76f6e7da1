#!/usr/bin/env bash
# Runs `cliente benchmark` on a GPU machine through a real cluster: one maestro and one
# `cuda`-featured esclavo as separate processes on loopback, the cliente submitting over HTTP.
# Writes the report folder to SALIDA, with the services' logs and nvidia-smi's view beside it.
#
#   scripts/benchmark-gpu.sh BIN SALIDA [SEGUNDOS] [-- more cliente benchmark flags]
#
# BIN holds `maestro`, `cliente` (default builds) and `esclavo` (scripts/build-cuda.sh's).
# SEGUNDOS (default 480) bounds the run: past it the cliente gets SIGINT (Ctrl-C), writes the
# report of what it measured, and the report says the run is incomplete. Needs no Rust and
# no Python; only the loopback address is used. SIN_GPU=1 waits for the esclavo without
# insisting on a GPU: a dry run of this script on a machine without one.
set -euo pipefail
bin=$1
salida=$2
plazo=${3:-480}
shift $(($# < 3 ? $# : 3))
[[ ${1:-} == -- ]] && shift
mkdir -p "$salida"
datos=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT

libre() { # a free loopback port: the first one from $1 that nobody listens on
    local p=$1
    while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done
    echo "$p"
}
esperar() { # $1 url, $2 seconds: until `cliente` reaches the maestro
    local hasta=$((SECONDS + $2))
    until "$bin/cliente" --maestro "$1" --json estado >/dev/null 2>&1; do
        ((SECONDS < hasta)) || { echo "no answer from $1 within $2 s" >&2; return 1; }
        sleep 0.2
    done
}

nvidia-smi >"$salida/nvidia-smi.txt" 2>&1 || true
pm=$(libre 18080)
"$bin/maestro" --puerto "$pm" --datos "$datos/datos" --sin-archivo --sin-carpeta-tareas \
    >"$salida/maestro.log" 2>&1 &
url=http://127.0.0.1:$pm
esperar "$url" 30
pe=$(libre $((pm + 1)))
"$bin/esclavo" --puerto "$pe" --maestro "$url" --nombre gpu-0 \
    --url-publica "http://127.0.0.1:$pe" >"$salida/esclavo.log" 2>&1 &
hasta=$((SECONDS + 60))
[[ -n ${SIN_GPU:-} ]] && registrado='"capacidad": *[1-9]' || registrado='"capacidad_gpu": *[1-9]'
until "$bin/cliente" --maestro "$url" --json estado 2>/dev/null | grep -q "$registrado"; do
    if ((SECONDS > hasta)); then
        echo "the esclavo did not register a GPU within 60 s:" >&2
        tail -20 "$salida/esclavo.log" >&2
        exit 1
    fi
    sleep 0.5
done
"$bin/cliente" --maestro "$url" --json estado >"$salida/estado.json"
set +e
timeout -s INT "$plazo" "$bin/cliente" --maestro "$url" benchmark --salida "$salida/informe" "$@"
codigo=$?
set -e
echo "cliente benchmark ended with status $codigo"
exit $((codigo == 130 || codigo == 124 ? 0 : codigo))

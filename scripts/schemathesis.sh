#!/usr/bin/env bash
# Checks the maestro's API against its own OpenAPI document with schemathesis (from PyPI,
# pinned, installed into target/py/schemathesis when missing): starts the release maestro on a
# temporary data folder with a random token, waits for GET /ping, lets schemathesis generate
# requests from GET /openapi.json for a bounded number of cases and time, stops the maestro,
# and fails on any finding: a 5xx, an answer whose status, content type, headers or body the
# document does not describe, a protected route that ignores the token, a method a path does
# not take answered with anything but 405 and its Allow header. Configuration (the long polls
# answer at once): scripts/schemathesis.toml.
#
# Usage: scripts/schemathesis.sh [extra schemathesis options]
# Environment: HPC_BINARIOS (folder of the maestro binary; target/release),
#   SCHEMATHESIS_CASOS (most cases per operation and phase; 40),
#   SCHEMATHESIS_TIEMPO_S (time budget of the run; 150). Reports land in target/schemathesis/.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=4.32.5
VENV=target/py/schemathesis
BINARIO=${HPC_BINARIOS:-target/release}/maestro
CASOS=${SCHEMATHESIS_CASOS:-40}
TIEMPO=${SCHEMATHESIS_TIEMPO_S:-150}
INFORMES=target/schemathesis
# Checks left out, and why: positive_data_acceptance and negative_data_rejection expect the
# document to state every limit (a Julia image of at most 8192² pixels, a name that must not be
# blank, a URL with a host); it states types and says the limits in words, and the handlers
# refuse what breaks them with a 4xx the document describes. use_after_free expects a DELETEd
# resource to vanish; DELETE /trabajos/{id} cancels a job, which stays readable, cancelado.
# object_level_authorization needs users; the cluster has one token.
SIN_COMPROBAR=positive_data_acceptance,negative_data_rejection,use_after_free,object_level_authorization

if [[ ! -x $BINARIO ]]; then
    echo "no maestro binary at $BINARIO: build it first (cargo build --release -p maestro)" >&2
    exit 2
fi
if [[ "$("$VENV/bin/schemathesis" --version 2>/dev/null)" != *"version $VERSION" ]]; then
    echo "installing schemathesis $VERSION into $VENV"
    [[ -x $VENV/bin/python ]] || python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "schemathesis==$VERSION"
fi

datos=$(mktemp -d)
token=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
pid=
parar() {
    if [[ -n $pid ]]; then
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    rm -rf "$datos"
}
trap parar EXIT

# Port 0: the maestro prints the address it bound as its first line of stdout.
PUERTO=0 DATOS="$datos/datos" HPC_TOKEN="$token" RUST_LOG=warn \
    "$BINARIO" >"$datos/salida" 2>"$datos/log" &
pid=$!

url=
limite=$((SECONDS + 30))
until [[ -n $url ]] && curl -fsS -o /dev/null "$url/ping" 2>/dev/null; do
    if ((SECONDS > limite)) || ! kill -0 "$pid" 2>/dev/null; then
        echo "the maestro did not answer GET /ping within 30 s; its log:" >&2
        cat "$datos/salida" "$datos/log" >&2
        exit 1
    fi
    url=$(sed -n 's/^maestro escuchando en \(http[^ ]*\).*/\1/p' "$datos/salida" | head -n 1)
    sleep 0.2
done
echo "maestro up at $url; schemathesis $VERSION, at most $CASOS cases per operation, ${TIEMPO} s"

mkdir -p "$INFORMES"
inicio=$SECONDS
estado=0
"$VENV/bin/schemathesis" --config-file scripts/schemathesis.toml run "$url/openapi.json" \
    --header "Authorization: Bearer $token" \
    --checks all \
    --exclude-checks "$SIN_COMPROBAR" \
    --max-examples "$CASOS" \
    --max-time "$TIEMPO" \
    --workers 2 \
    --seed 10 \
    --generation-database none \
    --request-timeout 20 \
    --report junit,ndjson --report-dir "$INFORMES" \
    --no-color \
    "$@" || estado=$?
echo "schemathesis ran for $((SECONDS - inicio)) s (exit $estado); reports in $INFORMES/"

if ! kill -0 "$pid" 2>/dev/null; then
    echo "the maestro died during the run; its log:" >&2
    cat "$datos/log" >&2
    exit 1
fi
if ((estado != 0)); then
    echo "schemathesis found answers the document does not describe (above); the maestro's warnings:" >&2
    tail -n 50 "$datos/log" >&2
fi
exit "$estado"

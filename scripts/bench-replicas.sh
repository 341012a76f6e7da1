#!/usr/bin/env bash
# Two maestro replicas on one PostgreSQL database, three esclavos × 64 slots, all release
# binaries on this host; `cliente carga` through the follower, then through the leader (single
# submissions with submit → result latency, then batches of 100).
#
#   cargo build --release -p maestro -p esclavo -p cliente
#   scripts/bench-replicas.sh postgresql://hpc@127.0.0.1:5432/bench   # an empty database
#
# Ports 5101 (replica a, which leads) and 5102 (replica b) must be free.
set -euo pipefail
base=${1:?usage: scripts/bench-replicas.sh postgresql://user@host:port/empty_database}
bin=${HPC_BINARIOS:-target/release}
for b in maestro esclavo cliente; do
  [[ -x $bin/$b ]] || { echo "no $bin/$b: cargo build --release -p maestro -p esclavo -p cliente" >&2; exit 1; }
done
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
esperar() { for _ in $(seq 100); do curl -sf "$1" >/dev/null && return; sleep 0.1; done; echo "$1 not up" >&2; exit 1; }
RUST_LOG=warn "$bin/maestro" --puerto 5101 --sin-archivo --datos "$tmp/a" --base "$base" --replica a >/dev/null 2>"$tmp/a.log" &
esperar http://127.0.0.1:5101/estado
RUST_LOG=warn "$bin/maestro" --puerto 5102 --sin-archivo --datos "$tmp/b" --base "$base" --replica b >/dev/null 2>"$tmp/b.log" &
esperar http://127.0.0.1:5102/ping
for i in 1 2 3; do
  RUST_LOG=warn "$bin/esclavo" --puerto 0 --maestro http://127.0.0.1:5101,http://127.0.0.1:5102 \
    --nombre "e$i" --capacidad 64 >/dev/null 2>"$tmp/e$i.log" &
done
sleep 2
for puerto in 5102 5101; do
  [[ $puerto == 5102 ]] && echo "== through the follower (b)" || echo "== through the leader (a)"
  "$bin/cliente" --maestro "http://127.0.0.1:$puerto" carga --n 10000 --latencia 200 2>/dev/null
  "$bin/cliente" --maestro "http://127.0.0.1:$puerto" carga --n 30000 --lote 100 --latencia 0 2>/dev/null
done

#!/bin/sh
# The workspace's skeleton, so that a Docker build compiles the dependencies in a layer that only
# a change of a Cargo.toml or of Cargo.lock invalidates, not every source edit:
#
#   docker/stub-sources.sh skeleton DEST   # from the workspace root: Cargo.lock and every
#                                          # Cargo.toml, copied to DEST with stand-in sources
#   docker/stub-sources.sh remove          # in the skeleton, once the dependencies are built:
#                                          # deletes the stand-ins again
#
# A stand-in is written for each of a package's lib, main, bin and bench files that exists in the
# real tree (an explicit [[bench]] must find its file for the manifest to load): an empty lib, or
# `fn main() {}`. New workspace members need no change here or in the Dockerfiles. The skeleton
# depends only on the manifests, so Docker's cache (which compares contents, not mtimes) reuses
# the dependency layer when they have not changed.
set -eu

LISTA=.stand-ins

case ${1:-} in
skeleton)
    destino=${2:?usage: $0 skeleton DEST}
    mkdir -p "$destino/docker"
    cp Cargo.lock "$destino/"
    cp "$0" "$destino/docker/stub-sources.sh"
    : >"$destino/$LISTA"
    find . -path ./target -prune -o -name Cargo.toml -print | sort | while read -r manifiesto; do
        carpeta=$(dirname "$manifiesto")
        mkdir -p "$destino/$carpeta"
        cp "$manifiesto" "$destino/$manifiesto"
        grep -q '^\[package\]' "$manifiesto" || continue
        for fuente in "$carpeta"/src/lib.rs "$carpeta"/src/main.rs "$carpeta"/src/bin/*.rs \
            "$carpeta"/benches/*.rs; do
            [ -f "$fuente" ] || continue
            mkdir -p "$destino/$(dirname "$fuente")"
            case $fuente in
            */src/lib.rs) : >"$destino/$fuente" ;;
            *) echo 'fn main() {}' >"$destino/$fuente" ;;
            esac
            echo "$fuente" >>"$destino/$LISTA"
        done
    done
    ;;
remove)
    xargs rm -f <"$LISTA"
    rm -f "$LISTA"
    ;;
*)
    echo "usage: $0 skeleton DEST | remove" >&2
    exit 2
    ;;
esac

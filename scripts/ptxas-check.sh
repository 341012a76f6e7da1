#!/usr/bin/env bash
# Assembles every committed kernels/cuda/*.ptx with ptxas 11.8 (from the nvidia-cuda-nvcc-cu11
# wheel) for sm_70 (Volta, the oldest target) and sm_90 (Hopper), so a PTX file that a driver
# would refuse fails here, without a GPU. Prints each kernel's registers and spills.
set -euo pipefail
cd "$(dirname "$0")/.."

NVIDIA=$(scripts/cuda-pip.sh nvcc)
PTXAS=$NVIDIA/cuda_nvcc/bin/ptxas
SALIDA=$(mktemp -d)
trap 'rm -rf "$SALIDA"' EXIT

"$PTXAS" --version | tail -n 1
for ptx in kernels/cuda/*.ptx; do
    for sm in sm_70 sm_90; do
        echo "== ptxas $ptx for $sm"
        if ! informe=$("$PTXAS" --gpu-name "$sm" --warning-as-error --verbose \
            --output-file "$SALIDA/$(basename "$ptx" .ptx).$sm.cubin" "$ptx" 2>&1); then
            echo "$informe"
            echo "ptxas rejected $ptx for $sm" >&2
            exit 1
        fi
        sed -n 's/^ptxas info *: *//p' <<<"$informe"
    done
done

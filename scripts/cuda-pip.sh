#!/usr/bin/env bash
# Installs the pinned NVIDIA compiler wheels from PyPI into a virtual environment under
# target/py/venv (idempotent: only what is missing is installed) and prints the directory that
# holds their `nvidia/` package. Usage: scripts/cuda-pip.sh nvrtc|nvcc ...
#
# nvrtc: NVRTC 11.8 (libnvrtc.so), which scripts/ptx.py calls to turn kernels/cuda/*.cu into PTX.
# nvcc:  ptxas 11.8, which scripts/ptxas-check.sh uses to assemble that PTX for real GPUs.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=11.8.89
VENV=target/py/venv

if [[ ! -x $VENV/bin/python ]]; then
    python3 -m venv "$VENV" >&2
fi
SITE=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')

paquetes=()
for herramienta in "$@"; do
    case $herramienta in
        nvrtc) [[ -e $SITE/nvidia/cuda_nvrtc/lib/libnvrtc.so.11.2 ]] || paquetes+=("nvidia-cuda-nvrtc-cu11==$VERSION") ;;
        nvcc) [[ -x $SITE/nvidia/cuda_nvcc/bin/ptxas ]] || paquetes+=("nvidia-cuda-nvcc-cu11==$VERSION") ;;
        *) echo "unknown tool: $herramienta (expected nvrtc or nvcc)" >&2; exit 2 ;;
    esac
done
if ((${#paquetes[@]})); then
    echo "installing ${paquetes[*]} into $VENV" >&2
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${paquetes[@]}" >&2
fi
echo "$SITE/nvidia"

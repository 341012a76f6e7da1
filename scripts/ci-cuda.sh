#!/usr/bin/env bash
# What CI runs for the `cuda` feature, on a machine without a GPU (needs python3 with venv and
# pip, a C compiler, and access to PyPI and crates.io):
#
# 1. the committed PTX equals what NVRTC 11.8 makes of its .cu (julia.ptx has no FMA);
# 2. ptxas 11.8 assembles it for sm_70 and sm_90;
# 3. a stub libcuda.so is generated to link against;
# 4. clippy on kernels and esclavo with the feature, every target, warnings denied;
# 5. their tests with the feature, run against the stub: the `Cuda` backend must say that there
#    is no driver (KERNELS_CUDA_ESPERADO=stub makes the tests insist on it), the esclavo must
#    serve CPU jobs and refuse `Cuda` ones, and nothing may panic.
#
# Everything builds in target/cuda, apart from the default build's target folder.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== PTX: regenerate and compare with kernels/cuda/*.ptx"
python3 scripts/ptx.py --check
echo "== ptxas: sm_70 and sm_90"
scripts/ptxas-check.sh
echo "== libcuda stub"
CUDA_LIBRARY_PATH=$(scripts/libcuda-stub.sh)
export CUDA_LIBRARY_PATH
FEATURES=(-p kernels -p esclavo --features kernels/cuda,esclavo/cuda --target-dir target/cuda)
echo "== cargo clippy --features cuda"
cargo clippy --locked "${FEATURES[@]}" --all-targets -- -D warnings
echo "== cargo test --features cuda, against the stub driver"
KERNELS_CUDA_ESPERADO=stub LD_LIBRARY_PATH="$CUDA_LIBRARY_PATH/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
    cargo test --locked "${FEATURES[@]}"

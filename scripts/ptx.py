#!/usr/bin/env python3
"""Compiles every kernels/cuda/*.cu to PTX with NVRTC 11.8 from PyPI, next to its source.

    python3 scripts/ptx.py           # regenerate kernels/cuda/*.ptx
    python3 scripts/ptx.py --check   # regenerate into a temporary folder, fail on a difference

The PTX targets the virtual architecture compute_70 with PTX ISA 7.8 (what NVRTC 11.8
writes): the driver JIT-compiles it on Volta through Hopper, with any driver since R520.
For julia.cu and imagen.cu, `--fmad=false` keeps every multiply and add separately rounded, as
in Rust, so the GPU's Julia counts and filtered pixels equal `Secuencial`'s bit for bit; this
script fails if an `fma` instruction appears in their PTX anyway. calculo.cu (matmul,
vector_add, montecarlo, nbody) is compiled with fused multiply-adds allowed (the default), for
speed: see SIN_FMA.

NVRTC comes from the `nvidia-cuda-nvrtc-cu11` wheel, installed by scripts/cuda-pip.sh into
target/py/venv, and is called through ctypes: no CUDA toolkit is needed.
"""

import ctypes
import difflib
import pathlib
import re
import subprocess
import sys
import tempfile

RAIZ = pathlib.Path(__file__).resolve().parent.parent
FUENTES = RAIZ / "kernels" / "cuda"
OPCIONES = [b"--gpu-architecture=compute_70", b"-default-device"]
# Files whose arithmetic must equal Rust's bit for bit (julia.cu's counts, imagen.cu's pixels):
# compiled with --fmad=false, and checked for the absence of any fma instruction. The others
# (calculo.cu: matmul, vector_add, montecarlo, nbody) may fuse multiply-adds; their tolerances
# allow for it.
SIN_FMA = {"julia.cu", "imagen.cu"}
ISA_ESPERADA = "7.8"


def nvrtc():
    """Loads libnvrtc from the pinned wheel (installing it if needed)."""
    nvidia = subprocess.run(
        [str(RAIZ / "scripts" / "cuda-pip.sh"), "nvrtc"],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    ).stdout.strip()
    lib = pathlib.Path(nvidia) / "cuda_nvrtc" / "lib"
    # libnvrtc dlopens its builtins by file name: load them first so that the name resolves.
    for builtins in sorted(lib.glob("libnvrtc-builtins.so*")):
        ctypes.CDLL(str(builtins), mode=ctypes.RTLD_GLOBAL)
    return ctypes.CDLL(str(next(lib.glob("libnvrtc.so*"))))


def comprobar(lib, codigo, que):
    if codigo != 0:
        lib.nvrtcGetErrorString.restype = ctypes.c_char_p
        raise SystemExit(f"NVRTC: {que} failed: {lib.nvrtcGetErrorString(codigo).decode()}")


def compilar(lib, fuente: pathlib.Path) -> str:
    """The PTX of one .cu file."""
    programa = ctypes.c_void_p()
    comprobar(
        lib,
        lib.nvrtcCreateProgram(
            ctypes.byref(programa), fuente.read_bytes(), fuente.name.encode(), 0, None, None
        ),
        "nvrtcCreateProgram",
    )
    try:
        lista = OPCIONES + ([b"--fmad=false"] if fuente.name in SIN_FMA else [])
        opciones = (ctypes.c_char_p * len(lista))(*lista)
        resultado = lib.nvrtcCompileProgram(programa, len(lista), opciones)
        tamano = ctypes.c_size_t()
        lib.nvrtcGetProgramLogSize(programa, ctypes.byref(tamano))
        registro = ctypes.create_string_buffer(tamano.value)
        lib.nvrtcGetProgramLog(programa, registro)
        if registro.value.strip():
            print(registro.value.decode(), file=sys.stderr)
        comprobar(lib, resultado, f"compiling {fuente.name}")
        comprobar(lib, lib.nvrtcGetPTXSize(programa, ctypes.byref(tamano)), "nvrtcGetPTXSize")
        ptx = ctypes.create_string_buffer(tamano.value)
        comprobar(lib, lib.nvrtcGetPTX(programa, ptx), "nvrtcGetPTX")
        return ptx.value.decode()
    finally:
        lib.nvrtcDestroyProgram(ctypes.byref(programa))


def validar(nombre: str, ptx: str, sin_fma: bool) -> None:
    """The promises made above: no fused multiply-add where promised, the ISA and target the
    driver expects."""
    errores = []
    if sin_fma and re.search(r"^\s*fma\.", ptx, re.MULTILINE):
        errores.append("contains an fma instruction (the arithmetic must not be contracted)")
    if f".version {ISA_ESPERADA}" not in ptx:
        errores.append(f"is not PTX ISA {ISA_ESPERADA}")
    if ".target sm_70" not in ptx:
        errores.append("does not target sm_70")
    if errores:
        raise SystemExit(f"{nombre}: " + "; ".join(errores))


def main() -> int:
    comprobar_solo = sys.argv[1:] == ["--check"]
    if sys.argv[1:] not in ([], ["--check"]):
        print(__doc__, file=sys.stderr)
        return 2
    lib = nvrtc()
    mayor, menor = ctypes.c_int(), ctypes.c_int()
    lib.nvrtcVersion(ctypes.byref(mayor), ctypes.byref(menor))
    fuentes = sorted(FUENTES.glob("*.cu"))
    if not fuentes:
        raise SystemExit(f"no .cu files in {FUENTES}")
    diferentes = 0
    with tempfile.TemporaryDirectory() as temporal:
        for fuente in fuentes:
            ptx = compilar(lib, fuente)
            destino = fuente.with_suffix(".ptx")
            validar(destino.name, ptx, fuente.name in SIN_FMA)
            relativo = destino.relative_to(RAIZ)
            if not comprobar_solo:
                destino.write_text(ptx)
                print(f"NVRTC {mayor.value}.{menor.value}: wrote {relativo}")
                continue
            nuevo = pathlib.Path(temporal) / destino.name
            nuevo.write_text(ptx)
            actual = destino.read_text() if destino.exists() else ""
            if actual == ptx:
                print(f"NVRTC {mayor.value}.{menor.value}: {relativo} is up to date")
            else:
                diferentes += 1
                sys.stdout.writelines(
                    difflib.unified_diff(
                        actual.splitlines(True),
                        ptx.splitlines(True),
                        f"{relativo} (committed)",
                        f"{relativo} (regenerated)",
                    )
                )
    if diferentes:
        print(
            f"{diferentes} PTX file(s) differ from their source: run python3 scripts/ptx.py",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

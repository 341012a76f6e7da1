#!/usr/bin/env python3
"""The numpy peer of the `red_neuronal` kernel: the same training loop, for `banco`.

    python3 kernels/pares/red_neuronal.py [campo=valor ...] [--repeticiones N]
    python3 kernels/pares/red_neuronal.py capas=512,512 lote=256 conjunto=blobs dimensiones=64

Takes the job's parameters by their wire names (those of ParamsRedNeuronal; `capas` as a comma
list, empty for none; the missing ones take the kernel's defaults), builds the same data set
from the same seed (the SplitMix64 streams of kernels/src/azar.rs through azar.py, Box-Muller
normals, the same 80/20 split), the same He-initialised weights and the same minibatch order,
and trains the same multi-layer perceptron (ReLU, softmax cross-entropy, SGD or Adam) in
float32, the way a careful numpy user would: one matrix product per layer and direction
(OpenBLAS), whole-array elementwise work, Adam in place.

Prints one line of `clave=valor` pairs: `segundos`, the best training time of N runs (default
3); `perdida`, the mean training loss per epoch of the last run (a comma list); and its final
`precision_entrenamiento` and `precision_prueba`. Only the training loop is timed, as the
kernel times only its own.

The definitions are those of docs/kernels.md, section `red_neuronal`; this script is an
independent implementation of them, so its loss curve also checks the kernel's (it differs
from the kernel's only by the order of float32 sums inside the matrix products).
"""

import sys
import time

import numpy as np

from azar import valor

# The kernel's streams (kernels/src/red_neuronal/datos.rs).
FLUJO_RADIO, FLUJO_ANGULO, FLUJO_CENTROS, FLUJO_PUNTOS, FLUJO_ORDEN, FLUJO_PESOS = range(40, 46)

DEFECTO = {
    "capas": [64, 64],
    "epocas": 10,
    "lote": 64,
    "tasa": 0.01,
    "optimizador": "adam",
    "conjunto": "espirales",
    "muestras": 4096,
    "dimensiones": 2,
    "clases": 3,
    "semilla": 1,
}
BETA1, BETA2, EPSILON = np.float32(0.9), np.float32(0.999), np.float32(1e-8)
RADIO_CENTROS = 4.0


def uniforme(semilla, flujo, n):
    """`n` uniform float64 in [0, 1) with 53 bits (red_neuronal/datos.rs's `uniforme`)."""
    return (valor(semilla, flujo, np.arange(n)) >> np.uint64(11)).astype(np.float64) * 2.0**-53


def normal(semilla, flujo, n):
    """`n` standard normals by Box-Muller from elements 2i and 2i + 1 (datos.rs's `normal`)."""
    i = np.arange(n, dtype=np.uint64)
    u1 = ((valor(semilla, flujo, 2 * i) >> np.uint64(11)).astype(np.float64) + 1.0) * 2.0**-53
    u2 = (valor(semilla, flujo, 2 * i + 1) >> np.uint64(11)).astype(np.float64) * 2.0**-53
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


def conjunto(p):
    """Inputs (float32, muestras × dimensiones) and labels, sample i of class i % clases."""
    n, d, k, s = p["muestras"], p["dimensiones"], p["clases"], p["semilla"]
    y = np.arange(n) % k
    if p["conjunto"] == "espirales":
        r = uniforme(s, FLUJO_RADIO, n)
        brazo = 2.0 * np.pi / k
        theta = brazo * y + 2.0 * np.pi * r + 0.1 * brazo * normal(s, FLUJO_ANGULO, n)
        x = np.stack([r * np.sin(theta), r * np.cos(theta)], axis=1)
    else:
        centros = (2.0 * uniforme(s, FLUJO_CENTROS, k * d) - 1.0) * (RADIO_CENTROS * np.sqrt(2.0 / d))
        x = centros.reshape(k, d)[y] + normal(s, FLUJO_PUNTOS, n * d).reshape(n, d)
    return x.astype(np.float32), y


def pesos(p):
    """He-initialised weights (normal · sqrt(2 / fan_in)) and zero biases, from one stream."""
    tallas = [p["dimensiones"], *p["capas"], p["clases"]]
    total = sum(a * b + b for a, b in zip(tallas, tallas[1:]))
    z = normal(p["semilla"], FLUJO_PESOS, total)
    capas, desde = [], 0
    for a, b in zip(tallas, tallas[1:]):
        w = (z[desde : desde + a * b] * np.sqrt(2.0 / a)).astype(np.float32).reshape(a, b)
        capas.append([w, np.zeros(b, np.float32)])
        desde += a * b + b
    return capas


def orden(semilla, epoca, n):
    """The minibatch order of an epoch: indices sorted by their stream keys (stable)."""
    claves = valor(semilla, FLUJO_ORDEN, np.uint64(epoca * n) + np.arange(n, dtype=np.uint64))
    return np.argsort(claves, kind="stable")


def hacia_delante(capas, x):
    """Every layer's output (ReLU on hidden layers); the last is the logits."""
    salidas = [x]
    for i, (w, b) in enumerate(capas):
        z = salidas[-1] @ w
        z += b
        if i + 1 < len(capas):
            np.maximum(z, 0.0, out=z)
        salidas.append(z)
    return salidas


def entrenar(p, x, y, capas):
    """The training loop: the mean loss per epoch."""
    n = len(y)
    lote = min(p["lote"], n)
    tasa = np.float32(p["tasa"])
    adam = p["optimizador"] == "adam"
    momentos = [[np.zeros_like(t), np.zeros_like(t)] for capa in capas for t in capa]
    t = 0
    perdidas = []
    for epoca in range(p["epocas"]):
        idx = orden(p["semilla"], epoca, n)
        suma = 0.0
        for desde in range(0, n, lote):
            sel = idx[desde : desde + lote]
            xb, yb = x[sel], y[sel]
            salidas = hacia_delante(capas, xb)
            z = salidas[-1]
            z = z - z.max(axis=1, keepdims=True)
            e = np.exp(z)
            s = e.sum(axis=1, keepdims=True)
            suma += float((np.log(s[:, 0]) - z[np.arange(len(yb)), yb]).astype(np.float64).sum())
            g = e / s
            g[np.arange(len(yb)), yb] -= 1.0
            g *= np.float32(1.0 / len(yb))
            gradientes = []
            for i in range(len(capas) - 1, -1, -1):
                gradientes.append((salidas[i].T @ g, g.sum(axis=0)))
                if i > 0:
                    g = g @ capas[i][0].T
                    g *= salidas[i] > 0
            gradientes.reverse()
            t += 1
            c1 = np.float32(1.0 - 0.9**t)
            c2 = np.float32(1.0 - 0.999**t)
            planos = [gr for par in gradientes for gr in par]
            for k, (param, gr) in enumerate(zip((q for capa in capas for q in capa), planos)):
                if not adam:
                    param -= tasa * gr
                    continue
                m, v = momentos[k]
                m *= BETA1
                m += (1 - BETA1) * gr
                v *= BETA2
                v += (1 - BETA2) * gr * gr
                param -= tasa * (m / c1) / (np.sqrt(v / c2) + EPSILON)
        perdidas.append(suma / n)
    return perdidas


def precision(capas, x, y):
    """The fraction of samples whose largest logit is their class."""
    return float((hacia_delante(capas, x)[-1].argmax(axis=1) == y).mean())


def leer(argumentos):
    """The parameters and the number of runs from the command line."""
    p, repeticiones = dict(DEFECTO), 3
    while argumentos:
        a = argumentos.pop(0)
        if a == "--repeticiones":
            repeticiones = int(argumentos.pop(0))
            continue
        clave, _, valor = a.partition("=")
        if clave not in DEFECTO:
            raise SystemExit(f"unknown parameter {clave!r}: expected one of {', '.join(DEFECTO)}")
        if clave == "capas":
            p[clave] = [int(c) for c in valor.split(",") if c]
        else:
            p[clave] = type(DEFECTO[clave])(valor)
    return p, repeticiones


def main():
    if any(a in ("-h", "--help") for a in sys.argv[1:]):
        print(__doc__)
        return 0
    p, repeticiones = leer(sys.argv[1:])
    x, y = conjunto(p)
    prueba = max(1, p["muestras"] // 5)
    entrenamiento = p["muestras"] - prueba
    mejor = float("inf")
    for _ in range(repeticiones):
        capas = pesos(p)
        inicio = time.perf_counter()
        perdidas = entrenar(p, x[:entrenamiento], y[:entrenamiento], capas)
        mejor = min(mejor, time.perf_counter() - inicio)
    print(
        f"segundos={mejor!r}",
        "perdida=" + ",".join(repr(v) for v in perdidas),
        f"precision_entrenamiento={precision(capas, x[:entrenamiento], y[:entrenamiento])!r}",
        f"precision_prueba={precision(capas, x[entrenamiento:], y[entrenamiento:])!r}",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

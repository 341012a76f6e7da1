// Runs the kernels of imagen.cu on the CPU, to check their arithmetic without a GPU: the CUDA
// built-ins they use are defined here in plain C++ and every launch is one "thread" whose
// grid-stride loop covers the whole range (the kernels share nothing between threads, so that
// is the same computation). The launches are queued as kernels/src/imagen/cuda.rs queues them,
// the blur passes in bands of BANDA rows so that the bands' offsets are exercised.
//
//   c++ -std=c++17 -O2 -ffp-contract=off kernels/cuda/imagen_anfitrion.cpp -o imagen_anfitrion
//
// Input (stdin, little-endian): u32 width, height, canales, filtros; `filtros` u32 codes
// (0 desenfoque, 1 sobel, 2 enfocar, 3 grises); u32 taps; `taps` f32 weights; then the image's
// width·height·canales bytes. Output (stdout): the filtered bytes. kernels/tests/imagen.rs builds
// it where a C++ compiler is installed and compares its output with Secuencial's, byte for byte.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <math.h>
#include <vector>

// ---- The CUDA built-ins imagen.cu uses ---------------------------------------------------------
struct dim3 {
    unsigned x = 1, y = 1, z = 1;
};
// One block of one thread: threadIdx = blockIdx = 0, blockDim = gridDim = 1.
static dim3 threadIdx{0, 0, 0}, blockIdx{0, 0, 0}, blockDim, gridDim;
using std::max;
using std::min;
#define __global__
#define __device__
#define __forceinline__ inline
#define __restrict__ __restrict

#include "imagen.cu"

// Rows per blur launch: small, so that several bands cover an image.
static const unsigned BANDA = 7;

static std::vector<uint8_t> entrada;
static size_t leido = 0;

static uint32_t leer_u32() {
    uint32_t v;
    std::memcpy(&v, entrada.data() + leido, 4);
    leido += 4;
    return v;
}

int main() {
    char trozo[1 << 16];
    for (size_t n; (n = std::fread(trozo, 1, sizeof trozo, stdin)) > 0;) {
        entrada.insert(entrada.end(), trozo, trozo + n);
    }
    const uint32_t w = leer_u32(), h = leer_u32(), canales = leer_u32(), nfiltros = leer_u32();
    std::vector<uint32_t> filtros(nfiltros);
    for (auto& f : filtros) f = leer_u32();
    std::vector<float> pesos(leer_u32());
    std::memcpy(pesos.data(), entrada.data() + leido, pesos.size() * 4);
    leido += pesos.size() * 4;
    const uint32_t n = w * h, radio = (uint32_t)pesos.size() / 2;
    std::vector<uint8_t> bytes(entrada.begin() + leido, entrada.begin() + leido + n * canales);
    std::vector<float> planos[4];
    for (auto& p : planos) p.assign(n, 0.0f);
    int papel[4] = {0, 1, 2, 3};
    auto canal = [&](int c) { return planos[papel[c]].data(); };
    auto tmp = [&]() { return planos[papel[3]].data(); };

    imagen_separar(bytes.data(), canales, n, canal(0), canal(1), canal(2));
    for (uint32_t f : filtros) {
        if (f == 3) {
            imagen_grises(canal(0), canal(1), canal(2), n);
        } else if (f == 0) {
            for (int c = 0; c < 3; c++) {
                for (uint32_t vertical = 0; vertical < 2; vertical++) {
                    for (uint32_t fila0 = 0; fila0 < h; fila0 += BANDA) {
                        const uint32_t filas = std::min(BANDA, h - fila0);
                        float* origen = vertical ? tmp() : canal(c);
                        float* destino = vertical ? canal(c) : tmp();
                        imagen_desenfoque(origen, destino, w, h, fila0, filas, pesos.data(),
                                          radio, vertical);
                    }
                }
            }
        } else {
            for (int c = 0; c < 3; c++) {
                if (f == 1) {
                    imagen_sobel(canal(c), tmp(), w, h);
                } else {
                    imagen_enfocar(canal(c), tmp(), w, h);
                }
                std::swap(papel[c], papel[3]);
            }
        }
    }
    imagen_juntar(canal(0), canal(1), canal(2), canales, n, bytes.data());
    std::fwrite(bytes.data(), 1, bytes.size(), stdout);
    return 0;
}

// Runs the kernels of red_neuronal.cu on the CPU, to check them without a GPU: the CUDA
// built-ins they use are defined here in plain C++, and the training's launches are queued as
// kernels/src/red_neuronal/cuda.rs queues them. Kernels whose threads share nothing run their
// blocks and threads one after another; the products, whose threads share tiles between
// __syncthreads(), run each block as an OpenMP team of 256 threads (__syncthreads() is an
// OpenMP barrier, __shared__ arrays are static: one block at a time).
//
//   c++ -std=c++17 -O2 -fopenmp kernels/cuda/red_neuronal_anfitrion.cpp -o red_neuronal_anfitrion
//
// Input (stdin, little-endian): u32 n (training samples), m (held-out samples), capas (the
// number of sizes that follow), the sizes [dimensiones, hidden…, clases]; u32 epocas, lote,
// adam (0 or 1); f32 tasa; then the training inputs (n·dimensiones f32) and classes (n u32),
// the held-out ones (m·dimensiones f32, m u32), the initial parameters (f32, laid out as
// red_neuronal::Arquitectura says), and each epoch's order (epocas·n u32). Output (stdout):
// `perdida=L1,L2,… precision_entrenamiento=… precision_prueba=…`. kernels/tests/red_neuronal.rs
// builds it where a C++ compiler with OpenMP is installed and compares it with Secuencial.

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <math.h>
#include <vector>

// ---- The CUDA built-ins red_neuronal.cu uses ---------------------------------------------------
struct dim3 {
    unsigned x = 1, y = 1, z = 1;
};
static thread_local dim3 threadIdx, blockIdx;
static dim3 blockDim, gridDim;
#define __global__
#define __device__
#define __forceinline__ inline
#define __restrict__ __restrict
#define __launch_bounds__(n)
#define __shared__ static
#define __syncthreads() _Pragma("omp barrier")
static inline float __int_as_float(int i) {
    float f;
    std::memcpy(&f, &i, 4);
    return f;
}
static inline unsigned atomicAdd(unsigned* p, unsigned v) {
    return __atomic_fetch_add(p, v, __ATOMIC_RELAXED);
}

#include "red_neuronal.cu"

// ---- Launches -----------------------------------------------------------------------------------
// Blocks and threads one after another: for the kernels whose threads share nothing.
static void lanzar(unsigned bloques, unsigned hilos, const std::function<void()>& f) {
    gridDim = {bloques, 1, 1};
    blockDim = {hilos, 1, 1};
    for (unsigned b = 0; b < bloques; b++)
        for (unsigned t = 0; t < hilos; t++) {
            blockIdx = {b, 0, 0};
            threadIdx = {t, 0, 0};
            f();
        }
}

// A 2-D grid of 256-thread blocks, each block an OpenMP team (the products).
static void lanzar_en_equipo(unsigned bx, unsigned by, const std::function<void()>& f) {
    gridDim = {bx, by, 1};
    blockDim = {256, 1, 1};
    for (unsigned y = 0; y < by; y++)
        for (unsigned x = 0; x < bx; x++) {
#pragma omp parallel num_threads(256)
            {
                blockIdx = {x, y, 0};
                threadIdx = {(unsigned)omp_get_thread_num(), 0, 0};
                f();
            }
        }
}

static unsigned cubrir(size_t n, unsigned lado) { return (unsigned)std::max<size_t>(1, (n + lado - 1) / lado); }

enum Forma { PRODUCTO_NN, PRODUCTO_TN, PRODUCTO_NT };

// C (m×n) = op(A)·op(B), as Red::producto launches it.
static void producto(Forma f, int m, int n, int k, const float* a, const float* b, float* c) {
    lanzar_en_equipo(cubrir(n, 64), cubrir(m, 64), [&] {
        if (f == PRODUCTO_NN) producto_nn(a, b, c, m, n, k);
        if (f == PRODUCTO_TN) producto_tn(a, b, c, m, n, k);
        if (f == PRODUCTO_NT) producto_nt(a, b, c, m, n, k);
    });
}

// ---- Input --------------------------------------------------------------------------------------
static std::vector<uint8_t> entrada;
static size_t leido = 0;

template <typename T>
static T leer() {
    T v;
    std::memcpy(&v, entrada.data() + leido, sizeof v);
    leido += sizeof v;
    return v;
}

template <typename T>
static std::vector<T> leer_vector(size_t n) {
    std::vector<T> v(n);
    std::memcpy(v.data(), entrada.data() + leido, n * sizeof(T));
    leido += n * sizeof(T);
    return v;
}

struct Capa {
    int entrada, salida;
    size_t desde;  // the weights; the biases follow
};

// ---- The training, as red_neuronal/cuda.rs queues it --------------------------------------------
struct Red {
    std::vector<Capa> capas;
    std::vector<float> w, g, m, v;
    std::vector<std::vector<float>> salidas;
    std::vector<float> entrada, delta, abajo;
    std::vector<unsigned> yb;

    // Every layer's output for `filas` rows at `x`.
    void hacia_delante(const float* x, int filas) {
        for (size_t l = 0; l < capas.size(); l++) {
            const Capa& c = capas[l];
            const float* xl = l == 0 ? x : salidas[l - 1].data();
            float* z = salidas[l].data();
            producto(PRODUCTO_NN, filas, c.salida, c.entrada, xl, &w[c.desde], z);
            const int relu = l + 1 < capas.size();
            const float* b = &w[c.desde + (size_t)c.entrada * c.salida];
            lanzar(4, 256, [&] { sesgo_relu(z, b, filas, c.salida, relu); });
        }
    }

    // The gradient of the minibatch's mean loss into g (delta holds the softmax gradient).
    void hacia_atras(int filas) {
        float* d = delta.data();
        float* ab = abajo.data();
        for (size_t l = capas.size(); l-- > 0;) {
            const Capa& c = capas[l];
            const float* x = l == 0 ? entrada.data() : salidas[l - 1].data();
            producto(PRODUCTO_TN, c.entrada, c.salida, filas, x, d, &g[c.desde]);
            float* gb = &g[c.desde + (size_t)c.entrada * c.salida];
            lanzar(cubrir(c.salida, 256), 256, [&] { sumar_columnas(d, filas, c.salida, gb); });
            if (l > 0) {
                producto(PRODUCTO_NT, filas, c.entrada, c.salida, d, &w[c.desde], ab);
                lanzar(4, 256, [&] { mascara_relu(ab, x, filas * c.entrada); });
                std::swap(d, ab);
            }
        }
    }
};

int main() {
    char trozo[1 << 16];
    for (size_t n; (n = std::fread(trozo, 1, sizeof trozo, stdin)) > 0;)
        entrada.insert(entrada.end(), trozo, trozo + n);
    omp_set_dynamic(0);
    const uint32_t n = leer<uint32_t>(), mp = leer<uint32_t>(), ncapas = leer<uint32_t>();
    const auto tallas = leer_vector<uint32_t>(ncapas);
    const uint32_t epocas = leer<uint32_t>(), lote = leer<uint32_t>(), adam_ = leer<uint32_t>();
    const float tasa = leer<float>();
    const int d = tallas[0], clases = tallas.back();
    const auto x = leer_vector<float>((size_t)n * d);
    const auto y = leer_vector<uint32_t>(n);
    const auto xp = leer_vector<float>((size_t)mp * d);
    const auto yp = leer_vector<uint32_t>(mp);

    Red red;
    size_t desde = 0;
    for (uint32_t i = 0; i + 1 < ncapas; i++) {
        red.capas.push_back({(int)tallas[i], (int)tallas[i + 1], desde});
        desde += (size_t)tallas[i] * tallas[i + 1] + tallas[i + 1];
    }
    red.w = leer_vector<float>(desde);
    red.g.assign(desde, 0.0f);
    red.m.assign(desde, 0.0f);
    red.v.assign(desde, 0.0f);
    const int filas_max = std::max<int>(lote, 1024);
    const int ancho = *std::max_element(tallas.begin(), tallas.end());
    for (uint32_t i = 1; i < ncapas; i++) red.salidas.emplace_back((size_t)filas_max * tallas[i]);
    red.entrada.assign((size_t)filas_max * d, 0.0f);
    red.delta.assign((size_t)filas_max * ancho, 0.0f);
    red.abajo.assign((size_t)filas_max * ancho, 0.0f);
    red.yb.assign(filas_max, 0);

    std::vector<float> perdidas(n);
    std::printf("perdida=");
    unsigned paso = 0;
    for (uint32_t e = 0; e < epocas; e++) {
        const auto orden = leer_vector<uint32_t>(n);
        for (uint32_t b0 = 0; b0 < n; b0 += lote) {
            const int filas = std::min(lote, n - b0);
            lanzar(4, 256, [&] {
                reunir(x.data(), y.data(), orden.data(), b0, filas, d, red.entrada.data(),
                       red.yb.data());
            });
            red.hacia_delante(red.entrada.data(), filas);
            lanzar(cubrir(filas, 256), 256, [&] {
                softmax_entropia(red.salidas.back().data(), red.yb.data(), filas, clases,
                                 1.0f / (float)filas, red.delta.data(), &perdidas[b0]);
            });
            red.hacia_atras(filas);
            paso++;
            const int total = (int)red.w.size();
            if (adam_) {
                const float c1 = (float)(1.0 - std::pow(0.9, paso));
                const float c2 = (float)(1.0 - std::pow(0.999, paso));
                lanzar(4, 256, [&] {
                    adam(red.w.data(), red.g.data(), red.m.data(), red.v.data(), total, tasa, c1,
                         c2);
                });
            } else {
                lanzar(4, 256, [&] { sgd(red.w.data(), red.g.data(), total, tasa); });
            }
        }
        double suma = 0.0;
        for (float p : perdidas) suma += (double)p;
        std::printf("%s%.17g", e ? "," : "", suma / n);
    }
    // The accuracy in blocks of max(lote, 1024) rows, as Red::precision.
    auto precision = [&](const std::vector<float>& xs, const std::vector<uint32_t>& ys) {
        unsigned cuenta = 0;
        const size_t filas_total = ys.size();
        for (size_t desde = 0; desde < filas_total; desde += filas_max) {
            const int filas = (int)std::min<size_t>(filas_max, filas_total - desde);
            red.hacia_delante(&xs[desde * d], filas);
            lanzar(cubrir(filas, 256), 256, [&] {
                aciertos(red.salidas.back().data(), &ys[desde], filas, clases, &cuenta);
            });
        }
        return (double)cuenta / (double)std::max<size_t>(filas_total, 1);
    };
    const double pe = precision(x, y);
    const double pp = precision(xp, yp);
    std::printf(" precision_entrenamiento=%.17g precision_prueba=%.17g\n", pe, pp);
    return 0;
}

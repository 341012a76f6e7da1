// Runs the kernels of fft.cu on the CPU, to check their arithmetic without a GPU: the CUDA
// built-ins they use are defined here in plain C++ (a block's threads are OS threads meeting
// at a std::barrier for __syncthreads; blocks run one after another), and the stages are
// queued as kernels/src/fft/cuda.rs queues them. Every transform is compared with a DFT summed
// in long double; the program prints each case's relative L2 error and fails above 1e-12.
//
//   c++ -std=c++20 -O2 -pthread kernels/cuda/fft_anfitrion.cpp -o fft_anfitrion && ./fft_anfitrion
//
// kernels/tests/fft.rs builds and runs it when a C++ compiler is installed.

#include <barrier>
#include <cmath>
#include <cstdio>
#include <functional>
#include <thread>
#include <utility>
#include <vector>

// ---- The CUDA built-ins fft.cu uses ------------------------------------------------------------
struct double2 {
    double x, y;
};
static inline double2 make_double2(double x, double y) { return {x, y}; }
struct dim3 {
    unsigned x = 1, y = 1, z = 1;
};
static thread_local dim3 threadIdx;
static dim3 blockIdx, blockDim, gridDim;
static std::barrier<>* barrera = nullptr;
static inline void __syncthreads() { barrera->arrive_and_wait(); }
static inline void sincospi(double x, double* s, double* c) {
    long double a = 3.14159265358979323846264338327950288L * (long double)x;
    *s = (double)std::sin(a);
    *c = (double)std::cos(a);
}
#define __global__
#define __device__
#define __forceinline__ inline
#define __restrict__ __restrict
#define __shared__ static

#include "fft.cu"

// A launch: `grid` blocks of `block` threads, each block's threads as OS threads when the
// kernel synchronises (the transpose), one after another otherwise.
static void lanzar(unsigned grid, dim3 block, bool sincroniza, const std::function<void()>& k) {
    gridDim = {grid, 1, 1};
    blockDim = block;
    const unsigned hilos = block.x * block.y;
    for (unsigned b = 0; b < grid; b++) {
        blockIdx = {b, 0, 0};
        if (!sincroniza) {
            for (unsigned i = 0; i < hilos; i++) {
                threadIdx = {i % block.x, i / block.x, 0};
                k();
            }
            continue;
        }
        std::barrier<> bar(hilos);
        barrera = &bar;
        std::vector<std::thread> ts;
        for (unsigned i = 0; i < hilos; i++)
            ts.emplace_back([&, i] {
                threadIdx = {i % block.x, i / block.x, 0};
                k();
            });
        for (auto& t : ts) t.join();
    }
}

// ---- The stages, as kernels/src/fft/cuda.rs queues them ----------------------------------------
typedef std::vector<double2> Buffer;
struct Gpu {
    Buffer datos, otro, a, b, filtro, filtro_aux, raices;
};
static const unsigned GRID = 3; // few blocks, so the grid-stride loops go round
static const dim3 HILOS = {64, 1, 1};

static void pasadas(Buffer& x, Buffer& y, Gpu& g, int log_n, i64 lotes) {
    int log_s = 0;
    while (log_n - log_s >= 1) {
        const int radix = log_n - log_s >= 2 ? 4 : 2;
        const i64 total = (lotes << log_n) / radix;
        if (radix == 4)
            lanzar(GRID, HILOS, false, [&] {
                fft_radix4(x.data(), y.data(), g.raices.data(), log_n, log_s, total);
            });
        else
            lanzar(GRID, HILOS, false, [&] {
                fft_radix2(x.data(), y.data(), g.raices.data(), log_n, log_s, total);
            });
        std::swap(x, y);
        log_s += radix == 4 ? 2 : 1;
    }
}

static int log2_de(i64 n) {
    int l = 0;
    while ((1LL << l) < n) l++;
    return l;
}

static void eje(Gpu& g, i64 l, i64 lotes) {
    if (l == 1) return;
    const bool potencia = (l & (l - 1)) == 0;
    const int log_m = potencia ? log2_de(l) : log2_de(2 * l - 1);
    const i64 m = 1LL << log_m;
    g.raices.assign(m, {0, 0});
    lanzar(GRID, HILOS, false, [&] { fft_raices(g.raices.data(), log_m); });
    if (potencia) {
        pasadas(g.datos, g.otro, g, log_m, lotes);
        return;
    }
    g.filtro.assign(m, {0, 0});
    g.filtro_aux.assign(m, {0, 0});
    g.a.assign(lotes * m, {0, 0});
    g.b.assign(lotes * m, {0, 0});
    lanzar(GRID, HILOS, false, [&] { fft_bluestein_filtro(g.filtro.data(), l, log_m); });
    pasadas(g.filtro, g.filtro_aux, g, log_m, 1);
    lanzar(GRID, HILOS, false,
           [&] { fft_bluestein_entrada(g.datos.data(), g.a.data(), l, log_m, lotes * m); });
    pasadas(g.a, g.b, g, log_m, lotes);
    lanzar(GRID, HILOS, false,
           [&] { fft_bluestein_producto(g.a.data(), g.filtro.data(), log_m, lotes * m); });
    pasadas(g.a, g.b, g, log_m, lotes);
    lanzar(GRID, HILOS, false,
           [&] { fft_bluestein_salida(g.a.data(), g.datos.data(), l, log_m, lotes * l); });
}

static void trasponer(Gpu& g, i64 filas, i64 cols) {
    lanzar(2, {32, 8, 1}, true, [&] { fft_trasponer(g.datos.data(), g.otro.data(), filas, cols); });
    std::swap(g.datos, g.otro);
}

static Buffer transformar(const Buffer& x, i64 n, i64 m) {
    Gpu g;
    g.datos = x;
    g.otro.assign(x.size(), {0, 0});
    if (n == 1 || m == 1) {
        eje(g, n * m, 1);
    } else {
        eje(g, m, n);
        trasponer(g, n, m);
        eje(g, n, m);
        trasponer(g, m, n);
    }
    return g.datos;
}

// ---- The reference and the cases ----------------------------------------------------------------
static Buffer dft(const Buffer& x, i64 n, i64 m) {
    const long double dos_pi = 6.28318530717958647692528676655900577L;
    Buffer y(x.size());
    for (i64 k = 0; k < n; k++)
        for (i64 l = 0; l < m; l++) {
            long double re = 0, im = 0;
            for (i64 j = 0; j < n; j++)
                for (i64 c = 0; c < m; c++) {
                    const long double ang =
                        -dos_pi * ((long double)((j * k) % n) / n + (long double)((c * l) % m) / m);
                    const double2 v = x[j * m + c];
                    re += v.x * std::cos(ang) - v.y * std::sin(ang);
                    im += v.x * std::sin(ang) + v.y * std::cos(ang);
                }
            y[k * m + l] = {(double)re, (double)im};
        }
    return y;
}

int main() {
    const i64 casos[][2] = {{1, 1},  {2, 1},  {3, 1},   {4, 1},  {5, 1},  {8, 1},  {16, 1},
                            {17, 1}, {32, 1}, {64, 1},  {97, 1}, {100, 1}, {128, 1}, {243, 1},
                            {256, 1}, {512, 1}, {1000, 1}, {1024, 1}, {2048, 1}, {1009, 1}, {1, 12}, {12, 1}, {3, 5},
                            {4, 8},  {7, 16}, {16, 7},  {33, 31}, {2, 64}, {64, 2}, {40, 40}};
    int fallos = 0;
    unsigned long long s = 0x1234567;
    for (const auto& c : casos) {
        const i64 n = c[0], m = c[1];
        Buffer x(n * m);
        for (auto& v : x) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            v.x = (double)(s >> 11) / 9007199254740992.0 * 2 - 1;
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            v.y = (double)(s >> 11) / 9007199254740992.0 * 2 - 1;
        }
        const Buffer y = transformar(x, n, m), r = dft(x, n, m);
        long double d = 0, e = 0;
        for (size_t i = 0; i < y.size(); i++) {
            d += std::pow((long double)y[i].x - r[i].x, 2) + std::pow((long double)y[i].y - r[i].y, 2);
            e += std::pow((long double)r[i].x, 2) + std::pow((long double)r[i].y, 2);
        }
        const double rel = (double)std::sqrt(d / e);
        const bool bien = rel <= 1e-12;
        fallos += !bien;
        std::printf("%s %lld x %lld: relative L2 error %.3g\n", bien ? "ok  " : "FAIL", n, m, rel);
    }
    std::printf("%d case(s) failed\n", fallos);
    return fallos != 0;
}

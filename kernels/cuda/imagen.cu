// The `Cuda` backend of the imagen kernel (kernels/src/imagen/cuda.rs runs it). Compiled by
// scripts/ptx.py to imagen.ptx for compute_70 WITHOUT fused multiply-adds (--fmad=false), like
// julia.cu: every expression below is the one of kernels/src/imagen.rs, operation for
// operation and in the same order (convolucion, sobel, enfocar, luma, cuantizar), so each
// pixel's f32 value equals the CPU's. sqrtf is IEEE round-to-nearest (NVRTC's default
// --prec-sqrt=true), as is Rust's f32::sqrt.
//
// An image lives on the GPU as three f32 planes (R, G, B), row-major, and a fourth one as
// scratch; the interleaved 8-bit bytes come in once and go out once, alpha kept in them.
// Every kernel is a grid-stride loop over pixels; rows and columns past an edge are clamped.

typedef unsigned int u32;

__device__ __forceinline__ u32 pinzar(int i, int n) { return (u32)min(max(i, 0), n - 1); }

// Interleaved bytes (3 or 4 per pixel) to the three planes.
extern "C" __global__ void imagen_separar(const unsigned char* __restrict__ bytes, u32 canales,
                                          u32 n, float* __restrict__ r, float* __restrict__ g,
                                          float* __restrict__ b) {
    for (u32 i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        const unsigned char* p = bytes + (size_t)i * canales;
        r[i] = (float)p[0];
        g[i] = (float)p[1];
        b[i] = (float)p[2];
    }
}

// cuantizar: clamped to 0..255, plus one half, truncated.
__device__ __forceinline__ unsigned char cuantizar(float v) {
    return (unsigned char)(fminf(fmaxf(v, 0.0f), 255.0f) + 0.5f);
}

// The planes rounded back into the interleaved bytes; the alpha bytes are left as they came.
extern "C" __global__ void imagen_juntar(const float* __restrict__ r, const float* __restrict__ g,
                                         const float* __restrict__ b, u32 canales, u32 n,
                                         unsigned char* __restrict__ bytes) {
    for (u32 i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        unsigned char* p = bytes + (size_t)i * canales;
        p[0] = cuantizar(r[i]);
        p[1] = cuantizar(g[i]);
        p[2] = cuantizar(b[i]);
    }
}

// One blur pass over rows fila0 .. fila0 + filas: salida at (x, y) = the sum over j = 0 .. 2r of
// pesos[j] * entrada at (x + dx (j - r), y + dy (j - r)), clamped to the image, from j = 0 up,
// starting at 0; (dx, dy) = (1, 0) for the horizontal pass, (0, 1) for the vertical one.
extern "C" __global__ void imagen_desenfoque(const float* __restrict__ entrada,
                                             float* __restrict__ salida, u32 w, u32 h, u32 fila0,
                                             u32 filas, const float* __restrict__ pesos,
                                             u32 radio, u32 vertical) {
    const int dx = vertical ? 0 : 1, dy = vertical ? 1 : 0;
    const u32 n = w * filas;
    for (u32 k = blockIdx.x * blockDim.x + threadIdx.x; k < n; k += gridDim.x * blockDim.x) {
        const u32 i = fila0 * w + k;
        const int y = (int)(i / w), x = (int)(i % w);
        float suma = 0.0f;
        for (int j = 0; j <= 2 * (int)radio; j++) {
            const int d = j - (int)radio;
            suma += pesos[j] * entrada[(size_t)pinzar(y + dy * d, (int)h) * w +
                                       pinzar(x + dx * d, (int)w)];
        }
        salida[i] = suma;
    }
}

// Sobel's magnitude sqrt(gx*gx + gy*gy), at most 255.
extern "C" __global__ void imagen_sobel(const float* __restrict__ entrada,
                                        float* __restrict__ salida, u32 w, u32 h) {
    u32 n = w * h;
    for (u32 i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        int y = (int)(i / w), x = (int)(i % w);
        const float* u = entrada + (size_t)pinzar(y - 1, (int)h) * w;
        const float* c = entrada + (size_t)y * w;
        const float* d = entrada + (size_t)pinzar(y + 1, (int)h) * w;
        u32 l = pinzar(x - 1, (int)w), r = pinzar(x + 1, (int)w);
        float gx = (u[r] + 2.0f * c[r] + d[r]) - (u[l] + 2.0f * c[l] + d[l]);
        float gy = (d[l] + 2.0f * d[x] + d[r]) - (u[l] + 2.0f * u[x] + u[r]);
        salida[i] = fminf(sqrtf(gx * gx + gy * gy), 255.0f);
    }
}

// Sharpening: 5c - up - left - right - down, in that order, clamped to 0..255.
extern "C" __global__ void imagen_enfocar(const float* __restrict__ entrada,
                                          float* __restrict__ salida, u32 w, u32 h) {
    u32 n = w * h;
    for (u32 i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        int y = (int)(i / w), x = (int)(i % w);
        float u = entrada[(size_t)pinzar(y - 1, (int)h) * w + x];
        float d = entrada[(size_t)pinzar(y + 1, (int)h) * w + x];
        float l = entrada[(size_t)y * w + pinzar(x - 1, (int)w)];
        float r = entrada[(size_t)y * w + pinzar(x + 1, (int)w)];
        float v = 5.0f * entrada[i] - u - l - r - d;
        salida[i] = fminf(fmaxf(v, 0.0f), 255.0f);
    }
}

// Rec. 601 luma (0.299 R + 0.587 G) + 0.114 B to all three channels.
extern "C" __global__ void imagen_grises(float* __restrict__ r, float* __restrict__ g,
                                         float* __restrict__ b, u32 n) {
    for (u32 i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        float y = 0.299f * r[i] + 0.587f * g[i] + 0.114f * b[i];
        r[i] = y;
        g[i] = y;
        b[i] = y;
    }
}

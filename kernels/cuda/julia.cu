// The Julia set kernel for the `Cuda` backend: the same arithmetic as kernels/src/julia.rs.
//
// One thread per pixel. The host launches it once per run of rows (`fila0 .. fila0 + filas`),
// so that no single launch runs for long, with blocks of 256 threads covering 16 × 16 pixels.
// Each warp of a block takes an 8 × 4 tile rather than a 32-pixel row segment: nearby pixels
// escape after similar counts, and a squarer tile wastes fewer lanes waiting for the slowest
// one (at 8192 × 8192 × 1000, 85 % of the lanes' steps are useful instead of 79 %).
//
// Every constant comes from the host (the Rust constants and the grid step computed there),
// so the two backends cannot drift apart. The update is written in the exact order of
// `paso` and `sigue_dentro`, and scripts/ptx.py compiles it with --fmad=false: no
// multiply-add is fused, so every operation rounds like its Rust twin and the counts equal
// `Secuencial` bit for bit. scripts/ptx.py fails if the PTX contains an `fma`.
//
// Regenerate kernels/cuda/julia.ptx with `python3 scripts/ptx.py` after editing this file.

// Side of the square of pixels one block covers; the host launches LADO * LADO threads a block.
#define LADO 16

extern "C" __global__ void julia(
    unsigned int *conteos,    // width × height counts, row-major
    unsigned int width,       // pixels per row
    unsigned int fila0,       // first row of this launch
    unsigned int filas,       // rows in this launch
    unsigned int iteraciones, // most updates per pixel
    double x1,                // x of column 0
    double y2,                // y of row 0
    double dx,                // (X2 - X1) / width, computed on the host
    double dy,                // (Y2 - Y1) / height, computed on the host
    double c_re,              // real part of c
    double c_im,              // imaginary part of c
    double limite_cuadrado)   // escape when |z|² reaches this
{
    // Warp w of the block takes the 8 × 4 tile at column (w % 2) * 8, row (w / 2) * 4.
    unsigned int carril = threadIdx.x % 32;
    unsigned int warp = threadIdx.x / 32;
    unsigned int k = blockIdx.x * LADO + (warp % 2) * 8 + carril % 8;
    unsigned int fila = blockIdx.y * LADO + (warp / 2) * 4 + carril / 8;
    if (k >= width || fila >= filas) {
        return;
    }
    unsigned int j = fila0 + fila;

    // Rejilla::inicio
    double zr = x1 + (double)k * dx;
    double zi = y2 - (double)j * dy;

    // conteo
    unsigned int n = 0;
    while (n < iteraciones) {
        double zr2 = zr * zr;
        double zi2 = zi * zi;
        // sigue_dentro
        if (!(zr2 + zi2 < limite_cuadrado)) {
            break;
        }
        // paso: (zr2 - zi2 + C_RE, 2.0 * zr * zi + C_IM)
        double nuevo_zr = zr2 - zi2 + c_re;
        zi = 2.0 * zr * zi + c_im;
        zr = nuevo_zr;
        n += 1;
    }
    conteos[(size_t)j * width + k] = n;
}

// Convolution as sums of shifted inputs ("taps"), with no patch matrix: the input is padded
// (and, for strides, split into stride phases) once, so that every output position q of a
// padded output grid reads tap t at x[q + offsets[t]]. Positions are then contiguous in both
// the input and the output, and a tile of 8 output channels × 32 positions is a GEMM
// micro-kernel whose B rows are the input itself: per tap, two vector loads and eight
// broadcast FMAs, no packing pass and no im2col writes. The weight gradient is the same
// shifted reads as dot products over positions. Callers (CPUBackend+TapConvolution.swift)
// lay out the buffers and round the lengths as documented in the header.
#include "CTesseraKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx2,fma")))
static inline float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

#define SUFFIX 256
#define TARGET "avx2,fma"
#define V __m256
#define LANES 8
#define LOADU(p) _mm256_loadu_ps(p)
#define STOREU(p, v) _mm256_storeu_ps(p, v)
#define SET1(x) _mm256_set1_ps(x)
#define ZERO() _mm256_setzero_ps()
#define FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define HSUM(v) hsum256(v)
#define HV __m128
#define HLOADU(p) _mm_loadu_ps(p)
#define HSTOREU(p, v) _mm_storeu_ps(p, v)
#define HSET1(x) _mm_set1_ps(x)
#define HZERO() _mm_setzero_ps()
#define HFMA(a, b, c) _mm_fmadd_ps(a, b, c)
// 4 × 2 (8 accumulators: 4 × 3 spilled out of the sixteen ymm registers), tall 2 × 4; 2 × 6.
#define FWD_ROWS 4
#define FWD_VECS 2
#define TALL_ROWS 2
#define TALL_VECS 4
#define GRAD_ROWS 2
#include "tap_convolution_body.inc"
#undef SUFFIX
#undef TARGET
#undef V
#undef LANES
#undef LOADU
#undef STOREU
#undef SET1
#undef ZERO
#undef FMA
#undef HSUM
#undef HV
#undef HLOADU
#undef HSTOREU
#undef HSET1
#undef HZERO
#undef HFMA
#undef FWD_ROWS
#undef FWD_VECS
#undef TALL_ROWS
#undef TALL_VECS
#undef GRAD_ROWS

#define SUFFIX 512
#define TARGET "avx512f,avx2,fma"
#define V __m512
#define LANES 16
#define LOADU(p) _mm512_loadu_ps(p)
#define STOREU(p, v) _mm512_storeu_ps(p, v)
#define SET1(x) _mm512_set1_ps(x)
#define ZERO() _mm512_setzero_ps()
#define FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define HSUM(v) _mm512_reduce_add_ps(v)
#define HV __m256
#define HLOADU(p) _mm256_loadu_ps(p)
#define HSTOREU(p, v) _mm256_storeu_ps(p, v)
#define HSET1(x) _mm256_set1_ps(x)
#define HZERO() _mm256_setzero_ps()
#define HFMA(a, b, c) _mm256_fmadd_ps(a, b, c)
// 8 × 2 (16 accumulators, the broadcasts folded into the FMAs), tall 4 × 4; 4 × 6 (24 accumulators).
#define FWD_ROWS 8
#define FWD_VECS 2
#define TALL_ROWS 4
#define TALL_VECS 4
#define GRAD_ROWS 4
#include "tap_convolution_body.inc"

long tessera_conv_taps_tile(int bits, int narrow) { return (bits == 512 ? 16 : 8) * (narrow ? 1 : 2); }

void tessera_conv_taps_f32(int bits, int narrow, const float *x, const long *offsets, long taps, const float *w, float *out,
                           long ld, long positions) {
    if (bits == 512) (narrow ? taps_forward_narrow_512 : taps_forward_wide_512)(x, offsets, taps, w, out, ld, positions);
    else (narrow ? taps_forward_narrow_256 : taps_forward_wide_256)(x, offsets, taps, w, out, ld, positions);
}

void tessera_conv_taps_row_f32(int bits, const float *x, const long *offsets, long taps, const float *w, float *out,
                               long positions) {
    if (bits == 512) taps_forward_row_512(x, offsets, taps, w, out, positions);
    else taps_forward_row_256(x, offsets, taps, w, out, positions);
}

void tessera_conv_taps_gradient_f32(int bits, const float *x, long x_image, const float *g, long ld_g, long g_image,
                                    long images, const long *offsets, long taps, long rows, long positions, float *dw,
                                    long ld_dw) {
    if (bits == 512) taps_gradient_512(x, x_image, g, ld_g, g_image, images, offsets, taps, rows, positions, dw, ld_dw);
    else taps_gradient_256(x, x_image, g, ld_g, g_image, images, offsets, taps, rows, positions, dw, ld_dw);
}

void tessera_conv_taps_gradient_row_f32(int bits, const float *x, long x_image, const float *g, long g_image, long images,
                                        const long *offsets, long taps, long positions, float *dw) {
    if (bits == 512) taps_gradient_row_512(x, x_image, g, 0, g_image, images, offsets, taps, 1, positions, dw, 0);
    else taps_gradient_row_256(x, x_image, g, 0, g_image, images, offsets, taps, 1, positions, dw, 0);
}
#else
long tessera_conv_taps_tile(int bits, int narrow) { return 32; }
void tessera_conv_taps_f32(int bits, int narrow, const float *x, const long *offsets, long taps, const float *w, float *out,
                           long ld, long positions) {}
void tessera_conv_taps_row_f32(int bits, const float *x, const long *offsets, long taps, const float *w, float *out,
                               long positions) {}
void tessera_conv_taps_gradient_f32(int bits, const float *x, long x_image, const float *g, long ld_g, long g_image,
                                    long images, const long *offsets, long taps, long rows, long positions, float *dw,
                                    long ld_dw) {}
void tessera_conv_taps_gradient_row_f32(int bits, const float *x, long x_image, const float *g, long g_image, long images,
                                        const long *offsets, long taps, long positions, float *dw) {}
#endif

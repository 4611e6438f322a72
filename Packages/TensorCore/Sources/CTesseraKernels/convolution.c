// Direct float32 convolution for small channel counts, vectorised over output channels:
// eight output channels share one AVX2 register, so each (input channel, kernel tap) costs
// one weight load and, per output position, one broadcast and one FMA. im2col + GEMM wastes
// most of its time on the column buffer and on GEMMs with 6-32 rows; this has neither.
// Operands are contiguous; padding is applied by the caller's padded copy of the input.
#include "CTesseraKernels.h"
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>

// Output positions computed together: eight accumulators, a weight and a broadcast
// register fit the sixteen AVX2 registers.
#define TILE 8

void tessera_conv_pack_weight_f32(const float *w, float *packed, int o, int c, int kh, int kw) {
    int blocks = (o + 7) / 8, taps = c * kh * kw;
    memset(packed, 0, sizeof(float) * (size_t)blocks * taps * 8);
    for (int oc = 0; oc < o; oc++)
        for (int t = 0; t < taps; t++)
            packed[((size_t)(oc / 8) * taps + t) * 8 + oc % 8] = w[(size_t)oc * taps + t];
}

// TILE output positions of one row and eight output channels: the accumulators stay in
// registers because every loop bound here is a constant.
__attribute__((target("avx2,fma")))
static inline void conv_tile(const float *xp, int c, int hp, int wp, const float *wb, int kh, int kw, int sh, int sw,
                             int oy, int ox0, __m256 acc[TILE]) {
    for (int t = 0; t < TILE; t++) acc[t] = _mm256_setzero_ps();
    const float *wt = wb;
    for (int ci = 0; ci < c; ci++) {
        const float *xc = xp + (size_t)ci * hp * wp;
        for (int i = 0; i < kh; i++) {
            const float *row = xc + (size_t)(oy * sh + i) * wp + (size_t)ox0 * sw;
            for (int j = 0; j < kw; j++, wt += 8) {
                __m256 wv = _mm256_loadu_ps(wt);
                const float *src = row + j;
#pragma GCC unroll 8
                for (int t = 0; t < TILE; t++)
                    acc[t] = _mm256_fmadd_ps(_mm256_broadcast_ss(src + (size_t)t * sw), wv, acc[t]);
            }
        }
    }
}

// One output position (rows narrower than a tile).
__attribute__((target("avx2,fma")))
static inline __m256 conv_point(const float *xp, int c, int hp, int wp, const float *wb, int kh, int kw, int sh, int sw,
                                int oy, int ox) {
    __m256 acc = _mm256_setzero_ps();
    const float *wt = wb;
    for (int ci = 0; ci < c; ci++)
        for (int i = 0; i < kh; i++)
            for (int j = 0; j < kw; j++, wt += 8)
                acc = _mm256_fmadd_ps(_mm256_broadcast_ss(xp + ((size_t)ci * hp + oy * sh + i) * wp + (size_t)ox * sw + j),
                                      _mm256_loadu_ps(wt), acc);
    return acc;
}

__attribute__((target("avx2,fma")))
static inline void store_lanes(__m256 v, float *dst, size_t plane, int lanes) {
    float lane[8];
    _mm256_storeu_ps(lane, v);
    for (int l = 0; l < lanes; l++) dst[(size_t)l * plane] = lane[l];
}

__attribute__((target("avx2,fma")))
void tessera_conv2d_direct_f32(const float *xp, int c, int hp, int wp, const float *packed, int o, int kh, int kw,
                               int sh, int sw, float *out, int ho, int wo) {
    int blocks = (o + 7) / 8, taps = c * kh * kw;
    size_t plane = (size_t)ho * wo;
    for (int b = 0; b < blocks; b++) {
        const float *wb = packed + (size_t)b * taps * 8;
        int lanes = o - b * 8 < 8 ? o - b * 8 : 8;
        float *ob = out + (size_t)(b * 8) * plane;
        for (int oy = 0; oy < ho; oy++) {
            if (wo < TILE) {
                for (int ox = 0; ox < wo; ox++)
                    store_lanes(conv_point(xp, c, hp, wp, wb, kh, kw, sh, sw, oy, ox), ob + (size_t)oy * wo + ox, plane, lanes);
                continue;
            }
            // Full tiles only: the last one overlaps its neighbour and rewrites equal values.
            for (int ox0 = 0; ox0 < wo; ox0 += TILE) {
                int start = ox0 + TILE <= wo ? ox0 : wo - TILE;
                __m256 acc[TILE];
                conv_tile(xp, c, hp, wp, wb, kh, kw, sh, sw, oy, start, acc);
                for (int t = 0; t < TILE; t++) store_lanes(acc[t], ob + (size_t)oy * wo + start + t, plane, lanes);
            }
        }
    }
}

__attribute__((target("avx2,fma")))
void tessera_conv2d_weight_gradient_f32(const float *xp, int n, int c, int hp, int wp, const float *gt, int o,
                                        int ho, int wo, int kh, int kw, int sh, int sw, int c0, int c1, float *dw) {
    int blocks = (o + 7) / 8;
    size_t positions = (size_t)ho * wo, opad = (size_t)blocks * 8;
    for (int ci = c0; ci < c1; ci++) {
        for (int i = 0; i < kh; i++) {
            for (int j = 0; j < kw; j++) {
                for (int b = 0; b < blocks; b++) {
                    // Four accumulators break the FMA dependency chain.
                    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
                    for (int s = 0; s < n; s++) {
                        const float *xc = xp + ((size_t)s * c + ci) * hp * wp;
                        const float *gs = gt + (size_t)s * positions * opad + (size_t)b * 8;
                        for (int oy = 0; oy < ho; oy++) {
                            const float *row = xc + (size_t)(oy * sh + i) * wp + j;
                            const float *grow = gs + (size_t)oy * wo * opad;
                            int ox = 0;
                            for (; ox + 4 <= wo; ox += 4) {
                                a0 = _mm256_fmadd_ps(_mm256_broadcast_ss(row + (size_t)ox * sw), _mm256_loadu_ps(grow + (size_t)ox * opad), a0);
                                a1 = _mm256_fmadd_ps(_mm256_broadcast_ss(row + (size_t)(ox + 1) * sw), _mm256_loadu_ps(grow + (size_t)(ox + 1) * opad), a1);
                                a2 = _mm256_fmadd_ps(_mm256_broadcast_ss(row + (size_t)(ox + 2) * sw), _mm256_loadu_ps(grow + (size_t)(ox + 2) * opad), a2);
                                a3 = _mm256_fmadd_ps(_mm256_broadcast_ss(row + (size_t)(ox + 3) * sw), _mm256_loadu_ps(grow + (size_t)(ox + 3) * opad), a3);
                            }
                            for (; ox < wo; ox++)
                                a0 = _mm256_fmadd_ps(_mm256_broadcast_ss(row + (size_t)ox * sw), _mm256_loadu_ps(grow + (size_t)ox * opad), a0);
                        }
                    }
                    float lane[8];
                    _mm256_storeu_ps(lane, _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
                    for (int l = 0; l < 8 && b * 8 + l < o; l++)
                        dw[(((size_t)(b * 8 + l) * c + ci) * kh + i) * kw + j] = lane[l];
                }
            }
        }
    }
}
#else
void tessera_conv_pack_weight_f32(const float *w, float *packed, int o, int c, int kh, int kw) {}
void tessera_conv2d_direct_f32(const float *xp, int c, int hp, int wp, const float *packed, int o, int kh, int kw,
                               int sh, int sw, float *out, int ho, int wo) {}
void tessera_conv2d_weight_gradient_f32(const float *xp, int n, int c, int hp, int wp, const float *gt, int o,
                                        int ho, int wo, int kh, int kw, int sh, int sw, int c0, int c1, float *dw) {}
#endif

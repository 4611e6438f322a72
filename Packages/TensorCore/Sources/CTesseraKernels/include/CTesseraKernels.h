#ifndef TESSERA_KERNELS_H
#define TESSERA_KERNELS_H
#include <stddef.h>
#include <stdint.h>

/// out[i] = exp(x[i] - shift) for i < n; returns the sum of out. Uses AVX2+FMA when the
/// CPU has them (checked once at run time), else a portable loop. Within 2 ulp of expf;
/// exp(-inf) is exactly 0, NaN propagates.
float tessera_exp_shifted_sum_f32(const float *x, float shift, float *out, ptrdiff_t n);

/// Softmax (or log-softmax when `log_output`) of `rows` contiguous rows of length `n`.
/// A row of all -inf has no maximum to shift by and is shifted by 0 (giving NaN, as PyTorch).
void tessera_softmax_rows_f32(const float *x, float *out, ptrdiff_t rows, ptrdiff_t n, int log_output);

/// Sum of n contiguous floats: 8-lane partial sums, block totals in double.
float tessera_sum_f32(const float *x, ptrdiff_t n);

/// acc[i] += x[i] for i < n (the column-sum step).
void tessera_accumulate_f32(float *acc, const float *x, ptrdiff_t n);

/// Element-wise activations for `tessera_activation_f32`.
enum { TESSERA_TANH = 0, TESSERA_SIGMOID = 1, TESSERA_GELU_TANH = 2, TESSERA_EXP = 3, TESSERA_SILU = 4 };

/// out[i] = f(x[i]) for tanh, sigmoid, exp, tanh-approximated GELU or SiLU, on the polynomial exp
/// (relative error below 1e-6; NaN propagates). `out` may equal `x`.
void tessera_activation_f32(int kind, const float *x, float *out, ptrdiff_t n);

/// out[i] = g[i] · GELU'(x[i]) for the tanh approximation.
void tessera_gelu_tanh_backward_f32(const float *g, const float *x, float *out, ptrdiff_t n);

/// out[i] = g[i] · SiLU'(x[i]) = g[i] · σ(x[i])(1 + x[i](1 − σ(x[i]))).
void tessera_silu_backward_f32(const float *g, const float *x, float *out, ptrdiff_t n);

/// out[i] = x[i] > 0 ? g[i] : 0 (ReLU's backward; a NaN x gives 0), without branches.
void tessera_pass_where_positive_f32(const float *g, const float *x, float *out, ptrdiff_t n);

/// Tap convolutions (tap_convolution.c; AVX2/FMA, `bits` 512 for the AVX-512 kernels where
/// `tessera_sgemm_kernel_available(512)`). Every position q of a padded output grid reads
/// tap t at `x[q + offsets[t]]`; callers pad and phase-split the input so that holds.
/// Positions a forward tile covers (`narrow`: one vector instead of two): grid lengths are
/// rounded up to a multiple of it, and the input must be readable (any values) up to the
/// largest offset plus that length.
long tessera_conv_taps_tile(int bits, int narrow);

/// Eight output rows: `out[r·ld + q] = Σ_t w[t·8 + r] · x[q + offsets[t]]` for r < 8 and
/// q < positions (a multiple of the tile of the same `narrow`, or for `narrow` of half of it).
void tessera_conv_taps_f32(int bits, int narrow, const float *x, const long *offsets, long taps, const float *w, float *out,
                           long ld, long positions);

/// One output row: `out[q] = Σ_t w[t] · x[q + offsets[t]]` (depthwise convolutions).
void tessera_conv_taps_row_f32(int bits, const float *x, const long *offsets, long taps, const float *w, float *out,
                               long positions);

/// `dw[r·ld_dw + t] += Σ_images Σ_q g[r·ld_g + q] · x[q + offsets[t]]` (image i's operands at
/// `x + i·x_image`, `g + i·g_image`); rows a multiple of 4, taps of 6, positions of 16.
void tessera_conv_taps_gradient_f32(int bits, const float *x, long x_image, const float *g, long ld_g, long g_image,
                                    long images, const long *offsets, long taps, long rows, long positions, float *dw,
                                    long ld_dw);

/// One row of the above: `dw[t] += Σ_images Σ_q g[q] · x[q + offsets[t]]`; taps a multiple of 3.
void tessera_conv_taps_gradient_row_f32(int bits, const float *x, long x_image, const float *g, long g_image, long images,
                                        const long *offsets, long taps, long positions, float *dw);

/// 2×2 stride-2 max pooling without padding over `planes` planes `[h][w]` into `[ho][wo]`,
/// with the flat `h·w` index of each maximum (AVX2; callers check `tessera_kernels_have_avx2`).
void tessera_max_pool_2x2_f32(const float *x, float *out, int64_t *indices, ptrdiff_t planes, int h, int w, int ho, int wo);

/// A task of `tessera_pool_run`: called once per index, from the pool's threads.
typedef void (*tessera_task_fn)(void *context, long index);

/// Runs fn(context, i) for i in 0..<count on the calling thread and the pool's helpers, and
/// returns when all have finished. Nested calls, and calls while another thread is using the
/// pool, run serially on the calling thread.
void tessera_pool_run(tessera_task_fn fn, void *context, long count);

/// Threads the pool uses, the caller included (1 = everything on the calling thread).
void tessera_pool_set_threads(int threads);
int tessera_pool_threads(void);

/// Whether `tessera_sgemm` can run here (AVX2 + FMA).
int tessera_sgemm_available(void);

/// The register width of the micro-kernel products started on this thread use: 512 (AVX-512F,
/// 6×32 tiles) or 256 (AVX2/FMA, 6×16). The default is the widest the CPU has;
/// `TESSERA_GEMM_KERNEL=avx2` keeps the 256-bit kernel.
int tessera_sgemm_kernel(void);

/// Whether the CPU can run the 512- or 256-bit micro-kernel.
int tessera_sgemm_kernel_available(int bits);

/// Makes this thread's products use the 512- or 256-bit kernel (0: the default again), for
/// tests that check each path. Returns 0, changing nothing, when the CPU lacks it. Operands
/// packed by `tessera_sgemm_pack_a`/`_b` must be used under the same kernel they were packed for.
int tessera_sgemm_force_kernel(int bits);

/// C = alpha·A·B + beta·C (+ bias[j] on every row, then ReLU when `relu`), float32, with
/// element strides for every operand (A is m×k at a[i·rsa + p·csa], and so on). `threads`
/// parts at most, run on the pool. beta = 0 never reads C. Needs `tessera_sgemm_available()`.
void tessera_sgemm(long m, long n, long k, float alpha, const float *a, long rsa, long csa,
                   const float *b, long rsb, long csb, float beta, float *c, long rsc, long csc,
                   const float *bias, int relu, int threads);

/// Operands of the fused attention: per batch matrix, the element offset of each operand
/// (`*_offsets[b]`), rows `*_row` elements apart, columns contiguous. `p` holds the attention
/// weights `[batch][l][s]` (written by the forward, read by the backward).
typedef struct {
    long batch, l, s, d, dv;
    float scale;
    int causal;
    const float *q; const long *q_offsets; long q_row;
    const float *k; const long *k_offsets; long k_row;
    const float *v; const long *v_offsets; long v_row;
    float *out; const long *out_offsets; long out_row;
    float *p;
    const float *g; const long *g_offsets; long g_row;
    float *dq; const long *dq_offsets; long dq_row;
    float *dk; const long *dk_offsets; long dk_row;
    float *dvalue; const long *dv_offsets; long dv_row;
} tessera_attention_args;

/// out = softmax(scale·q kᵀ + causal mask) v and the weights p, one task per batch matrix on
/// the pool (AVX2/FMA: needs `tessera_sgemm_available()`).
void tessera_attention_f32(const tessera_attention_args *args);

/// dq, dk, dvalue from the output gradient g and the saved weights p.
void tessera_attention_backward_f32(const tessera_attention_args *args);

/// Floats needed by `tessera_sgemm_pack_b` for a k×n B.
long tessera_sgemm_packed_size(long k, long n);

/// Packs B (k×n, element strides) once for many products `tessera_sgemm_packed`; `packed`
/// must be 32-byte aligned.
void tessera_sgemm_pack_b(long k, long n, const float *b, long rsb, long csb, float *packed);

/// C = alpha·A·B + beta·C with B packed by `tessera_sgemm_pack_b` (same k and n).
void tessera_sgemm_packed(long m, long n, long k, float alpha, const float *a, long rsa, long csa,
                          const float *packed_b, float beta, float *c, long rsc, long csc, int threads);

/// Floats needed by `tessera_sgemm_pack_a` for an m×k A.
long tessera_sgemm_packed_a_size(long m, long k);

/// Packs A (m×k, element strides) once for many products `tessera_sgemm_packed_a`
/// (32-byte aligned).
void tessera_sgemm_pack_a(long m, long k, const float *a, long rsa, long csa, float *packed);

/// C = alpha·A·B + beta·C with A packed by `tessera_sgemm_pack_a` (same m and k).
void tessera_sgemm_packed_a(long m, long n, long k, float alpha, const float *packed_a, const float *b, long rsb,
                            long csb, float beta, float *c, long rsc, long csc, int threads);

/// One LSTM layer-direction (float32, contiguous arrays; PyTorch's gate order i, f, g, o).
typedef struct {
    long steps, batch, hidden, threads;
    int reverse;                /// steps run from the last time index to the first
    const float *weight_hh;     /// [4h, h]
    const float *h0;            /// [b, h]
    float *gates;               /// [steps, b, 4h] by time: in, x·W_ihᵀ + biases; out, the activated gates
    float *cells;               /// [steps + 1, b, h] by processing step; cells[0] = c0 on entry
    float *outputs;             /// [steps, b, h] by time
    float *previous;            /// [steps, b, h] by time: the hidden state each step read
    float *grad_gates;          /// backward: [steps, b, 4h] by time, gradients of the pre-activations
} tessera_lstm_args;

/// Runs every step; returns 0, or -1 when scratch memory cannot be had.
int tessera_lstm_forward_f32(const tessera_lstm_args *args);

/// The input and weight gradients of a layer-direction, computed by the backward from the
/// gate gradients (NULL outputs are not wanted).
typedef struct {
    const float *input;         /// x [steps, b, input_size] by time
    const float *weight_ih;     /// [4h, input_size]
    long input_size;
    float *grad_input;          /// dx [steps, b, input_size]
    float *grad_weight_ih;      /// [4h, input_size]
    float *grad_weight_hh;      /// [4h, h] (from args->previous)
    float *grad_bias;           /// [4h]: the gradient of each of b_ih and b_hh
} tessera_lstm_weight_grads;

/// Backpropagation through time from the outputs' gradients [steps, b, h] (by time) and those
/// of the final h and c; writes grad_gates, the gradients of h0 and c0, and those `weights`
/// asks for (NULL: none). Returns 0, or -1 when scratch memory cannot be had.
int tessera_lstm_backward_f32(const tessera_lstm_args *args, const float *grad_outputs, const float *grad_h,
                              const float *grad_c, float *grad_h0, float *grad_c0,
                              const tessera_lstm_weight_grads *weights);

/// Whether the vector paths are in use (for benchmarks and reports).
int tessera_kernels_have_avx2(void);

#endif

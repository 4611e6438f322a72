// A whole LSTM layer-direction in one call (float32): the recurrent weights are packed for the
// GEMM once per sequence instead of once per step, each step is one GEMM accumulating into the
// precomputed input projection plus one pass for the cell, and the backward runs the cell
// gradients and the recurrent GEMM per step the same way. The weight gradients stay with the
// caller as three large GEMMs over all steps.
#include "CTesseraKernels.h"
#include <stdlib.h>
#include <string.h>

// Packed GEMM operands are read with aligned vector loads.
static float *aligned_floats(long count) {
    void *p = NULL;
    return posix_memalign(&p, 64, sizeof(float) * (size_t)(count > 0 ? count : 1)) == 0 ? p : NULL;
}

typedef struct {
    const tessera_lstm_args *A;
    long t, s;               // time index and processing step
    const float *dh;         // backward: gradient of h after the step
    const float *dc;
    float *dc_out;
} step_job;

// Rows r0..<r1 of the cell after the step's GEMM: gates[t] (pre-activations) become the
// activated i, f, g, o; c' = f·c + i·g, h' = o·tanh(c').
__attribute__((target("avx2,fma")))
static void cell_rows(const tessera_lstm_args *A, long t, long s, long r0, long r1) {
    long h = A->hidden;
    for (long r = r0; r < r1; r++) {
        float *gates = A->gates + (t * A->batch + r) * 4 * h;
        tessera_activation_f32(TESSERA_SIGMOID, gates, gates, 2 * h);
        tessera_activation_f32(TESSERA_TANH, gates + 2 * h, gates + 2 * h, h);
        tessera_activation_f32(TESSERA_SIGMOID, gates + 3 * h, gates + 3 * h, h);
        const float *c = A->cells + (s * A->batch + r) * h;
        float *c2 = A->cells + ((s + 1) * A->batch + r) * h;
        float *out = A->outputs + (t * A->batch + r) * h;
        for (long u = 0; u < h; u++) c2[u] = gates[h + u] * c[u] + gates[u] * gates[2 * h + u];
        tessera_activation_f32(TESSERA_TANH, c2, out, h);
        for (long u = 0; u < h; u++) out[u] *= gates[3 * h + u];
    }
}

static void forward_cell_task(void *context, long index) {
    const step_job *job = context;
    long rows = job->A->batch, parts = job->A->threads;
    cell_rows(job->A, job->t, job->s, rows * index / parts, rows * (index + 1) / parts);
}

// Gradients of the pre-activations for rows r0..<r1, written over the activated gates'
// slot in `grad_gates`, and the cell gradient before the step.
__attribute__((target("avx2,fma")))
static void cell_backward_rows(const step_job *job, long r0, long r1) {
    const tessera_lstm_args *A = job->A;
    long h = A->hidden, t = job->t, s = job->s;
    float *tanh_c = malloc(sizeof(float) * (size_t)h);
    if (!tanh_c) abort();
    for (long r = r0; r < r1; r++) {
        const float *a = A->gates + (t * A->batch + r) * 4 * h;
        const float *c = A->cells + (s * A->batch + r) * h;
        const float *c2 = A->cells + ((s + 1) * A->batch + r) * h;
        const float *dh = job->dh + r * h, *dc = job->dc + r * h;
        float *d = A->grad_gates + (t * A->batch + r) * 4 * h, *dcp = job->dc_out + r * h;
        tessera_activation_f32(TESSERA_TANH, c2, tanh_c, h);
        for (long u = 0; u < h; u++) {
            float i = a[u], f = a[h + u], g = a[2 * h + u], o = a[3 * h + u], tc = tanh_c[u];
            float dct = dc[u] + dh[u] * o * (1 - tc * tc);
            d[u] = dct * g * i * (1 - i);
            d[h + u] = dct * c[u] * f * (1 - f);
            d[2 * h + u] = dct * i * (1 - g * g);
            d[3 * h + u] = dh[u] * tc * o * (1 - o);
            dcp[u] = dct * f;
        }
    }
    free(tanh_c);
}

static void backward_cell_task(void *context, long index) {
    const step_job *job = context;
    long rows = job->A->batch, parts = job->A->threads;
    cell_backward_rows(job, rows * index / parts, rows * (index + 1) / parts);
}

int tessera_lstm_forward_f32(const tessera_lstm_args *A) {
    long b = A->batch, h = A->hidden, steps = A->steps;
    // Each step computes gatesᵀ [4h, b] += W_hh [4h, h] · hᵀ: with the weight as the packed
    // left operand the 6-row register tiles run over the 4h gates instead of the (often 32)
    // batch rows, which would leave a third of the last tile empty (84 vs 77 GFLOP/s on one
    // thread for b = 32, h = 256).
    float *packed = aligned_floats(tessera_sgemm_packed_a_size(4 * h, h));
    if (!packed) return -1;
    tessera_sgemm_pack_a(4 * h, h, A->weight_hh, h, 1, packed);
    long parts = A->threads < b ? A->threads : b;
    for (long s = 0; s < steps; s++) {
        long t = A->reverse ? steps - 1 - s : s;
        const float *hp = s == 0 ? A->h0 : A->outputs + (A->reverse ? t + 1 : t - 1) * b * h;
        memcpy(A->previous + t * b * h, hp, sizeof(float) * (size_t)(b * h));
        tessera_sgemm_packed_a(4 * h, b, h, 1, packed, hp, 1, h, 1, A->gates + t * b * 4 * h, 1, 4 * h,
                               (int)A->threads);
        step_job job = {A, t, s, NULL, NULL, NULL};
        if (parts > 1 && b * h >= 4096) tessera_pool_run(forward_cell_task, &job, parts);
        else cell_rows(A, t, s, 0, b);
    }
    free(packed);
    return 0;
}

int tessera_lstm_backward_f32(const tessera_lstm_args *A, const float *grad_outputs, const float *grad_h,
                              const float *grad_c, float *grad_h0, float *grad_c0) {
    long b = A->batch, h = A->hidden, steps = A->steps;
    float *packed = aligned_floats(tessera_sgemm_packed_size(4 * h, h));
    float *work = malloc(sizeof(float) * (size_t)(4 * b * h));
    if (!packed || !work) { free(packed); free(work); return -1; }
    // dh [b, h] = dG [b, 4h] · W_hh [4h, h], the weight packed once as the right operand (here,
    // unlike the forward, the transposed orientation measured slower on two threads: 140 vs
    // 153 GFLOP/s for b = 32, h = 256).
    tessera_sgemm_pack_b(4 * h, h, A->weight_hh, h, 1, packed);
    float *dh = work, *dc = work + b * h, *dc2 = work + 2 * b * h;
    memcpy(dh, grad_h, sizeof(float) * (size_t)(b * h));
    memcpy(dc, grad_c, sizeof(float) * (size_t)(b * h));
    long parts = A->threads < b ? A->threads : b;
    for (long s = steps - 1; s >= 0; s--) {
        long t = A->reverse ? steps - 1 - s : s;
        const float *go = grad_outputs + t * b * h;
        for (long i = 0; i < b * h; i++) dh[i] += go[i];
        step_job job = {A, t, s, dh, dc, dc2};
        if (parts > 1 && b * h >= 4096) tessera_pool_run(backward_cell_task, &job, parts);
        else cell_backward_rows(&job, 0, b);
        // dh before the step = dGates · W_hh.
        tessera_sgemm_packed(b, h, 4 * h, 1, A->grad_gates + t * b * 4 * h, 4 * h, 1, packed, 0, dh, h, 1,
                             (int)A->threads);
        float *swap = dc; dc = dc2; dc2 = swap;
    }
    memcpy(grad_h0, dh, sizeof(float) * (size_t)(b * h));
    memcpy(grad_c0, dc, sizeof(float) * (size_t)(b * h));
    free(packed);
    free(work);
    return 0;
}

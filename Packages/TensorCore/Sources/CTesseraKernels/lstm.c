// A whole LSTM layer-direction in one call (float32): the recurrent weights are packed for the
// GEMM once per sequence instead of once per step, each step is one GEMM accumulating into the
// precomputed input projection plus one pass for the cell, and the backward runs the cell
// gradients and the recurrent GEMM per step the same way. The weight gradients stay with the
// caller as three large GEMMs over all steps.
#include "CTesseraKernels.h"
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define CPU_PAUSE() _mm_pause()
#else
#define CPU_PAUSE() ((void)0)
#endif

// Scratch kept by the calling thread across calls, in slots that only grow: buffers of a few
// MB freshly allocated come from mmap, and the first touch of each page faulted (a twentieth
// of an LSTM training step). Aligned for the packed GEMM operands' vector loads.
enum { SLOT_PACKED_HH, SLOT_PACKED_IH, SLOT_WORK, SLOT_TASKS, SLOTS = SLOT_TASKS + 4 };
static __thread float *slots[SLOTS];
static __thread long slot_sizes[SLOTS];

static float *scratch_slot(int slot, long count) {
    if (count > slot_sizes[slot]) {
        free(slots[slot]);
        void *p = NULL;
        slots[slot] = posix_memalign(&p, 64, sizeof(float) * (size_t)count) == 0 ? p : NULL;
        slot_sizes[slot] = slots[slot] ? count : 0;
    }
    return slots[slot];
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
    float *packed = scratch_slot(SLOT_PACKED_HH, tessera_sgemm_packed_a_size(4 * h, h));
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
    return 0;
}

// The backward's state: the recurrence (dG per step, dh and dc back through time) and the
// input and weight gradients, which need only finished rows of dG. With two or three threads
// they run side by side: task 0 runs the recurrence on one thread and publishes how many steps
// are done; every task takes chunks of finished rows (dX rows, or the dW_ih, dW_hh and bias
// contributions of the chunk) as they become available. Each product then runs whole on one
// core, instead of every step and every large product being split over both cores and
// synchronised (one core runs the recurrence at ~80 % of the kernel's speed, two at ~1.5×
// that, and the large products also lose to the split).
typedef struct {
    const tessera_lstm_args *A;
    const tessera_lstm_weight_grads *W;
    const float *grad_outputs, *grad_h, *grad_c;
    float *grad_h0, *grad_c0;
    const float *packed_hh;         // W_hh packed as the right operand of dh = dG · W_hh
    const float *packed_ih;         // W_ih packed for dX = dG · W_ih (NULL when dX is not wanted)
    float *work;                    // dh, dc, dc' [b, h] each
    long chunk;                     // steps per chunk of rows
    long items;                     // two per chunk: the weight products, then dX
    _Atomic long steps_done;        // processing steps whose dG rows are final
    _Atomic long next_item;
    long tasks;
    float **scratch;                // per task: a packing buffer, then accumulators (not task 0's: the outputs)
    long packing;                   // floats of the packing buffer
    int *started;                   // per task and product: accumulator initialised
    int recurrence_threads;
} backward_state;

// The recurrence: per step, the cell gradients (dG rows of time t) and dh = dG_t · W_hh.
static void recurrence(backward_state *S, long threads) {
    const tessera_lstm_args *A = S->A;
    long b = A->batch, h = A->hidden, steps = A->steps;
    float *dh = S->work, *dc = S->work + b * h, *dc2 = S->work + 2 * b * h;
    memcpy(dh, S->grad_h, sizeof(float) * (size_t)(b * h));
    memcpy(dc, S->grad_c, sizeof(float) * (size_t)(b * h));
    long parts = threads < b ? threads : b;
    for (long s = steps - 1; s >= 0; s--) {
        long t = A->reverse ? steps - 1 - s : s;
        const float *go = S->grad_outputs + t * b * h;
        for (long i = 0; i < b * h; i++) dh[i] += go[i];
        step_job job = {A, t, s, dh, dc, dc2};
        if (parts > 1 && b * h >= 4096) tessera_pool_run(backward_cell_task, &job, parts);
        else cell_backward_rows(&job, 0, b);
        atomic_store_explicit(&S->steps_done, steps - s, memory_order_release);
        // dh before the step = dGates · W_hh.
        tessera_sgemm_packed(b, h, 4 * h, 1, A->grad_gates + t * b * 4 * h, 4 * h, 1, S->packed_hh, 0, dh, h, 1,
                             (int)threads);
        float *swap = dc; dc = dc2; dc2 = swap;
    }
    memcpy(S->grad_h0, dh, sizeof(float) * (size_t)(b * h));
    memcpy(S->grad_c0, dc, sizeof(float) * (size_t)(b * h));
}

enum { PRODUCT_IH, PRODUCT_HH, PRODUCT_BIAS, PRODUCTS };

// Task `task`'s accumulator for a weight product: the output itself for task 0.
static float *accumulator(const backward_state *S, long task, int product) {
    const tessera_lstm_weight_grads *W = S->W;
    float *out = product == PRODUCT_IH ? W->grad_weight_ih : product == PRODUCT_HH ? W->grad_weight_hh : W->grad_bias;
    if (task == 0 || !out) return out;
    long h4 = 4 * S->A->hidden;
    float *base = S->scratch[task] + S->packing;
    if (product == PRODUCT_IH) return base;
    if (product == PRODUCT_HH) return base + h4 * W->input_size;
    return base + h4 * (W->input_size + S->A->hidden);
}

// Item `item` (chunk item / 2 in processing order; dX rows when odd, the weight products when
// even) for task `task`, waiting until the recurrence has finished the chunk's rows.
static void run_item(backward_state *S, long task, long item, int threads) {
    const tessera_lstm_args *A = S->A;
    const tessera_lstm_weight_grads *W = S->W;
    long b = A->batch, h = A->hidden, h4 = 4 * h, in = W->input_size, steps = A->steps;
    long q = item / 2, first = q * S->chunk, last = first + S->chunk < steps ? first + S->chunk : steps;
    // Processing steps steps-last ..< steps-first: a contiguous range of times either way.
    long t0 = A->reverse ? first : steps - last, rows = (last - first) * b, r0 = t0 * b;
    while (atomic_load_explicit(&S->steps_done, memory_order_acquire) < last) CPU_PAUSE();
    const float *dg = A->grad_gates + r0 * h4;
    if (item % 2) {
        tessera_sgemm_packed(rows, in, h4, 1, dg, h4, 1, S->packed_ih, 0, W->grad_input + r0 * in, in, 1, threads);
        return;
    }
    int *started = S->started + task * PRODUCTS;
    if (W->grad_weight_ih || W->grad_weight_hh) {
        // dGᵀ of the chunk packed once for both weight products.
        float *packed = S->scratch[task];
        tessera_sgemm_pack_a(h4, rows, dg, 1, h4, packed);
        if (W->grad_weight_ih)
            tessera_sgemm_packed_a(h4, in, rows, 1, packed, W->input + r0 * in, in, 1, started[PRODUCT_IH] ? 1 : 0,
                                   accumulator(S, task, PRODUCT_IH), in, 1, threads);
        if (W->grad_weight_hh)
            tessera_sgemm_packed_a(h4, h, rows, 1, packed, A->previous + r0 * h, h, 1, started[PRODUCT_HH] ? 1 : 0,
                                   accumulator(S, task, PRODUCT_HH), h, 1, threads);
        started[PRODUCT_IH] = started[PRODUCT_HH] = 1;
    }
    if (W->grad_bias) {
        float *db = accumulator(S, task, PRODUCT_BIAS);
        if (!started[PRODUCT_BIAS]) memset(db, 0, sizeof(float) * (size_t)h4);
        for (long r = 0; r < rows; r++) tessera_accumulate_f32(db, dg + r * h4, h4);
        started[PRODUCT_BIAS] = 1;
    }
}

static int wanted_item(const backward_state *S, long item) {
    const tessera_lstm_weight_grads *W = S->W;
    return item % 2 ? W->grad_input != NULL : (W->grad_weight_ih || W->grad_weight_hh || W->grad_bias);
}

static void backward_task(void *context, long task) {
    backward_state *S = context;
    if (task == 0) recurrence(S, S->recurrence_threads);
    int threads = S->recurrence_threads > 1 ? (int)S->A->threads : 1;
    for (;;) {
        long item = atomic_fetch_add_explicit(&S->next_item, 1, memory_order_relaxed);
        if (item >= S->items) return;
        if (wanted_item(S, item)) run_item(S, task, item, threads);
    }
}

// Adds the other tasks' accumulators into the outputs (zero where no task contributed).
static void combine(backward_state *S) {
    const tessera_lstm_weight_grads *W = S->W;
    long h4 = 4 * S->A->hidden;
    long sizes[PRODUCTS] = {h4 * W->input_size, h4 * S->A->hidden, h4};
    for (int p = 0; p < PRODUCTS; p++) {
        float *out = accumulator(S, 0, p);
        if (!out) continue;
        int have = S->started[p];
        for (long task = 1; task < S->tasks; task++) {
            if (!S->started[task * PRODUCTS + p]) continue;
            const float *part = accumulator(S, task, p);
            if (have) tessera_accumulate_f32(out, part, sizes[p]);
            else memcpy(out, part, sizeof(float) * (size_t)sizes[p]);
            have = 1;
        }
        if (!have) memset(out, 0, sizeof(float) * (size_t)sizes[p]);
    }
}

int tessera_lstm_backward_f32(const tessera_lstm_args *A, const float *grad_outputs, const float *grad_h,
                              const float *grad_c, float *grad_h0, float *grad_c0, const tessera_lstm_weight_grads *W) {
    long b = A->batch, h = A->hidden, steps = A->steps, h4 = 4 * h;
    static const tessera_lstm_weight_grads none = {0};
    if (!W) W = &none;
    long in = W->input_size;
    int wanted = W->grad_input || W->grad_weight_ih || W->grad_weight_hh || W->grad_bias;
    // With more threads, a recurrence on one of them would take longer than the products on
    // the others (a quarter of the work).
    int pipelined = wanted && A->threads >= 2 && A->threads <= 3;
    backward_state S = {.A = A, .W = W, .grad_outputs = grad_outputs, .grad_h = grad_h, .grad_c = grad_c,
                        .grad_h0 = grad_h0, .grad_c0 = grad_c0};
    // About 128 rows per chunk: enough depth for the weight products, small enough that the
    // other cores start early and finish together.
    S.chunk = 128 / b > 1 ? 128 / b : 1;
    S.items = 2 * ((steps + S.chunk - 1) / S.chunk);
    S.tasks = pipelined ? A->threads : 1;
    S.recurrence_threads = pipelined ? 1 : (int)A->threads;
    long accumulators = h4 * (in + h + 1), packing = tessera_sgemm_packed_a_size(h4, S.chunk * b);
    float *packed_hh = scratch_slot(SLOT_PACKED_HH, tessera_sgemm_packed_size(h4, h));
    float *packed_ih = W->grad_input ? scratch_slot(SLOT_PACKED_IH, tessera_sgemm_packed_size(h4, in)) : NULL;
    float *work = scratch_slot(SLOT_WORK, 3 * b * h);
    float *scratch[4] = {NULL};
    int started[4 * PRODUCTS] = {0};
    int failed = !packed_hh || (W->grad_input && !packed_ih) || !work;
    for (long task = 0; task < S.tasks && !failed; task++) {
        // Task 0 accumulates into the outputs: its buffer only packs.
        scratch[task] = scratch_slot(SLOT_TASKS + (int)task, task == 0 ? packing : packing + accumulators);
        failed = !scratch[task];
    }
    if (!failed) {
        tessera_sgemm_pack_b(h4, h, A->weight_hh, h, 1, packed_hh);
        if (packed_ih) tessera_sgemm_pack_b(h4, in, W->weight_ih, in, 1, packed_ih);
        S.packed_hh = packed_hh;
        S.packed_ih = packed_ih;
        S.work = work;
        S.scratch = scratch;
        S.packing = packing;
        S.started = started;
        if (S.tasks > 1) tessera_pool_run(backward_task, &S, S.tasks);
        else backward_task(&S, 0);
        combine(&S);
    }
    return failed ? -1 : 0;
}

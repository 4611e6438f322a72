// Scaled dot-product attention, forward and backward, one task per (batch, head) matrix on
// the shared pool: the scores, softmax, products and the softmax backward of one head stay
// in L1/L2 instead of making a dozen passes over [batch, L, S] tensors, and with a causal
// mask the blocks of keys after a 32-row block of queries are never computed.
#include "CTesseraKernels.h"
#include <stdlib.h>
#include <string.h>

enum { ROWS = 32 };

typedef struct {
    const tessera_attention_args *args;
} attention_job;

// Keys query row i may see (top-left causal alignment: j <= i).
static long visible(const tessera_attention_args *A, long i) {
    if (!A->causal) return A->s;
    return i + 1 < A->s ? i + 1 : A->s;
}

static void forward_task(void *context, long b) {
    const attention_job *job = context;
    const tessera_attention_args *A = job->args;
    const float *q = A->q + A->q_offsets[b], *k = A->k + A->k_offsets[b], *v = A->v + A->v_offsets[b];
    float *out = A->out + A->out_offsets[b], *p = A->p + b * A->l * A->s;
    for (long i0 = 0; i0 < A->l; i0 += ROWS) {
        long i1 = i0 + ROWS < A->l ? i0 + ROWS : A->l;
        long cols = visible(A, i1 - 1);
        // Scores of the block: scale · Q Kᵀ over the keys any of its rows may see.
        tessera_sgemm(i1 - i0, cols, A->d, A->scale, q + i0 * A->q_row, A->q_row, 1, k, 1, A->k_row, 0,
                      p + i0 * A->s, A->s, 1, NULL, 0, 1);
        for (long i = i0; i < i1; i++) {
            long n = visible(A, i);
            float *row = p + i * A->s;
            tessera_softmax_rows_f32(row, row, 1, n, 0);
            memset(row + n, 0, sizeof(float) * (size_t)(A->s - n));
        }
        tessera_sgemm(i1 - i0, A->dv, cols, 1, p + i0 * A->s, A->s, 1, v, A->v_row, 1, 0,
                      out + i0 * A->out_row, A->out_row, 1, NULL, 0, 1);
    }
}

static void backward_task(void *context, long b) {
    const attention_job *job = context;
    const tessera_attention_args *A = job->args;
    const float *q = A->q + A->q_offsets[b], *k = A->k + A->k_offsets[b], *v = A->v + A->v_offsets[b];
    const float *p = A->p + b * A->l * A->s, *g = A->g + A->g_offsets[b];
    float *dq = A->dq + A->dq_offsets[b], *dk = A->dk + A->dk_offsets[b], *dv = A->dvalue + A->dv_offsets[b];
    float *w = malloc(sizeof(float) * (size_t)(A->l * A->s));
    if (!w) abort();
    for (long i0 = 0; i0 < A->l; i0 += ROWS) {
        long i1 = i0 + ROWS < A->l ? i0 + ROWS : A->l;
        long cols = visible(A, i1 - 1);
        // dP = g Vᵀ, then dS = scale · P ⊙ (dP − rowsum(dP ⊙ P)) in place.
        tessera_sgemm(i1 - i0, cols, A->dv, 1, g + i0 * A->g_row, A->g_row, 1, v, 1, A->v_row, 0,
                      w + i0 * A->s, A->s, 1, NULL, 0, 1);
        for (long i = i0; i < i1; i++) {
            long n = visible(A, i);
            float *wr = w + i * A->s;
            const float *pr = p + i * A->s;
            double dot = 0;
            for (long j = 0; j < n; j++) dot += (double)wr[j] * (double)pr[j];
            float fdot = (float)dot;
            for (long j = 0; j < n; j++) wr[j] = A->scale * pr[j] * (wr[j] - fdot);
            // Zero to the row's end: the key blocks of dK and dV read past `cols` when there
            // are more keys than queries.
            memset(wr + n, 0, sizeof(float) * (size_t)(A->s - n));
        }
        // dQ = dS K over the visible keys.
        tessera_sgemm(i1 - i0, A->d, cols, 1, w + i0 * A->s, A->s, 1, k, A->k_row, 1, 0,
                      dq + i0 * A->dq_row, A->dq_row, 1, NULL, 0, 1);
    }
    // dK = dSᵀ Q and dV = Pᵀ g, a block of keys at a time over the queries that see them.
    for (long j0 = 0; j0 < A->s; j0 += ROWS) {
        long j1 = j0 + ROWS < A->s ? j0 + ROWS : A->s;
        long first = A->causal ? (j0 < A->l ? j0 : A->l) : 0;
        long rows = A->l - first;
        tessera_sgemm(j1 - j0, A->d, rows, 1, w + first * A->s + j0, 1, A->s, q + first * A->q_row, A->q_row, 1, 0,
                      dk + j0 * A->dk_row, A->dk_row, 1, NULL, 0, 1);
        tessera_sgemm(j1 - j0, A->dv, rows, 1, p + first * A->s + j0, 1, A->s, g + first * A->g_row, A->g_row, 1, 0,
                      dv + j0 * A->dv_row, A->dv_row, 1, NULL, 0, 1);
    }
    free(w);
}

void tessera_attention_f32(const tessera_attention_args *args) {
    attention_job job = {args};
    tessera_pool_run(forward_task, &job, args->batch);
}

void tessera_attention_backward_f32(const tessera_attention_args *args) {
    attention_job job = {args};
    tessera_pool_run(backward_task, &job, args->batch);
}

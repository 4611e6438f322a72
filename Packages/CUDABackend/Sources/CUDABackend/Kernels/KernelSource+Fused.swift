/// Fused kernels for floating dtypes over contiguous rows (the last axis): softmax and
/// log-softmax, layer norm and its backward, cross-entropy, attention's scaled (causal) softmax
/// and its backward, the LSTM and GRU cells and their backward; and the Adam and SGD updates.
/// A block per row; statistics accumulate in `ACC` (float, or double for float64).
enum FusedKernels {
    static let source = #"""
    extern "C" __global__ void softmax_rows(const T* x, T* out, i64 rows, i64 length, int log_output) {
        for (i64 row = blockIdx.x; row < rows; row += gridDim.x) {
            const T* xr = x + row * length;
            T* orow = out + row * length;
            ACC m = -INFINITY;
            for (i64 j = threadIdx.x; j < length; j += blockDim.x) { ACC v = (ACC)load(xr, j); m = v > m ? v : m; }
            m = block_reduce<ACC>(m, 1);
            ACC s = 0;
            for (i64 j = threadIdx.x; j < length; j += blockDim.x) s += exp((ACC)load(xr, j) - m);
            s = block_reduce<ACC>(s, 0);
            ACC log_s = log(s);
            for (i64 j = threadIdx.x; j < length; j += blockDim.x) {
                ACC shifted = (ACC)load(xr, j) - m;
                store(orow, j, (C)(log_output ? shifted - log_s : exp(shifted) / s));
            }
        }
    }

    __device__ __forceinline__ void row_moments(const T* xr, i64 length, ACC& mean, ACC& inv_std, double epsilon) {
        ACC s = 0;
        for (i64 j = threadIdx.x; j < length; j += blockDim.x) s += (ACC)load(xr, j);
        mean = block_reduce<ACC>(s, 0) / (ACC)length;
        ACC q = 0;
        for (i64 j = threadIdx.x; j < length; j += blockDim.x) { ACC d = (ACC)load(xr, j) - mean; q += d * d; }
        ACC variance = block_reduce<ACC>(q, 0) / (ACC)length;
        inv_std = (ACC)1 / sqrt(variance + (ACC)epsilon);
    }

    extern "C" __global__ void layer_norm_rows(const T* x, T* out, i64 rows, i64 length, double epsilon) {
        for (i64 row = blockIdx.x; row < rows; row += gridDim.x) {
            const T* xr = x + row * length;
            ACC mean, inv_std;
            row_moments(xr, length, mean, inv_std, epsilon);
            for (i64 j = threadIdx.x; j < length; j += blockDim.x) store(out + row * length, j, (C)(((ACC)load(xr, j) - mean) * inv_std));
        }
    }

    // (g - mean(g) - y·mean(g·y)) / σ per row.
    extern "C" __global__ void layer_norm_backward_rows(const T* x, const T* y, const T* g, T* out, i64 rows, i64 length,
                                                        double epsilon) {
        for (i64 row = blockIdx.x; row < rows; row += gridDim.x) {
            i64 base = row * length;
            ACC mean, inv_std;
            row_moments(x + base, length, mean, inv_std, epsilon);
            ACC sg = 0, sgy = 0;
            for (i64 j = threadIdx.x; j < length; j += blockDim.x) {
                ACC gv = (ACC)load(g + base, j);
                sg += gv; sgy += gv * (ACC)load(y + base, j);
            }
            ACC mg = block_reduce<ACC>(sg, 0) / (ACC)length;
            ACC mgy = block_reduce<ACC>(sgy, 0) / (ACC)length;
            for (i64 j = threadIdx.x; j < length; j += blockDim.x) {
                ACC v = ((ACC)load(g + base, j) - mg - (ACC)load(y + base, j) * mgy) * inv_std;
                store(out + base, j, (C)v);
            }
        }
    }

    // out[row] = logsumexp(logits[row]) - logits[row][target[row]].
    extern "C" __global__ void cross_entropy_rows(const T* logits, const i64* targets, i64 target_stride, T* out, i64 out_stride,
                                                  i64 rows, i64 classes) {
        for (i64 row = blockIdx.x; row < rows; row += gridDim.x) {
            const T* xr = logits + row * classes;
            ACC m = -INFINITY;
            for (i64 j = threadIdx.x; j < classes; j += blockDim.x) { ACC v = (ACC)load(xr, j); m = v > m ? v : m; }
            m = block_reduce<ACC>(m, 1);
            ACC s = 0;
            for (i64 j = threadIdx.x; j < classes; j += blockDim.x) s += exp((ACC)load(xr, j) - m);
            s = block_reduce<ACC>(s, 0);
            if (threadIdx.x == 0) {
                i64 t = targets[row * target_stride];
                store(out, row * out_stride, (C)(m + log(s) - (ACC)load(xr, t)));
            }
        }
    }

    // Attention scores to probabilities a row at a time: softmax(scale·s) over the keys a query
    // sees (all, or when causal the first (row % queries) + 1), zero after them.
    extern "C" __global__ void attention_softmax_rows(const T* scores, T* probabilities, i64 rows, i64 length, i64 queries,
                                                      double scale, int causal) {
        for (i64 row = blockIdx.x; row < rows; row += gridDim.x) {
            const T* sr = scores + row * length;
            T* pr = probabilities + row * length;
            i64 visible = causal ? min(row % queries + 1, length) : length;
            ACC m = -INFINITY;
            for (i64 j = threadIdx.x; j < visible; j += blockDim.x) { ACC v = (ACC)load(sr, j) * (ACC)scale; m = v > m ? v : m; }
            m = block_reduce<ACC>(m, 1);
            ACC s = 0;
            for (i64 j = threadIdx.x; j < visible; j += blockDim.x) s += exp((ACC)load(sr, j) * (ACC)scale - m);
            s = block_reduce<ACC>(s, 0);
            for (i64 j = threadIdx.x; j < length; j += blockDim.x)
                store(pr, j, j < visible ? (C)(exp((ACC)load(sr, j) * (ACC)scale - m) / s) : (C)0);
        }
    }

    // The scaled softmax's backward, a row at a time: ds = scale · p ∘ (dp − Σ p∘dp).
    extern "C" __global__ void attention_softmax_backward_rows(const T* p, const T* dp, T* ds, i64 rows, i64 length, double scale) {
        for (i64 row = blockIdx.x; row < rows; row += gridDim.x) {
            i64 base = row * length;
            ACC dot = 0;
            for (i64 j = threadIdx.x; j < length; j += blockDim.x) dot += (ACC)load(p + base, j) * (ACC)load(dp + base, j);
            dot = block_reduce<ACC>(dot, 0);
            for (i64 j = threadIdx.x; j < length; j += blockDim.x)
                store(ds + base, j, (C)((ACC)scale * (ACC)load(p + base, j) * ((ACC)load(dp + base, j) - dot)));
        }
    }

    // Recurrent cells, PyTorch's gate order and formulas (RecurrentOps): a thread per (row, unit).
    __device__ __forceinline__ ACC sigmoid_acc(ACC x) { return (ACC)1 / ((ACC)1 + exp(-x)); }

    // LSTM: gates [b, 4h] = i, f, g, o; out [2, b, h] = h', c'.
    extern "C" __global__ void lstm_cell(const T* gates, const T* cell, T* out, i64 batch, i64 hidden) {
        i64 n = batch * hidden;
        FOR_EACH(e, n) {
            const T* g = gates + (e / hidden) * 4 * hidden;
            i64 j = e % hidden;
            ACC i = sigmoid_acc((ACC)load(g, j)), f = sigmoid_acc((ACC)load(g, hidden + j));
            ACC c = tanh((ACC)load(g, 2 * hidden + j)), o = sigmoid_acc((ACC)load(g, 3 * hidden + j));
            ACC next = f * (ACC)load(cell, e) + i * c;
            store(out, e, (C)(o * tanh(next)));
            store(out, n + e, (C)next);
        }
    }

    // From gradient [2, b, h] (of h' and c'): the pre-activation gradients [b, 4h] and that of c.
    extern "C" __global__ void lstm_cell_backward(const T* gates, const T* cell, const T* new_cell, const T* gradient,
                                                  T* gates_gradient, T* cell_gradient, i64 batch, i64 hidden) {
        i64 n = batch * hidden;
        FOR_EACH(e, n) {
            i64 row = (e / hidden) * 4 * hidden, j = e % hidden;
            const T* g = gates + row;
            T* dg = gates_gradient + row;
            ACC i = sigmoid_acc((ACC)load(g, j)), f = sigmoid_acc((ACC)load(g, hidden + j));
            ACC c = tanh((ACC)load(g, 2 * hidden + j)), o = sigmoid_acc((ACC)load(g, 3 * hidden + j));
            ACC t = tanh((ACC)load(new_cell, e)), dh = (ACC)load(gradient, e);
            ACC dc = (ACC)load(gradient, n + e) + dh * o * ((ACC)1 - t * t);
            store(dg, j, (C)(dc * c * i * ((ACC)1 - i)));
            store(dg, hidden + j, (C)(dc * (ACC)load(cell, e) * f * ((ACC)1 - f)));
            store(dg, 2 * hidden + j, (C)(dc * i * ((ACC)1 - c * c)));
            store(dg, 3 * hidden + j, (C)(dh * t * o * ((ACC)1 - o)));
            store(cell_gradient, e, (C)(dc * f));
        }
    }

    // GRU: input and hidden gates [b, 3h] = r, z, n; out [b, h] = (1 - z)·n + z·h.
    extern "C" __global__ void gru_cell(const T* input_gates, const T* hidden_gates, const T* state, T* out, i64 batch, i64 hidden) {
        FOR_EACH(e, batch * hidden) {
            i64 row = (e / hidden) * 3 * hidden, j = e % hidden;
            const T* x = input_gates + row;
            const T* h = hidden_gates + row;
            ACC r = sigmoid_acc((ACC)load(x, j) + (ACC)load(h, j));
            ACC z = sigmoid_acc((ACC)load(x, hidden + j) + (ACC)load(h, hidden + j));
            ACC c = tanh((ACC)load(x, 2 * hidden + j) + r * (ACC)load(h, 2 * hidden + j));
            store(out, e, (C)(((ACC)1 - z) * c + z * (ACC)load(state, e)));
        }
    }

    extern "C" __global__ void gru_cell_backward(const T* input_gates, const T* hidden_gates, const T* state, const T* gradient,
                                                 T* input_gradient, T* hidden_gates_gradient, T* state_gradient,
                                                 i64 batch, i64 hidden) {
        FOR_EACH(e, batch * hidden) {
            i64 row = (e / hidden) * 3 * hidden, j = e % hidden;
            const T* x = input_gates + row;
            const T* h = hidden_gates + row;
            ACC hn = (ACC)load(h, 2 * hidden + j), previous = (ACC)load(state, e), d = (ACC)load(gradient, e);
            ACC r = sigmoid_acc((ACC)load(x, j) + (ACC)load(h, j));
            ACC z = sigmoid_acc((ACC)load(x, hidden + j) + (ACC)load(h, hidden + j));
            ACC c = tanh((ACC)load(x, 2 * hidden + j) + r * hn);
            ACC dn = d * ((ACC)1 - z) * ((ACC)1 - c * c);
            ACC dz = d * (previous - c) * z * ((ACC)1 - z);
            ACC dr = dn * hn * r * ((ACC)1 - r);
            store(input_gradient + row, j, (C)dr);
            store(input_gradient + row, hidden + j, (C)dz);
            store(input_gradient + row, 2 * hidden + j, (C)dn);
            store(hidden_gates_gradient + row, j, (C)dr);
            store(hidden_gates_gradient + row, hidden + j, (C)dz);
            store(hidden_gates_gradient + row, 2 * hidden + j, (C)(dn * r));
            store(state_gradient, e, (C)(d * z));
        }
    }

    // PyTorch's Adam/AdamW, in the order of the composed default.
    extern "C" __global__ void adam_update(const T* p, const T* g, T* m, T* v, T* vmax, T* out, i64 n,
                                           double lr, double beta1, double beta2, double eps, double wd,
                                           int decoupled, double bias1, double bias2_sqrt) {
        FOR_EACH(i, n) {
            ACC pi = (ACC)load(p, i), gi = (ACC)load(g, i);
            if (wd != 0.0) {
                if (decoupled) pi = pi * (ACC)(1.0 - lr * wd);
                else gi = gi + (ACC)load(p, i) * (ACC)wd;
            }
            ACC mi = (ACC)load(m, i) * (ACC)beta1 + gi * (ACC)(1.0 - beta1);
            ACC vi = (ACC)load(v, i) * (ACC)beta2 + gi * gi * (ACC)(1.0 - beta2);
            store(m, i, (C)mi);
            store(v, i, (C)vi);
            ACC vh = vi;
            if (vmax) { ACC w = (ACC)load(vmax, i); vh = w > vi ? w : vi; store(vmax, i, (C)vh); }
            ACC denominator = sqrt(vh) * (ACC)(1.0 / bias2_sqrt) + (ACC)eps;
            store(out, i, (C)(pi - (mi / denominator) * (ACC)(lr / bias1)));
        }
    }

    // PyTorch's SGD: weight decay, momentum with dampening, Nesterov.
    extern "C" __global__ void sgd_update(const T* p, const T* g, T* buffer, T* out, i64 n, double lr, double momentum,
                                          double dampening, int nesterov, double wd, int first_step) {
        FOR_EACH(i, n) {
            ACC pi = (ACC)load(p, i);
            ACC d = (ACC)load(g, i);
            if (wd != 0.0) d = d + pi * (ACC)wd;
            if (buffer && momentum != 0.0) {
                ACC b = first_step ? d : (ACC)load(buffer, i) * (ACC)momentum + d * (ACC)(1.0 - dampening);
                store(buffer, i, (C)b);
                d = nesterov ? d + b * (ACC)momentum : b;
            }
            store(out, i, (C)(pi - d * (ACC)lr));
        }
    }
    """#
}

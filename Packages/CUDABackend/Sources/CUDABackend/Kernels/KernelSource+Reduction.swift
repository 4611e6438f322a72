/// Reductions for one dtype. An output element is the reduction over the "reduced" sub-layout
/// of the input at the offset its coordinates give in the "kept" sub-layout.
enum ReductionKernels {
    static let source = #"""
    __device__ __forceinline__ ACC reduce_identity(int op) {
    #if IS_FLOAT
        return op == 0 ? (ACC)0 : (op == 1 ? (ACC)1 : (op == 2 ? (ACC)-INFINITY : (ACC)INFINITY));
    #else
        return op == 0 ? (ACC)0 : (op == 1 ? (ACC)1 : (op == 2 ? (ACC)(-9223372036854775807LL - 1) : (ACC)9223372036854775807LL));
    #endif
    }
    // Max and min propagate NaN, as the CPU backend and PyTorch.
    __device__ __forceinline__ ACC reduce_combine(int op, ACC a, ACC b) {
        switch (op) {
        case 0: return a + b;
        case 1: return a * b;
        case 2: return (a != a || b != b) ? (a != a ? a : b) : (a > b ? a : b);
        default: return (a != a || b != b) ? (a != a ? a : b) : (a < b ? a : b);
        }
    }

    // One block per output element: threads stride over the reduced elements, then a shared
    // tree combines them. Used when there are few outputs or long reductions.
    extern "C" __global__ void reduce_block(const T* x, Strided kept, Strided reduced, i64 reduced_count,
                                            T* out, Strided os, i64 outputs, int op) {
        __shared__ ACC partial[256];
        for (i64 o = blockIdx.x; o < outputs; o += gridDim.x) {
            i64 base = strided_offset(o, kept);
            ACC acc = reduce_identity(op);
            for (i64 r = threadIdx.x; r < reduced_count; r += blockDim.x) {
                acc = reduce_combine(op, acc, (ACC)load(x, base + strided_offset(r, reduced)));
            }
            partial[threadIdx.x] = acc;
            __syncthreads();
            for (int s = blockDim.x / 2; s > 0; s >>= 1) {
                if (threadIdx.x < s) partial[threadIdx.x] = reduce_combine(op, partial[threadIdx.x], partial[threadIdx.x + s]);
                __syncthreads();
            }
            if (threadIdx.x == 0) store(out, strided_offset(o, os), (C)partial[0]);
            __syncthreads();
        }
    }

    // One thread per output element: many outputs, short reductions.
    extern "C" __global__ void reduce_thread(const T* x, Strided kept, Strided reduced, i64 reduced_count,
                                             T* out, Strided os, i64 outputs, int op) {
        FOR_EACH(o, outputs) {
            i64 base = strided_offset(o, kept);
            ACC acc = reduce_identity(op);
            for (i64 r = 0; r < reduced_count; ++r) acc = reduce_combine(op, acc, (ACC)load(x, base + strided_offset(r, reduced)));
            store(out, strided_offset(o, os), (C)acc);
        }
    }

    // argmax (op 0) / argmin (op 1) along one axis; the first extreme on ties, NaN wins.
    extern "C" __global__ void arg_reduce(const T* x, Strided kept, i64 length, i64 axis_stride, i64* out, Strided os,
                                          i64 outputs, int op) {
        FOR_EACH(o, outputs) {
            i64 base = strided_offset(o, kept);
            C best = load(x, base);
            i64 index = 0;
            for (i64 j = 1; j < length; ++j) {
                C v = load(x, base + j * axis_stride);
                if (best != best) break;
                bool better = (v != v) || (op == 0 ? v > best : v < best);
                if (better) { best = v; index = j; }
            }
            out[strided_offset(o, os)] = index;
        }
    }

    // Running sum along one axis: a thread per line.
    extern "C" __global__ void cumulative_sum(const T* x, Strided x_lines, i64 x_axis_stride, T* out, Strided o_lines,
                                              i64 o_axis_stride, i64 length, i64 lines) {
        FOR_EACH(l, lines) {
            i64 xb = strided_offset(l, x_lines), ob = strided_offset(l, o_lines);
            ACC acc = 0;
            for (i64 j = 0; j < length; ++j) {
                acc += (ACC)load(x, xb + j * x_axis_stride);
                store(out, ob + j * o_axis_stride, (C)acc);
            }
        }
    }
    """#
}

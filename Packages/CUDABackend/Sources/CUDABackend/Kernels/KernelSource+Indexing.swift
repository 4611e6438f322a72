/// Gathers, scatters and sorting for one dtype. Index operands are int64 and contiguous.
enum IndexingKernels {
    static let source = #"""
    // Atomic accumulation for every storage type: native where CUDA has it, otherwise a
    // compare-and-swap on the aligned 32-bit word holding the 1- or 2-byte element.
    __device__ __forceinline__ void atomic_accumulate(T* p, C v) {
    #if DTYPE == DT_F32 || DTYPE == DT_F64 || DTYPE == DT_I32
        atomicAdd(p, v);
    #elif DTYPE == DT_I64
        atomicAdd((u64*)p, (u64)v);
    #else
        size_t address = (size_t)p;
        u32* word = (u32*)(address & ~(size_t)3);
        u32 shift = (u32)(address & 3) * 8;
        u32 mask = (sizeof(T) == 2 ? 0xffffu : 0xffu) << shift;
        u32 old = *word, assumed;
        do {
            assumed = old;
            T current = (T)((assumed & mask) >> shift);
            T tmp = current;
            store(&tmp, 0, load(&current, 0) + v);
            u32 updated = (assumed & ~mask) | (((u32)tmp << shift) & mask);
            old = atomicCAS(word, assumed, updated);
        } while (old != assumed);
    #endif
    }

    // out[c] = x[c with axis coordinate replaced by index[c]]; `coords` walks out's shape.
    extern "C" __global__ void gather(const T* x, Strided xs, int axis, const i64* index, Strided is, T* out, Strided os, i64 n) {
        FOR_EACH(i, n) {
            i64 rest = i, xo = 0, io = 0, oo = 0;
            for (int d = os.rank - 1; d >= 0; --d) {
                i64 c = rest % os.shape[d];
                rest /= os.shape[d];
                io += c * is.strides[d];
                oo += c * os.strides[d];
                if (d != axis) xo += c * xs.strides[d];
            }
            xo += index[io] * xs.strides[axis];
            out[oo] = x[xo];
        }
    }

    extern "C" __global__ void scatter_add(const T* source, Strided ss, int axis, const i64* index, Strided is, T* out, Strided os, i64 n) {
        FOR_EACH(i, n) {
            i64 rest = i, so = 0, io = 0, oo = 0;
            for (int d = ss.rank - 1; d >= 0; --d) {
                i64 c = rest % ss.shape[d];
                rest /= ss.shape[d];
                so += c * ss.strides[d];
                io += c * is.strides[d];
                if (d != axis) oo += c * os.strides[d];
            }
            oo += index[io] * os.strides[axis];
            atomic_accumulate(out + oo, load(source, so));
        }
    }

    // out (shape of x with `axis` of length |indices|) takes slices indices[j] of x.
    extern "C" __global__ void index_select(const T* x, Strided xs, int axis, const i64* indices, i64 index_stride,
                                            T* out, Strided os, i64 n) {
        FOR_EACH(i, n) {
            i64 rest = i, xo = 0, oo = 0;
            for (int d = os.rank - 1; d >= 0; --d) {
                i64 c = rest % os.shape[d];
                rest /= os.shape[d];
                oo += c * os.strides[d];
                xo += (d == axis ? indices[c * index_stride] : c) * xs.strides[d];
            }
            out[oo] = x[xo];
        }
    }

    extern "C" __global__ void index_add(const T* source, Strided ss, int axis, const i64* indices, i64 index_stride,
                                         T* out, Strided os, i64 n) {
        FOR_EACH(i, n) {
            i64 rest = i, so = 0, oo = 0;
            for (int d = ss.rank - 1; d >= 0; --d) {
                i64 c = rest % ss.shape[d];
                rest /= ss.shape[d];
                so += c * ss.strides[d];
                oo += (d == axis ? indices[c * index_stride] : c) * os.strides[d];
            }
            atomic_accumulate(out + oo, load(source, so));
        }
    }

    // Stable sort of each line (a thread per line): bottom-up merge sort of (value, index)
    // pairs through a scratch area of 2·length pairs per line. NaN sorts last ascending,
    // first descending, as the CPU backend.
    __device__ __forceinline__ bool sorts_before(C a, C b, int descending) {
        bool a_nan = a != a, b_nan = b != b;
        if (a_nan || b_nan) return descending ? (a_nan && !b_nan) : (!a_nan && b_nan);
        return descending ? a > b : a < b;
    }
    extern "C" __global__ void sort_lines(const T* x, Strided x_lines, i64 x_axis_stride, T* values, Strided v_lines,
                                          i64 v_axis_stride, i64* indices, Strided i_lines, i64 i_axis_stride,
                                          i64 length, i64 lines, int descending, C* scratch_values, i64* scratch_indices) {
        FOR_EACH(l, lines) {
            C* va = scratch_values + l * 2 * length; C* vb = va + length;
            i64* ia = scratch_indices + l * 2 * length; i64* ib = ia + length;
            i64 xb = strided_offset(l, x_lines);
            for (i64 j = 0; j < length; ++j) { va[j] = load(x, xb + j * x_axis_stride); ia[j] = j; }
            for (i64 width = 1; width < length; width *= 2) {
                for (i64 lo = 0; lo < length; lo += 2 * width) {
                    i64 mid = min(lo + width, length), hi = min(lo + 2 * width, length);
                    i64 p = lo, q = mid, k = lo;
                    while (p < mid && q < hi) {
                        // Take from the right run only when strictly before: stability.
                        if (sorts_before(va[q], va[p], descending)) { vb[k] = va[q]; ib[k++] = ia[q++]; }
                        else { vb[k] = va[p]; ib[k++] = ia[p++]; }
                    }
                    while (p < mid) { vb[k] = va[p]; ib[k++] = ia[p++]; }
                    while (q < hi) { vb[k] = va[q]; ib[k++] = ia[q++]; }
                }
                C* tv = va; va = vb; vb = tv;
                i64* ti = ia; ia = ib; ib = ti;
            }
            i64 vo = strided_offset(l, v_lines), io = strided_offset(l, i_lines);
            for (i64 j = 0; j < length; ++j) { store(values, vo + j * v_axis_stride, va[j]); indices[io + j * i_axis_stride] = ia[j]; }
        }
    }
    """#
}

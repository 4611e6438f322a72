/// Element-wise kernels for one dtype: fill, unary, binary (tensor-tensor and tensor-scalar),
/// comparisons into bool, select. Operation codes are the `UNARY_*`/`BINARY_*` macros the prelude
/// generates from `CUDAOpCode`; operands are strided
/// unless `contiguous` says all of them are row-major without gaps.
enum ElementwiseKernels {
    static let source = #"""
    __device__ __forceinline__ C unary_value(int op, C x, double p0, double p1) {
    #if IS_FLOAT
        F v = (F)x;
        switch (op) {
        case UNARY_NEGATE: return -x;
        case UNARY_ABS: return x < 0 ? -x : x;
        case UNARY_SIGN: return x > 0 ? (C)1 : (x < 0 ? (C)-1 : (C)0);
        case UNARY_SQUARE: return x * x;
        case UNARY_RECIPROCAL: return (C)((F)1 / v);
        case UNARY_EXP: return (C)exp(v);
        case UNARY_LOG: return (C)log(v);
        case UNARY_LOG1P: return (C)log1p(v);
        case UNARY_EXPM1: return (C)expm1(v);
        case UNARY_SQRT: return (C)sqrt(v);
        case UNARY_RSQRT: return (C)rsqrt(v);
        case UNARY_SIN: return (C)sin(v);
        case UNARY_COS: return (C)cos(v);
        case UNARY_TANH: return (C)tanh(v);
        case UNARY_SIGMOID: return (C)((F)1 / ((F)1 + exp(-v)));
        case UNARY_ERF: return (C)erf(v);
        case UNARY_RELU: return x > 0 ? x : (C)0;
        case UNARY_GELU: return (C)((F)0.5 * v * ((F)1 + erf(v * (F)0.70710678118654752440)));
        case UNARY_GELU_TANH: return (C)((F)0.5 * v * ((F)1 + tanh((F)0.79788456080286535588 * (v + (F)0.044715 * v * v * v))));
        case UNARY_SILU: return (C)(v / ((F)1 + exp(-v)));
        case UNARY_SOFTPLUS: { F b = (F)p0; return b * v > (F)p1 ? x : (C)(log1p(exp(b * v)) / b); }
        case UNARY_LEAKY_RELU: return x > 0 ? x : (C)(v * (F)p0);
        case UNARY_ELU: return x > 0 ? x : (C)((F)p0 * expm1(v));
        case UNARY_POW: return p0 == 2.0 ? x * x : (p0 == 0.5 ? (C)sqrt(v) : (C)pow(v, (F)p0));
        case UNARY_CLAMP: { if (v != v) return x; F lo = (F)p0, hi = (F)p1; return (C)(v < lo ? lo : (v > hi ? hi : v)); }
        default: return x;
        }
    #else
        switch (op) {
        case UNARY_NEGATE: return (C)0 - x;
        case UNARY_ABS: return x < 0 ? (C)0 - x : x;
        case UNARY_SIGN: return x > 0 ? (C)1 : (x < 0 ? (C)-1 : (C)0);
        case UNARY_SQUARE: return x * x;
        case UNARY_RELU: return x > 0 ? x : (C)0;
        // p0, p1: bounds already saturated to the type's range by the host.
        case UNARY_CLAMP: { C lo = (C)p0, hi = (C)p1; return x < lo ? lo : (x > hi ? hi : x); }
        default: return x;
        }
    #endif
    }

    __device__ __forceinline__ C binary_value(int op, C a, C b) {
        switch (op) {
        case BINARY_ADD: return a + b;
        case BINARY_SUBTRACT: return a - b;
        case BINARY_MULTIPLY: return a * b;
    #if IS_FLOAT
        case BINARY_DIVIDE: return a / b;
        case BINARY_POW: return (C)pow((F)a, (F)b);
        case BINARY_MAXIMUM: return a != a ? a : (b != b ? b : (a > b ? a : b));
        case BINARY_MINIMUM: return a != a ? a : (b != b ? b : (a < b ? a : b));
        // GELU backward, exact: a · (Φ(b) + b φ(b)).
        case BINARY_GELU_BACKWARD: { F x = (F)b; return (C)((F)a * ((F)0.5 * ((F)1 + erf(x * (F)0.70710678118654752440))
                                            + x * (F)0.39894228040143267794 * exp((F)-0.5 * x * x))); }
        // GELU backward, tanh form.
        case BINARY_GELU_TANH_BACKWARD: { F x = (F)b, k = (F)0.79788456080286535588, c = (F)0.044715;
                   F t = tanh(k * (x + c * x * x * x));
                   return (C)((F)a * ((F)0.5 * ((F)1 + t) + (F)0.5 * x * ((F)1 - t * t) * k * ((F)1 + (F)3 * c * x * x))); }
        // SiLU backward: a · σ(b)(1 + b(1 − σ(b))).
        case BINARY_SILU_BACKWARD: { F x = (F)b, s = (F)1 / ((F)1 + exp(-x));
                   return (C)((F)a * s * ((F)1 + x * ((F)1 - s))); }
    #else
        // Integer division floors (PyTorch's floor_divide semantics for `/` on integers here);
        // division by zero gives 0, as the CPU backend.
        case BINARY_DIVIDE: { if (b == 0) return (C)0; double q = floor((double)a / (double)b); return (C)q; }
        case BINARY_POW: return (C)pow((double)a, (double)b);
        case BINARY_MAXIMUM: return a > b ? a : b;
        case BINARY_MINIMUM: return a < b ? a : b;
    #endif
        case BINARY_PASS_WHERE_POSITIVE: return b > 0 ? a : (C)0;
        default: return a;
        }
    }

    __device__ __forceinline__ bool compare_value(int op, C a, C b) {
        switch (op) {
        case BINARY_EQUAL: return a == b;
        case BINARY_NOT_EQUAL: return a != b;
        case BINARY_LESS: return a < b;
        case BINARY_LESS_EQUAL: return a <= b;
        case BINARY_GREATER: return a > b;
        case BINARY_GREATER_EQUAL: return a >= b;
        case BINARY_LOGICAL_AND: return (a != 0) && (b != 0);
        case BINARY_LOGICAL_OR: return (a != 0) || (b != 0);
        case BINARY_LOGICAL_XOR: return (a != 0) != (b != 0);
        default: return false;
        }
    }

    // A host scalar in the compute type (integers through i64, so large values stay exact).
    __device__ __forceinline__ C scalar_value(double value) {
    #if IS_FLOAT
        return (C)value;
    #else
        return (C)(i64)value;
    #endif
    }

    extern "C" __global__ void fill(T* out, Strided os, i64 n, double value, int contiguous) {
        C v = scalar_value(value);
        FOR_EACH(i, n) { store(out, contiguous ? i : strided_offset(i, os), v); }
    }

    extern "C" __global__ void unary(const T* x, Strided xs, T* out, Strided os, i64 n, int op, double p0, double p1, int contiguous) {
        FOR_EACH(i, n) {
            i64 xi = contiguous ? i : strided_offset(i, xs), oi = contiguous ? i : strided_offset(i, os);
    #if IS_BOOL
            store(out, oi, load(x, xi) == 0);
    #else
            store(out, oi, unary_value(op, load(x, xi), p0, p1));
    #endif
        }
    }

    // logicalNot of any dtype into bool.
    extern "C" __global__ void logical_not(const T* x, Strided xs, u8* out, Strided os, i64 n, int contiguous) {
        FOR_EACH(i, n) {
            i64 xi = contiguous ? i : strided_offset(i, xs), oi = contiguous ? i : strided_offset(i, os);
            out[oi] = load(x, xi) == 0;
        }
    }

    extern "C" __global__ void binary(const T* a, Strided as, const T* b, Strided bs, T* out, Strided os, i64 n, int op, int contiguous) {
        FOR_EACH(i, n) {
            i64 ai = contiguous ? i : strided_offset(i, as), bi = contiguous ? i : strided_offset(i, bs);
            i64 oi = contiguous ? i : strided_offset(i, os);
    #if IS_BOOL
            // Bool arithmetic is logic: add/max = or, multiply/min = and.
            C x = load(a, ai), y = load(b, bi);
            C r = (op == 0 || op == 5) ? (x | y) : ((op == 2 || op == 6) ? (x & y) : x);
            store(out, oi, r);
    #else
            store(out, oi, binary_value(op, load(a, ai), load(b, bi)));
    #endif
        }
    }

    extern "C" __global__ void compare(const T* a, Strided as, const T* b, Strided bs, u8* out, Strided os, i64 n, int op, int contiguous) {
        FOR_EACH(i, n) {
            i64 ai = contiguous ? i : strided_offset(i, as), bi = contiguous ? i : strided_offset(i, bs);
            out[contiguous ? i : strided_offset(i, os)] = compare_value(op, load(a, ai), load(b, bi));
        }
    }

    // x op s (or s op x when scalar_left); s converted to the compute type once.
    extern "C" __global__ void binary_scalar(const T* x, Strided xs, T* out, Strided os, i64 n, int op, double scalar,
                                             int scalar_left, int contiguous) {
        C s = scalar_value(scalar);
        FOR_EACH(i, n) {
            C v = load(x, contiguous ? i : strided_offset(i, xs));
            store(out, contiguous ? i : strided_offset(i, os), scalar_left ? binary_value(op, s, v) : binary_value(op, v, s));
        }
    }

    extern "C" __global__ void compare_scalar(const T* x, Strided xs, u8* out, Strided os, i64 n, int op, double scalar,
                                              int scalar_left, int contiguous) {
        C s = scalar_value(scalar);
        FOR_EACH(i, n) {
            C v = load(x, contiguous ? i : strided_offset(i, xs));
            out[contiguous ? i : strided_offset(i, os)] = scalar_left ? compare_value(op, s, v) : compare_value(op, v, s);
        }
    }

    // Contiguous operands at 16-byte aligned addresses: 16 bytes per load and store (a `uint4`
    // holding 16 / sizeof(T) elements), which memory-bound kernels need to approach the
    // device's bandwidth; the last n % PACK elements one by one.
    #define PACK (16 / sizeof(T))
    union Pack { uint4 raw; T v[PACK]; };

    extern "C" __global__ void unary_packed(const T* x, T* out, i64 n, int op, double p0, double p1) {
        i64 packs = n / PACK;
        FOR_EACH(i, packs) {
            Pack a, r;
            a.raw = ((const uint4*)x)[i];
            #pragma unroll
            for (int k = 0; k < PACK; ++k) store(r.v, k, unary_value(op, load(a.v, k), p0, p1));
            ((uint4*)out)[i] = r.raw;
        }
        FOR_EACH(j, n - packs * PACK) { i64 i = packs * PACK + j; store(out, i, unary_value(op, load(x, i), p0, p1)); }
    }

    extern "C" __global__ void binary_packed(const T* a, const T* b, T* out, i64 n, int op) {
        i64 packs = n / PACK;
        FOR_EACH(i, packs) {
            Pack x, y, r;
            x.raw = ((const uint4*)a)[i];
            y.raw = ((const uint4*)b)[i];
            #pragma unroll
            for (int k = 0; k < PACK; ++k) store(r.v, k, binary_value(op, load(x.v, k), load(y.v, k)));
            ((uint4*)out)[i] = r.raw;
        }
        FOR_EACH(j, n - packs * PACK) { i64 i = packs * PACK + j; store(out, i, binary_value(op, load(a, i), load(b, i))); }
    }

    extern "C" __global__ void binary_scalar_packed(const T* x, T* out, i64 n, int op, double scalar, int scalar_left) {
        C s = scalar_value(scalar);
        i64 packs = n / PACK;
        FOR_EACH(i, packs) {
            Pack a, r;
            a.raw = ((const uint4*)x)[i];
            #pragma unroll
            for (int k = 0; k < PACK; ++k) {
                C v = load(a.v, k);
                store(r.v, k, scalar_left ? binary_value(op, s, v) : binary_value(op, v, s));
            }
            ((uint4*)out)[i] = r.raw;
        }
        FOR_EACH(j, n - packs * PACK) {
            i64 i = packs * PACK + j;
            C v = load(x, i);
            store(out, i, scalar_left ? binary_value(op, s, v) : binary_value(op, v, s));
        }
    }

    extern "C" __global__ void select(const u8* condition, Strided cs, const T* a, Strided as, const T* b, Strided bs,
                                      T* out, Strided os, i64 n, int contiguous) {
        FOR_EACH(i, n) {
            bool c = condition[contiguous ? i : strided_offset(i, cs)] != 0;
            const T* src = c ? a : b;
            i64 si = contiguous ? i : strided_offset(i, c ? as : bs);
            out[contiguous ? i : strided_offset(i, os)] = src[si];
        }
    }
    """#
}

/// Copies with dtype conversion between any two dtypes: one module for all pairs.
enum CopyKernels {
    static let source = #"""
    extern "C" __global__ void convert(const void* src, int src_type, Strided ss, void* dst, int dst_type, Strided ds,
                                       i64 n, int contiguous) {
        bool integral = (src_type >= DT_I32) && (dst_type >= DT_I32);
        FOR_EACH(i, n) {
            i64 si = contiguous ? i : strided_offset(i, ss), di = contiguous ? i : strided_offset(i, ds);
            if (integral) store_integer(dst, dst_type, di, load_as_integer(src, src_type, si));
            else if (dst_type == DT_BOOL) ((u8*)dst)[di] = load_as_double(src, src_type, si) != 0.0;
            else store_double(dst, dst_type, di, load_as_double(src, src_type, si));
        }
    }
    """#
}

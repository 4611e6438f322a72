import TensorCore

/// CUDA C shared by every kernel module: integer types, strided indexing, float16/bfloat16
/// conversion (inline PTX and bit arithmetic, so no CUDA header is needed), and block reductions.
enum KernelPrelude {
    static let common = #"""
    typedef long long i64;
    typedef unsigned long long u64;
    typedef unsigned int u32;
    typedef unsigned char u8;
    #define MAX_DIMS 8
    // No headers under NVRTC: infinity from its bits.
    #define INFINITY __int_as_float(0x7f800000)

    // A layout as kernels see it (Swift's Layout, coalesced): shape and strides in elements.
    struct Strided { i64 shape[MAX_DIMS]; i64 strides[MAX_DIMS]; int rank; };

    // The storage offset of the i-th element in row-major order.
    __device__ __forceinline__ i64 strided_offset(i64 i, const Strided& s) {
        i64 offset = 0;
        for (int d = s.rank - 1; d >= 0; --d) {
            i64 extent = s.shape[d];
            i64 c = i % extent;
            i /= extent;
            offset += c * s.strides[d];
        }
        return offset;
    }

    #ifdef TESSERA_EMULATOR
    // The host's IEEE half conversions (round to nearest even, as PTX's cvt.rn).
    __device__ __forceinline__ float half_to_float(unsigned short h) { _Float16 v; memcpy(&v, &h, 2); return (float)v; }
    __device__ __forceinline__ unsigned short float_to_half(float f) { _Float16 v = (_Float16)f; unsigned short h; memcpy(&h, &v, 2); return h; }
    #else
    __device__ __forceinline__ float half_to_float(unsigned short h) {
        float f; asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h)); return f;
    }
    __device__ __forceinline__ unsigned short float_to_half(float f) {
        unsigned short h; asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f)); return h;
    }
    #endif
    __device__ __forceinline__ float bf16_to_float(unsigned short h) { return __uint_as_float(((u32)h) << 16); }
    // Round to nearest even, NaN stays NaN (as the CPU's BFloat16 conversion).
    __device__ __forceinline__ unsigned short float_to_bf16(float f) {
        u32 u = __float_as_uint(f);
        if ((u & 0x7fffffffu) > 0x7f800000u) return (unsigned short)((u >> 16) | 0x40u);
        u += 0x7fffu + ((u >> 16) & 1u);
        return (unsigned short)(u >> 16);
    }

    // Dtype codes, as TensorCore's DType raw values.
    #define DT_F32 0
    #define DT_F64 1
    #define DT_F16 2
    #define DT_BF16 3
    #define DT_I32 4
    #define DT_I64 5
    #define DT_U8 6
    #define DT_BOOL 7

    __device__ __forceinline__ double load_as_double(const void* p, int dtype, i64 i) {
        switch (dtype) {
        case DT_F32: return ((const float*)p)[i];
        case DT_F64: return ((const double*)p)[i];
        case DT_F16: return half_to_float(((const unsigned short*)p)[i]);
        case DT_BF16: return bf16_to_float(((const unsigned short*)p)[i]);
        case DT_I32: return ((const int*)p)[i];
        case DT_I64: return (double)((const i64*)p)[i];
        case DT_U8: return ((const u8*)p)[i];
        default: return ((const u8*)p)[i] != 0 ? 1.0 : 0.0;
        }
    }
    __device__ __forceinline__ i64 load_as_integer(const void* p, int dtype, i64 i) {
        switch (dtype) {
        case DT_I32: return ((const int*)p)[i];
        case DT_I64: return ((const i64*)p)[i];
        case DT_U8: return ((const u8*)p)[i];
        case DT_BOOL: return ((const u8*)p)[i] != 0;
        default: return (i64)load_as_double(p, dtype, i);
        }
    }
    // Float to integer conversions truncate toward zero, as Swift's and C's.
    __device__ __forceinline__ void store_double(void* p, int dtype, i64 i, double v) {
        switch (dtype) {
        case DT_F32: ((float*)p)[i] = (float)v; break;
        case DT_F64: ((double*)p)[i] = v; break;
        case DT_F16: ((unsigned short*)p)[i] = float_to_half((float)v); break;
        case DT_BF16: ((unsigned short*)p)[i] = float_to_bf16((float)v); break;
        case DT_I32: ((int*)p)[i] = (int)v; break;
        case DT_I64: ((i64*)p)[i] = (i64)v; break;
        case DT_U8: ((u8*)p)[i] = (u8)(int)v; break;
        default: ((u8*)p)[i] = v != 0.0; break;
        }
    }
    __device__ __forceinline__ void store_integer(void* p, int dtype, i64 i, i64 v) {
        switch (dtype) {
        case DT_I32: ((int*)p)[i] = (int)v; break;
        case DT_I64: ((i64*)p)[i] = v; break;
        case DT_U8: ((u8*)p)[i] = (u8)v; break;
        case DT_BOOL: ((u8*)p)[i] = v != 0; break;
        default: store_double(p, dtype, i, (double)v); break;
        }
    }

    // Grid-stride loop over n elements.
    #define FOR_EACH(i, n) for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (i64)blockDim.x * gridDim.x)
    """#

    /// `T` (storage), `C` (compute) and `ACC` (accumulator) for one dtype, with `load`/`store`.
    static func types(_ dtype: DType) -> String {
        let (storage, compute, accumulator, load, store): (String, String, String, String, String)
        switch dtype {
        case .float32: (storage, compute, accumulator, load, store) = ("float", "float", "float", "p[i]", "v")
        case .float64: (storage, compute, accumulator, load, store) = ("double", "double", "double", "p[i]", "v")
        case .float16: (storage, compute, accumulator, load, store) = ("unsigned short", "float", "float", "half_to_float(p[i])", "float_to_half(v)")
        case .bfloat16: (storage, compute, accumulator, load, store) = ("unsigned short", "float", "float", "bf16_to_float(p[i])", "float_to_bf16(v)")
        case .int32: (storage, compute, accumulator, load, store) = ("int", "int", "i64", "p[i]", "(int)v")
        case .int64: (storage, compute, accumulator, load, store) = ("i64", "i64", "i64", "p[i]", "v")
        case .uint8: (storage, compute, accumulator, load, store) = ("u8", "int", "i64", "(int)p[i]", "(u8)v")
        case .bool: (storage, compute, accumulator, load, store) = ("u8", "int", "i64", "(int)(p[i] != 0)", "(u8)(v != 0)")
        }
        return """
        typedef \(storage) T;
        typedef \(compute) C;
        typedef \(accumulator) ACC;
        #define DTYPE \(dtype.rawValue)
        #define IS_FLOAT \(dtype.isFloatingPoint ? 1 : 0)
        #define IS_BOOL \(dtype == .bool ? 1 : 0)
        __device__ __forceinline__ C load(const T* p, i64 i) { return (C)(\(load)); }
        __device__ __forceinline__ void store(T* p, i64 i, C v) { p[i] = \(store); }
        // Floating compute type of transcendental functions (double only for float64).
        typedef \(dtype == .float64 ? "double" : "float") F;
        """
    }

    /// Block-wide reductions through warp shuffles and one shared slot per warp.
    static let blockReduce = #"""
    template <typename V> __device__ __forceinline__ V warp_sum(V v) {
        for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
        return v;
    }
    template <typename V> __device__ __forceinline__ V warp_max(V v) {
        for (int o = 16; o > 0; o >>= 1) { V w = __shfl_down_sync(0xffffffffu, v, o); v = w > v ? w : v; }
        return v;
    }
    // Reduces v over the block with `combine` (0 sum, 1 max); every thread gets the result.
    template <typename V> __device__ V block_reduce(V v, int combine) {
        __shared__ V partial[32];
        __shared__ V result;
        int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
        v = combine == 0 ? warp_sum(v) : warp_max(v);
        if (lane == 0) partial[warp] = v;
        __syncthreads();
        int warps = (blockDim.x + 31) >> 5;
        if (warp == 0) {
            V w = lane < warps ? partial[lane] : (combine == 0 ? (V)0 : partial[0]);
            w = combine == 0 ? warp_sum(w) : warp_max(w);
            if (lane == 0) result = w;
        }
        __syncthreads();
        V r = result;
        __syncthreads();
        return r;
    }
    """#
}

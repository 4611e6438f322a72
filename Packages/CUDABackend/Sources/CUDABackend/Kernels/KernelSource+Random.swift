/// Philox 4x32-10 random numbers, element for element the CPU backend's: element i comes from
/// block i / per_block of the stream (seed, counter), with the same uniform and Box–Muller maps.
enum RandomKernels {
    static let source = #"""
    __device__ __forceinline__ void philox(u32 c[4], u32 k0, u32 k1) {
        for (int round = 0; round < 10; ++round) {
            u64 p0 = (u64)0xD2511F53u * c[0];
            u64 p1 = (u64)0xCD9E8D57u * c[2];
            u32 hi0 = (u32)(p0 >> 32), lo0 = (u32)p0, hi1 = (u32)(p1 >> 32), lo1 = (u32)p1;
            u32 n0 = hi1 ^ c[1] ^ k0, n2 = hi0 ^ c[3] ^ k1;
            c[0] = n0; c[1] = lo1; c[2] = n2; c[3] = lo0;
            if (round < 9) { k0 += 0x9E3779B9u; k1 += 0xBB67AE85u; }
        }
    }
    __device__ __forceinline__ double u24(u32 x) { return (double)(x >> 8) * 5.9604644775390625e-08; /* 2^-24 */ }
    __device__ __forceinline__ double u53(u32 a, u32 b) { return (double)((((u64)a << 32) | b) >> 11) * 1.1102230246251565404e-16; /* 2^-53 */ }

    // kind: 0 uniform [a, b), 1 normal (mean a, sd b), 2 bernoulli (p = a), 3 integers [lo, hi).
    extern "C" __global__ void fill_random(T* out, i64 n, int kind, double a, double b, i64 lo, i64 hi,
                                           u64 seed, u64 counter, int wide) {
        int per_block = (kind == 1 || kind == 3) ? 2 : (wide ? 2 : 4);
        i64 blocks = (n + per_block - 1) / per_block;
        FOR_EACH(block, blocks) {
            u64 c64 = counter + (u64)block;
            u32 w[4] = {(u32)c64, (u32)(c64 >> 32), 0u, 0u};
            philox(w, (u32)seed, (u32)(seed >> 32));
            double values[4];
            if (kind == 0 || kind == 2) {
                for (int j = 0; j < per_block; ++j) {
                    double u = wide ? u53(w[2 * j], w[2 * j + 1]) : u24(w[j]);
                    values[j] = kind == 0 ? a + (b - a) * u : (u < a ? 1.0 : 0.0);
                }
            } else if (kind == 1) {
                double u1 = 1.0 - (wide ? u53(w[0], w[1]) : u24(w[0]));
                double u2 = wide ? u53(w[2], w[3]) : u24(w[1]);
                double r = sqrt(-2.0 * log(u1));
                values[0] = a + b * r * cos(2.0 * 3.14159265358979323846 * u2);
                values[1] = a + b * r * sin(2.0 * 3.14159265358979323846 * u2);
            } else {
                u64 span = (u64)(hi - lo);
                for (int j = 0; j < 2; ++j) {
                    u64 bits = ((u64)w[2 * j] << 32) | w[2 * j + 1];
                    values[j] = (double)(lo + (i64)(bits % span));
                }
            }
            i64 start = block * per_block;
            for (int j = 0; j < per_block && start + j < n; ++j) {
    #if IS_FLOAT
                store(out, start + j, (C)values[j]);
    #else
                store(out, start + j, (C)(i64)values[j]);
    #endif
            }
        }
    }
    """#
}

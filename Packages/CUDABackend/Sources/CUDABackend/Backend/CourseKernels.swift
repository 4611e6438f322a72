import TensorCore

/// The classic GPU-programming exercises as user kernels, with the Swift calls that launch
/// them: an element-wise kernel, an atomic histogram, and matrix products naive and tiled
/// through shared memory. Their sources are public so a course can read and modify them.
public enum CourseKernels {
    /// `out[i] = alpha * x[i] + y[i]` (SAXPY): one thread per element.
    public static let saxpySource = #"""
    extern "C" __global__ void saxpy(const float* x, const float* y, float* out, float alpha, int n) {
        int i = blockIdx.x * blockDim.x + threadIdx.x;
        if (i < n) out[i] = alpha * x[i] + y[i];
    }
    """#

    /// Counts of `values` in `bins` equal-width bins over [low, high): a per-block histogram
    /// in shared memory, then one atomic add per bin and block into the global counts.
    public static let histogramSource = #"""
    extern "C" __global__ void histogram(const float* values, int n, float low, float high, int bins, int* counts) {
        extern __shared__ int local[];
        for (int b = threadIdx.x; b < bins; b += blockDim.x) local[b] = 0;
        __syncthreads();
        float scale = bins / (high - low);
        for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x) {
            float v = values[i];
            if (v >= low && v < high) {
                int b = (int)((v - low) * scale);
                atomicAdd(&local[b < bins ? b : bins - 1], 1);
            }
        }
        __syncthreads();
        for (int b = threadIdx.x; b < bins; b += blockDim.x) if (local[b] != 0) atomicAdd(&counts[b], local[b]);
    }
    """#

    /// `c[m, n] = a[m, k] · b[k, n]`: a thread per output element reading rows and columns
    /// straight from global memory.
    public static let naiveMatmulSource = #"""
    extern "C" __global__ void matmul_naive(const float* a, const float* b, float* c, int m, int n, int k) {
        int row = blockIdx.y * blockDim.y + threadIdx.y, col = blockIdx.x * blockDim.x + threadIdx.x;
        if (row >= m || col >= n) return;
        float acc = 0.0f;
        for (int p = 0; p < k; ++p) acc += a[row * k + p] * b[p * n + col];
        c[row * n + col] = acc;
    }
    """#

    /// The same product tiled: each 16×16 block stages tiles of `a` and `b` in shared memory,
    /// so every global element is read k/16 times instead of k times.
    public static let tiledMatmulSource = #"""
    #define TILE 16
    extern "C" __global__ void matmul_tiled(const float* a, const float* b, float* c, int m, int n, int k) {
        __shared__ float as[TILE][TILE];
        __shared__ float bs[TILE][TILE];
        int row = blockIdx.y * TILE + threadIdx.y, col = blockIdx.x * TILE + threadIdx.x;
        float acc = 0.0f;
        for (int t = 0; t < (k + TILE - 1) / TILE; ++t) {
            int ac = t * TILE + threadIdx.x, br = t * TILE + threadIdx.y;
            as[threadIdx.y][threadIdx.x] = (row < m && ac < k) ? a[row * k + ac] : 0.0f;
            bs[threadIdx.y][threadIdx.x] = (br < k && col < n) ? b[br * n + col] : 0.0f;
            __syncthreads();
            for (int p = 0; p < TILE; ++p) acc += as[threadIdx.y][p] * bs[p][threadIdx.x];
            __syncthreads();
        }
        if (row < m && col < n) c[row * n + col] = acc;
    }
    """#

    /// Every exercise's (source, kernel name), for compile tests.
    public static let all: [(source: String, name: String)] = [
        (saxpySource, "saxpy"), (histogramSource, "histogram"), (naiveMatmulSource, "matmul_naive"), (tiledMatmulSource, "matmul_tiled"),
    ]

    private static func float32(_ t: Tensor, on backend: CUDABackend, _ op: String) throws -> Tensor {
        guard t.device == backend.device else { throw CUDAError.invalidLaunch("\(op): tensor on \(t.device), kernel on \(backend.device)") }
        return t.dtype == .float32 ? t.contiguous() : t.cast(to: .float32).contiguous()
    }

    /// `alpha * x + y` on the GPU (1-D float32 tensors of one length).
    public static func saxpy(_ alpha: Float, _ x: Tensor, _ y: Tensor, on backend: CUDABackend) throws -> Tensor {
        let xs = try float32(x, on: backend, "saxpy"), ys = try float32(y, on: backend, "saxpy")
        guard xs.elementCount == ys.elementCount else { throw CUDAError.invalidLaunch("saxpy: \(x.shape) and \(y.shape) differ in length") }
        let out = Tensor.empty(xs.shape, device: backend.device)
        let n = xs.elementCount
        try CUDAKernel(source: saxpySource, name: "saxpy", on: backend)
            .launch(grid: (max((n + 255) / 256, 1), 1, 1), block: (256, 1, 1),
                    arguments: [.tensor(xs), .tensor(ys), .tensor(out), .float(alpha), .int32(Int32(n))])
        return out
    }

    /// Bin counts (int32, `bins` long) of `values` over [low, high); values outside are not counted.
    public static func histogram(_ values: Tensor, bins: Int, low: Float, high: Float, on backend: CUDABackend) throws -> Tensor {
        guard bins > 0, bins <= 12_288, high > low else {
            throw CUDAError.invalidLaunch("histogram: needs 1...12288 bins and high > low, got \(bins) bins over [\(low), \(high))")
        }
        let v = try float32(values, on: backend, "histogram")
        let counts = Tensor.zeros([bins], dtype: .int32, device: backend.device)
        let n = v.elementCount
        try CUDAKernel(source: histogramSource, name: "histogram", on: backend)
            .launch(grid: (max(min((n + 255) / 256, backend.multiprocessorCount * 4), 1), 1, 1), block: (256, 1, 1),
                    sharedMemoryBytes: bins * 4,
                    arguments: [.tensor(v), .int32(Int32(n)), .float(low), .float(high), .int32(Int32(bins)), .tensor(counts)])
        return counts
    }

    /// `a · b` for float32 matrices with the naive or the tiled kernel.
    public static func matmul(_ a: Tensor, _ b: Tensor, tiled: Bool, on backend: CUDABackend) throws -> Tensor {
        guard a.shape.count == 2, b.shape.count == 2, a.shape[1] == b.shape[0] else {
            throw CUDAError.invalidLaunch("matmul: lhs \(a.shape) incompatible with rhs \(b.shape)")
        }
        let x = try float32(a, on: backend, "matmul"), y = try float32(b, on: backend, "matmul")
        let (m, k, n) = (a.shape[0], a.shape[1], b.shape[1])
        let out = Tensor.empty([m, n], device: backend.device)
        let name = tiled ? "matmul_tiled" : "matmul_naive"
        try CUDAKernel(source: tiled ? tiledMatmulSource : naiveMatmulSource, name: name, on: backend)
            .launch(grid: (max((n + 15) / 16, 1), max((m + 15) / 16, 1), 1), block: (16, 16, 1),
                    arguments: [.tensor(x), .tensor(y), .tensor(out), .int32(Int32(m)), .int32(Int32(n)), .int32(Int32(k))])
        return out
    }
}

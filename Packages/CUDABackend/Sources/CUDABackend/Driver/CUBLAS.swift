import TensorCore

/// cuBLAS, loaded with `dlopen`: strided batched GEMM in float32, float64, and through
/// `cublasGemmStridedBatchedEx` float16/bfloat16 with float32 accumulation and TF32.
/// Device pointers are passed as 64-bit integers.
final class CUBLAS {
    typealias Handle = OpaquePointer
    typealias SGemm = @convention(c) (Handle?, Int32, Int32, Int32, Int32, Int32, UnsafeRawPointer, UInt64, Int32, Int64,
                                      UInt64, Int32, Int64, UnsafeRawPointer, UInt64, Int32, Int64, Int32) -> Int32
    typealias GemmEx = @convention(c) (Handle?, Int32, Int32, Int32, Int32, Int32, UnsafeRawPointer, UInt64, Int32, Int32, Int64,
                                       UInt64, Int32, Int32, Int64, UnsafeRawPointer, UInt64, Int32, Int32, Int64, Int32, Int32, Int32) -> Int32

    let path: String
    let handle: Handle?
    let sgemm: SGemm
    let dgemm: SGemm
    let gemmEx: GemmEx

    // cuBLAS / CUDA enum values (cublas_api.h, library_types.h).
    static let opN: Int32 = 0, opT: Int32 = 1
    static let r32F: Int32 = 0, r64F: Int32 = 1, r16F: Int32 = 2, r16BF: Int32 = 14
    static let compute32F: Int32 = 68, compute32FFastTF32: Int32 = 77
    static let gemmDefault: Int32 = -1

    convenience init(stream: OpaquePointer?) throws {
        // cuBLAS links against cuBLASLt; make it resolvable when loading from a directory.
        _ = DynamicLibrary.open(CUDALibraryNames.candidates("cublasLt"), global: true)
        let (opened, failures) = DynamicLibrary.open(CUDALibraryNames.candidates("cublas"))
        guard let library = opened else {
            throw CUDAError.unavailable("cuBLAS (libcublas.so) was not found (\(failures.first ?? "no candidates"))")
        }
        try self.init(path: library.path, stream: stream) { library.symbol($0, as: UnsafeMutableRawPointer.self) }
    }

    /// Resolves the functions through `symbol` (dlsym, or a test's stand-ins) and creates a handle on `stream`.
    init(path: String, stream: OpaquePointer?, symbol: (String) -> UnsafeMutableRawPointer?) throws {
        self.path = path
        func load<T>(_ name: String) throws -> T {
            guard let f = symbol(name) else { throw CUDAError.missingSymbol(library: path, symbol: name) }
            return unsafeBitCast(f, to: T.self)
        }
        let create: @convention(c) (UnsafeMutablePointer<Handle?>) -> Int32 = try load("cublasCreate_v2")
        let setStream: @convention(c) (Handle?, OpaquePointer?) -> Int32 = try load("cublasSetStream_v2")
        sgemm = try load("cublasSgemmStridedBatched")
        dgemm = try load("cublasDgemmStridedBatched")
        gemmEx = try load("cublasGemmStridedBatchedEx")
        var h: Handle?
        let status = create(&h)
        guard status == 0 else { throw CUDAError.cublas(call: "cublasCreate_v2", status: status) }
        handle = h
        let streamStatus = setStream(h, stream)
        guard streamStatus == 0 else { throw CUDAError.cublas(call: "cublasSetStream_v2", status: streamStatus) }
    }

    /// Row-major `C[b] = alpha·op(A[b])·op(B[b]) + beta·C[b]` for `batch` matrices, through the
    /// column-major identity `Cᵀ = op(B)ᵀ·op(A)ᵀ`. `lda`, `ldb`, `ldc` are row strides.
    func gemm(dtype: DType, transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
              a: UInt64, lda: Int, strideA: Int, b: UInt64, ldb: Int, strideB: Int,
              c: UInt64, ldc: Int, strideC: Int, batch: Int, beta: Double, tf32: Bool) {
        let ta = transposeB ? Self.opT : Self.opN, tb = transposeA ? Self.opT : Self.opN
        var status: Int32
        switch dtype {
        case .float64:
            var alpha = 1.0, betaValue = beta
            status = dgemm(handle, ta, tb, Int32(n), Int32(m), Int32(k), &alpha, b, Int32(ldb), Int64(strideB),
                           a, Int32(lda), Int64(strideA), &betaValue, c, Int32(ldc), Int64(strideC), Int32(batch))
        case .float32 where !tf32:
            var alpha: Float = 1, betaValue = Float(beta)
            status = sgemm(handle, ta, tb, Int32(n), Int32(m), Int32(k), &alpha, b, Int32(ldb), Int64(strideB),
                           a, Int32(lda), Int64(strideA), &betaValue, c, Int32(ldc), Int64(strideC), Int32(batch))
        default:
            let type: Int32 = dtype == .float16 ? Self.r16F : (dtype == .bfloat16 ? Self.r16BF : Self.r32F)
            let compute = dtype == .float32 ? Self.compute32FFastTF32 : Self.compute32F
            var alpha: Float = 1, betaValue = Float(beta)
            status = gemmEx(handle, ta, tb, Int32(n), Int32(m), Int32(k), &alpha, b, type, Int32(ldb), Int64(strideB),
                            a, type, Int32(lda), Int64(strideA), &betaValue, c, type, Int32(ldc), Int64(strideC),
                            Int32(batch), compute, Self.gemmDefault)
        }
        if status != 0 { fatalError("[matmul] cuBLAS GEMM (\(dtype), m \(m) n \(n) k \(k), batch \(batch)) failed with status \(status)") }
    }
}

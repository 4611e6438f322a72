#if canImport(Glibc)
import Glibc
#endif
import TensorCore
@testable import CUDABackend

/// A stand-in for the CUDA driver and cuBLAS, so the backend's host side runs without a GPU
/// or a C++ compiler: "device" memory is the emulated driver's host memory, modules keep their
/// PTX, launches are recorded (kernels do not run), and cuBLAS GEMMs are computed on the host
/// after checking their arguments as cuBLAS does. What it proves: every launch passes what the kernel's signature takes, and
/// every matrix product reaches cuBLAS with valid and correct parameters.
enum FakeCUDA {
    nonisolated(unsafe) static var modules: [String] = []
    nonisolated(unsafe) static var functions: [(module: Int, name: String)] = []
    nonisolated(unsafe) static var gemmProblems: [String] = []
    nonisolated(unsafe) static var gemmCount = 0

    static func handle(_ index: Int) -> OpaquePointer { OpaquePointer(bitPattern: index + 1)! }
    static func index(_ handle: OpaquePointer?) -> Int { Int(bitPattern: UnsafeRawPointer(handle)) - 1 }
    static func pointer(_ address: UInt64) -> UnsafeMutableRawPointer? { UnsafeMutableRawPointer(bitPattern: UInt(address)) }

    private static func raw<F>(_ f: F) -> UnsafeMutableRawPointer { unsafeBitCast(f, to: UnsafeMutableRawPointer.self) }

    /// The emulated driver's memory, stream, event and device functions, with module loading
    /// and launches replaced: modules keep their PTX, launches are only checked.
    static let driverSymbols: [String: UnsafeMutableRawPointer] = {
        typealias H = OpaquePointer
        var table = EmulatedDriver.driverSymbols
        table["cuModuleLoadData"] = raw({ module, image in
            FakeCUDA.modules.append(String(cString: image.assumingMemoryBound(to: CChar.self)))
            module.pointee = FakeCUDA.handle(FakeCUDA.modules.count - 1); return 0
        } as @convention(c) (UnsafeMutablePointer<H?>, UnsafeRawPointer) -> Int32)
        table["cuModuleGetFunction"] = raw({ function, module, name in
            FakeCUDA.functions.append((FakeCUDA.index(module), String(cString: name)))
            function.pointee = FakeCUDA.handle(FakeCUDA.functions.count - 1); return 0
        } as @convention(c) (UnsafeMutablePointer<H?>, H?, UnsafePointer<CChar>) -> Int32)
        table["cuLaunchKernel"] = raw({ _, gx, gy, gz, bx, by, bz, _, _, _, _ in
            // CUDA_ERROR_INVALID_VALUE for launches a device would refuse.
            (gx == 0 || gy == 0 || gz == 0 || bx * by * bz == 0 || bx * by * bz > 1024) ? 1 : 0
        } as @convention(c) (H?, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, H?,
                             UnsafeMutablePointer<UnsafeMutableRawPointer?>?, UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> Int32)
        return table
    }()

    /// Column-major strided-batched GEMM on host memory, after cuBLAS's argument checks.
    static func gemm<T: BinaryFloatingPoint>(_ type: T.Type, _ ta: Int32, _ tb: Int32, _ m: Int32, _ n: Int32, _ k: Int32,
                                             _ alpha: T, _ a: UInt64, _ lda: Int32, _ sa: Int64, _ b: UInt64, _ ldb: Int32, _ sb: Int64,
                                             _ beta: T, _ c: UInt64, _ ldc: Int32, _ sc: Int64, _ batch: Int32) -> Int32 {
        gemmCount += 1
        let (m, n, k, lda, ldb, ldc) = (Int(m), Int(n), Int(k), Int(lda), Int(ldb), Int(ldc))
        var problems: [String] = []
        if m < 0 || n < 0 || k < 0 || batch < 0 { problems.append("negative size") }
        if lda < max(1, ta == 0 ? m : k) { problems.append("lda \(lda) < \(ta == 0 ? m : k)") }
        if ldb < max(1, tb == 0 ? k : n) { problems.append("ldb \(ldb) < \(tb == 0 ? k : n)") }
        if ldc < max(1, m) { problems.append("ldc \(ldc) < \(m)") }
        guard problems.isEmpty else {
            gemmProblems.append("gemm(m \(m), n \(n), k \(k), ta \(ta), tb \(tb)): " + problems.joined(separator: ", "))
            return 7
        }
        let pa = pointer(a)!.assumingMemoryBound(to: T.self), pb = pointer(b)!.assumingMemoryBound(to: T.self)
        let pc = pointer(c)!.assumingMemoryBound(to: T.self)
        for q in 0..<Int(batch) {
            let A = pa + q * Int(sa), B = pb + q * Int(sb), C = pc + q * Int(sc)
            for j in 0..<n {
                for i in 0..<m {
                    var acc: T = 0
                    for p in 0..<k {
                        let x = ta == 0 ? A[i + p * lda] : A[p + i * lda]
                        let y = tb == 0 ? B[p + j * ldb] : B[j + p * ldb]
                        acc += x * y
                    }
                    C[i + j * ldc] = alpha * acc + (beta == 0 ? 0 : beta * C[i + j * ldc])
                }
            }
        }
        return 0
    }

    static let blasSymbols: [String: UnsafeMutableRawPointer] = {
        typealias H = OpaquePointer
        var table: [String: UnsafeMutableRawPointer] = [:]
        table["cublasCreate_v2"] = raw({ h in h.pointee = FakeCUDA.handle(0); return 0 } as @convention(c) (UnsafeMutablePointer<H?>) -> Int32)
        table["cublasSetStream_v2"] = raw({ _, _ in 0 } as @convention(c) (H?, H?) -> Int32)
        table["cublasSgemmStridedBatched"] = raw({ _, ta, tb, m, n, k, alpha, a, lda, sa, b, ldb, sb, beta, c, ldc, sc, batch in
            FakeCUDA.gemm(Float.self, ta, tb, m, n, k, alpha.load(as: Float.self), a, lda, sa, b, ldb, sb, beta.load(as: Float.self), c, ldc, sc, batch)
        } as CUBLAS.SGemm)
        table["cublasDgemmStridedBatched"] = raw({ _, ta, tb, m, n, k, alpha, a, lda, sa, b, ldb, sb, beta, c, ldc, sc, batch in
            FakeCUDA.gemm(Double.self, ta, tb, m, n, k, alpha.load(as: Double.self), a, lda, sa, b, ldb, sb, beta.load(as: Double.self), c, ldc, sc, batch)
        } as CUBLAS.SGemm)
        table["cublasGemmStridedBatchedEx"] = raw({ _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _ in
            FakeCUDA.gemmProblems.append("GemmEx is not emulated"); return 7
        } as CUBLAS.GemmEx)
        return table
    }()

    /// A backend over the stand-ins (sm_80, the emulated driver's 2 multiprocessors).
    static func backend() throws -> CUDABackend {
        let driver = try DriverAPI(path: "fake libcuda") { driverSymbols[$0] }
        let backend = try CUDABackend(driver: driver, ordinal: 0)
        backend.blasResult = Result { try CUBLAS(path: "fake libcublas", stream: backend.stream) { blasSymbols[$0] } }
        return backend
    }

    /// Byte sizes of an entry's parameters, from its PTX signature.
    static func parameterSizes(ptx: String, kernel: String) -> [Int]? {
        guard let start = ptx.range(of: ".entry \(kernel)(") else { return nil }
        let rest = ptx[start.upperBound...]
        guard let end = rest.firstIndex(of: ")") else { return nil }
        return rest[..<end].split(separator: ",").map { parameter -> Int in
            let text = String(parameter)
            if let open = text.firstIndex(of: "["), let close = text.firstIndex(of: "]") {
                return Int(text[text.index(after: open)..<close]) ?? -1
            }
            for (suffix, size) in [("64", 8), ("32", 4), ("16", 2), ("8", 1)] where text.contains(".u\(suffix) ") || text.contains(".s\(suffix) ")
                || text.contains(".f\(suffix) ") || text.contains(".b\(suffix) ") { return size }
            return -1
        }
    }
}

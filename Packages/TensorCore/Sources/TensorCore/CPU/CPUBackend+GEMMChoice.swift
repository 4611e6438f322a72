import COpenBLAS
import CTesseraKernels
#if canImport(Glibc)
import Glibc
#endif

/// Which float32 GEMM the products (matmul, linear, convolutions) run on, chosen once per
/// process for the CPU it runs on: our kernel (`tessera_sgemm`, AVX2 or AVX-512, with its fused
/// epilogues and stride-reading packing) unless the linked OpenBLAS is clearly faster here.
/// The machines differ: on AMD Zen 4 our kernel beat OpenBLAS, while on an AVX-512 Xeon the
/// AVX2 kernel ran at half OpenBLAS's speed — a kernel tuned on one CPU must never make
/// another slower than the BLAS it links.
///
/// `TESSERA_GEMM=own` or `=openblas` decides without measuring; otherwise the first product
/// times both (a 384³ product on one thread, best of three each, 10-60 ms) and keeps OpenBLAS only when
/// ours takes over 1.25× as long — a margin that noise cannot cross, so that a machine gets
/// the same choice (and the same rounding) run after run.
enum GEMMChoice: Sendable, Equatable {
    /// Our kernel, `bits` wide; `ownSlowdown`: our time over OpenBLAS's where measured.
    case own(bits: Int, ownSlowdown: Double?)
    case openBLAS(ownSlowdown: Double)

    /// The choice of this process (measured at first use).
    static let current: GEMMChoice = choose()

    var usesOwnKernel: Bool { if case .own = self { return true } else { return false } }

    var summary: String {
        switch self {
        case .own(let bits, let slowdown):
            let kernel = bits == 512 ? "tessera AVX-512 6×32" : "tessera AVX2 6×16"
            guard let slowdown else { return kernel + " (TESSERA_GEMM=own)" }
            let hundredths = Int((100 / slowdown).rounded())
            return kernel + " (\(hundredths / 100).\(hundredths % 100 < 10 ? "0" : "")\(hundredths % 100)× OpenBLAS's speed at 384³ on one thread)"
        case .openBLAS(let slowdown):
            if slowdown.isNaN { return "OpenBLAS (TESSERA_GEMM=openblas)" }
            if slowdown.isInfinite { return "OpenBLAS (no AVX2/FMA for tessera_sgemm)" }
            return "OpenBLAS (tessera_sgemm measured \(Int(((slowdown - 1) * 100).rounded())) % slower here)"
        }
    }

    private static func choose() -> GEMMChoice {
        decide(setting: getenv("TESSERA_GEMM").map { String(cString: $0) }, available: tessera_sgemm_available() != 0,
               bits: Int(tessera_sgemm_kernel()), slowdown: measuredSlowdown)
    }

    /// The rule, apart from the machine (tests give it settings and measurements).
    static func decide(setting: String?, available: Bool, bits: Int, slowdown: () -> Double) -> GEMMChoice {
        guard available else { return .openBLAS(ownSlowdown: .infinity) }
        switch setting {
        case "openblas": return .openBLAS(ownSlowdown: .nan)
        case "own": return .own(bits: bits, ownSlowdown: nil)
        default:
            let measured = slowdown()
            return measured > 1.25 ? .openBLAS(ownSlowdown: measured) : .own(bits: bits, ownSlowdown: measured)
        }
    }

    /// Our time over OpenBLAS's for C = A·B at 384³, both on one thread (the kernels compared,
    /// whatever thread or pool task asks first).
    private static func measuredSlowdown() -> Double {
        let n = 384
        openblas_set_num_threads(1)
        defer { openblas_set_num_threads(Int32(CPUThreads.count)) }
        var a = [Float](repeating: 0, count: n * n), b = a, c = a
        for i in 0..<(n * n) { a[i] = Float(i % 7) - 3; b[i] = Float(i % 5) - 2 }
        func best(_ run: () -> Void) -> Double {
            run()                                      // warm-up: pool start, page faults
            var fastest = Double.infinity
            for _ in 0..<3 {
                let start = monotonicSeconds()
                run()
                fastest = Swift.min(fastest, monotonicSeconds() - start)
            }
            return fastest
        }
        let own = best {
            tessera_sgemm(n, n, n, 1, a, n, 1, b, n, 1, 0, &c, n, 1, nil, 0, 1)
        }
        let blas = best {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(n), Int32(n), 1, a, Int32(n),
                        b, Int32(n), 0, &c, Int32(n))
        }
        return own / blas
    }

    private static func monotonicSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }
}

extension CPUBackend {
    /// The float32 GEMM this process's products run on, for benchmark tables and reports
    /// ("tessera AVX-512 6×32", "tessera AVX2 6×16" or "OpenBLAS (…)").
    public static var float32GEMM: String { GEMMChoice.current.summary }
}

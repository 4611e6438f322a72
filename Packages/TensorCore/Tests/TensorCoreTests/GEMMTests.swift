import CTesseraKernels
import Testing
@testable import TensorCore
import TensorCoreTesting

/// The float32 GEMM (CTesseraKernels' gemm.c) against a float64 loop: every edge of the 6×16
/// (AVX2) and 6×32 (AVX-512) register tiles and of the depth blocks, both orientations, every
/// stride layout, beta, alpha, the bias and ReLU epilogue, one and two threads — each kernel
/// forced in turn, the one the CPU lacks shown as skipped.
@Suite("float32 GEMM")
struct GEMMTests {
    /// Reference C = alpha·A·B + beta·C (+ bias, ReLU) in float64.
    func reference(_ m: Int, _ n: Int, _ k: Int, alpha: Float, _ a: [Float], _ rsa: Int, _ csa: Int,
                   _ b: [Float], _ rsb: Int, _ csb: Int, beta: Float, _ c: [Float], _ rsc: Int, _ csc: Int,
                   bias: [Float]?, relu: Bool) -> [Float] {
        var out = c
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k { s += Double(a[i * rsa + p * csa]) * Double(b[p * rsb + j * csb]) }
                var v = Double(alpha) * s + (beta == 0 ? 0 : Double(beta) * Double(c[i * rsc + j * csc]))
                if let bias { v += Double(bias[j]) }
                if relu && v < 0 { v = 0 }
                out[i * rsc + j * csc] = Float(v)
            }
        }
        return out
    }

    func random(_ count: Int, _ seed: inout UInt64) -> [Float] {
        (0..<count).map { _ in
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int(seed >> 40) % 2001 - 1000) / 1000
        }
    }

    /// Runs `body` with this thread's products on the `bits`-wide micro-kernel.
    func withKernel(_ bits: Int32, _ body: () throws -> Void) rethrows {
        #expect(tessera_sgemm_force_kernel(bits) == 1)
        defer { tessera_sgemm_force_kernel(0) }
        try body()
    }

    @Test(.enabled(if: tessera_sgemm_kernel_available(256) != 0, "no AVX2/FMA here: the float32 products run on OpenBLAS"),
          arguments: [1, 2])
    func avx2KernelMatchesFloat64Loops(threads: Int32) throws {
        try withKernel(256) { try matchesFloat64Loops(threads: threads) }
    }

    @Test(.enabled(if: tessera_sgemm_kernel_available(512) != 0, "no AVX-512F here"), arguments: [1, 2])
    func avx512KernelMatchesFloat64Loops(threads: Int32) throws {
        try withKernel(512) { try matchesFloat64Loops(threads: threads) }
    }

    /// Each C element is the same fused multiply-add chain in both kernels (only the number of
    /// columns per register block differs), so their products agree bit for bit: which kernel
    /// the CPU gets changes no result.
    @Test(.enabled(if: tessera_sgemm_kernel_available(512) != 0, "no AVX-512F here"))
    func bothKernelsAgreeBitForBit() {
        var seed: UInt64 = 5
        for (m, n, k) in [(7, 45, 300), (130, 70, 600), (40, 1030, 64)] {
            let a = random(m * k, &seed), b = random(k * n, &seed), bias = random(n, &seed)
            var results: [[Float]] = []
            for bits: Int32 in [256, 512] {
                var c = [Float](repeating: 0, count: m * n)
                withKernel(bits) { tessera_sgemm(m, n, k, 1, a, k, 1, b, n, 1, 0, &c, n, 1, bias, 1, 2) }
                results.append(c)
            }
            #expect(results[0] == results[1], "m \(m) n \(n) k \(k)")
        }
    }

    func matchesFloat64Loops(threads: Int32) throws {
        var seed: UInt64 = 7
        // Sizes straddle the 6-row tiles, the 16- and 32-column tiles and the 256-deep blocks.
        let shapes = [(1, 1, 1), (5, 17, 3), (6, 16, 8), (7, 33, 300), (13, 2, 513), (32, 1024, 20), (200, 40, 9),
                      (2, 300, 64), (67, 71, 260), (3, 31, 17), (12, 64, 5), (9, 95, 33)]
        for (m, n, k) in shapes {
            for layout in 0..<8 {
                let ta = layout & 1 != 0, tb = layout & 2 != 0, tc = layout & 4 != 0
                let a = random(m * k, &seed), b = random(k * n, &seed), c = random(m * n, &seed), bias = random(n, &seed)
                let (rsa, csa) = ta ? (1, m) : (k, 1)
                let (rsb, csb) = tb ? (1, k) : (n, 1)
                let (rsc, csc) = tc ? (1, m) : (n, 1)
                for (alpha, beta, withBias, relu) in [(Float(1), Float(0), false, false), (1, 1, true, true),
                                                      (0.5, -2, false, true), (1, 0, true, false)] {
                    var out = c
                    a.withUnsafeBufferPointer { ap in
                        b.withUnsafeBufferPointer { bp in
                            bias.withUnsafeBufferPointer { biasp in
                                out.withUnsafeMutableBufferPointer { cp in
                                    tessera_sgemm(m, n, k, alpha, ap.baseAddress, rsa, csa, bp.baseAddress, rsb, csb, beta,
                                                  cp.baseAddress, rsc, csc, withBias ? biasp.baseAddress : nil,
                                                  relu ? 1 : 0, threads)
                                }
                            }
                        }
                    }
                    let expected = reference(m, n, k, alpha: alpha, a, rsa, csa, b, rsb, csb, beta: beta, c, rsc, csc,
                                             bias: withBias ? bias : nil, relu: relu)
                    let worst = zip(out, expected).map { abs($0 - $1) / (1 + abs($1)) }.max() ?? 0
                    #expect(worst < 2e-5, "m \(m) n \(n) k \(k) layout \(layout) alpha \(alpha) beta \(beta) bias \(withBias) relu \(relu): error \(worst)")
                }
            }
        }
    }

    /// Operands packed once (the recurrent weights of a sequence) give the same products as
    /// packing on every call, over several depth blocks and split into tasks; large operands
    /// are packed on the pool's threads.
    @Test(.serialized, .enabled(if: tessera_sgemm_kernel_available(256) != 0, "no AVX2/FMA here"), arguments: [1, 2])
    func avx2PrepackedOperandsMatchPackingPerCall(threads: Int32) throws {
        try withKernel(256) { try prepackedOperandsMatchPackingPerCall(threads: threads) }
    }

    @Test(.serialized, .enabled(if: tessera_sgemm_kernel_available(512) != 0, "no AVX-512F here"), arguments: [1, 2])
    func avx512PrepackedOperandsMatchPackingPerCall(threads: Int32) throws {
        try withKernel(512) { try prepackedOperandsMatchPackingPerCall(threads: threads) }
    }

    func prepackedOperandsMatchPackingPerCall(threads: Int32) throws {
        let previous = tessera_pool_threads()
        defer { tessera_pool_set_threads(previous) }
        tessera_pool_set_threads(threads)
        var seed: UInt64 = 11
        for (m, n, k) in [(5, 7, 3), (32, 1024, 260), (1030, 32, 513), (61, 50, 600)] {
            let a = random(m * k, &seed), b = random(k * n, &seed), c = random(m * n, &seed)
            for transposed in [false, true] {
                let (rsa, csa) = transposed ? (1, m) : (k, 1)
                let (rsb, csb) = transposed ? (1, k) : (n, 1)
                var expected = c, withA = c, withB = c
                tessera_sgemm(m, n, k, 1, a, rsa, csa, b, rsb, csb, 1, &expected, n, 1, nil, 0, threads)
                let packedA = UnsafeMutableRawPointer.allocate(byteCount: 4 * tessera_sgemm_packed_a_size(m, k), alignment: 64)
                let packedB = UnsafeMutableRawPointer.allocate(byteCount: 4 * tessera_sgemm_packed_size(k, n), alignment: 64)
                defer { packedA.deallocate(); packedB.deallocate() }
                let pa = packedA.assumingMemoryBound(to: Float.self), pb = packedB.assumingMemoryBound(to: Float.self)
                tessera_sgemm_pack_a(m, k, a, rsa, csa, pa)
                tessera_sgemm_pack_b(k, n, b, rsb, csb, pb)
                tessera_sgemm_packed_a(m, n, k, 1, pa, b, rsb, csb, 1, &withA, n, 1, threads)
                tessera_sgemm_packed(m, n, k, 1, a, rsa, csa, pb, 1, &withB, n, 1, threads)
                #expect(withA == expected, "packed A: m \(m) n \(n) k \(k) transposed \(transposed)")
                #expect(withB == expected, "packed B: m \(m) n \(n) k \(k) transposed \(transposed)")
            }
        }
    }

    /// The products stay on our kernel unless OpenBLAS is clearly faster on this CPU (so that
    /// noise cannot flip the choice between runs); TESSERA_GEMM decides without measuring.
    @Test func productsKeepOurKernelUnlessOpenBLASIsClearlyFaster() {
        #expect(GEMMChoice.decide(setting: nil, available: true, bits: 512) { 1.2 } == .own(bits: 512, ownSlowdown: 1.2))
        #expect(GEMMChoice.decide(setting: nil, available: true, bits: 256) { 1.9 } == .openBLAS(ownSlowdown: 1.9))
        var measured = false
        #expect(GEMMChoice.decide(setting: "own", available: true, bits: 256) { measured = true; return 9 } == .own(bits: 256, ownSlowdown: nil))
        #expect(!GEMMChoice.decide(setting: "openblas", available: true, bits: 256) { measured = true; return 0.5 }.usesOwnKernel)
        #expect(!GEMMChoice.decide(setting: "own", available: false, bits: 256) { measured = true; return 0.5 }.usesOwnKernel)
        #expect(!measured)
        let summary = CPUBackend.float32GEMM
        #expect(summary.hasPrefix("tessera AVX") || summary.hasPrefix("OpenBLAS"), "\(summary)")
    }

    @Test func reluKeepsNaNAndBetaZeroIgnoresGarbage() throws {
        try #require(tessera_sgemm_available() != 0, "no AVX2/FMA here")
        let a: [Float] = [1, -1, .nan, 2]            // 2×2; a NaN fills its row
        let b: [Float] = [1, 0, 0, 1]
        var c: [Float] = [.nan, .infinity, .nan, .nan]  // never read with beta = 0
        tessera_sgemm(2, 2, 2, 1, a, 2, 1, b, 2, 1, 0, &c, 2, 1, nil, 1, 1)
        #expect(c[0] == 1)
        #expect(c[1] == 0)
        #expect(c[2].isNaN)
        #expect(c[3].isNaN)
    }

    /// Tensor-level float32 products (views read in place, broadcast batches, the
    /// batch-parallel path for many small matrices) equal float64's OpenBLAS products.
    @Test func tensorProductsMatchFloat64() {
        let g = RandomGenerator(seed: 3)
        let cases: [(Tensor, Tensor)] = [
            (Tensor.randn([37, 70], generator: g), Tensor.randn([90, 70], generator: g).transposed()),
            (Tensor.randn([70, 37], generator: g).transposed(), Tensor.randn([70, 19], generator: g)),
            (Tensor.randn([96, 12, 8], generator: g), Tensor.randn([96, 8, 12], generator: g)),
            (Tensor.randn([4, 1, 33, 20], generator: g), Tensor.randn([3, 20, 18], generator: g)),
            (Tensor.randn([50, 64], generator: g)[0..<50, 0..<63], Tensor.randn([63, 40], generator: g)),
            // Large enough to be split into tasks: rows with a small repacked B, rows with a
            // large one, few rows split by columns.
            (Tensor.randn([1100, 300], generator: g), Tensor.randn([300, 300], generator: g)),
            (Tensor.randn([520, 300], generator: g), Tensor.randn([900, 300], generator: g).transposed()),
            (Tensor.randn([40, 300], generator: g), Tensor.randn([300, 1100], generator: g)),
        ]
        for (a, b) in cases {
            let f32 = a.cast(to: .float32).matmul(b.cast(to: .float32))
            expectClose(f32.cast(to: .float64), a.matmul(b), tolerance: Tolerance(absolute: 1e-4, relative: 1e-4),
                        "\(a.shape) · \(b.shape)")
        }
    }
}

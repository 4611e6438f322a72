#if canImport(Glibc)
import Glibc
#endif
import Testing
import TensorCore
@testable import CUDABackend

/// The backend's host side against the stand-in driver (FakeCUDA): needs NVRTC (for the PTX
/// signatures), not a GPU.
@Suite("CUDA backend against a stand-in driver", .serialized)
struct FakeDriverTests {
    static var nvrtcPresent: Bool { if case .success = KernelCompilationTests.compiler { return true } else { return false } }

    /// Every requirement of `Backend`, on contiguous and strided operands of several dtypes.
    func exerciseEveryRequirement(_ b: CUDABackend) {
        for dtype in [DType.float32, .float64, .float16, .int64, .bool] {
            let x = b.makeOperand(shape: [4, 6], dtype: dtype), y = b.makeOperand(shape: [4, 6], dtype: dtype)
            let out = b.makeOperand(shape: [4, 6], dtype: dtype)
            let transposed = b.makeOperand(shape: [6, 4], dtype: dtype).with(layout: Layout(shape: [4, 6], strides: [1, 4]))
            let row = b.makeOperand(shape: [6], dtype: dtype).with(layout: Layout(shape: [4, 6], strides: [0, 1]))
            b.fill(x, with: 1)
            b.fill(transposed, with: 2)
            b.copy(transposed, into: out)
            b.copy(x, into: b.makeOperand(shape: [4, 6], dtype: .float32))
            let bools = b.makeOperand(shape: [4, 6], dtype: .bool)
            b.unary(.logicalNot, x, into: bools)
            if dtype != .bool {
                b.unary(.negate, transposed, into: out)
                b.unary(.clamp(min: 0, max: 1), x, into: out)
                b.binary(.add, x, row, into: out)
                b.binary(.maximum, transposed, y, into: out)
                b.binary(.less, x, row, into: bools)
                b.binary(.multiply, x, scalar: 3, scalarIsLeft: true, into: out)
                b.binary(.subtract, x, y, into: out)
                b.binary(.divide, transposed, scalar: 2, scalarIsLeft: false, into: out)
                b.binary(.greaterEqual, x, scalar: 0, scalarIsLeft: false, into: bools)
                b.reduce(.sum, x, axes: [1], into: b.makeOperand(shape: [4, 1], dtype: dtype))
                b.reduce(.max, transposed, axes: [0, 1], into: b.makeOperand(shape: [1, 1], dtype: dtype))
                let many = b.makeOperand(shape: [4096, 3], dtype: dtype)
                b.reduce(.sum, many, axes: [1], into: b.makeOperand(shape: [4096, 1], dtype: dtype))
                b.argReduce(.argmax, transposed, axis: 1, into: b.makeOperand(shape: [4, 1], dtype: .int64))
                b.cumulativeSum(x, axis: 0, into: out)
                b.sort(transposed, axis: 1, descending: true, values: out, indices: b.makeOperand(shape: [4, 6], dtype: .int64))
            }
            b.select(bools, x, row, into: out)
            let index = b.makeOperand(shape: [4, 2], dtype: .int64)
            b.fill(index, with: 1)
            b.gather(x, axis: 1, index: index, into: b.makeOperand(shape: [4, 2], dtype: dtype))
            b.scatterAdd(b.makeOperand(shape: [4, 2], dtype: dtype), axis: 1, index: index, into: out)
            let indices = b.makeOperand(shape: [3], dtype: .int64)
            b.fill(indices, with: 0)
            b.indexSelect(x, axis: 0, indices: indices, into: b.makeOperand(shape: [3, 6], dtype: dtype))
            b.indexAdd(b.makeOperand(shape: [3, 6], dtype: dtype), axis: 0, indices: indices, into: out)
        }
        for dtype in [DType.float32, .float64, .bfloat16] {
            let x = b.makeOperand(shape: [5, 7], dtype: dtype), out = b.makeOperand(shape: [5, 7], dtype: dtype)
            b.fillRandom(x, distribution: .normal(mean: 0, standardDeviation: 1), seed: 1, counter: 0)
            b.fillRandom(x.with(layout: Layout(shape: [7, 5], strides: [1, 7])), distribution: .uniform(low: 0, high: 1), seed: 1, counter: 0)
            b.softmax(x, axis: 1, log: false, into: out)
            b.softmax(x, axis: 1, log: true, into: out)
            let gates = b.makeOperand(shape: [5, 8], dtype: dtype), state = b.makeOperand(shape: [5, 2], dtype: dtype)
            let pair = b.makeOperand(shape: [2, 5, 2], dtype: dtype), three = b.makeOperand(shape: [5, 6], dtype: dtype)
            b.lstmCell(gates: gates, cell: state, into: pair)
            b.lstmCellBackward(gates: gates, cell: state, newCell: state, gradient: pair, gatesGradient: b.makeOperand(shape: [5, 8], dtype: dtype),
                               cellGradient: b.makeOperand(shape: [5, 2], dtype: dtype))
            b.gruCell(inputGates: three, hiddenGates: three, hidden: state, into: b.makeOperand(shape: [5, 2], dtype: dtype))
            b.gruCellBackward(inputGates: three, hiddenGates: three, hidden: state, gradient: state,
                              inputGatesGradient: b.makeOperand(shape: [5, 6], dtype: dtype),
                              hiddenGatesGradient: b.makeOperand(shape: [5, 6], dtype: dtype), hiddenGradient: b.makeOperand(shape: [5, 2], dtype: dtype))
            if dtype != .bfloat16 {  // the stand-in cuBLAS has no GemmEx
                let q = b.makeOperand(shape: [2, 5, 7], dtype: dtype), p = b.makeOperand(shape: [2, 5, 5], dtype: dtype)
                let o = b.makeOperand(shape: [2, 5, 7], dtype: dtype)
                b.attention(query: q, key: q, value: q, scale: 0.5, causal: true, into: o, probabilities: p)
                b.attentionBackward(query: q, key: q, value: q, probabilities: p, gradient: o, scale: 0.5, causal: true,
                                    gradQuery: b.makeOperand(shape: [2, 5, 7], dtype: dtype), gradKey: b.makeOperand(shape: [2, 5, 7], dtype: dtype),
                                    gradValue: b.makeOperand(shape: [2, 5, 7], dtype: dtype))
            }
            b.layerNorm(x, epsilon: 1e-5, into: out)
            b.layerNormBackward(x, normalized: out, gradient: x, epsilon: 1e-5, into: out)
            let targets = b.makeOperand(shape: [5], dtype: .int64)
            b.fill(targets, with: 0)
            b.crossEntropy(logits: x, targets: targets, into: b.makeOperand(shape: [5], dtype: dtype))
            let m = b.makeOperand(shape: [5, 7], dtype: dtype), v = b.makeOperand(shape: [5, 7], dtype: dtype)
            b.adamUpdate(parameter: x, gradient: x, firstMoment: m, secondMoment: v, maxSecondMoment: nil,
                         hyperparameters: AdamHyperparameters(learningRate: 0.1, step: 1), into: out)
            b.adamUpdate(parameter: x, gradient: x, firstMoment: m, secondMoment: v, maxSecondMoment: b.makeOperand(shape: [5, 7], dtype: dtype),
                         hyperparameters: AdamHyperparameters(learningRate: 0.1, weightDecay: 0.1, step: 2), into: out)
            b.sgdUpdate(parameter: x, gradient: x, momentumBuffer: m, firstStep: true,
                        hyperparameters: SGDHyperparameters(learningRate: 0.1, momentum: 0.9), into: out)
            b.sgdUpdate(parameter: x, gradient: x, momentumBuffer: nil, firstStep: false,
                        hyperparameters: SGDHyperparameters(learningRate: 0.1), into: out)
        }
        for dtype in [DType.float32, .float64] {
            let x = b.makeOperand(shape: [2, 4, 9, 8], dtype: dtype), w = b.makeOperand(shape: [6, 2, 3, 3], dtype: dtype)
            let g = ConvolutionGeometry(stride: (2, 1), padding: (1, 1), dilation: (1, 2), groups: 2)
            let oh = ConvolutionGeometry.outputSize(9, kernel: 3, stride: 2, padding: 1, dilation: 1)
            let ow = ConvolutionGeometry.outputSize(8, kernel: 3, stride: 1, padding: 1, dilation: 2)
            let y = b.makeOperand(shape: [2, 6, oh, ow], dtype: dtype)
            b.conv2d(x, weight: w, geometry: g, into: y)
            b.conv2dInputGradient(y, weight: w, geometry: g, into: x)
            b.conv2dWeightGradient(x, gradient: y, geometry: g, into: w)
            b.maxPool2d(x, kernel: (2, 2), stride: (2, 2), padding: (1, 0), into: b.makeOperand(shape: [2, 4, 5, 4], dtype: dtype),
                        indices: b.makeOperand(shape: [2, 4, 5, 4], dtype: .int64))
        }
    }

    @Test(.enabled(if: nvrtcPresent)) func everyLaunchPassesWhatTheKernelSignatureTakes() throws {
        let b = try FakeCUDA.backend()
        var launches: [(OpaquePointer, [Int])] = []
        CUDABackend.launchObserver = { backend, function, sizes in if backend === b { launches.append((function, sizes)) } }
        defer { CUDABackend.launchObserver = nil }
        exerciseEveryRequirement(b)
        #expect(launches.count > 100)
        var seen = Set<String>()
        for (function, sizes) in launches {
            let entry = FakeCUDA.functions[FakeCUDA.index(function)]
            let expected = FakeCUDA.parameterSizes(ptx: FakeCUDA.modules[entry.module], kernel: entry.name)
            #expect(expected == sizes, "\(entry.name): launched with argument sizes \(sizes), the PTX takes \(expected ?? [])")
            seen.insert(entry.name)
        }
        // Every kernel of the backend's modules was launched at least once.
        let all = Set(KernelModule.allCases.flatMap(CUDAKernelNames.names(in:)))
        #expect(seen == all, "never launched: \(all.subtracting(seen).sorted())")
        #expect(FakeCUDA.gemmProblems.isEmpty, "\(FakeCUDA.gemmProblems)")
    }

    private func upload(_ b: CUDABackend, _ t: Tensor) -> Operand {
        let o = b.makeOperand(shape: t.shape, dtype: t.dtype)
        let bytes = t.contiguous().scalars(as: Double.self)
        if t.dtype == .float64 { bytes.withUnsafeBytes { b.copyFromHost($0, into: o.storage) } }
        else { bytes.map { Float($0) }.withUnsafeBytes { b.copyFromHost($0, into: o.storage) } }
        return o
    }

    private func download(_ b: CUDABackend, _ o: Operand) -> [Double] {
        let count = o.storage.byteCount / o.dtype.byteSize
        if o.dtype == .float64 {
            var host = [Double](repeating: 0, count: count)
            host.withUnsafeMutableBytes { b.copyToHost(o.storage, byteCount: count * 8, into: $0) }
            return host
        }
        var host = [Float](repeating: 0, count: count)
        host.withUnsafeMutableBytes { b.copyToHost(o.storage, byteCount: count * 4, into: $0) }
        return host.map(Double.init)
    }

    /// Views cuBLAS reads in place (transposed operands, broadcast batches, accumulation)
    /// give the CPU's products: the row-major ↔ column-major mapping is right.
    @Test(.enabled(if: nvrtcPresent)) func matrixProductsReachCuBLASCorrectly() throws {
        let b = try FakeCUDA.backend()
        let g = RandomGenerator(seed: 4)
        for dtype in [DType.float32, .float64] {
            let tolerance = dtype == .float64 ? 1e-12 : 1e-4
            // [3, 5, 4] x [4, 6]: the right operand broadcast over the batch (batch stride 0).
            let a = Tensor.randn([3, 5, 4], dtype: dtype, generator: g), w = Tensor.randn([4, 6], dtype: dtype, generator: g)
            let out = b.makeOperand(shape: [3, 5, 6], dtype: dtype)
            b.matmul(upload(b, a), upload(b, w).with(layout: Layout(shape: [3, 4, 6], strides: [0, 6, 1])), into: out)
            let expected = a.matmul(w).scalars(as: Double.self)
            #expect(zip(download(b, out), expected).allSatisfy { abs($0 - $1) < tolerance })
            // aᵀ · c through transposed views of contiguous [4, 5] and [7, 4] buffers, accumulated.
            let at = Tensor.randn([4, 5], dtype: dtype, generator: g), ct = Tensor.randn([7, 4], dtype: dtype, generator: g)
            let acc = Tensor.randn([5, 7], dtype: dtype, generator: g)
            let result = upload(b, acc)
            b.matmul(upload(b, at).with(layout: Layout(shape: [5, 4], strides: [1, 5])),
                     upload(b, ct).with(layout: Layout(shape: [4, 7], strides: [1, 4])), into: result, accumulate: true)
            let reference = (acc + at.transposed().matmul(ct.transposed())).scalars(as: Double.self)
            #expect(zip(download(b, result), reference).allSatisfy { abs($0 - $1) < tolerance })
            // A vector times a matrix (m = 1) and a matrix times a column (n = 1).
            let v = Tensor.randn([1, 4], dtype: dtype, generator: g)
            let vo = b.makeOperand(shape: [1, 6], dtype: dtype)
            b.matmul(upload(b, v), upload(b, w), into: vo)
            #expect(zip(download(b, vo), v.matmul(w).scalars(as: Double.self)).allSatisfy { abs($0 - $1) < tolerance })
            let column = Tensor.randn([6, 1], dtype: dtype, generator: g)
            let co = b.makeOperand(shape: [4, 1], dtype: dtype)
            b.matmul(upload(b, w), upload(b, column), into: co)
            #expect(zip(download(b, co), w.matmul(column).scalars(as: Double.self)).allSatisfy { abs($0 - $1) < tolerance })
        }
        #expect(FakeCUDA.gemmProblems.isEmpty, "\(FakeCUDA.gemmProblems)")
    }

    @Test(.enabled(if: nvrtcPresent)) func allocatorReusesAndCountsBlocks() throws {
        let b = try FakeCUDA.backend()
        let start = b.memoryStatistics
        do { _ = b.allocate(byteCount: 3 << 20) }
        let first = b.memoryStatistics
        #expect(first.deviceAllocations == start.deviceAllocations + 1 && first.bytesCached == start.bytesCached + (4 << 20))
        do { _ = b.allocate(byteCount: (3 << 20) + 100) }
        let second = b.memoryStatistics
        #expect(second.deviceAllocations == first.deviceAllocations && second.cacheHits == first.cacheHits + 1)
        #expect(second.peakBytesInUse >= 4 << 20 && second.bytesInUse == start.bytesInUse)
        b.emptyCache()
        #expect(b.memoryStatistics.bytesCached == 0)
    }
}

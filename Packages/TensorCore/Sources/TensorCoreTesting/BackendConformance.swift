import Testing
import TensorCore

/// Kernel-level checks every backend must pass, against naive references computed on the
/// host in Double. Generic over the backend and the floating dtype:
/// `BackendConformance(backend: CPUBackend.shared, dtype: .float32).run()`.
public struct BackendConformance {
    public let backend: any Backend
    public let dtype: DType
    public let tolerance: Tolerance

    public init(backend: any Backend, dtype: DType, tolerance: Tolerance? = nil) {
        self.backend = backend
        self.dtype = dtype
        self.tolerance = tolerance ?? (dtype == .float64 ? Tolerance(absolute: 1e-12, relative: 1e-12)
                                                          : Tolerance(absolute: 1e-5, relative: 1e-5))
    }

    // MARK: host <-> backend

    /// Uploads `values` (converted to `type`) as a contiguous operand.
    public func upload(_ values: [Double], shape: [Int], type: DType? = nil) -> Operand {
        let host = Tensor(values, shape: shape).cast(to: type ?? dtype)
        let operand = backend.makeOperand(shape: shape, dtype: host.dtype)
        let raw = rawBytes(host)
        raw.withUnsafeBytes { backend.copyFromHost($0, into: operand.storage) }
        return operand
    }

    private func rawBytes(_ t: Tensor) -> [UInt8] {
        let c = t.contiguous()
        let count = c.elementCount * c.dtype.byteSize
        let op = c.operand
        var out = [UInt8](repeating: 0, count: count)
        out.withUnsafeMutableBytes { dst in
            dst.copyMemory(from: UnsafeRawBufferPointer(start: op.storage.pointer + op.layout.offset * c.dtype.byteSize, count: count))
        }
        return out
    }

    /// Reads an operand back (any layout) as Double, row-major.
    public func download(_ operand: Operand) -> [Double] {
        let contiguous = backend.makeOperand(shape: operand.shape, dtype: operand.dtype)
        backend.copy(operand, into: contiguous)
        let byteCount = operand.elementCount * operand.dtype.byteSize
        var bytes = [UInt8](repeating: 0, count: Swift.max(byteCount, 1))
        bytes.withUnsafeMutableBytes { backend.copyToHost(contiguous.storage, byteCount: byteCount, into: $0) }
        let host = Tensor.zeros(operand.shape, dtype: operand.dtype)
        bytes.withUnsafeBytes { CPUBackend.shared.copyFromHost(UnsafeRawBufferPointer(rebasing: $0[0..<byteCount]), into: host.operand.storage) }
        return host.scalars(as: Double.self)
    }

    func expect(_ operand: Operand, _ expected: [Double], _ what: String, tolerance: Tolerance? = nil,
                sourceLocation: SourceLocation) {
        let actual = download(operand)
        if let m = findMismatch(actual, expected, shape: operand.shape, tolerance: tolerance ?? self.tolerance) {
            Issue.record(Comment(rawValue: "[\(backend.name), \(dtype)] \(what): \(m)"), sourceLocation: sourceLocation)
        }
    }

    static func values(_ count: Int, seed: Int) -> [Double] {
        (0..<count).map { (i: Int) -> Double in
            let k: Int = ((i + 1) * 7919 + seed * 104_729) % 2001
            return Double(k) / 1000.0 - 1.0
        }
    }

    // MARK: the suite

    public func run(sourceLocation: SourceLocation = #_sourceLocation) {
        memoryAndCopies(sourceLocation)
        elementwise(sourceLocation)
        reductions(sourceLocation)
        matmul(sourceLocation)
        indexing(sourceLocation)
        fused(sourceLocation)
        random(sourceLocation)
        optimizerUpdates(sourceLocation)
    }

    /// The backend's optimizer kernels against the composed defaults, over three steps.
    func optimizerUpdates(_ loc: SourceLocation) {
        let n = 37
        let p0 = Self.values(n, seed: 11), g = upload(Self.values(n, seed: 12), shape: [n])
        func fresh(_ values: [Double]) -> Operand { upload(values, shape: [n]) }
        var pa = fresh(p0), pb = fresh(p0)
        let ma = fresh([Double](repeating: 0, count: n)), mb = fresh([Double](repeating: 0, count: n))
        let va = fresh([Double](repeating: 0, count: n)), vb = fresh([Double](repeating: 0, count: n))
        let xa = fresh([Double](repeating: 0, count: n)), xb = fresh([Double](repeating: 0, count: n))
        for step in 1...3 {
            let h = AdamHyperparameters(learningRate: 0.01, weightDecay: 0.1, decoupledWeightDecay: step % 2 == 0, step: step)
            let na = backend.makeOperand(shape: [n], dtype: dtype), nb = backend.makeOperand(shape: [n], dtype: dtype)
            backend.adamUpdate(parameter: pa, gradient: g, firstMoment: ma, secondMoment: va, maxSecondMoment: xa,
                               hyperparameters: h, into: na)
            backend.composedAdamUpdate(parameter: pb, gradient: g, firstMoment: mb, secondMoment: vb, maxSecondMoment: xb,
                                       hyperparameters: h, into: nb)
            pa = na; pb = nb
        }
        expect(pa, download(pb), "adamUpdate vs composed", tolerance: Tolerance(absolute: 1e-6, relative: 1e-5), sourceLocation: loc)
        var sa = fresh(p0), sb = fresh(p0)
        let ba = fresh([Double](repeating: 0, count: n)), bb = fresh([Double](repeating: 0, count: n))
        for step in 1...3 {
            let h = SGDHyperparameters(learningRate: 0.1, momentum: 0.9, dampening: 0.1, nesterov: step == 3, weightDecay: 0.01)
            let na = backend.makeOperand(shape: [n], dtype: dtype), nb = backend.makeOperand(shape: [n], dtype: dtype)
            backend.sgdUpdate(parameter: sa, gradient: g, momentumBuffer: ba, firstStep: step == 1, hyperparameters: h, into: na)
            backend.composedSGDUpdate(parameter: sb, gradient: g, momentumBuffer: bb, firstStep: step == 1, hyperparameters: h, into: nb)
            sa = na; sb = nb
        }
        expect(sa, download(sb), "sgdUpdate vs composed", tolerance: Tolerance(absolute: 1e-6, relative: 1e-5), sourceLocation: loc)
    }

    func memoryAndCopies(_ loc: SourceLocation) {
        let a = upload(Self.values(6, seed: 1), shape: [2, 3])
        let transposed = a.with(layout: Layout(shape: [3, 2], strides: [1, 3]))
        let out = backend.makeOperand(shape: [3, 2], dtype: dtype)
        backend.copy(transposed, into: out)
        let v = Self.values(6, seed: 1)
        expect(out, [v[0], v[3], v[1], v[4], v[2], v[5]], "strided copy", sourceLocation: loc)
        let ints = backend.makeOperand(shape: [2, 3], dtype: .int32)
        backend.copy(upload([1.0, -2, 3, 4, 5, -6], shape: [2, 3]), into: ints)
        expect(ints, [1, -2, 3, 4, 5, -6], "cast to int32", sourceLocation: loc)
        backend.fill(out, with: 2.5)
        expect(out, [Double](repeating: 2.5, count: 6), "fill", sourceLocation: loc)
    }

    func elementwise(_ loc: SourceLocation) {
        let v = Self.values(12, seed: 2)
        let x = upload(v, shape: [3, 4])
        let cases: [(UnaryOp, (Double) -> Double)] = [
            (.exp, { Foundation_exp($0) }), (.negate, { -$0 }), (.abs, { Swift.abs($0) }),
            (.tanh, { Foundation_tanh($0) }), (.sigmoid, { 1 / (1 + Foundation_exp(-$0)) }),
            (.relu, { Swift.max($0, 0) }), (.square, { $0 * $0 }),
        ]
        for (op, f) in cases {
            let out = backend.makeOperand(shape: [3, 4], dtype: dtype)
            backend.unary(op, x, into: out)
            expect(out, v.map(f), "unary \(op)", sourceLocation: loc)
        }
        let w = Self.values(4, seed: 3)
        let row = upload(w, shape: [4])
        let broadcastRow = row.with(layout: Layout(shape: [3, 4], strides: [0, 1]))
        let sum = backend.makeOperand(shape: [3, 4], dtype: dtype)
        backend.binary(.add, x, broadcastRow, into: sum)
        expect(sum, (0..<12).map { v[$0] + w[$0 % 4] }, "broadcast add", sourceLocation: loc)
        let less = backend.makeOperand(shape: [3, 4], dtype: .bool)
        backend.binary(.less, x, broadcastRow, into: less)
        expect(less, (0..<12).map { v[$0] < w[$0 % 4] ? 1 : 0 }, "broadcast less", sourceLocation: loc)
        let scaled = backend.makeOperand(shape: [3, 4], dtype: dtype)
        backend.binary(.subtract, x, scalar: 2, scalarIsLeft: true, into: scaled)
        expect(scaled, v.map { 2 - $0 }, "scalar on the left", sourceLocation: loc)
        let chosen = backend.makeOperand(shape: [3, 4], dtype: dtype)
        backend.select(less, x, broadcastRow, into: chosen)
        expect(chosen, (0..<12).map { v[$0] < w[$0 % 4] ? v[$0] : w[$0 % 4] }, "select", sourceLocation: loc)
    }

    func reductions(_ loc: SourceLocation) {
        let v = Self.values(24, seed: 4)
        let x = upload(v, shape: [2, 3, 4])
        func reference(_ axes: Set<Int>, _ combine: (Double, Double) -> Double) -> [Double] {
            var result: [Int: Double] = [:]
            for i in 0..<24 {
                let c = [i / 12, (i / 4) % 3, i % 4]
                let key = (axes.contains(0) ? 0 : c[0]) * 100 + (axes.contains(1) ? 0 : c[1]) * 10 + (axes.contains(2) ? 0 : c[2])
                result[key] = result[key].map { combine($0, v[i]) } ?? v[i]
            }
            return result.keys.sorted().map { result[$0]! }
        }
        for axes in [[0], [1], [2], [0, 2], [0, 1, 2]] {
            var shape = [2, 3, 4]
            for a in axes { shape[a] = 1 }
            let out = backend.makeOperand(shape: shape, dtype: dtype)
            backend.reduce(.sum, x, axes: axes, into: out)
            expect(out, reference(Set(axes), +), "sum over \(axes)", sourceLocation: loc)
            backend.reduce(.max, x, axes: axes, into: out)
            expect(out, reference(Set(axes), Swift.max), "max over \(axes)", sourceLocation: loc)
        }
        let arg = backend.makeOperand(shape: [2, 1, 4], dtype: .int64)
        backend.argReduce(.argmin, x, axis: 1, into: arg)
        var expectedArg: [Double] = []
        for i in 0..<2 { for k in 0..<4 {
            let column = (0..<3).map { v[i * 12 + $0 * 4 + k] }
            expectedArg.append(Double(column.firstIndex(of: column.min()!)!))
        } }
        expect(arg, expectedArg, "argmin", sourceLocation: loc)
        let running = backend.makeOperand(shape: [2, 3, 4], dtype: dtype)
        backend.cumulativeSum(x, axis: 2, into: running)
        expect(running, (0..<24).map { i in (0...(i % 4)).reduce(0.0) { $0 + v[i - i % 4 + $1] } }, "cumulative sum", sourceLocation: loc)
    }

    func matmul(_ loc: SourceLocation) {
        let (m, k, n) = (3, 5, 4)
        let av = Self.values(2 * m * k, seed: 5), bv = Self.values(k * n, seed: 6)
        let a = upload(av, shape: [2, m, k])
        // b stored as [n, k] and read transposed: exercises the no-copy transposed path.
        var bt = [Double](repeating: 0, count: k * n)
        for p in 0..<k { for j in 0..<n { bt[j * k + p] = bv[p * n + j] } }
        let b = upload(bt, shape: [n, k]).with(layout: Layout(shape: [2, k, n], strides: [0, 1, k]))
        let out = backend.makeOperand(shape: [2, m, n], dtype: dtype)
        backend.matmul(a, b, into: out)
        var expected: [Double] = []
        for batch in 0..<2 { for i in 0..<m { for j in 0..<n {
            expected.append((0..<k).reduce(0.0) { $0 + av[batch * m * k + i * k + $1] * bv[$1 * n + j] })
        } } }
        expect(out, expected, "batched matmul with transposed rhs", sourceLocation: loc)
    }

    func indexing(_ loc: SourceLocation) {
        let v = Self.values(12, seed: 7)
        let x = upload(v, shape: [3, 4])
        let index = upload([0, 3, 2, 2, 1, 0], shape: [3, 2], type: .int64)
        let gathered = backend.makeOperand(shape: [3, 2], dtype: dtype)
        backend.gather(x, axis: 1, index: index, into: gathered)
        expect(gathered, [v[0], v[3], v[6], v[6], v[9], v[8]], "gather", sourceLocation: loc)
        let acc = upload([Double](repeating: 0, count: 12), shape: [3, 4])
        backend.scatterAdd(gathered, axis: 1, index: index, into: acc)
        expect(acc, [v[0], 0, 0, v[3], 0, 0, 2 * v[6], 0, v[8], v[9], 0, 0], "scatterAdd", sourceLocation: loc)
        let rows = upload([2, 0], shape: [2], type: .int64)
        let selected = backend.makeOperand(shape: [2, 4], dtype: dtype)
        backend.indexSelect(x, axis: 0, indices: rows, into: selected)
        expect(selected, Array(v[8..<12]) + Array(v[0..<4]), "indexSelect", sourceLocation: loc)
        let values = backend.makeOperand(shape: [3, 4], dtype: dtype)
        let order = backend.makeOperand(shape: [3, 4], dtype: .int64)
        backend.sort(x, axis: 1, descending: false, values: values, indices: order)
        var sorted: [Double] = [], indices: [Double] = []
        for r in 0..<3 {
            let row = Array(v[(r * 4)..<(r * 4 + 4)])
            let o = row.indices.sorted { row[$0] < row[$1] || (row[$0] == row[$1] && $0 < $1) }
            sorted += o.map { row[$0] }
            indices += o.map(Double.init)
        }
        expect(values, sorted, "sort values", sourceLocation: loc)
        expect(order, indices, "sort indices", sourceLocation: loc)
    }

    func fused(_ loc: SourceLocation) {
        let v = Self.values(12, seed: 8).map { $0 * 5 }
        let x = upload(v, shape: [3, 4])
        let out = backend.makeOperand(shape: [3, 4], dtype: dtype)
        backend.softmax(x, axis: 1, log: false, into: out)
        var expected: [Double] = []
        for r in 0..<3 {
            let row = v[(r * 4)..<(r * 4 + 4)]
            let m = row.max()!
            let total = row.reduce(0.0) { $0 + Foundation_exp($1 - m) }
            expected += row.map { Foundation_exp($0 - m) / total }
        }
        expect(out, expected, "softmax", sourceLocation: loc)
        backend.layerNorm(x, epsilon: 1e-5, into: out)
        expected = []
        for r in 0..<3 {
            let row = Array(v[(r * 4)..<(r * 4 + 4)])
            let mean = row.reduce(0, +) / 4
            let variance = row.reduce(0.0) { $0 + ($1 - mean) * ($1 - mean) } / 4
            expected += row.map { ($0 - mean) / (variance + 1e-5).squareRoot() }
        }
        expect(out, expected, "layerNorm", tolerance: Tolerance(absolute: 1e-4, relative: 1e-4), sourceLocation: loc)
        let targets = upload([1, 3, 0], shape: [3], type: .int64)
        let losses = backend.makeOperand(shape: [3], dtype: dtype)
        backend.crossEntropy(logits: x, targets: targets, into: losses)
        expected = (0..<3).map { r in
            let row = v[(r * 4)..<(r * 4 + 4)]
            let m = row.max()!
            return Foundation_log(row.reduce(0.0) { $0 + Foundation_exp($1 - m) }) + m - v[r * 4 + [1, 3, 0][r]]
        }
        expect(losses, expected, "crossEntropy", sourceLocation: loc)
    }

    func random(_ loc: SourceLocation) {
        let long = backend.makeOperand(shape: [1000], dtype: dtype)
        let short = backend.makeOperand(shape: [7], dtype: dtype)
        backend.fillRandom(long, distribution: .normal(mean: 0, standardDeviation: 1), seed: 42, counter: 0)
        backend.fillRandom(short, distribution: .normal(mean: 0, standardDeviation: 1), seed: 42, counter: 0)
        let l = download(long)
        expect(short, Array(l.prefix(7)), "random prefix is independent of the count", tolerance: Tolerance(absolute: 0, relative: 0), sourceLocation: loc)
        let mean = l.reduce(0, +) / 1000
        let variance = l.reduce(0.0) { $0 + ($1 - mean) * ($1 - mean) } / 1000
        if Swift.abs(mean) > 0.15 || Swift.abs(variance - 1) > 0.15 {
            Issue.record(Comment(rawValue: "[\(backend.name)] normal moments off: mean \(mean), variance \(variance)"), sourceLocation: loc)
        }
    }
}

#if canImport(Glibc)
import Glibc
func Foundation_exp(_ x: Double) -> Double { Glibc.exp(x) }
func Foundation_tanh(_ x: Double) -> Double { Glibc.tanh(x) }
func Foundation_log(_ x: Double) -> Double { Glibc.log(x) }
#endif

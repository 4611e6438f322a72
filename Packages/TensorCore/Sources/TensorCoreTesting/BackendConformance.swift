import Testing
import TensorCore

/// Kernel-level checks of every backend requirement, against references computed on the host
/// in Double or the reference formulas run on the CPU in float64. Generic over the backend and
/// the floating dtype: `BackendConformance(backend: CPUBackend.shared, dtype: .float32).run()`.
/// Register the backend for its device first (the reference formulas make tensors there);
/// WritingABackend.md describes what a backend implements.
public struct BackendConformance {
    /// The backend under test.
    public let backend: any Backend
    /// The floating-point type the suite runs in.
    public let dtype: DType
    /// How close results must come to the references (the dtype's default unless given).
    public let tolerance: Tolerance

    /// A suite for `backend` in `dtype`.
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
        var out = [UInt8](repeating: 0, count: count)
        c.withOperand { op in
            out.withUnsafeMutableBytes { dst in
                dst.copyMemory(from: UnsafeRawBufferPointer(start: op.storage.pointer + op.layout.offset * c.dtype.byteSize, count: count))
            }
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
        var host = Tensor.zeros(operand.shape, dtype: operand.dtype)
        let destination = host.uniqueOperand().storage
        bytes.withUnsafeBytes { CPUBackend.shared.copyFromHost(UnsafeRawBufferPointer(rebasing: $0[0..<byteCount]), into: destination) }
        return host.scalars(as: Double.self)
    }

    func expect(_ operand: Operand, _ expected: [Double], _ what: String, tolerance: Tolerance? = nil,
                sourceLocation: SourceLocation) {
        let actual = download(operand)
        if let m = findMismatch(actual, expected, shape: operand.shape, tolerance: effective(tolerance)) {
            Issue.record(Comment(rawValue: "[\(backend.name), \(dtype)] \(what): \(m)"), sourceLocation: sourceLocation)
        }
    }

    /// A check's own tolerance, never tighter than the suite's (which reduced precision widens).
    func effective(_ given: Tolerance?) -> Tolerance {
        guard let given else { return tolerance }
        return Tolerance(absolute: Swift.max(given.absolute, tolerance.absolute), relative: Swift.max(given.relative, tolerance.relative))
    }

    static func values(_ count: Int, seed: Int) -> [Double] {
        (0..<count).map { (i: Int) -> Double in
            let k: Int = ((i + 1) * 7919 + seed * 104_729) % 2001
            return Double(k) / 1000.0 - 1.0
        }
    }

    /// Runs the same kernels on the backend under test (in `dtype`) and on the CPU backend in
    /// float64 (the reference: `reference` is true there, so `body` calls the composed
    /// default, the formula every backend requirement is held to), and compares every output.
    /// Inputs are host values uploaded to each backend; `nil` dtypes take the suite's (float64
    /// on the reference side).
    func agree(_ what: String, inputs: [([Double], [Int], DType?)], outputs: [([Int], DType?)],
               tolerance: Tolerance? = nil, _ loc: SourceLocation,
               _ body: (_ backend: any Backend, _ reference: Bool, _ inputs: [Operand], _ outputs: [Operand]) -> Void) {
        let reference = BackendConformance(backend: CPUBackend.shared, dtype: .float64)
        func run(_ suite: BackendConformance, _ isReference: Bool) -> [[Double]] {
            let ins = inputs.map { suite.upload($0.0, shape: $0.1, type: $0.2) }
            let outs = outputs.map { o -> Operand in
                let operand = suite.backend.makeOperand(shape: o.0, dtype: o.1 ?? suite.dtype)
                suite.backend.fill(operand, with: 0)
                return operand
            }
            body(suite.backend, isReference, ins, outs)
            return outs.map(suite.download)
        }
        let expected = run(reference, true), actual = run(self, false)
        for (i, (a, e)) in zip(actual, expected).enumerated() {
            if let m = findMismatch(a, e, shape: outputs[i].0, tolerance: effective(tolerance)) {
                Issue.record(Comment(rawValue: "[\(backend.name), \(dtype)] \(what), output \(i): \(m)"), sourceLocation: loc)
            }
        }
    }

    // MARK: the suite

    /// Every requirement of `Backend`, forward and backward where it has one.
    public func run(sourceLocation: SourceLocation = #_sourceLocation) {
        memoryAndCopies(sourceLocation)
        unaryCases(sourceLocation)
        binaryCases(sourceLocation)
        scalarAndSelect(sourceLocation)
        integerElementwise(sourceLocation)
        reductions(sourceLocation)
        matmul(sourceLocation)
        indexing(sourceLocation)
        fused(sourceLocation)
        fusedBackward(sourceLocation)
        batchNorm(sourceLocation)
        attention(sourceLocation)
        recurrent(sourceLocation)
        convolution(sourceLocation)
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
        // ε = 1e-8 is zero in float16 (its smallest subnormal is 6e-8): where v underflows too,
        // the composed float16 reference divides 0 by 0 while a kernel computing in float32
        // does not, so reduced precision takes an ε it can hold (as mixed-precision recipes do).
        let epsilon = dtype.byteSize == 2 ? 1e-3 : 1e-8
        for step in 1...3 {
            let h = AdamHyperparameters(learningRate: 0.01, epsilon: epsilon, weightDecay: 0.1, decoupledWeightDecay: step % 2 == 0, step: step)
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
            backend.reduce(.min, x, axes: axes, into: out)
            expect(out, reference(Set(axes), Swift.min), "min over \(axes)", sourceLocation: loc)
            backend.reduce(.product, x, axes: axes, into: out)
            expect(out, reference(Set(axes), *), "product over \(axes)", sourceLocation: loc)
        }
        // Ties: the first extreme wins.
        let tied = upload([1, 3, 3, -2, -2, 0], shape: [1, 6])
        let first = backend.makeOperand(shape: [1, 1], dtype: .int64)
        backend.argReduce(.argmax, tied, axis: 1, into: first)
        expect(first, [1], "argmax with a tie", sourceLocation: loc)
        backend.argReduce(.argmin, tied, axis: 1, into: first)
        expect(first, [3], "argmin with a tie", sourceLocation: loc)
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
        backend.matmul(a, b, into: out, accumulate: true)
        expect(out, expected.map { 2 * $0 }, "matmul accumulating into its output", sourceLocation: loc)
        // linear: bias and ReLU epilogue, with and without each.
        let rows = a.with(layout: Layout(shape: [m, k], strides: [k, 1]))
        let weight = b.with(layout: Layout(shape: [k, n], strides: [1, k]))
        let bv2 = Self.values(n, seed: 7)
        let bias = upload(bv2, shape: [n])
        for (withBias, relu) in [(true, true), (true, false), (false, true)] {
            let y = backend.makeOperand(shape: [m, n], dtype: dtype)
            backend.linear(rows, weight, bias: withBias ? bias : nil, relu: relu, into: y)
            let reference = (0..<(m * n)).map { i -> Double in
                let z = expected[i] + (withBias ? bv2[i % n] : 0)
                return relu ? Swift.max(z, 0) : z
            }
            expect(y, reference, "linear (bias \(withBias), relu \(relu))", sourceLocation: loc)
        }
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
        let ties = upload([2, 5, 2, 5, 1], shape: [1, 5])
        let tv = backend.makeOperand(shape: [1, 5], dtype: dtype), ti = backend.makeOperand(shape: [1, 5], dtype: .int64)
        backend.sort(ties, axis: 1, descending: true, values: tv, indices: ti)
        expect(tv, [5, 5, 2, 2, 1], "descending sort values", sourceLocation: loc)
        expect(ti, [1, 3, 0, 2, 4], "descending sort is stable", sourceLocation: loc)
        let total = upload([Double](repeating: 1, count: 12), shape: [4, 3])
        let source = upload(Array(v[0..<9]), shape: [3, 3])
        backend.indexAdd(source, axis: 0, indices: upload([2, 0, 2], shape: [3], type: .int64), into: total)
        var added = [Double](repeating: 1, count: 12)
        for (j, target) in [2, 0, 2].enumerated() { for c in 0..<3 { added[target * 3 + c] += v[j * 3 + c] } }
        expect(total, added, "indexAdd with a repeated index", sourceLocation: loc)
    }

    func random(_ loc: SourceLocation) {
        let draws = backend.makeOperand(shape: [500], dtype: dtype)
        backend.fillRandom(draws, distribution: .uniform(low: -2, high: 3), seed: 7, counter: 3)
        let u = download(draws)
        if u.contains(where: { $0 < -2 || $0 >= 3 }) || Swift.abs(u.reduce(0, +) / 500 - 0.5) > 0.25 {
            Issue.record(Comment(rawValue: "[\(backend.name)] uniform(-2, 3) draws out of range or off centre"), sourceLocation: loc)
        }
        backend.fillRandom(draws, distribution: .bernoulli(p: 0.3), seed: 7, counter: 3)
        let coins = download(draws)
        if coins.contains(where: { $0 != 0 && $0 != 1 }) || Swift.abs(coins.reduce(0, +) / 500 - 0.3) > 0.08 {
            Issue.record(Comment(rawValue: "[\(backend.name)] bernoulli(0.3) draws not 0/1 or off their mean"), sourceLocation: loc)
        }
        let integers = backend.makeOperand(shape: [500], dtype: .int64)
        backend.fillRandom(integers, distribution: .integers(low: -3, high: 4), seed: 7, counter: 3)
        let k = download(integers)
        if k.contains(where: { $0 < -3 || $0 >= 4 || $0 != $0.rounded() }) || Set(k).count != 7 {
            Issue.record(Comment(rawValue: "[\(backend.name)] integers in [-3, 4) out of range or missing values"), sourceLocation: loc)
        }
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
func Foundation_log(_ x: Double) -> Double { Glibc.log(x) }
#endif

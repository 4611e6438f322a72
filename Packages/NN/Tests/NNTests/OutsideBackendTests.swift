import Testing
import TensorCore
import TensorCoreTesting
@testable import NN

/// A backend written outside TensorCore, as a third party would write one: its own device
/// kind, registered through the public call, implementing only the minimum primitive set
/// (forwarded to the CPU kernels) and taking TensorCore's composed default for everything
/// else. It must pass the whole conformance suite, and the suite must catch one wrong kernel.
final class ForwardingBackend: Backend {
    static let kind = DeviceKind(named: "forwarding")

    /// A deliberately wrong kernel, to show the suite notices.
    enum Mutation { case none, sineIsCosine, sumSkipsLastElement, convolutionCornerIsOff }

    let device: Device
    let mutation: Mutation
    private let cpu = CPUBackend.shared
    /// Non-primitive element-wise cases that reached the CPU: must stay empty.
    private(set) var forwardedComposites: [String] = []

    init(index: Int, mutation: Mutation = .none) {
        device = Device(kind: Self.kind, index: index)
        self.mutation = mutation
    }

    var name: String { "forwarding:\(device.index)\(mutation == .none ? "" : " (mutated: \(mutation))")" }

    // MemoryOps
    func allocate(byteCount: Int) -> Storage { CPUAllocator.shared.allocate(byteCount: byteCount, for: self) }
    func copy(_ source: Operand, into destination: Operand) { cpu.copy(source, into: destination) }
    func fill(_ destination: Operand, with value: Double) { cpu.fill(destination, with: value) }
    func copyFromHost(_ bytes: UnsafeRawBufferPointer, into storage: Storage) { cpu.copyFromHost(bytes, into: storage) }
    func copyToHost(_ storage: Storage, byteCount: Int, into bytes: UnsafeMutableRawBufferPointer) {
        cpu.copyToHost(storage, byteCount: byteCount, into: bytes)
    }

    // ElementwiseOps: the primitive cases only; the scalar form is the default.
    func unary(_ op: UnaryOp, _ x: Operand, into out: Operand) {
        guard op.isPrimitive else { return composedUnary(op, x, into: out) }
        cpu.unary(mutation == .sineIsCosine && op == .sin ? .cos : op, x, into: out)
    }
    func binary(_ op: BinaryOp, _ a: Operand, _ b: Operand, into out: Operand) {
        guard op.isPrimitive else { return composedBinary(op, a, b, into: out) }
        cpu.binary(op, a, b, into: out)
    }
    func select(_ condition: Operand, _ a: Operand, _ b: Operand, into out: Operand) { cpu.select(condition, a, b, into: out) }

    // ReductionOps
    func reduce(_ op: ReduceOp, _ x: Operand, axes: [Int], into out: Operand) {
        if mutation == .sumSkipsLastElement && op == .sum, let last = axes.max(), x.shape[last] > 1 {
            var shape = x.shape
            shape[last] -= 1
            return cpu.reduce(op, x.with(layout: Layout(shape: shape, strides: x.layout.strides, offset: x.layout.offset)), axes: axes, into: out)
        }
        cpu.reduce(op, x, axes: axes, into: out)
    }
    func argReduce(_ op: ArgReduceOp, _ x: Operand, axis: Int, into out: Operand) { cpu.argReduce(op, x, axis: axis, into: out) }
    func cumulativeSum(_ x: Operand, axis: Int, into out: Operand) { cpu.cumulativeSum(x, axis: axis, into: out) }

    // LinalgOps: matmul only (linear is composed).
    func matmul(_ a: Operand, _ b: Operand, into out: Operand, accumulate: Bool) { cpu.matmul(a, b, into: out, accumulate: accumulate) }

    // IndexingOps
    func gather(_ x: Operand, axis: Int, index: Operand, into out: Operand) { cpu.gather(x, axis: axis, index: index, into: out) }
    func scatterAdd(_ source: Operand, axis: Int, index: Operand, into out: Operand) {
        cpu.scatterAdd(source, axis: axis, index: index, into: out)
    }
    func indexSelect(_ x: Operand, axis: Int, indices: Operand, into out: Operand) {
        cpu.indexSelect(x, axis: axis, indices: indices, into: out)
    }
    func indexAdd(_ source: Operand, axis: Int, indices: Operand, into out: Operand) {
        cpu.indexAdd(source, axis: axis, indices: indices, into: out)
    }
    func sort(_ x: Operand, axis: Int, descending: Bool, values: Operand, indices: Operand) {
        cpu.sort(x, axis: axis, descending: descending, values: values, indices: indices)
    }

    // RandomOps
    func fillRandom(_ out: Operand, distribution: RandomDistribution, seed: UInt64, counter: UInt64) {
        cpu.fillRandom(out, distribution: distribution, seed: seed, counter: counter)
    }

    // ConvolutionOps
    func conv2d(_ x: Operand, weight: Operand, geometry: ConvolutionGeometry, into out: Operand) {
        cpu.conv2d(x, weight: weight, geometry: geometry, into: out)
        guard mutation == .convolutionCornerIsOff else { return }
        // Wrong on purpose in one output element (as a border bug would be).
        let corner = out.with(layout: Layout(shape: [1], strides: [1], offset: out.layout.offset))
        cpu.binary(.multiply, corner, scalar: 1.01, scalarIsLeft: false, into: corner)
    }
    func conv2dInputGradient(_ gradient: Operand, weight: Operand, geometry: ConvolutionGeometry, into out: Operand) {
        cpu.conv2dInputGradient(gradient, weight: weight, geometry: geometry, into: out)
    }
    func conv2dWeightGradient(_ x: Operand, gradient: Operand, geometry: ConvolutionGeometry, into out: Operand) {
        cpu.conv2dWeightGradient(x, gradient: gradient, geometry: geometry, into: out)
    }
    func maxPool2d(_ x: Operand, kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int), into out: Operand, indices: Operand) {
        cpu.maxPool2d(x, kernel: kernel, stride: stride, padding: padding, into: out, indices: indices)
    }

    /// Installs backends of this kind for indices 0 and 1.
    static func register() {
        Backends.register(kind, unavailableReason: "only forwarding:0 and forwarding:1 exist") { index in
            index < 2 ? ForwardingBackend(index: index) : nil
        }
    }
}

@Suite("A backend written outside TensorCore")
struct OutsideBackendTests {
    @Test(arguments: [DType.float32, .float64])
    func passesTheWholeConformanceSuite(dtype: DType) {
        ForwardingBackend.register()
        let backend = Backends.backend(for: Device(kind: ForwardingBackend.kind, index: 0))
        BackendConformance(backend: backend, dtype: dtype).run()
    }

    @Test(arguments: [ForwardingBackend.Mutation.sineIsCosine, .sumSkipsLastElement, .convolutionCornerIsOff])
    func theSuiteCatchesOneWrongKernel(mutation: ForwardingBackend.Mutation) {
        ForwardingBackend.register()
        withKnownIssue("the mutated kernel must be reported") {
            BackendConformance(backend: ForwardingBackend(index: 0, mutation: mutation), dtype: .float32).run()
        }
    }

    @Test func registersThroughThePublicCallAndTrainsAModelAsTheCPUDoes() {
        ForwardingBackend.register()
        let device = Device(kind: ForwardingBackend.kind, index: 1)
        #expect(device.description == "forwarding:1")
        #expect(Backends.backendIfAvailable(for: device)?.name == "forwarding:1")
        #expect(Backends.backendIfAvailable(for: Device(kind: ForwardingBackend.kind, index: 2)) == nil)
        func run(_ device: Device) -> [Tensor] {
            let model = DeviceTests.Net(RandomGenerator(seed: 3))
            model.move(to: device)
            let tokens = Tensor([Int64(1), 0, 4, 9, 2, 2, 7, 5]).moved(to: device)
            let y = model(tokens)
            (y * y).sum().backward()
            return [y, model.linear.weight.grad!, model.embedding.weight.grad!, model.bilinear.weight.grad!]
        }
        let cpu = run(.cpu), outside = run(device)
        for (a, b) in zip(cpu, outside) {
            #expect(b.device == device)
            expectClose(b.moved(to: .cpu), a, tolerance: Tolerance(absolute: 1e-4, relative: 1e-4))
        }
    }
}

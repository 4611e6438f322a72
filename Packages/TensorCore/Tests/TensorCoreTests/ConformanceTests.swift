import Testing
import TensorCore
import TensorCoreTesting

@Suite("CPU backend conformance")
struct ConformanceTests {
    @Test(arguments: [DType.float32, .float64])
    func cpuBackendPassesTheSuite(dtype: DType) {
        BackendConformance(backend: CPUBackend.shared, dtype: dtype).run()
    }

    /// The same suite on tensors big enough to take the multi-threaded paths.
    @Test func largeReductionsAndElementwiseAgreeAcrossThreadCounts() {
        let x = Tensor.randn([300, 257], generator: RandomGenerator(seed: 9))
        let previous = CPUThreads.count
        defer { CPUThreads.count = previous }
        CPUThreads.count = 1
        let one = [x.sum(axes: [0]), x.sum(axes: [1]), x.exp() * x, x.softmax(axis: 1), x.max(axes: [0])]
        CPUThreads.count = 2
        let two = [x.sum(axes: [0]), x.sum(axes: [1]), x.exp() * x, x.softmax(axis: 1), x.max(axes: [0])]
        for (a, b) in zip(one, two) { expectClose(a, b) }
        let reference = x.cast(to: .float64).sum(axes: [1]).cast(to: .float32)
        expectClose(one[1], reference, tolerance: Tolerance(absolute: 1e-4, relative: 1e-5))
    }
}

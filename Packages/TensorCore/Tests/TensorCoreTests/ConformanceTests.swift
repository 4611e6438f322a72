import Testing
import TensorCore
import TensorCoreTesting

@Suite("CPU backend conformance")
struct ConformanceTests {
    @Test(arguments: [DType.float32, .float64])
    func cpuBackendPassesTheSuite(dtype: DType) {
        BackendConformance(backend: CPUBackend.shared, dtype: dtype).run()
    }

    /// float16 and bfloat16 are stored, and computed in float32 on the CPU: the whole suite
    /// holds within their precision (bfloat16 keeps 8 bits: cancellations in the layer-norm
    /// backward cost a few of its ulps).
    @Test(arguments: [(DType.float16, 1e-2), (.bfloat16, 5e-2)])
    func cpuBackendPassesTheSuiteInReducedPrecision(dtype: DType, tolerance: Double) {
        BackendConformance(backend: CPUBackend.shared, dtype: dtype, tolerance: Tolerance(absolute: tolerance, relative: tolerance)).run()
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

@Suite("An emulated device")
struct EmulatedDeviceTests {
    @Test func tensorsLiveOnItAndComputeAsOnTheCPU() {
        EmulatedDevice.register()
        let g = RandomGenerator(seed: 2)
        let x = Tensor.randn([5, 7], generator: g).requiringGrad()
        let onDevice = x.detached().moved(to: EmulatedDevice.device).requiringGrad()
        #expect(onDevice.device == EmulatedDevice.device)
        let y = (onDevice.matmul(onDevice.transposed()).tanh() * 2).sum(axes: [1])
        #expect(y.device == EmulatedDevice.device)
        y.sum().backward()
        (x.matmul(x.transposed()).tanh() * 2).sum(axes: [1]).sum().backward()
        #expect(onDevice.grad!.device == EmulatedDevice.device)
        expectClose(onDevice.grad!.moved(to: .cpu), x.grad!)
        #expect(Tensor.zeros([2], device: EmulatedDevice.device).device == EmulatedDevice.device)
        BackendConformance(backend: EmulatedDevice.backend, dtype: .float32).run()
    }

    @Test func mixingItWithTheCPUStopsWithTheOpsMessage() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            EmulatedDevice.register()
            _ = Tensor.ones([2]) * Tensor.ones([2], device: EmulatedDevice.device)
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("cpu") && message.contains("emulated:0"), "\(message)")
    }
}


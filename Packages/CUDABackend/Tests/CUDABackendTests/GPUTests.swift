import Testing
import TensorCore
import TensorCoreTesting
@testable import CUDABackend

extension OnTheCUDADevice {
/// The CUDA backend against the CPU backend: on the machine's GPU, else on the CUDA emulator
/// (the same kernels executed on the host). Skipped only where neither exists.
@Suite("CUDA backend on a GPU, or on the CUDA emulator without one", .serialized, .enabled(if: GPU.available))
struct GPUTests {
    var gpu: CUDABackend { GPU.backend! }

    @Test(arguments: [DType.float32, .float64, .float16, .bfloat16])
    func conformanceSuitePasses(dtype: DType) {
        let launches = EmulatedDriver.launchCount
        let tolerance: Tolerance? = dtype == .float16 ? Tolerance(absolute: 2e-3, relative: 2e-3)
            : (dtype == .bfloat16 ? Tolerance(absolute: 1.6e-2, relative: 1.6e-2) : nil)
        BackendConformance(backend: gpu, dtype: dtype, tolerance: tolerance).run()
        if GPU.onEmulator {
            print("[CUDABackendTests] conformance suite (\(dtype)) executed on the CUDA emulator: \(EmulatedDriver.launchCount - launches) kernel launches")
        }
    }

    /// Every dtype through the element-wise, reduction, scan, sort and indexing kernels (large
    /// enough for several blocks and strided views), against the CPU exactly for integers and
    /// within the storage's precision for float16/bfloat16.
    @Test(arguments: [DType.int32, .int64, .uint8, .bool, .float16, .bfloat16, .float32])
    func everyDtypeComputesAsOnTheCPU(dtype: DType) {
        let g = RandomGenerator(seed: 13)
        let x = Tensor.randint(0, 9, shape: [37, 300], generator: g).cast(to: dtype)
        let y = Tensor.randint(1, 7, shape: [37, 300], generator: g).cast(to: dtype)
        let index = Tensor.randint(0, 300, shape: [37, 5], generator: g)
        let rows = Tensor([Int64(3), 0, 36, 3])
        func compute(_ x: Tensor, _ y: Tensor, _ index: Tensor, _ rows: Tensor) -> [Tensor] {
            let t = x.transposed()
            var out = [x.maximum(y), x.minimum(y), x .> y, x .== y, x.sum(axes: [1]), x.sum(axes: [0]), t.max(axes: [1]),
                       x.argmax(axis: 1), x.cumulativeSum(axis: 1), t.contiguous(), x.gather(axis: 1, index: index),
                       x.indexSelect(axis: 0, indices: rows), x.sorted(axis: 1).values, x.sorted(axis: 0, descending: true).values]
            if dtype != .bool { out += [x + y, x * y, x - y.minimum(x), (x + y)[.all, 7..<200].sum(axes: [1])] }
            if dtype != .uint8 && dtype != .bool { out.append(x.scatterAdding(axis: 1, index: index, source: y[.all, 0..<5])) }
            return out.map { $0.dtype == .bool ? $0.cast(to: .int32) : $0 }
        }
        let cpu = compute(x, y, index, rows)
        let device = compute(x.moved(to: GPU.device), y.moved(to: GPU.device), index.moved(to: GPU.device), rows.moved(to: GPU.device))
        let tolerance = dtype.byteSize == 2 ? Tolerance(absolute: 0.05, relative: 1e-2) : Tolerance(absolute: 0, relative: 0)
        for (i, (a, b)) in zip(cpu, device).enumerated() {
            #expect(b.device == GPU.device && a.dtype == b.dtype, "result \(i)")
            expectClose(b.moved(to: .cpu).cast(to: .float64), a.cast(to: .float64), tolerance: tolerance)
        }
    }

    /// The kernels at the lengths where boundary handling goes wrong: empty, one element, a
    /// warp, around the 256-thread block, around the grid-stride step, and views that start off
    /// the 16-byte alignment the packed kernels need or skip every other element.
    @Test(arguments: [0, 1, 31, 255, 256, 257, 1000, 8193, 33_000])
    func edgeLengthsComputeAsOnTheCPU(length: Int) {
        let g = RandomGenerator(seed: 17)
        let x = Tensor.randn([length + 3], generator: g), y = Tensor.randn([length + 3], generator: g)
        func compute(_ x: Tensor, _ y: Tensor) -> [Tensor] {
            let a = x[0..<length], b = y[0..<length], shifted = x[1..<(length + 1)], bs = y[1..<(length + 1)]
            let everyOther = Tensor.concatenated([x, y], axis: 0)[.stride(0, 2 * length, by: 2)]
            var out = [a.exp(), a + b, shifted * bs, shifted + 1.5, a.maximum(bs), everyOther.contiguous(), everyOther.sum(),
                       a.sum(), a.cumulativeSum(axis: 0), (a .> b).cast(to: .float32), a.clamped(min: -0.5, max: 0.5)]
            if length > 0 {
                let row = a.reshaped(to: [1, length])
                out += [a.max(), a.argmax(axis: 0).cast(to: .float32), a.sorted().values, row.softmax(axis: 1), row.logSoftmax(axis: 1),
                        row.layerNormalized(), Tensor.concatenated([row, row * 2], axis: 0).sum(axes: [1])]
            }
            return out
        }
        let cpu = compute(x, y), device = compute(x.moved(to: GPU.device), y.moved(to: GPU.device))
        for (i, (a, b)) in zip(cpu, device).enumerated() {
            #expect(b.device == GPU.device && b.shape == a.shape, "result \(i) at length \(length)")
            expectClose(b.moved(to: .cpu), a, tolerance: Tolerance(absolute: 1e-4, relative: 1e-4))
        }
    }

    @Test func tensorsMoveBetweenDevicesAndComputeAsOnTheCPU() {
        let g = RandomGenerator(seed: 3)
        let x = Tensor.randn([33, 70], generator: g), w = Tensor.randn([70, 19], generator: g)
        func compute(_ x: Tensor, _ w: Tensor) -> [Tensor] {
            let h = x.matmul(w).relu()
            return [h, h.softmax(axis: -1), h.sum(axes: [0]), h.transposed().contiguous(), h.max(axes: [1]),
                    x[.all, 3..<9].exp().mean(), h.argmax(axis: 1).cast(to: .float32)]
        }
        let cpu = compute(x, w)
        let cuda = compute(x.moved(to: GPU.device), w.moved(to: GPU.device))
        for (a, b) in zip(cuda, cpu) {
            #expect(a.device == GPU.device)
            expectClose(a.moved(to: .cpu), b, tolerance: Tolerance(absolute: 1e-4, relative: 1e-4))
        }
    }

    @Test func gradientsMatchTheCPU() {
        let g = RandomGenerator(seed: 5)
        let x = Tensor.randn([16, 12], generator: g)
        let labels = Tensor.randint(0, 5, shape: [16], generator: g).scalars(as: Int64.self)
        let oneHot = Tensor((0..<80).map { labels[$0 / 5] == Int64($0 % 5) ? 1.0 : 0.0 }, shape: [16, 5])
        let w0 = Tensor.randn([12, 5], generator: g)
        func step(_ device: Device) -> (Float, Tensor) {
            let w = Parameter(w0.moved(to: device))
            let logits = x.moved(to: device).matmul(w.value).tanh()
            let loss = -(logits.layerNormalized().logSoftmax(axis: 1) * oneHot.moved(to: device)).sum() / 16
            loss.backward()
            return (loss.item(), w.grad!.moved(to: .cpu))
        }
        let (lossCPU, gradCPU) = step(.cpu), (lossGPU, gradGPU) = step(GPU.device)
        #expect(abs(lossCPU - lossGPU) < 1e-5)
        expectClose(gradGPU, gradCPU, tolerance: Tolerance(absolute: 1e-5, relative: 1e-4))
    }

    @Test func convolutionAndPoolingMatchTheCPU() {
        let g = RandomGenerator(seed: 7)
        let x = Tensor.randn([3, 4, 11, 9], generator: g)
        let w = Tensor.randn([6, 2, 3, 3], generator: g)
        func run(_ device: Device) -> [Tensor] {
            let xp = Parameter(x.moved(to: device)), wp = Parameter(w.moved(to: device))
            let y = xp.value.conv2d(weight: wp.value, stride: (2, 1), padding: 1, dilation: (1, 2), groups: 2)
            let pooled = y.maxPool2d(kernelSize: 2)
            (pooled * pooled).sum().backward()
            return [y, pooled, xp.grad!, wp.grad!].map { $0.moved(to: .cpu) }
        }
        for (a, b) in zip(run(GPU.device), run(.cpu)) { expectClose(a, b, tolerance: Tolerance(absolute: 1e-4, relative: 1e-4)) }
    }

    @Test func randomNumbersAreTheCPUsForTheSameSeed() {
        for dtype in [DType.float32, .float64] {
            let cpu = Tensor.randn([1001], dtype: dtype, generator: RandomGenerator(seed: 42))
            let cuda = Tensor.randn([1001], dtype: dtype, device: GPU.device, generator: RandomGenerator(seed: 42))
            expectClose(cuda.moved(to: .cpu), cpu, tolerance: Tolerance(absolute: 1e-6, relative: 1e-6))
            let u = Tensor.rand([999], dtype: dtype, device: GPU.device, generator: RandomGenerator(seed: 1))
            expectClose(u.moved(to: .cpu), Tensor.rand([999], dtype: dtype, generator: RandomGenerator(seed: 1)))
        }
    }

    @Test func halfPrecisionStorageAndProducts() {
        let g = RandomGenerator(seed: 9)
        let a = Tensor.randn([64, 32], generator: g), b = Tensor.randn([32, 48], generator: g)
        for dtype in [DType.float16, .bfloat16] {
            let product = a.cast(to: dtype).moved(to: GPU.device).matmul(b.cast(to: dtype).moved(to: GPU.device))
            #expect(product.dtype == dtype)
            expectClose(product.moved(to: .cpu).cast(to: .float32), a.matmul(b), tolerance: Tolerance(absolute: 0.2, relative: 0.05))
        }
        gpu.allowTF32 = true
        defer { gpu.allowTF32 = false }
        expectClose(a.moved(to: GPU.device).matmul(b.moved(to: GPU.device)).moved(to: .cpu), a.matmul(b),
                    tolerance: Tolerance(absolute: 0.05, relative: 0.01))
    }

    @Test func cachingAllocatorReusesFreedBlocks() {
        gpu.synchronize()
        gpu.emptyCache()
        let before = gpu.memoryStatistics
        do { _ = Tensor.zeros([1000, 1000], device: GPU.device) }
        let afterFirst = gpu.memoryStatistics
        #expect(afterFirst.deviceAllocations == before.deviceAllocations + 1)
        #expect(afterFirst.bytesCached >= 4_000_000)
        do { _ = Tensor.zeros([999, 1001], device: GPU.device) }
        let afterSecond = gpu.memoryStatistics
        #expect(afterSecond.deviceAllocations == afterFirst.deviceAllocations, "a block of the same size class is reused")
        #expect(afterSecond.cacheHits == afterFirst.cacheHits + 1)
        #expect(afterSecond.peakBytesInUse >= 4_000_000)
        gpu.emptyCache()
        #expect(gpu.memoryStatistics.bytesCached == 0)
    }

    @Test func eventsTimeQueuedWork() throws {
        let x = Tensor.randn([1 << 20], device: GPU.device)
        let ms = try gpu.elapsedMilliseconds { _ = (x * x).sum() }
        #expect(ms > 0 && ms < 1000)
    }

    @Test func courseKernelsAgreeWithTheCPU() throws {
        let g = RandomGenerator(seed: 11)
        let x = Tensor.randn([1000], generator: g), y = Tensor.randn([1000], generator: g)
        let saxpy = try CourseKernels.saxpy(2, x.moved(to: GPU.device), y.moved(to: GPU.device), on: gpu)
        expectClose(saxpy.moved(to: .cpu), x * 2 + y)
        let values = Tensor.rand([10_000], generator: g)
        let counts = try CourseKernels.histogram(values.moved(to: GPU.device), bins: 10, low: 0, high: 1, on: gpu).moved(to: .cpu)
        let expected = (0..<10).map { b in values.scalars.filter { Int($0 * 10) == b }.count }
        #expect(counts.scalars(as: Int32.self).map(Int.init) == expected)
        let a = Tensor.randn([37, 53], generator: g), b = Tensor.randn([53, 29], generator: g)
        for tiled in [false, true] {
            let c = try CourseKernels.matmul(a.moved(to: GPU.device), b.moved(to: GPU.device), tiled: tiled, on: gpu)
            expectClose(c.moved(to: .cpu), a.matmul(b), tolerance: Tolerance(absolute: 1e-4, relative: 1e-4))
        }
    }

    @Test func userKernelsRejectTensorsOnAnotherDevice() throws {
        let kernel = try CUDAKernel(source: CourseKernels.saxpySource, name: "saxpy", on: gpu)
        #expect(throws: CUDAError.self) {
            try kernel.launch(grid: (1, 1, 1), block: (32, 1, 1), arguments: [.tensor(Tensor.zeros([4]))])
        }
    }

    @Test func mixingDevicesInOneOpStopsWithAMessage() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            CUDABackend.register(emulateWithoutGPU: true)
            _ = Tensor.ones([2]) + Tensor.ones([2], device: .cuda(0))
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("cpu") && message.contains("cuda:0"), "\(message)")
    }
}
}

import Testing
import TensorCore
import TensorCoreTesting
@testable import CUDABackend

extension OnTheCUDADevice {
/// The CUDA emulator itself: warp operations and barriers behave as on a GPU, broken kernels
/// (a missing barrier, an off-by-one index, an access past an allocation) are caught, and
/// launches that could never finish on a GPU stop with the kernel, block and thread.
@Suite("The CUDA emulator", .serialized, .enabled(if: CUDAEmulator.isAvailable))
struct EmulatorTests {
    var emulator: CUDABackend { try! CUDABackend.emulated() }

    init() { CUDABackend.register(emulateWithoutGPU: true) }

    func float32(_ values: [Float]) -> Tensor { Tensor(values, shape: [values.count]).moved(to: emulator.device) }

    @Test func warpShufflesAndVotesFollowTheirMasks() throws {
        let source = #"""
        extern "C" __global__ void warp_ops(const int* x, int* down, int* up, int* xor_, int* broadcast, unsigned* ballot, int* half_sum) {
            int t = threadIdx.x, v = x[t];
            down[t] = __shfl_down_sync(0xffffffffu, v, 3);
            up[t] = __shfl_up_sync(0xffffffffu, v, 2);
            xor_[t] = __shfl_xor_sync(0xffffffffu, v, 5);
            broadcast[t] = __shfl_sync(0xffffffffu, v, 7, 16);
            ballot[t] = __ballot_sync(0xffffffffu, v % 3 == 0);
            // Lanes 0..15 reduce among themselves only (a partial mask).
            if ((t & 31) < 16) {
                int s = v;
                for (int o = 8; o > 0; o >>= 1) s += __shfl_down_sync(0x0000ffffu, s, o, 16);
                half_sum[t] = s;
            } else {
                half_sum[t] = -1;
            }
        }
        """#
        let n = 64
        let values = (0..<n).map { Int32(($0 * 37 + 11) % 101) }
        let x = Tensor(values.map(Float.init), shape: [n]).cast(to: .int32).moved(to: emulator.device)
        let outputs = (0..<6).map { _ in Tensor.zeros([n], dtype: .int32, device: emulator.device) }
        let kernel = try CUDAKernel(source: source, name: "warp_ops", on: emulator)
        try kernel.launch(grid: (1, 1, 1), block: (n, 1, 1), arguments: [.tensor(x)] + outputs.map { .tensor($0) })
        let read = outputs.map { $0.moved(to: .cpu).scalars(as: Int32.self) }
        for t in 0..<n {
            let lane = t % 32, base = t - lane
            #expect(read[0][t] == (lane + 3 < 32 ? values[t + 3] : values[t]), "down \(t)")
            #expect(read[1][t] == (lane >= 2 ? values[t - 2] : values[t]), "up \(t)")
            #expect(read[2][t] == values[base + (lane ^ 5)], "xor \(t)")
            #expect(read[3][t] == values[base + (lane & 16) + 7], "broadcast within 16 lanes \(t)")
            let bits = (0..<32).reduce(UInt32(0)) { $0 | (values[base + $1] % 3 == 0 ? 1 << UInt32($1) : 0) }
            #expect(UInt32(bitPattern: read[4][t]) == bits, "ballot \(t)")
            if lane == 0 { #expect(read[5][t] == values[base..<(base + 16)].reduce(0, +), "partial-mask sum \(t)") }
        }
    }

    /// The course's tiled product without its first barrier: the race checker stops the launch
    /// at the first thread reading a tile element another thread stored in the same interval.
    @Test func aMissingBarrierInTheTiledProductIsReportedAsARace() throws {
        let g = RandomGenerator(seed: 3)
        let a = Tensor.randn([32, 40], generator: g), b = Tensor.randn([40, 24], generator: g)
        let intact = try CourseKernels.matmul(a.moved(to: emulator.device), b.moved(to: emulator.device), tiled: true, on: emulator)
        expectClose(intact.moved(to: .cpu), a.matmul(b), tolerance: Tolerance(absolute: 1e-4, relative: 1e-4))
        var broken = CourseKernels.tiledMatmulSource
        let barrier = try #require(broken.firstRange(of: "__syncthreads();"), "the tiled product has a barrier after its loads")
        broken.removeSubrange(barrier)
        let out = Tensor.empty([32, 24], device: emulator.device)
        let kernel = try CUDAKernel(source: broken, name: "matmul_tiled", on: emulator)
        #expect(throws: CUDAError.self) {
            try kernel.launch(grid: (2, 2, 1), block: (16, 16, 1), arguments: [.tensor(a.moved(to: emulator.device)), .tensor(b.moved(to: emulator.device)),
                                                                               .tensor(out), .int32(32), .int32(24), .int32(40)])
        }
        let message = EmulatedDriver.lastFailure ?? ""
        #expect(message.contains("matmul_tiled") && message.contains("reads shared memory as[") && message.contains("no barrier"), "\(message)")
    }

    /// Block reductions without the barrier after the warps' partial results: the first
    /// softmax of the conformance suite stops with the race (a backend kernel that fails stops
    /// the process, as a GPU's launch failure does).
    @Test func aMissingBarrierInTheBlockReductionStopsTheSuite() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let original = "if (lane == 0) partial[warp] = v;\n    __syncthreads();"
            guard let backend = try? CUDABackend.makeEmulated(), KernelModule.fused.source(for: .float32).contains(original) else { return }
            backend.sourceOverride = { m, dtype in
                let text = m.source(for: dtype)
                return m == .fused ? text.replacing(original, with: "if (lane == 0) partial[warp] = v;") : text
            }
            BackendConformance(backend: backend, dtype: .float32).run()
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("softmax_rows") && message.contains("reads shared memory partial[") && message.contains("no barrier"), "\(message)")
    }

    /// The conformance suite on a backend whose element-wise kernels stop one element short
    /// (an off-by-one in the grid-stride loop): the suite must record failures.
    @Test(arguments: [
        ("FOR_EACH(i, n) {\n        i64 ai", "FOR_EACH(i, n - 1) {\n        i64 ai", KernelModule.elementwise),
    ])
    func theSuiteFailsOnAMutatedKernel(original: String, mutated: String, module: KernelModule) throws {
        #expect(module.source(for: .float32).contains(original), "the mutation's target text is in the \(module) source")
        let backend = try CUDABackend.makeEmulated()
        backend.sourceOverride = { m, dtype in
            let text = m.source(for: dtype)
            return m == module ? text.replacing(original, with: mutated) : text
        }
        withKnownIssue("the mutated \(module) kernel must fail the suite") {
            BackendConformance(backend: backend, dtype: .float32).run()
        }
    }

    @Test func anAccessPastAnAllocationStopsTheLaunchNamingTheThread() throws {
        let source = #"""
        extern "C" __global__ void off_by_one(float* out, int n) {
            int i = blockIdx.x * blockDim.x + threadIdx.x;
            if (i <= n) out[i] = 1.0f;
        }
        """#
        // 128 floats fill a 512-byte size class exactly: the write past them lands on the guard
        // page, which the allocation table reports first (the fault stays as the backstop).
        let out = Tensor.zeros([128], device: emulator.device)
        let kernel = try CUDAKernel(source: source, name: "off_by_one", on: emulator)
        #expect(throws: CUDAError.self) {
            try kernel.launch(grid: (2, 1, 1), block: (128, 1, 1), arguments: [.tensor(out), .int32(128)])
        }
        let message = EmulatedDriver.lastFailure ?? ""
        #expect(message.contains("off_by_one") && message.contains("block (1, 0, 0)") && message.contains("thread (0, 0, 0)")
                && message.contains("outside the 512 live bytes"), "\(message)")
        // The tensors written before the fault stay readable, and later launches run.
        #expect(out.moved(to: .cpu).sum().item() == 128)
        #expect((out * 2).moved(to: .cpu).sum().item() == 256)
    }

    /// 100 floats take a 512-byte block of the caching allocator: the write one past them stays
    /// inside the block, and the allocation table (live bytes: the 400 asked for) catches it.
    @Test func anAccessPastATensorInsideItsCachedBlockIsCaught() throws {
        let source = #"""
        extern "C" __global__ void one_past(float* out, int n) {
            int i = threadIdx.x;
            if (i <= n) out[i] = 2.0f;
        }
        """#
        let out = Tensor.zeros([100], device: emulator.device)
        let kernel = try CUDAKernel(source: source, name: "one_past", on: emulator)
        #expect(throws: CUDAError.self) { try kernel.launch(grid: (1, 1, 1), block: (128, 1, 1), arguments: [.tensor(out), .int32(100)]) }
        let message = EmulatedDriver.lastFailure ?? ""
        #expect(message.contains("one_past") && message.contains("thread (100, 0, 0)") && message.contains("outside the 400 live bytes"), "\(message)")
    }

    @Test func barriersThatCanNeverCompleteAreReported() throws {
        let split = #"""
        extern "C" __global__ void split_warp(int* out) {
            int v = threadIdx.x;
            if (threadIdx.x < 16) __syncthreads();
            else v = __shfl_sync(0xffffffffu, v, 0);
            out[threadIdx.x] = v;
        }
        """#
        let exited = #"""
        extern "C" __global__ void exited_lane(int* out) {
            if (threadIdx.x >= 16) return;
            out[threadIdx.x] = __shfl_down_sync(0xffffffffu, (int)threadIdx.x, 1);
        }
        """#
        let out = Tensor.zeros([32], dtype: .int32, device: emulator.device)
        for (source, name, words) in [(split, "split_warp", "deadlock"), (exited, "exited_lane", "lane 16, which has exited")] {
            let kernel = try CUDAKernel(source: source, name: name, on: emulator)
            #expect(throws: CUDAError.self) { try kernel.launch(grid: (1, 1, 1), block: (32, 1, 1), arguments: [.tensor(out)]) }
            let message = EmulatedDriver.lastFailure ?? ""
            #expect(message.contains(name) && message.contains(words), "\(message)")
        }
    }

    @Test func dynamicSharedMemoryAndSyncthreadsCount() throws {
        let source = #"""
        extern "C" __global__ void reverse_block(const float* x, float* out, int* counts) {
            extern __shared__ float tile[];
            int t = threadIdx.x, base = blockIdx.x * blockDim.x;
            tile[t] = x[base + t];
            int positive = __syncthreads_count(tile[t] > 0.0f);
            out[base + t] = tile[blockDim.x - 1 - t];
            if (t == 0) counts[blockIdx.x] = positive;
        }
        """#
        let g = RandomGenerator(seed: 8)
        let x = Tensor.randn([3 * 96], generator: g)
        let out = Tensor.empty([3 * 96], device: emulator.device)
        let counts = Tensor.zeros([3], dtype: .int32, device: emulator.device)
        try CUDAKernel(source: source, name: "reverse_block", on: emulator)
            .launch(grid: (3, 1, 1), block: (96, 1, 1), sharedMemoryBytes: 96 * 4,
                    arguments: [.tensor(x.moved(to: emulator.device)), .tensor(out), .tensor(counts)])
        let v = x.scalars, r = out.moved(to: .cpu).scalars
        for block in 0..<3 {
            for t in 0..<96 { #expect(r[block * 96 + t] == v[block * 96 + 95 - t]) }
            #expect(Int(counts.moved(to: .cpu).scalars(as: Int32.self)[block]) == v[(block * 96)..<(block * 96 + 96)].filter { $0 > 0 }.count)
        }
    }

    @Test func sourceErrorsThrowWithTheCompilersMessages() {
        do {
            _ = try CUDAKernel(source: "extern \"C\" __global__ void broken(float* x) { x[0] = undefined_name; }", name: "broken", on: emulator)
            Issue.record("a kernel with an undefined name compiled")
        } catch let CUDAError.compilation(kernel, log) {
            #expect(kernel.contains("broken") && log.contains("undefined_name"), "\(kernel): \(log)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }
}
}

import Testing
import TensorCore
@testable import CUDABackend

/// The parts of the backend that run on the host, checked without a GPU.
@Suite("CUDA backend host-side logic")
struct HostSideTests {
    @Test func coalescingMergesContiguousAxesOfEveryOperand() {
        // A contiguous [2, 3, 4] tensor is one run of 24.
        let whole = coalesced(shape: [2, 3, 4], strides: [[12, 4, 1], [12, 4, 1]])
        #expect(whole.shape == [24] && whole.strides == [[1], [1]])
        // A transposed operand keeps the axes apart.
        let transposed = coalesced(shape: [3, 2], strides: [[1, 3], [2, 1]])
        #expect(transposed.shape == [3, 2] && transposed.strides == [[1, 3], [2, 1]])
        // Size-1 axes vanish; broadcast (stride 0) axes stay.
        let broadcast = coalesced(shape: [1, 4, 1, 5], strides: [[0, 5, 0, 1], [20, 5, 5, 1]])
        #expect(broadcast.shape == [20] && broadcast.strides == [[1], [1]])
        let expanded = coalesced(shape: [4, 5], strides: [[0, 1], [5, 1]])
        #expect(expanded.shape == [4, 5])
        #expect(coalesced(shape: [], strides: [[]]).shape == [1])
    }

    @Test func stridedArgumentMatchesTheKernelStruct() {
        let bytes = StridedArgument(shape: [3, 2], strides: [1, -3]).bytes
        // struct Strided { i64 shape[8]; i64 strides[8]; int rank; } is 136 bytes.
        #expect(bytes.count == 136)
        let words = bytes.withUnsafeBytes { Array($0.bindMemory(to: Int64.self)) }
        #expect(words[0] == 3 && words[1] == 2 && words[8] == 1 && words[9] == -3 && words[16] == 2)
    }

    @Test func allocatorSizeClassesFollowPyTorch() {
        #expect(CUDACachingAllocator.sizeClass(0) == 512)
        #expect(CUDACachingAllocator.sizeClass(513) == 1024)
        #expect(CUDACachingAllocator.sizeClass((1 << 20) - 1) == 1 << 20)
        #expect(CUDACachingAllocator.sizeClass((1 << 20) + 1) == 2 << 20)
        #expect(CUDACachingAllocator.sizeClass(5 << 20) == 6 << 20)
    }

    @Test func kernelCacheKeysAreStableHashes() {
        #expect(KernelCache.fingerprint("") == "cbf29ce484222325")
        #expect(KernelCache.fingerprint("a") == "af63dc4c8601ec8c")
        #expect(KernelCache.fingerprint("x").count == 16)
    }

    @Test func integerClampBoundsSaturateToTheType() {
        let int8 = CUDAOpCode.unary(.clamp(min: -.infinity, max: 300), dtype: .uint8)
        #expect(int8.code == 24 && int8.p0 == 0 && int8.p1 == 255)
        let int32 = CUDAOpCode.unary(.clamp(min: 1, max: .infinity), dtype: .int32)
        #expect(int32.p0 == 1 && int32.p1 == Double(Int32.max))
        let float = CUDAOpCode.unary(.clamp(min: -1, max: .infinity), dtype: .float32)
        #expect(float.p1 == .infinity)
    }

    /// Every unary and binary op has a code the kernels' switch knows (no silent identity).
    @Test func everyOperationHasAKernelCode() {
        let unaries: [UnaryOp] = [.negate, .abs, .sign, .square, .reciprocal, .exp, .log, .log1p, .expm1, .sqrt, .rsqrt, .sin, .cos,
                                  .tanh, .sigmoid, .erf, .relu, .gelu, .geluTanh, .silu, .softplus(beta: 1, threshold: 20),
                                  .leakyRelu(slope: 0.1), .elu(alpha: 1), .pow(3), .clamp(min: 0, max: 1)]
        #expect(Set(unaries.map { CUDAOpCode.unary($0, dtype: .float32).code }) == Set(0...24))
        let binaries: [BinaryOp] = [.add, .subtract, .multiply, .divide, .pow, .maximum, .minimum, .equal, .notEqual, .less,
                                    .lessEqual, .greater, .greaterEqual, .logicalAnd, .logicalOr, .logicalXor,
                                    .passWherePositive, .geluBackward, .geluTanhBackward, .siluBackward]
        #expect(Set(binaries.map(CUDAOpCode.binary)) == Set(0...19))
    }
}

/// Where this machine has no usable GPU: the backend says why, and asking for `.cuda(0)`
/// stops with that reason instead of crashing somewhere deeper.
@Suite("CUDA unavailable", .enabled(if: !GPU.available))
struct UnavailableTests {
    @Test func deviceThrowsTheReason() {
        #expect {
            _ = try CUDABackend.device(0)
        } throws: { error in
            guard case CUDAError.unavailable(let reason) = error else { return false }
            return !reason.isEmpty
        }
    }

    @Test func askingForACUDATensorStopsWithTheReason() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            CUDABackend.register()
            _ = Tensor.zeros([2], device: .cuda(0))
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("[device] cuda:0 unavailable:"), "\(message)")
        #expect(message.contains("libcuda") || message.contains("cuInit") || message.contains("no devices"), "\(message)")
    }
}

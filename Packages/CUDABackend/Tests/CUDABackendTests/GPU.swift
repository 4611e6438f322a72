import Testing
#if canImport(Glibc)
import Glibc
#endif
import TensorCore
@testable import CUDABackend

/// The device the GPU tests run on: the machine's GPU when it has one, else the CUDA emulator
/// (the same kernels executed on the host); the tests are skipped only when neither exists.
enum GPU {
    /// A real GPU's backend, if the machine has one.
    static let real: CUDABackend? = {
        CUDABackend.register(emulateWithoutGPU: false)
        return try? CUDABackend.device(0)
    }()
    static let backend: CUDABackend? = {
        if let real { return real }
        CUDABackend.register(emulateWithoutGPU: true)
        return try? CUDABackend.emulated()
    }()
    static var available: Bool {
        let where_ = backend.map { ($0.isEmulated ? "the CUDA emulator, " : "a GPU, ") + $0.name } ?? "nothing (skipped)"
        reportOnce(where_)
        return backend != nil
    }
    static var device: Device { backend?.device ?? .cuda(0) }
    static var onEmulator: Bool { backend?.isEmulated ?? false }

    nonisolated(unsafe) private static var reported = false
    private static func reportOnce(_ text: String) {
        guard !reported else { return }
        reported = true
        fputs("[CUDABackendTests] GPU tests run on \(text)\n", stderr)
    }
}

/// The suites that use the CUDA device, one at a time: they share its backend and allocator
/// (the caching-allocator test counts the allocations it makes).
@Suite("On the CUDA device", .serialized)
enum OnTheCUDADevice {}

/// CI sets `TESSERA_REQUIRE_CUDA_DEVICE=1`: there the GPU tests must run (on a GPU or the
/// emulator), never be skipped for want of a compiler.
@Suite("The CUDA device where CI requires one")
struct CUDADeviceRequirement {
    @Test func theGPUTestsHaveADeviceWhenRequired() {
        let required = getenv("TESSERA_REQUIRE_CUDA_DEVICE").map { String(cString: $0) == "1" } ?? false
        #expect(!required || GPU.available, "TESSERA_REQUIRE_CUDA_DEVICE=1 but neither a GPU nor the CUDA emulator (a C++ compiler) is here")
    }
}

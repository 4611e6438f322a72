import Testing
@testable import CUDABackend

/// The course exercises compile wherever NVRTC exists (their GPU results are checked in GPUTests).
@Suite("NVRTC compilation of the course kernels")
struct CourseKernelCompilationTests {
    @Test func everyExerciseCompiles() throws {
        guard case .success(let nvrtc) = KernelCompilationTests.compiler else { return }
        for (source, name) in CourseKernels.all {
            let ptx = try nvrtc.compile(source, name: name + ".cu", architecture: KernelCompilationTests.architecture)
            #expect(ptx.contains(".entry \(name)("))
        }
    }
}

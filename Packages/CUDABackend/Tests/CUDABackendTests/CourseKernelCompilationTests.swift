import Testing
@testable import CUDABackend

/// The course exercises compile wherever NVRTC exists (their GPU results are checked in GPUTests).
@Suite("NVRTC compilation of the course kernels")
struct CourseKernelCompilationTests {
    @Test(.enabled(if: KernelCompilationTests.available, "libnvrtc not found"))
    func everyExerciseCompiles() throws {
        let nvrtc = try KernelCompilationTests.compiler.get()
        for (source, name) in CourseKernels.all {
            let ptx = try nvrtc.compile(source, name: name + ".cu", architecture: KernelCompilationTests.architecture)
            #expect(ptx.contains(".entry \(name)("))
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
import Testing
import TensorCore
@testable import CUDABackend

/// NVRTC needs no GPU: wherever libnvrtc loads, every kernel module compiles for every dtype
/// it serves. CI installs Debian's libnvrtc11.2 and sets TESSERA_REQUIRE_NVRTC=1, so there a
/// missing compiler is a failure, not a skip.
@Suite("NVRTC compilation of every kernel source")
struct KernelCompilationTests {
    static let compiler: Result<NVRTC, CUDAError> = Result { try NVRTC() }.mapError { $0 as! CUDAError }
    /// Whether libnvrtc loaded: tests that compile are skipped (shown as skipped) where it did not.
    static var available: Bool { if case .success = compiler { return true } else { return false } }
    static var required: Bool { getenv("TESSERA_REQUIRE_NVRTC").map { String(cString: $0) == "1" } ?? false }

    /// compute_80 (Ampere): double atomics and every intrinsic the kernels use; the GPU machine
    /// compiles for its own architecture at run time.
    static let architecture = 80

    @Test func nvrtcIsFoundWhereCIRequiresIt() throws {
        switch Self.compiler {
        case .success(let nvrtc):
            #expect(nvrtc.version.major >= 11, "NVRTC \(nvrtc.version) at \(nvrtc.path)")
            #expect(nvrtc.targetArchitecture(forDevice: 90) <= 90)
        case .failure(let error):
            #expect(!Self.required, "TESSERA_REQUIRE_NVRTC=1 but \(error)")
        }
    }

    @Test(.enabled(if: available, "libnvrtc not found"), arguments: KernelModule.allCases)
    func moduleCompilesForEveryDtype(_ module: KernelModule) throws {
        let nvrtc = try Self.compiler.get()
        for dtype in module.dtypes {
            let ptx = try nvrtc.compile(module.source(for: dtype), name: module.fileName(for: dtype), architecture: Self.architecture)
            for kernel in CUDAKernelNames.names(in: module) {
                #expect(ptx.contains(".entry \(kernel)("), "\(module.fileName(for: dtype)) has no kernel \(kernel)")
            }
        }
    }

    @Test(.enabled(if: available, "libnvrtc not found"))
    func sourceErrorsAreThrownWithTheCompilerLog() throws {
        let nvrtc = try Self.compiler.get()
        #expect {
            _ = try nvrtc.compile("extern \"C\" __global__ void broken(float* x) { x[0] = undefined_name; }", name: "broken.cu", architecture: 80)
        } throws: { error in
            guard case let CUDAError.compilation(kernel, log) = error else { return false }
            return kernel == "broken.cu" && log.contains("undefined_name")
        }
    }
}

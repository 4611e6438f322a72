import Foundation
import Testing
@testable import CUDABackend

@Suite("Loading CUDA at run time")
struct AvailabilityTests {
    @Test func libraryNamesTryTheEnvironmentDirectoryThenVersionedNames() {
        let names = CUDALibraryNames.candidates("cublas", environment: "/opt/nvidia/lib")
        #expect(names.first == "/opt/nvidia/lib/libcublas.so.13")
        #expect(names.contains("libcublas.so.12") && names.contains("libcublas.so.11") && names.last == "libcublas.so")
        #expect(CUDALibraryNames.candidates("nvrtc", environment: "/x/").first == "/x/libnvrtc.so.13")
    }

    @Test func missingDriverIsUnavailableWithTheReason() {
        let result = CUDADriver.probe(candidates: ["/nonexistent/libcuda.so.1"])
        #expect(!result.isAvailable)
        #expect(result.description.hasPrefix("CUDA unavailable: the driver library libcuda.so.1 was not found"))
        #expect(result.description.contains("/nonexistent/libcuda.so.1"))
    }

    @Test func aLibraryWithoutTheDriverAPIIsUnavailable() {
        // libm opens but has no cuInit.
        let result = CUDADriver.probe(candidates: ["libm.so.6"])
        #expect(result == .unavailable(reason: "libm.so.6 lacks the driver API entry points (cuInit, cuDeviceGetCount, ...)"))
    }

    /// On this machine: whatever the answer, it is an answer with a reason, never a crash.
    @Test func probingThisMachineAnswers() {
        let result = CUDADriver.probe()
        switch result {
        case .available(_, let devices): #expect(!devices.isEmpty)
        case .unavailable(let reason): #expect(!reason.isEmpty)
        }
        print(result)
    }
}

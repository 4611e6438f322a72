import TensorCore
@testable import CUDABackend

/// The GPU these tests run on, when the machine has one (tests needing it are skipped otherwise).
enum GPU {
    static let backend: CUDABackend? = {
        CUDABackend.register()
        return try? CUDABackend.device(0)
    }()
    static var available: Bool { backend != nil }
    static var device: Device { backend?.device ?? .cuda(0) }
}

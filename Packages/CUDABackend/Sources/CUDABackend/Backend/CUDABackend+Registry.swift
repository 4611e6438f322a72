#if canImport(Glibc)
import Glibc
#endif
import TensorCore

extension DeviceKind {
    /// NVIDIA GPUs, served by `CUDABackend` once `CUDABackend.register()` has run.
    public static let cuda = DeviceKind(named: "cuda")
}

extension Device {
    /// GPU `index` (`cuda:0`, `cuda:1`, …).
    public static func cuda(_ index: Int = 0) -> Device { Device(kind: .cuda, index: index) }
}

extension CUDABackend {
    private static var lock: pthread_mutex_t = { var m = pthread_mutex_t(); pthread_mutex_init(&m, nil); return m }()
    nonisolated(unsafe) private static var driverResult: Result<DriverAPI, Error>?
    nonisolated(unsafe) private static var backends: [Int: CUDABackend] = [:]

    /// The driver, loaded and initialised once per process.
    static func sharedDriver() throws -> DriverAPI {
        pthread_mutex_lock(&lock); defer { pthread_mutex_unlock(&lock) }
        if driverResult == nil { driverResult = Result { try DriverAPI() } }
        return try driverResult!.get()
    }

    /// The backend of GPU `index`, created on first use. Throws `.unavailable` with the reason
    /// on a machine without a usable driver or device. Ops never come here: a tensor's storage
    /// holds its backend, and TensorCore's registry keeps the answer per device index.
    public static func device(_ index: Int = 0) throws -> CUDABackend {
        let driver = try sharedDriver()
        pthread_mutex_lock(&lock); defer { pthread_mutex_unlock(&lock) }
        if let existing = backends[index] { return existing }
        var count: Int32 = 0
        try driver.check(driver.cuDeviceGetCount(&count), "cuDeviceGetCount")
        guard index >= 0, index < Int(count) else {
            throw CUDAError.unavailable("cuda:\(index) does not exist (\(count) device\(count == 1 ? "" : "s") present)")
        }
        let backend = try CUDABackend(driver: driver, ordinal: index)
        backends[index] = backend
        return backend
    }

    /// Registers the CUDA backend with TensorCore (the same public call any backend uses) so
    /// that `Device.cuda(i)` works, and returns what this machine has. Where there is no usable
    /// GPU, asking for `.cuda(i)` stops with the reason returned here.
    ///
    /// `emulateWithoutGPU` (by default: `TESSERA_CUDA_EMULATOR=1`): where there is no GPU,
    /// `Device.cuda(0)` is the emulated device (`CUDABackend.emulated()`), the same kernels
    /// executed on the host.
    @discardableResult
    public static func register(emulateWithoutGPU: Bool = CUDAEmulator.requested) -> CUDAAvailability {
        let availability = CUDADriver.probe()
        if !availability.isAvailable && emulateWithoutGPU, let emulated = try? CUDABackend.emulated() {
            Backends.register(.cuda, unavailableReason: "the CUDA emulator has one device, cuda:0") { index in index == 0 ? emulated : nil }
            return .available(driverVersion: 12000, devices: [EmulatedDriver.deviceName])
        }
        let reason: String
        switch availability {
        case .available(_, let devices): reason = "this machine has \(devices.count) CUDA device\(devices.count == 1 ? "" : "s")"
        case .unavailable(let why): reason = why
        }
        Backends.register(.cuda, unavailableReason: reason) { index in
            guard availability.isAvailable else { return nil }
            return try? CUDABackend.device(index)
        }
        return availability
    }
}

extension CUDABackend {
    /// `cuda:0` for a package's device tests: registers the backend (the machine's GPU, else the
    /// CUDA emulator) and returns the device, or nil where neither is available.
    public static func deviceForTesting() -> Device? {
        register(emulateWithoutGPU: true).isAvailable ? .cuda(0) : nil
    }
}

/// Whether this machine can run CUDA work, and if not, why.
public enum CUDAAvailability: Equatable, CustomStringConvertible {
    /// A usable driver (version as major·1000 + minor·10) and the names of its devices.
    case available(driverVersion: Int, devices: [String])
    /// No usable GPU, and why (no driver, `cuInit` failed, no device).
    case unavailable(reason: String)

    /// Whether a GPU can be used.
    public var isAvailable: Bool { if case .available = self { return true } else { return false } }

    public var description: String {
        switch self {
        case let .available(version, devices):
            return "CUDA driver \(version / 1000).\(version % 1000 / 10): " + devices.enumerated().map { "cuda(\($0)) \($1)" }.joined(separator: ", ")
        case let .unavailable(reason):
            return "CUDA unavailable: \(reason)"
        }
    }
}

/// The CUDA driver API (`libcuda.so.1`), loaded at run time. A library that loads but whose
/// `cuInit` fails (Debian's toolkit installs one on machines without a GPU; it returns 100,
/// "no CUDA-capable device") counts as unavailable, with the error in the reason.
public enum CUDADriver {
    typealias CUInit = @convention(c) (UInt32) -> Int32
    typealias CUIntOut = @convention(c) (UnsafeMutablePointer<Int32>) -> Int32
    typealias CUDeviceGet = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32
    typealias CUDeviceGetName = @convention(c) (UnsafeMutablePointer<CChar>, Int32, Int32) -> Int32

    /// Probes the driver once per call: load, `cuInit(0)`, count and name the devices.
    public static func probe(candidates: [String] = CUDALibraryNames.candidates("cuda", versions: ["1"])) -> CUDAAvailability {
        let (opened, failures) = DynamicLibrary.open(candidates)
        guard let library = opened else {
            return .unavailable(reason: "the driver library libcuda.so.1 was not found (\(failures.first ?? "no candidates"))")
        }
        guard let cuInit = library.symbol("cuInit", as: CUInit.self),
              let getVersion = library.symbol("cuDriverGetVersion", as: CUIntOut.self),
              let getCount = library.symbol("cuDeviceGetCount", as: CUIntOut.self),
              let getDevice = library.symbol("cuDeviceGet", as: CUDeviceGet.self),
              let getName = library.symbol("cuDeviceGetName", as: CUDeviceGetName.self) else {
            return .unavailable(reason: "\(library.path) lacks the driver API entry points (cuInit, cuDeviceGetCount, ...)")
        }
        let status = cuInit(0)
        guard status == 0 else {
            return .unavailable(reason: "cuInit failed with CUDA error \(status)\(status == 100 ? " (no CUDA-capable device)" : "") using \(library.path)")
        }
        var version: Int32 = 0, count: Int32 = 0
        _ = getVersion(&version)
        guard getCount(&count) == 0, count > 0 else {
            return .unavailable(reason: "the driver at \(library.path) reports no devices")
        }
        var names: [String] = []
        for index in 0..<count {
            var device: Int32 = 0
            var buffer = [CChar](repeating: 0, count: 256)
            if getDevice(&device, index) == 0 && getName(&buffer, 256, device) == 0 {
                names.append(String(cString: buffer))
            } else {
                names.append("device \(index)")
            }
        }
        return .available(driverVersion: Int(version), devices: names)
    }
}

/// The CUDA driver API functions the backend calls, resolved once from `libcuda.so.1`.
///
/// Handles (`CUcontext`, `CUmodule`, `CUfunction`, `CUstream`, `CUevent`) are opaque pointers;
/// device addresses (`CUdeviceptr`) are 64-bit integers.
final class DriverAPI {
    typealias Handle = OpaquePointer
    typealias DevicePointer = UInt64

    let path: String
    /// Module images are CUDA C source, not PTX (the emulated driver compiles them itself).
    let loadsSource: Bool
    let cuInit: @convention(c) (UInt32) -> Int32
    let cuDeviceGet: @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32
    let cuDeviceGetCount: @convention(c) (UnsafeMutablePointer<Int32>) -> Int32
    let cuDeviceGetAttribute: @convention(c) (UnsafeMutablePointer<Int32>, Int32, Int32) -> Int32
    let cuDeviceGetName: @convention(c) (UnsafeMutablePointer<CChar>, Int32, Int32) -> Int32
    let cuDevicePrimaryCtxRetain: @convention(c) (UnsafeMutablePointer<Handle?>, Int32) -> Int32
    let cuCtxSetCurrent: @convention(c) (Handle?) -> Int32
    let cuCtxSynchronize: @convention(c) () -> Int32
    let cuMemAlloc: @convention(c) (UnsafeMutablePointer<DevicePointer>, Int) -> Int32
    let cuMemFree: @convention(c) (DevicePointer) -> Int32
    let cuMemcpyHtoDAsync: @convention(c) (DevicePointer, UnsafeRawPointer?, Int, Handle?) -> Int32
    let cuMemcpyDtoHAsync: @convention(c) (UnsafeMutableRawPointer?, DevicePointer, Int, Handle?) -> Int32
    let cuMemcpyDtoDAsync: @convention(c) (DevicePointer, DevicePointer, Int, Handle?) -> Int32
    let cuMemsetD8Async: @convention(c) (DevicePointer, UInt8, Int, Handle?) -> Int32
    let cuStreamCreate: @convention(c) (UnsafeMutablePointer<Handle?>, UInt32) -> Int32
    let cuStreamSynchronize: @convention(c) (Handle?) -> Int32
    let cuModuleLoadData: @convention(c) (UnsafeMutablePointer<Handle?>, UnsafeRawPointer) -> Int32
    let cuModuleGetFunction: @convention(c) (UnsafeMutablePointer<Handle?>, Handle?, UnsafePointer<CChar>) -> Int32
    let cuLaunchKernel: @convention(c) (Handle?, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, Handle?,
                                        UnsafeMutablePointer<UnsafeMutableRawPointer?>?, UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> Int32
    let cuEventCreate: @convention(c) (UnsafeMutablePointer<Handle?>, UInt32) -> Int32
    let cuEventRecord: @convention(c) (Handle?, Handle?) -> Int32
    let cuEventSynchronize: @convention(c) (Handle?) -> Int32
    let cuEventElapsedTime: @convention(c) (UnsafeMutablePointer<Float>, Handle?, Handle?) -> Int32
    let cuEventDestroy: @convention(c) (Handle?) -> Int32
    let cuGetErrorName: @convention(c) (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>) -> Int32

    /// Loads the driver and runs `cuInit`; throws `.unavailable` with the reason otherwise.
    convenience init(candidates: [String] = CUDALibraryNames.candidates("cuda", versions: ["1"])) throws {
        let (opened, failures) = DynamicLibrary.open(candidates)
        guard let library = opened else {
            throw CUDAError.unavailable("the driver library libcuda.so.1 was not found (\(failures.first ?? "no candidates"))")
        }
        try self.init(path: library.path) { library.symbol($0, as: UnsafeMutableRawPointer.self) }
    }

    /// Resolves every function through `symbol` (dlsym, or a test's stand-ins), then `cuInit`.
    init(path: String, loadsSource: Bool = false, symbol: (String) -> UnsafeMutableRawPointer?) throws {
        self.path = path
        self.loadsSource = loadsSource
        func load<T>(_ name: String) throws -> T {
            guard let f = symbol(name) else { throw CUDAError.missingSymbol(library: path, symbol: name) }
            return unsafeBitCast(f, to: T.self)
        }
        cuInit = try load("cuInit")
        cuDeviceGet = try load("cuDeviceGet")
        cuDeviceGetCount = try load("cuDeviceGetCount")
        cuDeviceGetAttribute = try load("cuDeviceGetAttribute")
        cuDeviceGetName = try load("cuDeviceGetName")
        cuDevicePrimaryCtxRetain = try load("cuDevicePrimaryCtxRetain")
        cuCtxSetCurrent = try load("cuCtxSetCurrent")
        cuCtxSynchronize = try load("cuCtxSynchronize")
        cuMemAlloc = try load("cuMemAlloc_v2")
        cuMemFree = try load("cuMemFree_v2")
        cuMemcpyHtoDAsync = try load("cuMemcpyHtoDAsync_v2")
        cuMemcpyDtoHAsync = try load("cuMemcpyDtoHAsync_v2")
        cuMemcpyDtoDAsync = try load("cuMemcpyDtoDAsync_v2")
        cuMemsetD8Async = try load("cuMemsetD8Async")
        cuStreamCreate = try load("cuStreamCreate")
        cuStreamSynchronize = try load("cuStreamSynchronize")
        cuModuleLoadData = try load("cuModuleLoadData")
        cuModuleGetFunction = try load("cuModuleGetFunction")
        cuLaunchKernel = try load("cuLaunchKernel")
        cuEventCreate = try load("cuEventCreate")
        cuEventRecord = try load("cuEventRecord")
        cuEventSynchronize = try load("cuEventSynchronize")
        cuEventElapsedTime = try load("cuEventElapsedTime")
        cuEventDestroy = try load("cuEventDestroy_v2")
        cuGetErrorName = try load("cuGetErrorName")
        let status = cuInit(0)
        guard status == 0 else {
            throw CUDAError.unavailable("cuInit failed with CUDA error \(status)\(status == 100 ? " (no CUDA-capable device)" : "") using \(path)")
        }
    }

    /// Throws a typed error naming `call` when `status` is not CUDA_SUCCESS.
    func check(_ status: Int32, _ call: @autoclosure () -> String) throws {
        guard status != 0 else { return }
        var name: UnsafePointer<CChar>?
        _ = cuGetErrorName(status, &name)
        throw CUDAError.driver(call: call(), code: status, name: name.map { String(cString: $0) } ?? "unknown")
    }

    /// For kernels launched from `Backend` requirements, which cannot throw: a failing launch
    /// there is a broken invariant of this package, so it stops with the driver's message.
    func must(_ status: Int32, _ call: @autoclosure () -> String) {
        do { try check(status, call()) } catch { fatalError("[cuda] \(error)") }
    }
}

/// `CUdevice_attribute` values used here (cuda.h).
enum DeviceAttribute: Int32 {
    case maxThreadsPerBlock = 1
    case multiprocessorCount = 16
    case computeCapabilityMajor = 75
    case computeCapabilityMinor = 76
}

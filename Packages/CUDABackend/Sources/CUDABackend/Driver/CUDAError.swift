/// Errors from the CUDA libraries and from compiling kernels: thrown, never a crash.
public enum CUDAError: Error, CustomStringConvertible, Equatable {
    /// No usable driver or device; the reason says which step failed.
    case unavailable(String)
    /// A library loaded but lacks a function this backend calls.
    case missingSymbol(library: String, symbol: String)
    /// A driver API call returned an error code.
    case driver(call: String, code: Int32, name: String)
    /// A cuBLAS call returned a status other than success.
    case cublas(call: String, status: Int32)
    /// NVRTC rejected a kernel source; `log` is the compiler's output.
    case compilation(kernel: String, log: String)
    /// NVRTC itself failed (not a source error).
    case nvrtc(call: String, code: Int32)
    /// The caching allocator could not get device memory even after emptying its cache.
    case outOfMemory(requested: Int, inUse: Int, cached: Int)
    /// A user kernel launch was given arguments it cannot pass.
    case invalidLaunch(String)

    public var description: String {
        switch self {
        case .unavailable(let reason): return "CUDA unavailable: \(reason)"
        case let .missingSymbol(library, symbol): return "\(library) has no function \(symbol)"
        case let .driver(call, code, name): return "\(call) failed with CUDA error \(code) (\(name))"
        case let .cublas(call, status): return "\(call) failed with cuBLAS status \(status)"
        case let .compilation(kernel, log): return "could not compile \(kernel):\n\(log)"
        case let .nvrtc(call, code): return "\(call) failed with NVRTC error \(code)"
        case let .outOfMemory(requested, inUse, cached):
            return "out of GPU memory allocating \(requested) bytes (\(inUse) bytes in use, \(cached) cached)"
        case .invalidLaunch(let message): return "invalid kernel launch: \(message)"
        }
    }
}

import TensorCore

/// An argument of a user kernel: a tensor on the kernel's device (passed as a pointer to its
/// first element) or a scalar passed by value.
public enum CUDAKernelArgument {
    /// A tensor's device pointer (it must be on the kernel's device).
    case tensor(Tensor)
    /// An `int`.
    case int32(Int32)
    /// A `long long`.
    case int64(Int64)
    /// A `float`.
    case float(Float)
    /// A `double`.
    case double(Double)
}

/// A kernel written by a user in CUDA C, compiled by NVRTC (cached on disk like the
/// backend's own) and launched on the backend's stream:
///
///     let add = try CUDAKernel(source: src, name: "add", on: gpu)
///     try add.launch(grid: (blocks, 1, 1), block: (256, 1, 1), arguments: [.tensor(x), .tensor(y), .int32(n)])
public final class CUDAKernel {
    public let name: String
    /// The device's backend the kernel was compiled for.
    public let backend: CUDABackend
    let function: DriverAPI.Handle

    /// `name` must be an `extern "C" __global__` function of `source`. Compile errors throw
    /// `CUDAError.compilation` with NVRTC's log.
    public init(source: String, name: String, on backend: CUDABackend) throws {
        self.name = name
        self.backend = backend
        backend.makeCurrent()
        let table = try backend.kernels.functions(source: source, name: name + ".cu", names: [name])
        function = table[name]!
    }

    /// Queues the kernel. Tensors must be on this kernel's device; a tensor the kernel writes
    /// should be contiguous and not a view shared with others.
    public func launch(grid: (Int, Int, Int), block: (Int, Int, Int), sharedMemoryBytes: Int = 0,
                       arguments: [CUDAKernelArgument]) throws {
        var packed = KernelArguments()
        defer { packed.release() }
        for (position, argument) in arguments.enumerated() {
            switch argument {
            case .tensor(let t):
                guard t.device == backend.device else {
                    throw CUDAError.invalidLaunch("\(name): argument \(position) is on \(t.device), the kernel runs on \(backend.device)")
                }
                // Arguments are passed by reference: a kernel's outputs should be fresh tensors.
                t.withOperand { packed.append($0) }
            case .int32(let v): packed.append(v)
            case .int64(let v): packed.append(v)
            case .float(let v): packed.append(v)
            case .double(let v): packed.append(v)
            }
        }
        guard block.0 * block.1 * block.2 <= 1024, block.0 > 0, block.1 > 0, block.2 > 0 else {
            throw CUDAError.invalidLaunch("\(name): block \(block) is empty or has more than 1024 threads")
        }
        guard grid.0 > 0, grid.1 > 0, grid.2 > 0 else { throw CUDAError.invalidLaunch("\(name): empty grid \(grid)") }
        backend.makeCurrent()
        let d = backend.driver
        let status = packed.withPointers {
            d.cuLaunchKernel(function, UInt32(grid.0), UInt32(grid.1), UInt32(grid.2), UInt32(block.0), UInt32(block.1),
                             UInt32(block.2), UInt32(sharedMemoryBytes), backend.stream, $0, nil)
        }
        try d.check(status, "cuLaunchKernel(\(name))")
    }
}

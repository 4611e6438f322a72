#if canImport(Glibc)
import Glibc
#endif
import TensorCore

/// The backend of one NVIDIA GPU: its primary context, one stream every kernel is queued on
/// (asynchronous: the host waits only where it reads values back), a caching allocator,
/// NVRTC-compiled kernels and cuBLAS.
///
/// `CUDABackend.register()` makes `Device.cuda(i)` usable from TensorCore.
public final class CUDABackend: Backend {
    public let device: Device
    public let name: String
    /// The CUDA device ordinal.
    public let ordinal: Int
    /// Compute capability as major·10 + minor (90 for an H100).
    public let computeCapability: Int
    /// Streaming multiprocessors on the device.
    public let multiprocessorCount: Int
    /// The device's caching allocator.
    public let allocator: CUDACachingAllocator
    /// float32 matrix products on tensor cores with TF32 inputs (as
    /// `torch.backends.cuda.matmul.allow_tf32`); off by default, as in PyTorch.
    public var allowTF32 = false

    let driver: DriverAPI
    let context: DriverAPI.Handle?
    let stream: DriverAPI.Handle?
    let kernels: KernelCache
    /// One slot per (module, dtype); each table is indexed by `BuiltinKernel.slot`.
    private let functionTables: UnsafeMutablePointer<[DriverAPI.Handle?]?>
    private static let dtypeSlots = DType.allCases.count + 1
    private var tableLock = pthread_mutex_t()
    /// cuBLAS once created (internal so tests can give a stand-in).
    var blasResult: Result<CUBLAS, Error>?
    /// Sees every launch of the backends' own kernels (the launching backend, the function, the
    /// byte size of each argument in order): tests compare them with the kernels' PTX
    /// signatures, keeping only their own backend's (other tests launch concurrently).
    nonisolated(unsafe) static var launchObserver: ((CUDABackend, DriverAPI.Handle, [Int]) -> Void)?
    /// A module's source in place of the package's (tests mutate kernels to see the checks fail).
    var sourceOverride: ((KernelModule, DType?) -> String)?

    init(driver: DriverAPI, ordinal: Int) throws {
        self.driver = driver
        self.ordinal = ordinal
        device = .cuda(ordinal)
        var handle: Int32 = 0
        try driver.check(driver.cuDeviceGet(&handle, Int32(ordinal)), "cuDeviceGet(\(ordinal))")
        func attribute(_ a: DeviceAttribute) throws -> Int {
            var value: Int32 = 0
            try driver.check(driver.cuDeviceGetAttribute(&value, a.rawValue, handle), "cuDeviceGetAttribute(\(a))")
            return Int(value)
        }
        computeCapability = try attribute(.computeCapabilityMajor) * 10 + attribute(.computeCapabilityMinor)
        multiprocessorCount = try attribute(.multiprocessorCount)
        var buffer = [CChar](repeating: 0, count: 256)
        _ = driver.cuDeviceGetName(&buffer, 256, handle)
        name = "cuda:\(ordinal) (\(String(cString: buffer)), sm_\(computeCapability))"
        var ctx: DriverAPI.Handle?
        try driver.check(driver.cuDevicePrimaryCtxRetain(&ctx, handle), "cuDevicePrimaryCtxRetain(\(ordinal))")
        context = ctx
        try driver.check(driver.cuCtxSetCurrent(ctx), "cuCtxSetCurrent")
        var s: DriverAPI.Handle?
        try driver.check(driver.cuStreamCreate(&s, 1 /* CU_STREAM_NON_BLOCKING */), "cuStreamCreate")
        stream = s
        allocator = CUDACachingAllocator(driver: driver, device: device)
        kernels = KernelCache(driver: driver, architecture: computeCapability)
        pthread_mutex_init(&tableLock, nil)
        let slots = KernelModule.allCases.count * Self.dtypeSlots
        functionTables = .allocate(capacity: slots)
        functionTables.initialize(repeating: nil, count: slots)
    }

    /// Makes this device's context current on the calling thread (the driver API is per thread).
    @inline(__always) func makeCurrent() { _ = driver.cuCtxSetCurrent(context) }

    /// cuBLAS, created on first use; a missing library stops matrix products with the reason.
    var blas: CUBLAS {
        if blasResult == nil { makeCurrent(); blasResult = Result { try CUBLAS(stream: stream) } }
        switch blasResult! {
        case .success(let b): return b
        case .failure(let error): tensorFailure("[matmul] \(device): \(error)")
        }
    }

    // MARK: synchronisation and timing

    /// The stream every kernel, copy and product of this backend is queued on (a `CUstream`),
    /// for libraries that queue their own work in order with it (NCCL's collectives).
    public var streamHandle: OpaquePointer? { stream }

    /// Makes this backend's context current on the calling thread (before calling a CUDA
    /// library that uses the current context).
    public func makeContextCurrent() { makeCurrent() }

    /// Waits until every queued kernel and copy has finished.
    public func synchronize() {
        makeCurrent()
        driver.must(driver.cuStreamSynchronize(stream), "cuStreamSynchronize")
    }

    /// Milliseconds of device time `body` queued, measured with events around it.
    public func elapsedMilliseconds(_ body: () -> Void) throws -> Double {
        makeCurrent()
        var start: DriverAPI.Handle?, end: DriverAPI.Handle?
        try driver.check(driver.cuEventCreate(&start, 0), "cuEventCreate")
        try driver.check(driver.cuEventCreate(&end, 0), "cuEventCreate")
        defer { _ = driver.cuEventDestroy(start); _ = driver.cuEventDestroy(end) }
        try driver.check(driver.cuEventRecord(start, stream), "cuEventRecord")
        body()
        try driver.check(driver.cuEventRecord(end, stream), "cuEventRecord")
        try driver.check(driver.cuEventSynchronize(end), "cuEventSynchronize")
        var ms: Float = 0
        try driver.check(driver.cuEventElapsedTime(&ms, start, end), "cuEventElapsedTime")
        return Double(ms)
    }

    /// The allocator's figures (as `torch.cuda.memory_stats`).
    public var memoryStatistics: CUDAMemoryStatistics { allocator.statistics }
    /// Returns cached blocks to the driver (as `torch.cuda.empty_cache`).
    public func emptyCache() { makeCurrent(); allocator.emptyCache() }

    // MARK: kernels

    /// The function table of `module` compiled for `dtype`: slot `(module, dtype)` of
    /// `functionTables`, filled once (compiled, cached and loaded on first use, under a lock)
    /// and read without one afterwards.
    func function(_ kernel: BuiltinKernel, _ dtype: DType?) -> DriverAPI.Handle {
        let key = kernel.module.index * Self.dtypeSlots + (dtype.map { $0.rawValue + 1 } ?? 0)
        if let table = functionTables[key] { return table[kernel.slot]! }
        pthread_mutex_lock(&tableLock)
        defer { pthread_mutex_unlock(&tableLock) }
        if let table = functionTables[key] { return table[kernel.slot]! }
        let module = kernel.module
        do {
            let source = sourceOverride?(module, dtype) ?? module.source(for: dtype)
            let byName = try kernels.functions(source: source, name: module.fileName(for: dtype),
                                               names: CUDAKernelNames.names(in: module))
            let table = BuiltinKernel.allCases.map { $0.module == module ? byName[$0.rawValue] : nil }
            functionTables[key] = table
            guard let f = table[kernel.slot] else { tensorFailure("[cuda] \(module.fileName(for: dtype)) has no kernel \(kernel.rawValue)") }
            return f
        } catch {
            tensorFailure("[cuda] \(device): kernels of \(module.fileName(for: dtype)) unavailable: \(error)")
        }
    }

    /// Launches a 1-D grid over `count` work items (grid-stride loops in the kernels cover any
    /// count with a bounded grid), or `blocks` blocks when given.
    func launch(_ kernel: BuiltinKernel, _ dtype: DType?, count: Int, blocks: Int? = nil,
                threads: Int = 256, _ build: (inout KernelArguments) -> Void) {
        guard count > 0 else { return }
        makeCurrent()
        let f = function(kernel, dtype)
        var arguments = KernelArguments()
        build(&arguments)
        defer { arguments.release() }
        Self.launchObserver?(self, f, arguments.sizes)
        let grid = blocks ?? min((count + threads - 1) / threads, max(multiprocessorCount, 1) * 32)
        let status = arguments.withPointers {
            driver.cuLaunchKernel(f, UInt32(max(grid, 1)), 1, 1, UInt32(threads), 1, 1, 0, stream, $0, nil)
        }
        driver.must(status, "cuLaunchKernel(\(kernel.rawValue), \(kernel.module.fileName(for: dtype)))")
    }

    // MARK: MemoryOps

    public func allocate(byteCount: Int) -> Storage {
        makeCurrent()
        return allocator.allocate(byteCount: byteCount, for: self)
    }

    public func copy(_ source: Operand, into destination: Operand) {
        tensorCheck(source.storage.device == device && destination.storage.device == device,
                    "[copy] \(device) backend given operands on \(source.storage.device) and \(destination.storage.device)")
        let count = destination.elementCount
        guard count > 0 else { return }
        if source.dtype == destination.dtype && source.layout.isContiguous && destination.layout.isContiguous {
            makeCurrent()
            driver.must(driver.cuMemcpyDtoDAsync(destination.deviceAddress, source.deviceAddress, count * source.dtype.byteSize, stream),
                        "cuMemcpyDtoDAsync")
            return
        }
        let (shape, strides) = coalesced(shape: destination.shape, strides: [source.layout.strides, destination.layout.strides])
        let contiguous = shape.count == 1 && strides.allSatisfy { $0[0] == 1 }
        launch(.convert, nil, count: count) { a in
            a.append(source); a.append(Int32(source.dtype.rawValue)); a.append(StridedArgument(shape: shape, strides: strides[0]))
            a.append(destination); a.append(Int32(destination.dtype.rawValue)); a.append(StridedArgument(shape: shape, strides: strides[1]))
            a.append(Int64(count)); a.append(Int32(contiguous ? 1 : 0))
        }
    }

    public func fill(_ destination: Operand, with value: Double) {
        let (shape, strides) = coalesced(shape: destination.shape, strides: [destination.layout.strides])
        let contiguous = shape.count == 1 && strides[0][0] == 1
        launch(.fill, destination.dtype, count: destination.elementCount) { a in
            a.append(destination); a.append(StridedArgument(shape: shape, strides: strides[0]))
            a.append(Int64(destination.elementCount)); a.append(value); a.append(Int32(contiguous ? 1 : 0))
        }
    }

    public func copyFromHost(_ bytes: UnsafeRawBufferPointer, into storage: Storage) {
        guard bytes.count > 0 else { return }
        tensorCheck(bytes.count <= storage.byteCount, "[copyFromHost] \(bytes.count) bytes into a storage of \(storage.byteCount)")
        makeCurrent()
        let address = UInt64(UInt(bitPattern: storage.pointer))
        driver.must(driver.cuMemcpyHtoDAsync(address, bytes.baseAddress, bytes.count, stream), "cuMemcpyHtoDAsync")
        // The host buffer may go away when this returns.
        driver.must(driver.cuStreamSynchronize(stream), "cuStreamSynchronize")
    }

    public func copyToHost(_ storage: Storage, byteCount: Int, into bytes: UnsafeMutableRawBufferPointer) {
        guard byteCount > 0 else { return }
        tensorCheck(byteCount <= bytes.count && byteCount <= storage.byteCount,
                    "[copyToHost] \(byteCount) bytes from a storage of \(storage.byteCount) into \(bytes.count)")
        makeCurrent()
        let address = UInt64(UInt(bitPattern: storage.pointer))
        driver.must(driver.cuMemcpyDtoHAsync(bytes.baseAddress, address, byteCount, stream), "cuMemcpyDtoHAsync")
        driver.must(driver.cuStreamSynchronize(stream), "cuStreamSynchronize")
    }

    /// `operand` itself when row-major without gaps, else a contiguous copy on this device.
    func contiguous(_ operand: Operand) -> Operand {
        if operand.layout.isContiguous { return operand }
        let copy = makeOperand(shape: operand.shape, dtype: operand.dtype)
        self.copy(operand, into: copy)
        return copy
    }
}

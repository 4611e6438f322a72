#if canImport(Glibc)
import Glibc
#endif
import TensorCore

/// The CUDA driver API and cuBLAS over host memory, executing launches on `CUDAEmulator`'s
/// compiled kernels: one emulated device ("Tessera CUDA emulator", sm_80, 2 multiprocessors).
///
/// Device memory is host memory mapped with a guard page after each allocation (an access past
/// the end faults), and a table of allocations with their live bytes that the kernels' memory
/// checks consult; either way the emulator reports the kernel, block and thread. A module image is
/// CUDA C source rather than PTX (`DriverAPI.loadsSource`). Work completes when queued, so
/// streams and events only order what already ran; events hold host timestamps.
enum EmulatedDriver {
    typealias Launcher = @convention(c) (UnsafePointer<UInt32>, UInt32, UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
                                         UnsafeMutablePointer<CChar>, Int32) -> Int32
    typealias Gemm = @convention(c) (Int32, Int32, Int32, Int32, Int32, Int32, UnsafeRawPointer, UInt64, Int32, Int64,
                                     UInt64, Int32, Int64, UnsafeRawPointer, UInt64, Int32, Int64, Int32) -> Int32

    static let deviceName = "Tessera CUDA emulator"
    static let multiprocessors: Int32 = 2
    static let invalidValue: Int32 = 1, outOfMemory: Int32 = 2, invalidImage: Int32 = 200, notFound: Int32 = 500
    static let launchFailed: Int32 = 719

    private static var lock: pthread_mutex_t = { var m = pthread_mutex_t(); pthread_mutex_init(&m, nil); return m }()
    nonisolated(unsafe) private static var modules: [DynamicLibrary] = []
    nonisolated(unsafe) private static var functions: [(launcher: Launcher, name: String)] = []
    /// Live allocations: the address handed out → the mapping holding it (start, length).
    nonisolated(unsafe) private static var allocations: [UInt64: (start: UnsafeMutableRawPointer, length: Int)] = [:]
    nonisolated(unsafe) private static var events: [Double] = []
    nonisolated(unsafe) private static var errorNames: [Int32: UnsafePointer<CChar>] = [:]
    /// The message of the last launch that failed (kernel, block, thread and what happened).
    nonisolated(unsafe) static var lastFailure: String?
    /// Launches executed since the process started.
    nonisolated(unsafe) static var launchCount = 0

    static func handle(_ index: Int) -> OpaquePointer { OpaquePointer(bitPattern: index + 1)! }
    static func index(_ handle: OpaquePointer?) -> Int { Int(bitPattern: UnsafeRawPointer(handle)) - 1 }
    static func pointer(_ address: UInt64) -> UnsafeMutableRawPointer? { UnsafeMutableRawPointer(bitPattern: UInt(address)) }
    private static func raw<F>(_ f: F) -> UnsafeMutableRawPointer { unsafeBitCast(f, to: UnsafeMutableRawPointer.self) }
    private static func locked<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(&lock); defer { pthread_mutex_unlock(&lock) }
        return try body()
    }

    /// The support library's allocation table (what the modules' memory checks read).
    struct AllocationTable {
        typealias Track = @convention(c) (UInt, UInt, UInt, Int) -> Void
        typealias Address = @convention(c) (UInt) -> Void
        typealias SetLive = @convention(c) (UInt, Int) -> Void
        let track: Track, untrack: Address, setLive: SetLive
        let lookup: UnsafeMutableRawPointer, lock: UnsafeMutableRawPointer
    }
    /// nil where the support library does not compile (launches then go unchecked).
    static let allocationTable: AllocationTable? = {
        guard let library = try? CUDAEmulator.library(for: EmulatorRuntime.support, name: "support", instrumented: false),
              let track = library.symbol("tessera_emu_track", as: AllocationTable.Track.self),
              let untrack = library.symbol("tessera_emu_untrack", as: AllocationTable.Address.self),
              let setLive = library.symbol("tessera_emu_set_live", as: AllocationTable.SetLive.self),
              let lookup = library.symbol("tessera_emu_lookup", as: UnsafeMutableRawPointer.self),
              let lock = library.symbol("tessera_emu_lock", as: UnsafeMutableRawPointer.self) else { return nil }
        return AllocationTable(track: track, untrack: untrack, setLive: setLive, lookup: lookup, lock: lock)
    }()

    /// `size` bytes ending 16-byte aligned right before an inaccessible page.
    static func allocate(_ size: Int) -> UInt64? {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let rounded = (max(size, 1) + 15) & ~15
        let length = (rounded + page - 1) / page * page + page
        guard let start = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), start != MAP_FAILED else { return nil }
        mprotect(start + length - page, page, PROT_NONE)
        let address = UInt64(UInt(bitPattern: start + length - page - rounded))
        locked { allocations[address] = (start, length) }
        allocationTable?.track(UInt(bitPattern: start), UInt(bitPattern: start) + UInt(length), UInt(address), size)
        return address
    }

    static func free(_ address: UInt64) -> Int32 {
        guard let mapping = locked({ allocations.removeValue(forKey: address) }) else { return address == 0 ? 0 : invalidValue }
        allocationTable?.untrack(UInt(address))
        munmap(mapping.start, mapping.length)
        return 0
    }

    /// The bytes of the allocation at `address` kernels may touch: what the caching allocator's
    /// caller asked for (its block may be larger), or 0 while the block is cached.
    static func setLiveBytes(_ address: UInt64, _ bytes: Int) {
        allocationTable?.setLive(UInt(address), bytes)
    }

    static func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) * 1e3 + Double(t.tv_nsec) / 1e6
    }

    static func name(of status: Int32) -> UnsafePointer<CChar> {
        locked {
            if let known = errorNames[status] { return known }
            let text: String
            switch status {
            case 0: text = "CUDA_SUCCESS"
            case invalidValue: text = "CUDA_ERROR_INVALID_VALUE"
            case outOfMemory: text = "CUDA_ERROR_OUT_OF_MEMORY"
            case invalidImage: text = "CUDA_ERROR_INVALID_IMAGE"
            case notFound: text = "CUDA_ERROR_NOT_FOUND"
            case launchFailed: text = "CUDA_ERROR_LAUNCH_FAILED"
            default: text = "CUDA_ERROR_\(status)"
            }
            let pointer = UnsafePointer(strdup(text)!)
            errorNames[status] = pointer
            return pointer
        }
    }

    /// Runs one launch; a failure is printed (as compute-sanitizer would) and kept in `lastFailure`.
    static func launch(_ function: OpaquePointer?, _ dims: [UInt32], shared: UInt32,
                       _ parameters: UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> Int32 {
        let i = index(function)
        guard let entry = locked({ functions.indices.contains(i) ? functions[i] : nil }) else { return invalidValue }
        var message = [CChar](repeating: 0, count: 1024)
        let status = dims.withUnsafeBufferPointer { entry.launcher($0.baseAddress!, shared, parameters, &message, Int32(message.count)) }
        locked { launchCount += 1 }
        guard status == 0 else {
            let text = String(cString: message)
            locked { lastFailure = text }
            fputs("[cuda emulator] \(text)\n", stderr)
            return launchFailed
        }
        return 0
    }

    static let driverSymbols: [String: UnsafeMutableRawPointer] = {
        typealias H = OpaquePointer
        var table: [String: UnsafeMutableRawPointer] = [:]
        let ok0: @convention(c) () -> Int32 = { 0 }
        let okHandle: @convention(c) (H?) -> Int32 = { _ in 0 }
        table["cuInit"] = raw({ _ in 0 } as @convention(c) (UInt32) -> Int32)
        table["cuDriverGetVersion"] = raw({ version in version.pointee = 12000; return 0 } as @convention(c) (UnsafeMutablePointer<Int32>) -> Int32)
        table["cuDeviceGet"] = raw({ device, ordinal in
            guard ordinal == 0 else { return 101 /* CUDA_ERROR_INVALID_DEVICE */ }
            device.pointee = ordinal; return 0
        } as @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32)
        table["cuDeviceGetCount"] = raw({ count in count.pointee = 1; return 0 } as @convention(c) (UnsafeMutablePointer<Int32>) -> Int32)
        table["cuDeviceGetAttribute"] = raw({ value, attribute, _ in
            switch attribute {
            case DeviceAttribute.computeCapabilityMajor.rawValue: value.pointee = 8
            case DeviceAttribute.computeCapabilityMinor.rawValue: value.pointee = 0
            case DeviceAttribute.multiprocessorCount.rawValue: value.pointee = EmulatedDriver.multiprocessors
            default: value.pointee = 1024
            }
            return 0
        } as @convention(c) (UnsafeMutablePointer<Int32>, Int32, Int32) -> Int32)
        table["cuDeviceGetName"] = raw({ buffer, length, _ in
            _ = EmulatedDriver.deviceName.withCString { strncpy(buffer, $0, Int(length)) }; return 0
        } as @convention(c) (UnsafeMutablePointer<CChar>, Int32, Int32) -> Int32)
        table["cuDevicePrimaryCtxRetain"] = raw({ ctx, _ in ctx.pointee = EmulatedDriver.handle(0); return 0 } as @convention(c) (UnsafeMutablePointer<H?>, Int32) -> Int32)
        table["cuCtxSetCurrent"] = raw(okHandle)
        table["cuCtxSynchronize"] = raw(ok0)
        table["cuMemAlloc_v2"] = raw({ address, size in
            guard let a = EmulatedDriver.allocate(size) else { return EmulatedDriver.outOfMemory }
            address.pointee = a; return 0
        } as @convention(c) (UnsafeMutablePointer<UInt64>, Int) -> Int32)
        table["cuMemFree_v2"] = raw({ address in EmulatedDriver.free(address) } as @convention(c) (UInt64) -> Int32)
        table["cuMemcpyHtoDAsync_v2"] = raw({ dst, src, n, _ in memcpy(EmulatedDriver.pointer(dst)!, src!, n); return 0 } as @convention(c) (UInt64, UnsafeRawPointer?, Int, H?) -> Int32)
        table["cuMemcpyDtoHAsync_v2"] = raw({ dst, src, n, _ in memcpy(dst!, EmulatedDriver.pointer(src)!, n); return 0 } as @convention(c) (UnsafeMutableRawPointer?, UInt64, Int, H?) -> Int32)
        table["cuMemcpyDtoDAsync_v2"] = raw({ dst, src, n, _ in memmove(EmulatedDriver.pointer(dst)!, EmulatedDriver.pointer(src)!, n); return 0 } as @convention(c) (UInt64, UInt64, Int, H?) -> Int32)
        table["cuMemsetD8Async"] = raw({ dst, value, n, _ in memset(EmulatedDriver.pointer(dst)!, Int32(value), n); return 0 } as @convention(c) (UInt64, UInt8, Int, H?) -> Int32)
        table["cuStreamCreate"] = raw({ stream, _ in stream.pointee = EmulatedDriver.handle(0); return 0 } as @convention(c) (UnsafeMutablePointer<H?>, UInt32) -> Int32)
        table["cuStreamSynchronize"] = raw(okHandle)
        table["cuModuleLoadData"] = raw({ module, image in
            let source = String(cString: image.assumingMemoryBound(to: CChar.self))
            guard let library = try? CUDAEmulator.module(source: source, name: "module") else { return EmulatedDriver.invalidImage }
            if let table = EmulatedDriver.allocationTable,
               let attach = library.symbol("tessera_emu_attach", as: (@convention(c) (UnsafeMutableRawPointer, UnsafeMutableRawPointer) -> Void).self) {
                attach(table.lookup, table.lock)
            }
            return EmulatedDriver.locked {
                EmulatedDriver.modules.append(library)
                module.pointee = EmulatedDriver.handle(EmulatedDriver.modules.count - 1)
                return 0
            }
        } as @convention(c) (UnsafeMutablePointer<H?>, UnsafeRawPointer) -> Int32)
        table["cuModuleGetFunction"] = raw({ function, module, name in
            let kernel = String(cString: name)
            return EmulatedDriver.locked {
                let m = EmulatedDriver.index(module)
                guard EmulatedDriver.modules.indices.contains(m),
                      let launcher = EmulatedDriver.modules[m].symbol("tessera_emu_launch_" + kernel, as: Launcher.self) else {
                    return EmulatedDriver.notFound
                }
                EmulatedDriver.functions.append((launcher, kernel))
                function.pointee = EmulatedDriver.handle(EmulatedDriver.functions.count - 1)
                return 0
            }
        } as @convention(c) (UnsafeMutablePointer<H?>, H?, UnsafePointer<CChar>) -> Int32)
        table["cuLaunchKernel"] = raw({ f, gx, gy, gz, bx, by, bz, shared, _, parameters, _ in
            EmulatedDriver.launch(f, [gx, gy, gz, bx, by, bz], shared: shared, parameters)
        } as @convention(c) (H?, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, H?,
                             UnsafeMutablePointer<UnsafeMutableRawPointer?>?, UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> Int32)
        table["cuEventCreate"] = raw({ event, _ in
            EmulatedDriver.locked { EmulatedDriver.events.append(0); event.pointee = EmulatedDriver.handle(EmulatedDriver.events.count - 1) }
            return 0
        } as @convention(c) (UnsafeMutablePointer<H?>, UInt32) -> Int32)
        table["cuEventRecord"] = raw({ event, _ in
            let t = EmulatedDriver.now()
            EmulatedDriver.locked { EmulatedDriver.events[EmulatedDriver.index(event)] = t }
            return 0
        } as @convention(c) (H?, H?) -> Int32)
        table["cuEventSynchronize"] = raw(okHandle)
        table["cuEventElapsedTime"] = raw({ ms, start, end in
            EmulatedDriver.locked { ms.pointee = Float(EmulatedDriver.events[EmulatedDriver.index(end)] - EmulatedDriver.events[EmulatedDriver.index(start)]) }
            return 0
        } as @convention(c) (UnsafeMutablePointer<Float>, H?, H?) -> Int32)
        table["cuEventDestroy_v2"] = raw(okHandle)
        table["cuGetErrorName"] = raw({ status, name in name.pointee = EmulatedDriver.name(of: status); return 0 } as @convention(c) (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>) -> Int32)
        return table
    }()

    /// cuBLAS's GEMMs through the runtime's host GEMM (compiled once).
    static func blasSymbols() throws -> [String: UnsafeMutableRawPointer] {
        let library = try CUDAEmulator.library(for: EmulatorRuntime.support, name: "support", instrumented: false)
        guard let gemm = library.symbol("tessera_emu_gemm", as: UnsafeMutableRawPointer.self) else {
            throw CUDAError.missingSymbol(library: library.path, symbol: "tessera_emu_gemm")
        }
        nonisolated(unsafe) let g = unsafeBitCast(gemm, to: Gemm.self)
        emulatedGemm = g
        typealias H = OpaquePointer
        var table: [String: UnsafeMutableRawPointer] = [:]
        table["cublasCreate_v2"] = raw({ h in h.pointee = EmulatedDriver.handle(0); return 0 } as @convention(c) (UnsafeMutablePointer<H?>) -> Int32)
        table["cublasSetStream_v2"] = raw({ _, _ in 0 } as @convention(c) (H?, H?) -> Int32)
        table["cublasSgemmStridedBatched"] = raw({ _, ta, tb, m, n, k, alpha, a, lda, sa, b, ldb, sb, beta, c, ldc, sc, batch in
            EmulatedDriver.emulatedGemm!(CUBLAS.r32F, ta, tb, m, n, k, alpha, a, lda, sa, b, ldb, sb, beta, c, ldc, sc, batch)
        } as CUBLAS.SGemm)
        table["cublasDgemmStridedBatched"] = raw({ _, ta, tb, m, n, k, alpha, a, lda, sa, b, ldb, sb, beta, c, ldc, sc, batch in
            EmulatedDriver.emulatedGemm!(CUBLAS.r64F, ta, tb, m, n, k, alpha, a, lda, sa, b, ldb, sb, beta, c, ldc, sc, batch)
        } as CUBLAS.SGemm)
        table["cublasGemmStridedBatchedEx"] = raw({ _, ta, tb, m, n, k, alpha, a, typeA, lda, sa, b, typeB, ldb, sb, beta, c, typeC, ldc, sc, batch, _, _ in
            guard typeA == typeB, typeB == typeC else { return 15 /* CUBLAS_STATUS_NOT_SUPPORTED */ }
            return EmulatedDriver.emulatedGemm!(typeA, ta, tb, m, n, k, alpha, a, lda, sa, b, ldb, sb, beta, c, ldc, sc, batch)
        } as CUBLAS.GemmEx)
        return table
    }
    nonisolated(unsafe) private static var emulatedGemm: Gemm?
}

extension CUDABackend {
    nonisolated(unsafe) private static var emulatedBackend: Result<CUDABackend, Error>?
    private static var emulatorLock: pthread_mutex_t = { var m = pthread_mutex_t(); pthread_mutex_init(&m, nil); return m }()

    /// The backend of the emulated device (`CUDAEmulator`): the package's real kernels, run on
    /// the host. Throws `.unavailable` where no C++ compiler is found. One per process.
    public static func emulated() throws -> CUDABackend {
        pthread_mutex_lock(&emulatorLock); defer { pthread_mutex_unlock(&emulatorLock) }
        if let existing = emulatedBackend { return try existing.get() }
        let result = Result { try makeEmulated() }
        emulatedBackend = result
        return try result.get()
    }

    /// A new backend on the emulated device (tests give it mutated kernel sources).
    static func makeEmulated() throws -> CUDABackend {
        guard CUDAEmulator.isAvailable else {
            throw CUDAError.unavailable("the CUDA emulator needs a C++ compiler (clang++ on PATH, or \(CUDAEmulator.compilerVariable))")
        }
        let driver = try DriverAPI(path: "Tessera CUDA emulator", loadsSource: true) { EmulatedDriver.driverSymbols[$0] }
        let backend = try CUDABackend(driver: driver, ordinal: 0)
        backend.blasResult = Result {
            let symbols = try EmulatedDriver.blasSymbols()
            return try CUBLAS(path: "Tessera CUDA emulator (cuBLAS)", stream: backend.stream) { symbols[$0] }
        }
        return backend
    }

    /// Whether this backend runs on the emulator rather than a GPU.
    public var isEmulated: Bool { driver.loadsSource }
}

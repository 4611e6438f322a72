import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Releases the memory behind a `Storage` when the last tensor using it goes away.
public protocol StorageAllocator: AnyObject {
    /// Frees (or keeps for reuse) the block at `pointer`.
    func deallocate(_ pointer: UnsafeMutableRawPointer, byteCount: Int)
}

/// A block of memory on one device; tensors are views into a storage.
///
/// For the CPU `pointer` is host memory; for a GPU backend it is the device address
/// (never dereferenced on the host). The storage holds the backend that made it, so an op on
/// a tensor finds its kernels with one load, whatever the device.
public final class Storage {
    /// The memory's address (host or device).
    public let pointer: UnsafeMutableRawPointer
    /// Its size in bytes.
    public let byteCount: Int
    /// The backend whose kernels read and write this memory. Not retained (two atomic
    /// operations on every tensor made): a backend must outlive its storages, as registered
    /// backends do (the registry never releases one, even when its kind is registered again).
    public unowned(unsafe) let backend: any Backend
    /// `backend.device`, kept here so device checks need no call through the protocol.
    public let device: Device
    /// Frees the memory when the storage goes away.
    public let allocator: StorageAllocator

    /// A storage of memory `backend` allocated through `allocator`.
    public convenience init(pointer: UnsafeMutableRawPointer, byteCount: Int, backend: any Backend, allocator: StorageAllocator) {
        self.init(pointer: pointer, byteCount: byteCount, backend: backend, device: backend.device, allocator: allocator)
    }

    /// With `device` given (it must be `backend.device`): no call through the protocol.
    public init(pointer: UnsafeMutableRawPointer, byteCount: Int, backend: any Backend, device: Device, allocator: StorageAllocator) {
        self.pointer = pointer
        self.byteCount = byteCount
        self.backend = backend
        self.device = device
        self.allocator = allocator
    }

    deinit { allocator.deallocate(pointer, byteCount: byteCount) }
}

/// Host memory, 64-byte aligned, with a cache of large blocks.
///
/// Large blocks come from mmap and are unmapped on free, so a fresh 64 MB output pays
/// ~16k page faults every time. Keeping recently freed large blocks (bounded in total)
/// removes that cost from element-wise ops on big tensors.
public final class CPUAllocator: StorageAllocator {
    /// The process's one CPU allocator.
    public static let shared = CPUAllocator()

    /// Blocks at least this large are cached on free. glibc serves blocks above 128 KB with
    /// fresh mmaps (page faults on every first touch), so those are worth keeping.
    public let cacheThreshold = 1 << 17
    /// Upper bound on bytes held in the cache.
    public var cacheLimit = 1 << 30

    private var cache: [Int: [UnsafeMutableRawPointer]] = [:]
    private var cachedBytes = 0
    private var lock = pthread_mutex_t()

    /// Allocations served so far.
    public var allocationCount: Int { allocations.load(ordering: .relaxed) }
    /// Incremented outside the lock (small blocks never take it), from any thread: the
    /// DataLoader's prefetch thread allocates while the consumer does (ThreadSanitizer found
    /// the plain counter racing).
    private let allocations = Atomic<Int>(0)
    /// Of them, those served from the cache.
    public private(set) var cacheHits = 0

    private init() { pthread_mutex_init(&lock, nil) }

    /// Rounds large sizes up so that blocks of similar size can be reused.
    @inline(__always) private func bucket(_ byteCount: Int) -> Int {
        if byteCount < cacheThreshold { return max(byteCount, 1) }
        return (byteCount + 65535) & ~65535
    }

    /// Host memory for `backend`'s storages (the CPU backend, or a backend of host memory
    /// under another device kind).
    public func allocate(byteCount: Int, for backend: any Backend) -> Storage {
        allocate(byteCount: byteCount, for: backend, device: backend.device)
    }

    /// `allocate(byteCount:for:)` with the backend's device given (the CPU backend's own path).
    public func allocate(byteCount: Int, for backend: any Backend, device: Device) -> Storage {
        let size = bucket(byteCount)
        if size >= cacheThreshold {
            pthread_mutex_lock(&lock)
            if var blocks = cache[size], let block = blocks.popLast() {
                cache[size] = blocks
                cachedBytes -= size
                cacheHits += 1
                pthread_mutex_unlock(&lock)
                return Storage(pointer: block, byteCount: size, backend: backend, device: device, allocator: self)
            }
            pthread_mutex_unlock(&lock)
        }
        var raw: UnsafeMutableRawPointer?
        // Small blocks: plain malloc is several times cheaper than posix_memalign, and
        // kernels never assume alignment.
        if size < 4096 {
            raw = malloc(size)
        } else if posix_memalign(&raw, 64, size) != 0 {
            raw = nil
        }
        guard let pointer = raw else {
            tensorFailure("[allocate] out of host memory allocating \(size) bytes")
        }
        allocations.wrappingAdd(1, ordering: .relaxed)
        return Storage(pointer: pointer, byteCount: size, backend: backend, device: device, allocator: self)
    }

    /// Returns a block: cached when large and there is room, freed otherwise.
    public func deallocate(_ pointer: UnsafeMutableRawPointer, byteCount: Int) {
        if byteCount >= cacheThreshold {
            pthread_mutex_lock(&lock)
            if cachedBytes + byteCount <= cacheLimit {
                cache[byteCount, default: []].append(pointer)
                cachedBytes += byteCount
                pthread_mutex_unlock(&lock)
                return
            }
            pthread_mutex_unlock(&lock)
        }
        free(pointer)
    }

    /// Returns every cached block to the system.
    public func emptyCache() {
        pthread_mutex_lock(&lock)
        for (_, blocks) in cache { for block in blocks { free(block) } }
        cache.removeAll()
        cachedBytes = 0
        pthread_mutex_unlock(&lock)
    }
}

#if canImport(Glibc)
import Glibc
#endif
import TensorCore

/// What the caching allocator holds, as PyTorch's `torch.cuda.memory_stats` reports it.
public struct CUDAMemoryStatistics: Sendable, Equatable {
    /// Bytes in blocks that tensors are using (rounded block sizes).
    public var bytesInUse = 0
    /// Bytes in freed blocks kept for reuse.
    public var bytesCached = 0
    /// The most `bytesInUse` has been since the last `resetPeak()`.
    public var peakBytesInUse = 0
    /// `cuMemAlloc` calls made (a cache miss each).
    public var deviceAllocations = 0
    /// Allocations served from the cache.
    public var cacheHits = 0
}

/// A caching allocator as PyTorch's: freed blocks go to size-class bins and are reused by
/// later allocations of the same class, so a training loop stops calling `cuMemAlloc`
/// (which synchronises the device) after its first step. Every kernel runs on the one
/// stream of the device, so a block freed on the host can be handed to the next kernel at
/// once: stream order runs the earlier kernels that used it first.
public final class CUDACachingAllocator: StorageAllocator {
    let driver: DriverAPI
    let device: Device
    private var bins: [Int: [UInt64]] = [:]
    private var stats = CUDAMemoryStatistics()
    private var lock = pthread_mutex_t()

    init(driver: DriverAPI, device: Device) {
        self.driver = driver
        self.device = device
        pthread_mutex_init(&lock, nil)
    }

    /// Size classes: multiples of 512 bytes below 1 MiB, of 2 MiB above (PyTorch's rounding).
    static func sizeClass(_ byteCount: Int) -> Int {
        let bytes = max(byteCount, 1)
        if bytes < 1 << 20 { return (bytes + 511) & ~511 }
        return (bytes + (1 << 21) - 1) & ~((1 << 21) - 1)
    }

    /// Bytes in use, cached and at peak, and device allocations made.
    public var statistics: CUDAMemoryStatistics {
        pthread_mutex_lock(&lock); defer { pthread_mutex_unlock(&lock) }
        return stats
    }

    /// Starts the peak over from the bytes in use now.
    public func resetPeak() {
        pthread_mutex_lock(&lock); defer { pthread_mutex_unlock(&lock) }
        stats.peakBytesInUse = stats.bytesInUse
    }

    /// A device block of at least `byteCount` bytes; throws `.outOfMemory` when the device
    /// has none left even after the cache is returned to it.
    func allocateBlock(byteCount: Int) throws -> (address: UInt64, size: Int) {
        let size = Self.sizeClass(byteCount)
        pthread_mutex_lock(&lock)
        if let address = bins[size]?.popLast() {
            stats.bytesCached -= size
            stats.bytesInUse += size
            stats.peakBytesInUse = max(stats.peakBytesInUse, stats.bytesInUse)
            stats.cacheHits += 1
            pthread_mutex_unlock(&lock)
            return (address, size)
        }
        pthread_mutex_unlock(&lock)
        var address: UInt64 = 0
        if driver.cuMemAlloc(&address, size) != 0 {
            // Out of memory with blocks cached: give them back and try once more.
            emptyCache()
            let status = driver.cuMemAlloc(&address, size)
            guard status == 0 else {
                let s = statistics
                throw CUDAError.outOfMemory(requested: size, inUse: s.bytesInUse, cached: s.bytesCached)
            }
        }
        pthread_mutex_lock(&lock)
        stats.deviceAllocations += 1
        stats.bytesInUse += size
        stats.peakBytesInUse = max(stats.peakBytesInUse, stats.bytesInUse)
        pthread_mutex_unlock(&lock)
        return (address, size)
    }

    /// A storage of `backend` (the one that owns this allocator) over a block of this device.
    func allocate(byteCount: Int, for backend: CUDABackend) -> Storage {
        do {
            let block = try allocateBlock(byteCount: byteCount)
            // The emulator's memory checks: kernels may touch the bytes asked for, not the block's tail.
            if driver.loadsSource { EmulatedDriver.setLiveBytes(block.address, byteCount) }
            return Storage(pointer: UnsafeMutableRawPointer(bitPattern: UInt(block.address))!, byteCount: block.size,
                           backend: backend, allocator: self)
        } catch {
            tensorFailure("[allocate] \(device): \(error)")
        }
    }

    public func deallocate(_ pointer: UnsafeMutableRawPointer, byteCount: Int) {
        let address = UInt64(UInt(bitPattern: pointer))
        if driver.loadsSource { EmulatedDriver.setLiveBytes(address, 0) }  // a cached block is not to be touched
        pthread_mutex_lock(&lock)
        bins[byteCount, default: []].append(address)
        stats.bytesInUse -= byteCount
        stats.bytesCached += byteCount
        pthread_mutex_unlock(&lock)
    }

    /// Returns every cached block to the device (after the stream has finished with them).
    public func emptyCache() {
        _ = driver.cuCtxSynchronize()
        pthread_mutex_lock(&lock)
        for (_, addresses) in bins { for address in addresses { _ = driver.cuMemFree(address) } }
        bins.removeAll()
        stats.bytesCached = 0
        pthread_mutex_unlock(&lock)
    }
}

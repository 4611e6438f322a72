import Foundation

/// Reused working memory for transforms. Large transforms need megabytes of scratch per call;
/// fresh allocations of that size come from the kernel as new pages, and faulting them in
/// cost ~12% of a 2²⁰-point transform. A few released blocks are kept for the next call.
enum FFTScratch {
    private nonisolated(unsafe) static var free: [(pointer: UnsafeMutableRawPointer, bytes: Int)] = []
    private static let lock = NSLock()
    private static let kept = 8

    /// Runs `body` with `count` elements of `T` (uninitialised), returned to the pool after.
    static func with<T, R>(_ type: T.Type, count: Int, _ body: (UnsafeMutablePointer<T>) -> R) -> R {
        let bytes = Swift.max(count, 1) * MemoryLayout<T>.stride
        lock.lock()
        let index = free.firstIndex { $0.bytes >= bytes && $0.bytes <= 4 * bytes }
        let block = index.map { free.remove(at: $0) }
        lock.unlock()
        let pointer = block?.pointer ?? UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        defer {
            lock.lock()
            free.append((pointer, block?.bytes ?? bytes))
            if free.count > kept { free.removeFirst().pointer.deallocate() }
            lock.unlock()
        }
        return body(pointer.bindMemory(to: T.self, capacity: Swift.max(count, 1)))
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// A seeded stream of random tensors (Philox 4x32-10).
///
/// Each draw reserves a range of counters, so draws never overlap, and the numbers do not
/// depend on how many threads produce them. The state is the pair (seed, offset), which
/// checkpoints save and restore.
public final class RandomGenerator {
    /// The seed of the current stream.
    public private(set) var seed: UInt64
    /// Counters consumed so far.
    public var offset: UInt64
    private var lock = pthread_mutex_t()

    /// A stream from `seed`, at its start.
    public init(seed: UInt64) {
        self.seed = seed
        self.offset = 0
        pthread_mutex_init(&lock, nil)
    }

    /// Restarts the stream from `seed`.
    public func reseed(_ seed: UInt64) {
        pthread_mutex_lock(&lock)
        self.seed = seed
        self.offset = 0
        pthread_mutex_unlock(&lock)
    }

    /// Reserves `count` counters and returns the first.
    public func reserve(_ count: Int) -> (seed: UInt64, counter: UInt64) {
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        let start = offset
        offset &+= UInt64(max(count, 1))
        return (seed, start)
    }

    /// The generator used when none is passed; `Tensor.manualSeed(_:)` reseeds it.
    public static let global = RandomGenerator(seed: 0x5EED)
}

import TensorCore
/// A world of one process: every collective returns its input (a sum over one rank is the
/// rank's value). Code written for data-parallel training runs unchanged in one process.
public final class SingleProcessGroup: ProcessGroup {
    public var rank: Int { 0 }
    public var worldSize: Int { 1 }
    public var backendName: String { "single" }
    public var device: Device { .cpu }
    public var timeout: Double = 300

    /// The group of this process alone.
    public init() {}

    public func startAllReduce(_ buffer: UnsafeMutableRawPointer, count: Int, type: WireType, _ operation: ReduceOperation,
                               owner: AnyObject?) -> CollectiveWork {
        .completed()
    }

    public func broadcast(_ buffer: UnsafeMutableRawPointer, byteCount: Int, from root: Int) throws {
        guard root == 0 else { throw DistributedError.unavailable(reason: "broadcast from rank \(root) in a world of 1") }
    }

    public func allGather(_ source: UnsafeRawPointer, into destination: UnsafeMutableRawPointer, byteCount: Int) throws {
        destination.copyMemory(from: source, byteCount: byteCount)
    }

    public func reduceScatter(_ source: UnsafeRawPointer, into destination: UnsafeMutableRawPointer, count: Int, type: WireType,
                              _ operation: ReduceOperation) throws {
        destination.copyMemory(from: source, byteCount: count * type.byteSize)
    }

    public func barrier() throws {}
}

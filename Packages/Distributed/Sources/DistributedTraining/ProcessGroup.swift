import TensorCore

/// How an all-reduce (or a reduce-scatter) combines the ranks' elements.
public enum ReduceOperation: String, Sendable, CaseIterable {
    /// Element-wise sum (logical or for `bool`).
    case sum
    /// Element-wise mean over the ranks (floating-point dtypes only).
    case average
    /// Element-wise maximum (logical or for `bool`).
    case max
    /// Element-wise minimum (logical and for `bool`).
    case min
}

/// The element type a collective moves and combines: what a tensor's dtype travels as.
/// Half-precision tensors travel as float32 (sums accumulate in float32, as NCCL does for
/// `ncclHalf` on its reduction tree), booleans as bytes.
public enum WireType: Int, Sendable {
    /// IEEE single precision.
    case float32 = 0
    /// IEEE double precision.
    case float64 = 1
    /// 32-bit signed integers.
    case int32 = 2
    /// 64-bit signed integers.
    case int64 = 3
    /// Bytes, compared and added as unsigned.
    case uint8 = 4

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .float32, .int32: 4
        case .float64, .int64: 8
        case .uint8: 1
        }
    }

    /// What `dtype` travels as.
    public init(_ dtype: DType) {
        switch dtype {
        case .float32, .float16, .bfloat16: self = .float32
        case .float64: self = .float64
        case .int32: self = .int32
        case .int64: self = .int64
        case .uint8, .bool: self = .uint8
        }
    }

    /// The tensor dtype of the same elements.
    public var dtype: DType {
        switch self {
        case .float32: .float32
        case .float64: .float64
        case .int32: .int32
        case .int64: .int64
        case .uint8: .uint8
        }
    }
}

/// The processes that train together and the collectives between them, as PyTorch's
/// `ProcessGroup`: every rank calls the same collectives in the same order. Implementations
/// move host memory (`MPIProcessGroup`, `SingleProcessGroup`) or device memory (NCCL); the
/// tensor-level collectives (`allReduce`, `broadcast`, `allGather`, `reduceScatter`) are
/// written once over these buffer primitives.
///
/// A primitive waits at most `timeout` seconds for the other ranks and then throws
/// `DistributedError.timeout`: a rank that died or stopped calling collectives ends the
/// others' wait with an error, never a hang.
public protocol ProcessGroup: AnyObject {
    /// This process's rank, from 0.
    var rank: Int { get }
    /// The number of ranks.
    var worldSize: Int { get }
    /// The transport (`mpi`, `nccl`, `single`).
    var backendName: String { get }
    /// Where the tensors it moves live (`.cpu` for MPI, the GPU for NCCL).
    var device: Device { get }
    /// Seconds a collective waits for the other ranks before throwing.
    var timeout: Double { get set }

    /// Starts combining `count` elements at `buffer` in place with every rank's (`operation`
    /// is `.sum`, `.max` or `.min`; the tensor-level `allReduce` makes `.average` from
    /// `.sum`). `buffer` must stay valid and untouched until the work completes; `owner` is
    /// kept alive until then.
    func startAllReduce(_ buffer: UnsafeMutableRawPointer, count: Int, type: WireType, _ operation: ReduceOperation,
                        owner: AnyObject?) -> CollectiveWork
    /// Replaces `byteCount` bytes at `buffer` with rank `root`'s.
    func broadcast(_ buffer: UnsafeMutableRawPointer, byteCount: Int, from root: Int) throws
    /// Writes every rank's `byteCount` bytes from `source` into `destination`, rank by rank
    /// (`destination` holds `worldSize * byteCount` bytes).
    func allGather(_ source: UnsafeRawPointer, into destination: UnsafeMutableRawPointer, byteCount: Int) throws
    /// Combines `worldSize * count` elements from every rank and leaves block `rank` (of
    /// `count` elements) of the result in `destination`.
    func reduceScatter(_ source: UnsafeRawPointer, into destination: UnsafeMutableRawPointer, count: Int, type: WireType,
                       _ operation: ReduceOperation) throws
    /// Returns when every rank has called it.
    func barrier() throws
}

extension ProcessGroup {
    /// Whether this is rank 0, the one that writes logs, checkpoints and results.
    public var isMainProcess: Bool { rank == 0 }
}

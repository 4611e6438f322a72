import CNCCL
import CUDABackend
import TensorCore

/// The ranks' GPUs over NCCL, one GPU per process, as PyTorch's `nccl` backend: collectives
/// on device memory, queued on the device backend's stream in order with its kernels (so a
/// bucket's all-reduce follows the backward kernels that produced it, and reading a result on
/// the host waits for it). The communicator is set up through a host `bootstrap` group: rank 0
/// draws NCCL's unique id and the bootstrap group broadcasts it (MPI, as under `mpirun`).
///
/// ```swift
/// let mpi = try MPIProcessGroup.world()
/// let gpu = try CUDABackend.make(ordinal: mpi.rank % gpusPerMachine)   // one GPU per rank
/// let group = try NCCLProcessGroup(bootstrap: mpi, backend: gpu)
/// let ddp = try DistributedDataParallel(model, group: group)           // model on the GPU
/// ```
///
/// A collective returns once queued (NCCL completes it on the stream); the `timeout` bounds
/// only the bootstrap's host collectives.
public final class NCCLProcessGroup: ProcessGroup {
    public let rank: Int
    public let worldSize: Int
    public var backendName: String { "nccl" }
    public let device: Device
    public var timeout: Double {
        get { bootstrap.timeout }
        set { bootstrap.timeout = newValue }
    }
    /// The host group that set the communicator up.
    public let bootstrap: ProcessGroup

    let library: NCCLLibrary
    private let communicator: OpaquePointer?
    private let stream: OpaquePointer?
    private let beforeCall: () -> Void
    private let waitForStream: () -> Void

    /// NCCL (dlopen'd) over `backend`'s GPU and stream, its unique id broadcast through
    /// `bootstrap` (every rank calls it; collective on `bootstrap`).
    public convenience init(bootstrap: ProcessGroup, backend: CUDABackend) throws {
        try self.init(bootstrap: bootstrap, device: backend.device, stream: backend.streamHandle, library: try NCCLLibrary.load(),
                      beforeCall: { backend.makeContextCurrent() }, waitForStream: { backend.synchronize() })
    }

    /// A group over `library`'s functions on `device` and `stream`: what the GPU initializer
    /// builds, and what tests build with a stand-in library on host memory. `beforeCall` runs
    /// before each NCCL call (making the device's context current); `waitForStream` waits for
    /// the stream (a barrier's end).
    public init(bootstrap: ProcessGroup, device: Device, stream: OpaquePointer?, library: NCCLLibrary,
                beforeCall: @escaping () -> Void = {}, waitForStream: @escaping () -> Void = {}) throws {
        self.bootstrap = bootstrap
        self.library = library
        self.device = device
        self.stream = stream
        self.beforeCall = beforeCall
        self.waitForStream = waitForStream
        rank = bootstrap.rank
        worldSize = bootstrap.worldSize
        var id = tessera_nccl_unique_id()
        if rank == 0 { try library.check(library.getUniqueId(&id), "ncclGetUniqueId") }
        try withUnsafeMutableBytes(of: &id) { bytes in
            try bootstrap.broadcast(bytes.baseAddress!, byteCount: bytes.count, from: 0)
        }
        var comm: OpaquePointer?
        beforeCall()
        try library.check(library.commInitRank(&comm, Int32(worldSize), id, Int32(rank)), "ncclCommInitRank")
        communicator = comm
    }

    deinit {
        _ = library.commDestroy(communicator)
    }

    public func startAllReduce(_ buffer: UnsafeMutableRawPointer, count: Int, type: WireType, _ operation: ReduceOperation,
                               owner: AnyObject?) -> CollectiveWork {
        beforeCall()
        let result = library.allReduce(buffer, buffer, count, NCCLLibrary.datatype(type), NCCLLibrary.reduction(operation),
                                       communicator, stream)
        do {
            try library.check(result, "ncclAllReduce")
            return .completed()
        } catch {
            return .completed(failure: error)
        }
    }

    public func broadcast(_ buffer: UnsafeMutableRawPointer, byteCount: Int, from root: Int) throws {
        beforeCall()
        try library.check(library.broadcast(buffer, buffer, byteCount, NCCLLibrary.datatype(.uint8), Int32(root), communicator, stream),
                          "ncclBroadcast")
    }

    public func allGather(_ source: UnsafeRawPointer, into destination: UnsafeMutableRawPointer, byteCount: Int) throws {
        beforeCall()
        try library.check(library.allGather(source, destination, byteCount, NCCLLibrary.datatype(.uint8), communicator, stream),
                          "ncclAllGather")
    }

    public func reduceScatter(_ source: UnsafeRawPointer, into destination: UnsafeMutableRawPointer, count: Int, type: WireType,
                              _ operation: ReduceOperation) throws {
        beforeCall()
        try library.check(library.reduceScatter(source, destination, count, NCCLLibrary.datatype(type),
                                                NCCLLibrary.reduction(operation), communicator, stream), "ncclReduceScatter")
    }

    /// Every rank's queued collectives done: an all-reduce of one element, the stream waited
    /// for, then the bootstrap group's barrier.
    public func barrier() throws {
        var one = Tensor.zeros([1], device: device)
        try one.withUniqueBytes { pointer in try startAllReduce(pointer, count: 1, type: .float32, .sum, owner: nil).wait() }
        waitForStream()
        try bootstrap.barrier()
    }
}

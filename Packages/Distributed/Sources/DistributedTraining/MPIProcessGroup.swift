import CMPI
import Foundation
import TensorCore

/// The ranks `mpirun` started, over Open MPI (MPI_COMM_WORLD): collectives on host memory.
///
/// ```swift
/// let group = try MPIProcessGroup.world()      // once per process
/// let total = try group.allReduce(loss, .sum)
/// group.finalize()                             // also done at exit
/// ```
///
/// Every collective runs on one communication thread in the order the ranks start them, as
/// non-blocking MPI calls polled until they complete or `timeout` passes. Polling backs off to
/// sleeps of up to 100 µs, so a rank waiting for its peers leaves the cores to the others (two
/// ranks on two cores). After a timeout the group is broken: every later collective throws the
/// same error at once.
public final class MPIProcessGroup: ProcessGroup, @unchecked Sendable {
    public let rank: Int
    public let worldSize: Int
    public var backendName: String { "mpi" }
    public var device: Device { .cpu }
    /// Seconds a collective waits for the other ranks (default 300, or `TESSERA_COLLECTIVE_TIMEOUT`).
    public var timeout: Double {
        get { lock.withLock { storedTimeout } }
        set { lock.withLock { storedTimeout = newValue } }
    }

    private let queue: CommunicationQueue
    private let waiters = Waiters()
    private let lock = NSLock()
    private var storedTimeout: Double
    /// Collectives started so far (named in timeout errors).
    private var sequence = 0
    /// The error that broke the group (a timeout), thrown by every later collective.
    private var broken: Error?
    private var finalized = false

    private static let shared = NSLock()
    private nonisolated(unsafe) static var instance: MPIProcessGroup?

    /// Whether this process was started by `mpirun` (or another MPI launcher).
    public static var isLaunchedByMPI: Bool {
        let environment = ProcessInfo.processInfo.environment
        return ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE"].contains { environment[$0] != nil }
    }

    /// The process group of every rank (`MPI_Init_thread` on first use; MPI starts once per
    /// process). Without `mpirun` it is a world of one.
    public static func world() throws -> MPIProcessGroup {
        try shared.withLock {
            if let instance {
                guard !instance.finalized else { throw DistributedError.finalized(operation: "MPIProcessGroup.world") }
                return instance
            }
            var initialized: Int32 = 0
            MPI_Initialized(&initialized)
            if initialized == 0 {
                var provided: Int32 = 0
                // Serialized: after MPI_Init only the communication thread calls MPI (and
                // finalize, after that thread has stopped).
                let code = MPI_Init_thread(nil, nil, Int32(MPI_THREAD_SERIALIZED), &provided)
                guard code == MPI_SUCCESS else { throw mpiError("MPI_Init_thread", code) }
                guard provided >= Int32(MPI_THREAD_SERIALIZED) else {
                    throw DistributedError.unavailable(reason: "this MPI provides thread level \(provided), below MPI_THREAD_SERIALIZED")
                }
                // Errors come back as codes (thrown) instead of aborting every rank.
                MPI_Comm_set_errhandler(tessera_mpi_comm_world(), tessera_mpi_errors_return())
                atexit { MPIProcessGroup.finalizeAtExit() }
            }
            var rank: Int32 = 0, size: Int32 = 0
            MPI_Comm_rank(tessera_mpi_comm_world(), &rank)
            MPI_Comm_size(tessera_mpi_comm_world(), &size)
            let timeout = ProcessInfo.processInfo.environment["TESSERA_COLLECTIVE_TIMEOUT"].flatMap(Double.init) ?? 300
            let group = MPIProcessGroup(rank: Int(rank), worldSize: Int(size), timeout: timeout)
            instance = group
            return group
        }
    }

    private init(rank: Int, worldSize: Int, timeout: Double) {
        self.rank = rank
        self.worldSize = worldSize
        storedTimeout = timeout
        queue = CommunicationQueue(name: "tessera.mpi.rank\(rank)")
    }

    /// Finishes the queued collectives and shuts MPI down (`MPI_Finalize`); later collectives
    /// throw. Called at exit when not before: `mpirun` counts a rank that exits without it as
    /// failed.
    public func finalize() {
        let first: Bool = lock.withLock {
            defer { finalized = true }
            return !finalized
        }
        guard first else { return }
        queue.stop()
        if broken == nil { MPI_Finalize() }
    }

    /// Ends every rank of the job now (`MPI_Abort`), as after an error on this rank: the
    /// launcher stops the others and reports this rank and `code`.
    public static func abort(code: Int32 = 1) -> Never {
        MPI_Abort(tessera_mpi_comm_world(), code)
        exit(code)
    }

    private static func finalizeAtExit() {
        let group = shared.withLock { instance }
        group?.finalize()
    }

    static func mpiError(_ operation: String, _ code: Int32) -> DistributedError {
        var text = [CChar](repeating: 0, count: Int(MPI_MAX_ERROR_STRING) + 1)
        var length: Int32 = 0
        MPI_Error_string(code, &text, &length)
        return .mpi(operation: operation, code: code, message: String(cString: text))
    }

    // MARK: running collectives

    /// Queues `start` (which posts one non-blocking MPI collective and returns its request)
    /// and polls it on the communication thread.
    private func submit(_ operation: String, owner: AnyObject?,
                        _ start: @escaping (inout MPI_Request?) -> Int32) -> CollectiveWork {
        let work = CollectiveWork(owner: owner, waiters: waiters)
        let (number, failure, limit): (Int, Error?, Double) = lock.withLock {
            sequence += 1
            return (sequence, finalized ? DistributedError.finalized(operation: operation) : broken, storedTimeout)
        }
        if let failure {
            work.complete(throwing: failure)
            return work
        }
        queue.enqueue(work) { [self] in
            if let broken = lock.withLock({ broken }) { throw broken }
            var request: MPI_Request? = tessera_mpi_request_null()
            let code = start(&request)
            guard code == MPI_SUCCESS else { throw Self.mpiError(operation, code) }
            try poll(&request, operation: operation, sequence: number, timeout: limit)
        }
        return work
    }

    /// Tests `request` until it completes; spins briefly, then sleeps between tests (5 µs,
    /// doubling to 100 µs) so a waiting rank does not take a core from a computing one.
    private func poll(_ request: inout MPI_Request?, operation: String, sequence: Int, timeout: Double) throws {
        let deadline = DispatchTime.now().uptimeNanoseconds &+ UInt64(max(timeout, 0) * 1e9)
        var flag: Int32 = 0
        var spins = 0
        var pause: UInt32 = 5
        while true {
            let code = MPI_Test(&request, &flag, tessera_mpi_status_ignore())
            guard code == MPI_SUCCESS else { throw Self.mpiError(operation, code) }
            if flag != 0 { return }
            spins += 1
            // Someone waits for this group: the collective is on the critical path; test it
            // again at once (checking the deadline now and then).
            if spins < 64 || (waiters.any && spins % 4096 != 0) { continue }
            if DispatchTime.now().uptimeNanoseconds > deadline {
                let error = DistributedError.timeout(operation: operation, seconds: timeout, rank: rank, sequence: sequence)
                lock.withLock { broken = error }
                throw error
            }
            if waiters.any { continue }
            usleep(pause)
            pause = min(pause * 2, 100)
        }
    }


    /// MPI counts are 32-bit: larger buffers go in chunks.
    private static let chunkElements = 1 << 30

    public func startAllReduce(_ buffer: UnsafeMutableRawPointer, count: Int, type: WireType, _ operation: ReduceOperation,
                               owner: AnyObject?) -> CollectiveWork {
        precondition(operation != .average, "[allReduce] the buffer primitive takes sum, max or min")
        let op = Self.mpiOperation(operation)
        let datatype = tessera_mpi_datatype(Int32(type.rawValue))
        var last = CollectiveWork.completed()
        for start in stride(from: 0, to: count, by: Self.chunkElements) {
            let n = min(Self.chunkElements, count - start)
            let chunk = buffer + start * type.byteSize
            last = submit("allReduce", owner: owner) { request in
                MPI_Iallreduce(tessera_mpi_in_place(), chunk, Int32(n), datatype, op, tessera_mpi_comm_world(), &request)
            }
        }
        // The queue runs in order: the last chunk's completion is the whole buffer's (an
        // earlier chunk's failure breaks the group, which fails the later ones).
        return last
    }

    public func broadcast(_ buffer: UnsafeMutableRawPointer, byteCount: Int, from root: Int) throws {
        try checkRoot(root, "broadcast")
        var works: [CollectiveWork] = []
        for start in stride(from: 0, to: max(byteCount, 1), by: Self.chunkElements) {
            let n = min(Self.chunkElements, byteCount - start)
            let chunk = buffer + start
            works.append(submit("broadcast", owner: nil) { request in
                MPI_Ibcast(chunk, Int32(n), tessera_mpi_datatype(5), Int32(root), tessera_mpi_comm_world(), &request)
            })
        }
        for work in works { try work.wait() }
    }

    public func allGather(_ source: UnsafeRawPointer, into destination: UnsafeMutableRawPointer, byteCount: Int) throws {
        try checkCount(byteCount * worldSize, "allGather")
        try submit("allGather", owner: nil) { request in
            MPI_Iallgather(source, Int32(byteCount), tessera_mpi_datatype(5), destination, Int32(byteCount),
                           tessera_mpi_datatype(5), tessera_mpi_comm_world(), &request)
        }.wait()
    }

    public func reduceScatter(_ source: UnsafeRawPointer, into destination: UnsafeMutableRawPointer, count: Int, type: WireType,
                              _ operation: ReduceOperation) throws {
        precondition(operation != .average, "[reduceScatter] the buffer primitive takes sum, max or min")
        try checkCount(count * worldSize, "reduceScatter")
        let op = Self.mpiOperation(operation)
        try submit("reduceScatter", owner: nil) { request in
            MPI_Ireduce_scatter_block(source, destination, Int32(count), tessera_mpi_datatype(Int32(type.rawValue)), op,
                                      tessera_mpi_comm_world(), &request)
        }.wait()
    }

    public func barrier() throws {
        try submit("barrier", owner: nil) { request in
            MPI_Ibarrier(tessera_mpi_comm_world(), &request)
        }.wait()
    }

    /// MPI_SUM, MPI_MAX or MPI_MIN (an average is a sum divided by the caller).
    private static func mpiOperation(_ operation: ReduceOperation) -> MPI_Op? {
        tessera_mpi_op(operation == .sum ? 0 : operation == .max ? 1 : 2)
    }

    private func checkRoot(_ root: Int, _ operation: String) throws {
        guard (0..<worldSize).contains(root) else {
            throw DistributedError.unavailable(reason: "\(operation) from rank \(root) in a world of \(worldSize)")
        }
    }

    private func checkCount(_ count: Int, _ operation: String) throws {
        guard count <= Int(Int32.max) else {
            throw DistributedError.unavailable(reason: "\(operation) of \(count) elements: MPI counts stop at \(Int32.max)")
        }
    }
}

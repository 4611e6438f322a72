import CNCCL
import DistributedTraining
import Foundation

/// A stand-in for libnccl where no GPU exists: every call is logged with its arguments, and
/// carried out on host memory through the MPI group, so the NCCL process group's call
/// sequence is checked and its collectives give real results.
enum FakeNCCL {
    nonisolated(unsafe) static var mpi: MPIProcessGroup!
    nonisolated(unsafe) static var log: [String] = []
    static let stream = OpaquePointer(bitPattern: 0x5EED)!
    static let communicator = OpaquePointer(bitPattern: 0xC0)!

    static func wire(_ datatype: Int32) -> WireType? {
        [1: WireType.uint8, 2: .int32, 4: .int64, 7: .float32, 8: .float64][datatype]
    }

    static func reduction(_ op: Int32) -> ReduceOperation? { [0: ReduceOperation.sum, 2: .max, 3: .min][op] }

    /// 0 when `body` succeeds and the call came on the expected communicator and stream.
    static func run(_ comm: OpaquePointer?, _ stream: OpaquePointer?, _ body: () throws -> Void) -> Int32 {
        guard comm == communicator, stream == Self.stream else { return 4 }   // ncclInvalidArgument
        do { try body(); return 0 } catch { return 2 }                         // ncclSystemError
    }

    private static func raw<F>(_ f: F) -> UnsafeMutableRawPointer { unsafeBitCast(f, to: UnsafeMutableRawPointer.self) }

    static let symbols: [String: UnsafeMutableRawPointer] = [
        "ncclGetUniqueId": raw({ id in
            FakeNCCL.log.append("ncclGetUniqueId")
            withUnsafeMutableBytes(of: &id!.pointee) { bytes in
                for i in bytes.indices { bytes[i] = UInt8(truncatingIfNeeded: Int(getpid()) &* 31 &+ i) }
            }
            return 0
        } as @convention(c) (UnsafeMutablePointer<tessera_nccl_unique_id>?) -> Int32),
        "ncclCommInitRank": raw({ comm, count, id, rank in
            var id = id
            let digest = withUnsafeBytes(of: &id) { $0.reduce(UInt64(1469598103934665603)) { ($0 ^ UInt64($1)) &* 1099511628211 } }
            FakeNCCL.log.append("ncclCommInitRank nranks=\(count) rank=\(rank) id=\(digest)")
            comm?.pointee = FakeNCCL.communicator
            return 0
        } as @convention(c) (UnsafeMutablePointer<OpaquePointer?>?, Int32, tessera_nccl_unique_id, Int32) -> Int32),
        "ncclCommDestroy": raw({ _ in 0 } as @convention(c) (OpaquePointer?) -> Int32),
        "ncclAllReduce": raw({ send, receive, count, datatype, op, comm, stream in
            FakeNCCL.log.append("ncclAllReduce count=\(count) datatype=\(datatype) op=\(op) inplace=\(UnsafeRawPointer(receive) == send)")
            guard let type = FakeNCCL.wire(datatype), let operation = FakeNCCL.reduction(op), let receive,
                  UnsafeRawPointer(receive) == send else { return 4 }
            return FakeNCCL.run(comm, stream) {
                try FakeNCCL.mpi.startAllReduce(receive, count: count, type: type, operation, owner: nil).wait()
            }
        } as @convention(c) (UnsafeRawPointer?, UnsafeMutableRawPointer?, Int, Int32, Int32, OpaquePointer?, OpaquePointer?) -> Int32),
        "ncclBroadcast": raw({ send, receive, count, datatype, root, comm, stream in
            FakeNCCL.log.append("ncclBroadcast count=\(count) datatype=\(datatype) root=\(root)")
            guard let type = FakeNCCL.wire(datatype), let receive else { return 4 }
            return FakeNCCL.run(comm, stream) {
                if let send, UnsafeRawPointer(receive) != send { receive.copyMemory(from: send, byteCount: count * type.byteSize) }
                try FakeNCCL.mpi.broadcast(receive, byteCount: count * type.byteSize, from: Int(root))
            }
        } as @convention(c) (UnsafeRawPointer?, UnsafeMutableRawPointer?, Int, Int32, Int32, OpaquePointer?, OpaquePointer?) -> Int32),
        "ncclAllGather": raw({ send, receive, count, datatype, comm, stream in
            FakeNCCL.log.append("ncclAllGather count=\(count) datatype=\(datatype)")
            guard let type = FakeNCCL.wire(datatype), let send, let receive else { return 4 }
            return FakeNCCL.run(comm, stream) { try FakeNCCL.mpi.allGather(send, into: receive, byteCount: count * type.byteSize) }
        } as @convention(c) (UnsafeRawPointer?, UnsafeMutableRawPointer?, Int, Int32, OpaquePointer?, OpaquePointer?) -> Int32),
        "ncclReduceScatter": raw({ send, receive, count, datatype, op, comm, stream in
            FakeNCCL.log.append("ncclReduceScatter count=\(count) datatype=\(datatype) op=\(op)")
            guard let type = FakeNCCL.wire(datatype), let operation = FakeNCCL.reduction(op), let send, let receive else { return 4 }
            return FakeNCCL.run(comm, stream) {
                try FakeNCCL.mpi.reduceScatter(send, into: receive, count: count, type: type, operation)
            }
        } as @convention(c) (UnsafeRawPointer?, UnsafeMutableRawPointer?, Int, Int32, Int32, OpaquePointer?, OpaquePointer?) -> Int32),
        "ncclGetErrorString": raw({ _ in UnsafePointer(FakeNCCL.message) } as @convention(c) (Int32) -> UnsafePointer<CChar>?),
    ]

    static let message: UnsafeMutablePointer<CChar> = strdup("stand-in NCCL error")!

    /// An NCCL process group over the stand-in, bootstrapped through `mpi`.
    static func group(_ mpi: MPIProcessGroup) throws -> NCCLProcessGroup {
        FakeNCCL.mpi = mpi
        let library = try NCCLLibrary(path: "stand-in") { symbols[$0] }
        return try NCCLProcessGroup(bootstrap: mpi, device: .cpu, stream: stream, library: library)
    }
}

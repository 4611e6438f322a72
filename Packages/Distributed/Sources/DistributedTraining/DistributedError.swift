/// What can go wrong between processes: thrown, never a crash or a hang.
public enum DistributedError: Error, CustomStringConvertible, Equatable {
    /// The MPI library reported an error.
    case mpi(operation: String, code: Int32, message: String)
    /// An NCCL call failed.
    case nccl(call: String, code: Int32, message: String)
    /// A collective did not complete within the timeout: another rank died, raised, or stopped
    /// calling collectives.
    case timeout(operation: String, seconds: Double, rank: Int, sequence: Int)
    /// The ranks' models differ: rank `rank`'s parameter `name` is not rank 0's.
    case modelMismatch(rank: Int, parameter: String, shape: [Int], rootShape: [Int])
    /// A collective was asked for after the process group was finalised.
    case finalized(operation: String)
    /// A parameter had no gradient after backward where every parameter must have one.
    case unusedParameter(name: String)
    /// The group cannot start (MPI not initialised, a rank or world size out of range).
    case unavailable(reason: String)

    public var description: String {
        switch self {
        case .mpi(let operation, let code, let message):
            "\(operation): MPI error \(code): \(message)"
        case .nccl(let call, let code, let message):
            "\(call): NCCL error \(code): \(message)"
        case .timeout(let operation, let seconds, let rank, let sequence):
            "\(operation) (collective #\(sequence)) timed out after \(seconds) s on rank \(rank): another rank died, raised "
                + "an error or stopped calling collectives (every rank must call the same collectives in the same order)"
        case .modelMismatch(let rank, let parameter, let shape, let rootShape):
            "DistributedDataParallel: rank \(rank)'s model differs from rank 0's at '\(parameter)': "
                + "\(shape.isEmpty ? "missing" : "\(shape)") against \(rootShape.isEmpty ? "missing" : "\(rootShape)") on rank 0"
        case .finalized(let operation):
            "\(operation): the process group was finalised"
        case .unusedParameter(let name):
            "DistributedDataParallel: parameter '\(name)' received no gradient in this backward pass; construct with "
                + "findUnusedParameters: true when a model leaves parameters out of some steps"
        case .unavailable(let reason):
            "process group unavailable: \(reason)"
        }
    }
}

/// Everything that can go wrong reading or writing a checkpoint, with an actionable message.
public enum CheckpointError: Error, CustomStringConvertible, Equatable {
    /// No file at the path.
    case missingFile(String)
    /// The file is not HDF5 (truncated, or another format).
    case notHDF5(String)
    /// A valid HDF5 file that Tessera did not write (or of a newer format).
    case foreign(path: String, reason: String)
    /// The file is damaged: unreadable structure, failed checksum, inconsistent sizes.
    case corrupt(path: String, reason: String)
    /// The checkpoint has no tensor of that name.
    case missingEntry(path: String, name: String)
    /// The file or a temporary beside it could not be written.
    case writeFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case .missingFile(let p): return "checkpoint \(p) does not exist"
        case .notHDF5(let p): return "\(p) is not an HDF5 file (truncated or another format)"
        case let .foreign(p, why): return "\(p) is an HDF5 file but not a Tessera checkpoint: \(why)"
        case let .corrupt(p, why): return "checkpoint \(p) is corrupt: \(why)"
        case let .missingEntry(p, name): return "checkpoint \(p) has no tensor named \(name)"
        case let .writeFailed(p, why): return "could not write checkpoint \(p): \(why)"
        }
    }
}

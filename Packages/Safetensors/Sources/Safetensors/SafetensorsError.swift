/// A safetensors file that cannot be read or written, naming the file and what is wrong.
public enum SafetensorsError: Error, Equatable, CustomStringConvertible {
    /// The file could not be opened, mapped, written or renamed into place.
    case io(path: String, reason: String)
    /// The 8-byte length or the JSON header is malformed.
    case invalidHeader(path: String, reason: String)
    /// A dtype Tessera has no type for (F8, I8, I16, U16, U32, U64).
    case unsupportedDType(path: String, tensor: String, dtype: String)
    /// Offsets outside the data, overlapping another tensor's, or not the shape's byte count.
    case invalidOffsets(path: String, tensor: String, reason: String)
    /// The file ends before the data its header describes.
    case truncated(path: String, reason: String)

    public var description: String {
        switch self {
        case let .io(path, reason): return "\(path): \(reason)"
        case let .invalidHeader(path, reason): return "\(path): not a valid safetensors file: \(reason)"
        case let .unsupportedDType(path, tensor, dtype): return "\(path): tensor '\(tensor)' has dtype \(dtype), which Tessera does not support"
        case let .invalidOffsets(path, tensor, reason): return "\(path): tensor '\(tensor)': \(reason)"
        case let .truncated(path, reason): return "\(path): truncated: \(reason)"
        }
    }
}

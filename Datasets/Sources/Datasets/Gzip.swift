import Zlib

/// gzip (and zlib) files for the dataset readers: the shared `Zlib` wrapper, with its errors
/// reported as `DatasetError`s that name the file.
public enum Gzip {
    /// Whether `bytes` start with the gzip magic number.
    public static func isGzip(_ bytes: [UInt8]) -> Bool { Zlib.isGzip(bytes) }

    /// Inflates a gzip or zlib stream. Throws `DatasetError.corrupt` on bad or incomplete data.
    public static func decompress(_ input: [UInt8], path: String = "<memory>") throws -> [UInt8] {
        do { return try Zlib.inflate(input) }
        catch let error as ZlibError { throw DatasetError.corrupt(path: path, reason: "gzip: \(error)") }
    }

    /// Compresses to a gzip stream (for writing test files and caches).
    public static func compress(_ input: [UInt8]) -> [UInt8] { Zlib.deflate(input, format: .gzip) }
}

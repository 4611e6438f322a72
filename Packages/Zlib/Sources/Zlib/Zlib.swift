import CZlib

/// What went wrong in a deflate stream; callers wrap it in their own typed error with the file.
public enum ZlibError: Error, Equatable, CustomStringConvertible {
    /// The data is not a valid stream (zlib's status code).
    case corrupt(status: Int32)
    /// The stream ends before its end marker.
    case truncated
    /// The stream inflates to more than the caller's limit (a decompression bomb, or a file
    /// that does not match its header).
    case exceedsLimit(Int)

    public var description: String {
        switch self {
        case .corrupt(let status): return "deflate data error (zlib \(status))"
        case .truncated: return "deflate stream ends early"
        case .exceedsLimit(let limit): return "deflate stream inflates to more than \(limit) bytes"
        }
    }
}

/// gzip, zlib and raw deflate through the system zlib.
public enum Zlib {
    /// Stream framings `deflate` writes.
    public enum Format: Sendable {
        /// RFC 1950 (a PNG's IDAT data).
        case zlib
        /// RFC 1952 (`.gz` files).
        case gzip
    }

    /// Whether `bytes` start with the gzip magic number.
    public static func isGzip(_ bytes: [UInt8]) -> Bool { bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B }

    /// Inflates a gzip or zlib stream (the header tells which), producing at most `limit` bytes.
    public static func inflate(_ input: [UInt8], limit: Int = Int.max) throws -> [UInt8] {
        var stream = z_stream()
        // 15 + 32: any window size, gzip or zlib header detected automatically.
        guard inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw ZlibError.corrupt(status: Z_STREAM_ERROR)
        }
        defer { inflateEnd(&stream) }
        var output = [UInt8]()
        output.reserveCapacity(Swift.min(limit, input.count * 4))
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var status: Int32 = Z_OK
        try input.withUnsafeBufferPointer { source in
            stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
            stream.avail_in = UInt32(source.count)
            repeat {
                let produced: Int = chunk.withUnsafeMutableBufferPointer { buffer in
                    stream.next_out = buffer.baseAddress
                    stream.avail_out = UInt32(buffer.count)
                    status = CZlib.inflate(&stream, Z_NO_FLUSH)
                    return buffer.count - Int(stream.avail_out)
                }
                if status != Z_OK && status != Z_STREAM_END {
                    throw status == Z_BUF_ERROR ? ZlibError.truncated : ZlibError.corrupt(status: status)
                }
                guard output.count + produced <= limit else { throw ZlibError.exceedsLimit(limit) }
                output.append(contentsOf: chunk[0..<produced])
                if status == Z_OK && stream.avail_in == 0 && produced == 0 { throw ZlibError.truncated }
            } while status != Z_STREAM_END
        }
        return output
    }

    /// Compresses `input` (default level 6).
    public static func deflate(_ input: [UInt8], format: Format = .zlib, level: Int32 = 6) -> [UInt8] {
        var stream = z_stream()
        let window: Int32 = format == .gzip ? 15 + 16 : 15
        deflateInit2_(&stream, level, Z_DEFLATED, window, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(input.count))) + 32)
        var input = input
        input.withUnsafeMutableBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                stream.next_in = source.baseAddress
                stream.avail_in = UInt32(source.count)
                stream.next_out = target.baseAddress
                stream.avail_out = UInt32(target.count)
                _ = CZlib.deflate(&stream, Z_FINISH)
            }
        }
        return Array(output[0..<Int(stream.total_out)])
    }

    /// The CRC-32 of `bytes` (PNG chunks, gzip trailers).
    public static func crc32(_ bytes: [UInt8]) -> UInt32 {
        UInt32(bytes.withUnsafeBufferPointer { CZlib.crc32(0, $0.baseAddress, uInt($0.count)) })
    }
}

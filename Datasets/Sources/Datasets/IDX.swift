import TensorCore

/// The IDX format of MNIST-like datasets (LeCun): magic `0 0 type rank`, big-endian
/// dimensions, then the data. gzip-compressed files are recognised by their header.
public enum IDX {
    /// Parses IDX bytes into a tensor (uint8 stays uint8; other types become float32 or int32).
    public static func parse(_ raw: [UInt8], path: String) throws -> Tensor {
        let bytes = Gzip.isGzip(raw) ? try Gzip.decompress(raw, path: path) : raw
        guard bytes.count >= 4, bytes[0] == 0, bytes[1] == 0 else {
            throw DatasetError.corrupt(path: path, reason: "not an IDX file (bad magic number)")
        }
        let type = bytes[2], rank = Int(bytes[3])
        let headerSize = 4 + 4 * rank
        guard bytes.count >= headerSize else {
            throw DatasetError.truncated(path: path, expectedBytes: headerSize, actualBytes: bytes.count)
        }
        var shape: [Int] = []
        for d in 0..<rank {
            let o = 4 + 4 * d
            shape.append(Int(bytes[o]) << 24 | Int(bytes[o + 1]) << 16 | Int(bytes[o + 2]) << 8 | Int(bytes[o + 3]))
        }
        let width: Int
        switch type {
        case 0x08, 0x09: width = 1
        case 0x0B: width = 2
        case 0x0C, 0x0D: width = 4
        case 0x0E: width = 8
        default: throw DatasetError.corrupt(path: path, reason: "unknown IDX element type 0x\(String(type, radix: 16))")
        }
        // Checked against the file's size before anything is multiplied out: enlarged
        // dimensions must be a typed error, not an overflow trap.
        // A zero dimension empties the tensor, but the others still size its strides: their
        // product must be countable too (libFuzzer found rank 5 with a 0 and four huge ones).
        var strideProduct = 1
        for length in shape where length > 0 {
            let (product, overflow) = strideProduct.multipliedReportingOverflow(by: length)
            guard !overflow, product <= 1 << 40 else {
                throw DatasetError.corrupt(path: path, reason: "shape \(shape) is too large for any file")
            }
            strideProduct = product
        }
        var count = 1
        for (d, length) in shape.enumerated() {
            let (product, overflow) = count.multipliedReportingOverflow(by: length)
            guard !overflow, product <= bytes.count else {
                throw DatasetError.corrupt(path: path, reason: "dimension \(d) (\(length)) of shape \(shape) holds more elements than the file's \(bytes.count) bytes")
            }
            count = product
        }
        let expected = headerSize + count * width
        guard bytes.count >= expected else {
            throw DatasetError.truncated(path: path, expectedBytes: expected, actualBytes: bytes.count)
        }
        let body = bytes[headerSize..<expected]
        func bigEndian(_ i: Int) -> UInt64 {
            var v: UInt64 = 0
            for k in 0..<width { v = v << 8 | UInt64(body[body.startIndex + i * width + k]) }
            return v
        }
        switch type {
        case 0x08: return Tensor(Array(body), shape: shape)
        case 0x09: return Tensor((0..<count).map { Int32(Int8(bitPattern: body[body.startIndex + $0])) }, shape: shape)
        case 0x0B: return Tensor((0..<count).map { Int32(Int16(bitPattern: UInt16(bigEndian($0)))) }, shape: shape)
        case 0x0C: return Tensor((0..<count).map { Int32(bitPattern: UInt32(bigEndian($0))) }, shape: shape)
        case 0x0D: return Tensor((0..<count).map { Float(bitPattern: UInt32(bigEndian($0))) }, shape: shape)
        default: return Tensor((0..<count).map { Double(bitPattern: bigEndian($0)) }, shape: shape)
        }
    }

    /// Reads an IDX file (raw or gzip) of dataset `dataset` (named in errors).
    public static func read(_ path: String, dataset: String) throws -> Tensor {
        try parse(try readBytes(path, dataset: dataset), path: path)
    }

    /// Encodes a uint8 tensor as IDX bytes (tests and tools).
    public static func encode(_ t: Tensor) -> [UInt8] {
        var bytes: [UInt8] = [0, 0, 0x08, UInt8(t.rank)]
        for d in t.shape { bytes += [UInt8(d >> 24 & 0xFF), UInt8(d >> 16 & 0xFF), UInt8(d >> 8 & 0xFF), UInt8(d & 0xFF)] }
        return bytes + t.cast(to: .uint8).scalars(as: UInt8.self)
    }
}

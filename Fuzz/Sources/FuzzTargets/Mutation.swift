import Datasets
import Zlib

// Structure-aware mutation: libFuzzer's byte-level mutator does the changing, these functions
// keep what a format checks before parsing (chunk CRCs, the checkpoint envelope, compression)
// consistent, so most mutations reach the code behind those checks. A fraction of inputs is left
// unrepaired so the checks themselves stay fuzzed.

extension FuzzTarget {
    /// Mutates `input` for this target's format with `mutate` (libFuzzer's `LLVMFuzzerMutate`:
    /// bytes and a capacity in, mutated bytes out), returning at most `maxSize` bytes.
    public func mutate(_ input: [UInt8], maxSize: Int, seed: UInt32, using mutate: ([UInt8], Int) -> [UInt8]) -> [UInt8] {
        let repair = seed % 8 != 0
        switch structure {
        case .plain:
            return mutate(input, maxSize)
        case .gzip:
            if seed % 4 != 0, let mutated = Repair.mutateInsideGzip(input, maxSize: maxSize, using: mutate) { return mutated }
            return mutate(input, maxSize)
        case .pngChunks:
            if seed % 2 == 0, let mutated = Repair.mutateImageData(input, maxSize: maxSize, using: mutate) { return mutated }
            var out = mutate(input, maxSize)
            if repair { Repair.pngCRCs(&out) }
            return out
        case .checkpointEnvelope:
            var out = mutate(input, maxSize)
            if repair { Repair.checkpointEnvelope(&out) }
            return out
        }
    }
}

/// The repairs, public so tests can check that a repaired input passes the format's checks.
public enum Repair {
    /// The checkpoint envelope (magic, little-endian length of what follows the 512-byte user
    /// block, then its CRC-32) rewritten for the bytes as they are now.
    public static func checkpointEnvelope(_ bytes: inout [UInt8]) {
        let block = 512, lengthAt = 16, crcAt = 24
        guard bytes.count >= block else { return }
        let length = UInt64(bytes.count - block)
        let crc = Zlib.crc32(Array(bytes[block...]))
        for k in 0..<8 { bytes[lengthAt + k] = UInt8(truncatingIfNeeded: length >> (8 * UInt64(k))) }
        for k in 0..<4 { bytes[crcAt + k] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(k))) }
    }

    /// Each whole chunk's CRC recomputed over its type and body.
    public static func pngCRCs(_ bytes: inout [UInt8]) {
        var offset = 8
        while offset + 12 <= bytes.count {
            let length = Int(bigEndian(bytes, offset))
            guard length <= bytes.count - offset - 12 else { return }
            let crc = Zlib.crc32(Array(bytes[(offset + 4)..<(offset + 8 + length)]))
            for k in 0..<4 { bytes[offset + 8 + length + k] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(3 - k))) }
            offset += 12 + length
        }
    }

    /// A gzip input inflated, mutated and deflated again; nil when it is not gzip or does not inflate.
    static func mutateInsideGzip(_ input: [UInt8], maxSize: Int, using mutate: ([UInt8], Int) -> [UInt8]) -> [UInt8]? {
        guard Gzip.isGzip(input), let inner = try? Gzip.decompress(input) else { return nil }
        let out = Gzip.compress(mutate(inner, Swift.max(2 * inner.count, 64)))
        return out.count <= maxSize ? out : nil
    }

    /// A PNG whose IDAT data (scanlines with their filter bytes) is inflated, mutated, deflated
    /// into one IDAT chunk and given valid CRCs; nil when it has no complete IDAT that inflates.
    static func mutateImageData(_ input: [UInt8], maxSize: Int, using mutate: ([UInt8], Int) -> [UInt8]) -> [UInt8]? {
        var offset = 8, chunks: [(type: [UInt8], body: [UInt8])] = []
        while offset + 12 <= input.count {
            let length = Int(bigEndian(input, offset))
            guard length <= input.count - offset - 12 else { break }
            chunks.append((Array(input[(offset + 4)..<(offset + 8)]), Array(input[(offset + 8)..<(offset + 8 + length)])))
            offset += 12 + length
        }
        let idat = Array("IDAT".utf8)
        let data = chunks.filter { $0.type == idat }.flatMap(\.body)
        guard input.count >= 8, !data.isEmpty, let raw = try? Zlib.inflate(data, limit: 1 << 20) else { return nil }
        let image = Zlib.deflate(mutate(raw, Swift.max(2 * raw.count, 64)), format: .zlib)
        var out = Array(input[0..<8]), placed = false
        for chunk in chunks where chunk.type != idat || !placed {
            let body = chunk.type == idat ? image : chunk.body
            placed = placed || chunk.type == idat
            let length = UInt32(body.count)
            out += (0..<4).map { UInt8(truncatingIfNeeded: length >> (8 * UInt32(3 - $0))) } + chunk.type + body + [0, 0, 0, 0]
        }
        pngCRCs(&out)
        return out.count <= maxSize ? out : nil
    }

    static func bigEndian(_ b: [UInt8], _ o: Int) -> UInt32 {
        UInt32(b[o]) << 24 | UInt32(b[o + 1]) << 16 | UInt32(b[o + 2]) << 8 | UInt32(b[o + 3])
    }
}

import CHDF5
import Dispatch
import Foundation

/// Tessera's header in the HDF5 user block (the first 512 bytes, which HDF5 leaves to
/// applications): a magic string, the length of the HDF5 part and its CRC-32.
///
/// HDF5 can crash on damaged files, so `load` checks the whole file against this header
/// before HDF5 parses a single byte: truncation and byte flips become typed errors.
/// h5py and other HDF5 readers skip the user block and read the file as usual.
enum Envelope {
    static let size = 512
    static let magic = Array("TESSERA-CKPT\u{0}\u{0}\u{0}\u{1}".utf8)
    static let hdf5Signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]

    /// CRC-32 (zlib's) of bytes `[start, start + length)` of an open file: pieces of 8 MB are
    /// read and summed on all cores, then joined with `crc32_combine`.
    static func checksum(fd: Int32, start: Int, length: Int) throws -> UInt32 {
        let piece = 8 << 20
        let count = (length + piece - 1) / piece
        var crcs = [uLong](repeating: 0, count: count)
        var failed = false
        crcs.withUnsafeMutableBufferPointer { out in
            let results = out
            DispatchQueue.concurrentPerform(iterations: count) { i in
                let offset = i * piece, n = Swift.min(piece, length - offset)
                let buffer = UnsafeMutableRawPointer.allocate(byteCount: n, alignment: 64)
                defer { buffer.deallocate() }
                var done = 0
                while done < n {
                    let got = pread(fd, buffer + done, n - done, off_t(start + offset + done))
                    if got <= 0 { failed = true; return }
                    done += got
                }
                results[i] = crc32(0, buffer.assumingMemoryBound(to: UInt8.self), uInt(n))
            }
        }
        if failed { throw CheckpointError.corrupt(path: "<fd \(fd)>", reason: "short read") }
        var total = crc32(0, nil, 0)
        for (i, c) in crcs.enumerated() {
            total = crc32_combine(total, c, off_t(Swift.min(piece, length - i * piece)))
        }
        return UInt32(truncatingIfNeeded: total)
    }

    /// Computes the CRC of everything after the user block and writes the header.
    static func seal(_ path: String) throws {
        let fd = open(path, O_RDWR)
        guard fd >= 0 else { throw CheckpointError.writeFailed(path: path, reason: "cannot reopen to seal") }
        defer { close(fd) }
        let end = lseek(fd, 0, SEEK_END)
        guard end >= off_t(size) else { throw CheckpointError.writeFailed(path: path, reason: "file shorter than its user block") }
        let length = UInt64(end) - UInt64(size)
        let crc = try checksum(fd: fd, start: size, length: Int(length))
        var header = magic
        withUnsafeBytes(of: length.littleEndian) { header += $0 }
        withUnsafeBytes(of: UInt32(crc).littleEndian) { header += $0 }
        guard pwrite(fd, header, header.count, 0) == header.count else {
            throw CheckpointError.writeFailed(path: path, reason: "cannot write the header")
        }
    }

    enum Kind { case tessera, plainHDF5, other }

    /// What the first bytes say the file is.
    static func classify(_ prefix: [UInt8]) -> Kind {
        if prefix.count >= magic.count && Array(prefix[0..<magic.count]) == magic { return .tessera }
        if prefix.count >= 8 && Array(prefix[0..<8]) == hdf5Signature { return .plainHDF5 }
        return .other
    }

    /// Checks a Tessera file against its header. `full` also verifies the CRC (reads it all).
    static func verify(_ path: String, full: Bool) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw CheckpointError.missingFile(path) }
        defer { try? handle.close() }
        let prefix = [UInt8]((try? handle.read(upToCount: size)) ?? Data())
        switch classify(prefix) {
        case .plainHDF5:
            throw CheckpointError.foreign(path: path, reason: "an HDF5 file without Tessera's header")
        case .other:
            // A damaged Tessera file keeps its HDF5 superblock after the user block.
            let superblockAtUserBlock = prefix.count == size
                && (((try? handle.read(upToCount: 8)).map { [UInt8]($0) }) ?? []) == hdf5Signature
            if superblockAtUserBlock { throw CheckpointError.corrupt(path: path, reason: "header damaged") }
            throw CheckpointError.notHDF5(path)
        case .tessera:
            // The magic alone (a file cut inside its header) has no length or CRC to read.
            guard prefix.count == size else {
                throw CheckpointError.corrupt(path: path, reason: "truncated inside the \(size)-byte header (\(prefix.count) bytes)")
            }
        }
        let lengthBytes = prefix[magic.count..<(magic.count + 8)]
        let expectedLength = lengthBytes.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let storedCRC = prefix[(magic.count + 8)..<(magic.count + 12)].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let fileSize = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? UInt64) ?? 0
        // No arithmetic on the length read from the file (it may be anything, 2^64 - 1 included).
        guard fileSize >= UInt64(size) && fileSize - UInt64(size) == expectedLength else {
            throw CheckpointError.corrupt(path: path, reason: "truncated or extended: \(fileSize) bytes, header says \(expectedLength) after the \(size)-byte header")
        }
        guard full else { return }
        let crc = try checksum(fd: handle.fileDescriptor, start: size, length: Int(expectedLength))
        guard crc == storedCRC else { throw CheckpointError.corrupt(path: path, reason: "file checksum mismatch") }
    }
}

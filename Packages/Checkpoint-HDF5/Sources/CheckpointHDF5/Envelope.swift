import CHDF5
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

    /// Computes the CRC of everything after the user block and writes the header.
    static func seal(_ path: String) throws {
        guard let handle = FileHandle(forUpdatingAtPath: path) else {
            throw CheckpointError.writeFailed(path: path, reason: "cannot reopen to seal")
        }
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(size))
        var crc = crc32(0, nil, 0)
        var length: UInt64 = 0
        while let chunk = try handle.read(upToCount: 8 << 20), !chunk.isEmpty {
            crc = chunk.withUnsafeBytes { crc32(crc, $0.bindMemory(to: UInt8.self).baseAddress, uInt($0.count)) }
            length += UInt64(chunk.count)
        }
        var header = magic
        withUnsafeBytes(of: length.littleEndian) { header += $0 }
        withUnsafeBytes(of: UInt32(crc).littleEndian) { header += $0 }
        try handle.seek(toOffset: 0)
        try handle.write(contentsOf: header)
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
            break
        }
        let lengthBytes = prefix[magic.count..<(magic.count + 8)]
        let expectedLength = lengthBytes.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let storedCRC = prefix[(magic.count + 8)..<(magic.count + 12)].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let fileSize = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? UInt64) ?? 0
        guard fileSize >= UInt64(size) && fileSize - UInt64(size) == expectedLength else {
            throw CheckpointError.corrupt(path: path, reason: "truncated or extended: \(fileSize) bytes, header says \(expectedLength + UInt64(size))")
        }
        guard full else { return }
        try handle.seek(toOffset: UInt64(size))
        var crc = crc32(0, nil, 0)
        while let chunk = try handle.read(upToCount: 8 << 20), !chunk.isEmpty {
            crc = chunk.withUnsafeBytes { crc32(crc, $0.bindMemory(to: UInt8.self).baseAddress, uInt($0.count)) }
        }
        guard UInt32(crc) == storedCRC else { throw CheckpointError.corrupt(path: path, reason: "file checksum mismatch") }
    }
}

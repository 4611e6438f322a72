import CHDF5
import Foundation
import TensorCore

/// Reading and writing checkpoint files.
///
/// Layout (h5py reads it as plain arrays): `/model/<dotted name as groups>`,
/// `/optimizer/<key as groups>`; root attributes `tessera_format`, `tessera_library`,
/// `created`, `step`, `epoch`, `rng_seed`, `rng_offset`, `meta.<key>`; optimizer numbers as
/// attributes `scalar.<key>` of `/optimizer`. Every dataset carries `tessera_dtype`.
public enum CheckpointFile {
    /// The layout version written into every file (`tessera_format`); readers refuse newer ones.
    public static let formatVersion = 1
    /// The writer recorded in every file.
    public static let library = "tessera 0.1"

    /// Writes `checkpoint` to `path` atomically: a temporary file in the same folder is
    /// written, flushed and fsynced, then renamed over `path`. A crash at any moment leaves
    /// either the old file or the new one. With `checksums`, each non-empty tensor gets a
    /// Fletcher-32 checksum that reading verifies.
    public static func save(_ checkpoint: Checkpoint, to path: String, checksums: Bool = true) throws {
        try save(checkpoint, to: path, checksums: checksums, section: "model")
    }

    /// Writes plain arrays at the root (`/samples`, `/labels`: what h5py users index directly)
    /// with `attributes` as `meta.<key>`, atomically and checksummed as a checkpoint is.
    public static func saveArrays(_ arrays: [String: Tensor], attributes: [String: MetadataValue] = [:], to path: String) throws {
        try save(Checkpoint(model: arrays, metadata: attributes), to: path, checksums: true, section: "")
    }

    static func save(_ checkpoint: Checkpoint, to path: String, checksums: Bool, section: String) throws {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        let temporary = "\(directory)/.\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        do {
            try HDF5.locked { try write(checkpoint, to: temporary, checksums: checksums, section: section) }
            try Envelope.seal(temporary)
            try syncFile(temporary)
            guard rename(temporary, path) == 0 else {
                throw CheckpointError.writeFailed(path: path, reason: "rename failed: \(String(cString: strerror(errno)))")
            }
            try? syncFile(directory)
        } catch {
            unlink(temporary)
            throw error
        }
    }

    /// Saves as `step-<step>.h5` in `directory` and deletes all but the newest `keepLast`.
    @discardableResult
    public static func save(_ checkpoint: Checkpoint, inDirectory directory: String, keepLast: Int,
                            checksums: Bool = true) throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let number = checkpoint.step ?? checkpoint.epoch ?? 0
        let path = "\(directory)/step-\(String(format: "%09d", number)).h5"
        try save(checkpoint, to: path, checksums: checksums)
        let existing = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        let checkpoints = existing.filter { $0.hasPrefix("step-") && $0.hasSuffix(".h5") }.sorted()
        for old in checkpoints.dropLast(Swift.max(keepLast, 1)) { try? FileManager.default.removeItem(atPath: "\(directory)/\(old)") }
        removeOrphanTemporaries(in: directory, existing: existing)
        return path
    }

    /// A save killed mid-write leaves `.step-….h5.tmp-<pid>-<n>` behind, which nothing else
    /// reads; the next save removes those whose writing process is gone (another process
    /// saving into the same folder right now keeps its file).
    static func removeOrphanTemporaries(in directory: String, existing: [String]) {
        for name in existing where name.hasPrefix(".step-") && name.contains(".h5.tmp-") {
            let fields = name.split(separator: "-")
            guard fields.count >= 3, let pid = Int32(fields[fields.count - 2]) else { continue }
            if kill(pid, 0) == -1 && errno == ESRCH { unlink("\(directory)/\(name)") }
        }
    }

    /// The newest `step-*.h5` in `directory`, if any.
    public static func latest(inDirectory directory: String) -> String? {
        let existing = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return existing.filter { $0.hasPrefix("step-") && $0.hasSuffix(".h5") }.sorted().last.map { "\(directory)/\($0)" }
    }

    static func syncFile(_ path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw CheckpointError.writeFailed(path: path, reason: "cannot reopen to sync") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw CheckpointError.writeFailed(path: path, reason: "fsync failed") }
    }

    static func write(_ c: Checkpoint, to path: String, checksums: Bool, section: String = "model") throws {
        func fail(_ why: String) -> CheckpointError { .writeFailed(path: path, reason: why) }
        // A user block for Tessera's header; the newest format so that HDF5's own metadata
        // carries checksums too.
        guard let fcpl = HDF5Handle(H5Pcreate(tessera_h5p_file_create()), close: H5Pclose),
              H5Pset_userblock(fcpl.id, hsize_t(Envelope.size)) >= 0,
              let fapl = HDF5.fileAccess(),
              H5Pset_libver_bounds(fapl.id, H5F_LIBVER_V18, H5F_LIBVER_V110) >= 0 else {
            throw fail("cannot create property lists")
        }
        guard let file = HDF5Handle(H5Fcreate(path, tessera_h5f_acc_trunc(), fcpl.id, fapl.id), close: H5Fclose) else {
            throw fail("cannot create file (is the folder writable?)")
        }
        var ok = HDF5.writeAttribute(file.id, "tessera_format", .number(Double(formatVersion)))
        ok = ok && HDF5.writeAttribute(file.id, "tessera_library", .string(library))
        ok = ok && HDF5.writeAttribute(file.id, "created", .string(ISO8601DateFormatter().string(from: Date())))
        if let step = c.step { ok = ok && HDF5.writeAttribute(file.id, "step", .number(Double(step))) }
        if let epoch = c.epoch { ok = ok && HDF5.writeAttribute(file.id, "epoch", .number(Double(epoch))) }
        if let random = c.random {
            ok = ok && HDF5.writeUInt64Attribute(file.id, "rng_seed", random.seed)
            ok = ok && HDF5.writeUInt64Attribute(file.id, "rng_offset", random.offset)
        }
        for (key, value) in c.metadata { ok = ok && HDF5.writeAttribute(file.id, "meta.\(key)", value) }
        guard ok else { throw fail("cannot write attributes") }

        guard let lcpl = HDF5Handle(H5Pcreate(tessera_h5p_link_create()), close: H5Pclose),
              H5Pset_create_intermediate_group(lcpl.id, 1) >= 0 else { throw fail("cannot create property list") }
        for (name, tensor) in c.model.sorted(by: { $0.key < $1.key }) {
            try writeTensor(tensor, at: (section.isEmpty ? "/" : "/\(section)/") + groupPath(name), file: file.id, lcpl: lcpl.id, checksums: checksums, path: path)
        }
        if !c.optimizerTensors.isEmpty || !c.optimizerScalars.isEmpty {
            guard let group = HDF5Handle(H5Gcreate2(file.id, "/optimizer", h5Default, h5Default, h5Default), close: H5Gclose) else {
                throw fail("cannot create /optimizer")
            }
            for (key, value) in c.optimizerScalars where !HDF5.writeAttribute(group.id, "scalar.\(key)", .number(value)) {
                throw fail("cannot write optimizer scalar \(key)")
            }
            for (name, tensor) in c.optimizerTensors.sorted(by: { $0.key < $1.key }) {
                try writeTensor(tensor, at: "/optimizer/" + groupPath(name), file: file.id, lcpl: lcpl.id, checksums: checksums, path: path)
            }
        }
        guard H5Fflush(file.id, H5F_SCOPE_GLOBAL) >= 0 else { throw fail("flush failed") }
    }

    static func groupPath(_ dotted: String) -> String { dotted.replacingOccurrences(of: ".", with: "/") }

    /// Chunk shape for checksummed datasets: the whole tensor, halved along leading axes
    /// until a chunk is at most 16 MB (HDF5 caps chunks at 4 GB).
    static func chunkShape(_ shape: [Int], elementSize: Int) -> [hsize_t] {
        var chunk = shape
        var axis = 0
        while chunk.reduce(1, *) * elementSize > 16 << 20 && axis < chunk.count {
            if chunk[axis] > 1 { chunk[axis] = (chunk[axis] + 1) / 2 } else { axis += 1 }
        }
        return chunk.map { hsize_t($0) }
    }

    static func writeTensor(_ tensor: Tensor, at name: String, file: hid_t, lcpl: hid_t, checksums: Bool, path: String) throws {
        func fail(_ why: String) -> CheckpointError { .writeFailed(path: path, reason: "\(name): \(why)") }
        let t = tensor.detached().moved(to: .cpu).contiguous()
        guard let stored = StoredType.forDType(t.dtype) else { throw fail("no HDF5 type for \(t.dtype)") }
        let dims = t.shape.map { hsize_t($0) }
        let space = t.rank == 0 ? HDF5Handle(H5Screate(H5S_SCALAR), close: H5Sclose)
                                : HDF5Handle(H5Screate_simple(Int32(t.rank), dims, nil), close: H5Sclose)
        guard let space, let dcpl = HDF5Handle(H5Pcreate(tessera_h5p_dataset_create()), close: H5Pclose) else {
            throw fail("cannot create dataspace")
        }
        if checksums && t.rank > 0 && t.elementCount > 0 {
            let chunk = chunkShape(t.shape, elementSize: t.dtype.byteSize)
            guard H5Pset_chunk(dcpl.id, Int32(t.rank), chunk) >= 0, H5Pset_fletcher32(dcpl.id) >= 0 else {
                throw fail("cannot set up checksums")
            }
        }
        guard let dataset = HDF5Handle(H5Dcreate2(file, name, stored.type, space.id, lcpl, dcpl.id, h5Default), close: H5Dclose) else {
            throw fail("cannot create dataset (a name that is both a tensor and a prefix of another?)")
        }
        if t.elementCount > 0 {
            let written = t.withOperand { operand in
                H5Dwrite(dataset.id, stored.type, hid_t(0), hid_t(0), h5Default,
                         operand.storage.pointer + operand.layout.offset * t.dtype.byteSize)
            }
            guard written >= 0 else { throw fail("write failed") }
        }
        guard HDF5.writeAttribute(dataset.id, "tessera_dtype", .string(t.dtype.description)) else { throw fail("cannot tag dtype") }
    }
}

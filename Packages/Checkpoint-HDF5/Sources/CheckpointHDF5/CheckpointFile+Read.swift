import CHDF5
import Foundation
import TensorCore

extension CheckpointFile {
    /// An open, validated Tessera checkpoint (inside the HDF5 lock).
    struct OpenFile {
        let path: String
        let file: HDF5Handle

        /// `verifyAll` checks the whole file's CRC before HDF5 sees it (load); listing and
        /// single-tensor reads check the header and length only, relying on HDF5's
        /// metadata checksums and the per-tensor Fletcher-32 sums.
        init(_ path: String, verifyAll: Bool) throws {
            guard FileManager.default.fileExists(atPath: path) else { throw CheckpointError.missingFile(path) }
            try Envelope.verify(path, full: verifyAll)
            guard H5Fis_hdf5(path) > 0 else { throw CheckpointError.corrupt(path: path, reason: "no HDF5 superblock") }
            guard let fapl = HDF5.fileAccess(),
                  let file = HDF5Handle(H5Fopen(path, tessera_h5f_acc_rdonly(), fapl.id), close: H5Fclose) else {
                throw CheckpointError.corrupt(path: path, reason: "HDF5 could not open it")
            }
            guard case .number(let format)? = HDF5.readAttribute(file.id, "tessera_format") else {
                throw CheckpointError.foreign(path: path, reason: "no tessera_format attribute")
            }
            guard format >= 1 && format <= Double(CheckpointFile.formatVersion) else {
                throw CheckpointError.foreign(path: path, reason: "format \(format) is not one this version reads (1...\(CheckpointFile.formatVersion))")
            }
            self.path = path
            self.file = file
        }

        /// Dataset paths under `/section`, as dotted names.
        func datasetNames(_ section: String) throws -> [String] {
            guard H5Lexists(file.id, "/\(section)", h5Default) > 0 else { return [] }
            guard let group = HDF5Handle(H5Gopen2(file.id, "/\(section)", h5Default), close: H5Gclose) else {
                throw CheckpointError.corrupt(path: path, reason: "cannot open /\(section)")
            }
            final class Box { var names: [String] = [] }
            let box = Box()
            let status = tessera_h5_visit(group.id, { name, isDataset, context in
                let box = Unmanaged<Box>.fromOpaque(context!).takeUnretainedValue()
                if isDataset != 0, let name { box.names.append(String(cString: name)) }
                return 0
            }, Unmanaged.passUnretained(box).toOpaque())
            guard status >= 0 else { throw CheckpointError.corrupt(path: path, reason: "cannot list /\(section)") }
            return box.names.map { $0.replacingOccurrences(of: "/", with: ".") }.sorted()
        }

        /// Shape and dtype of a dataset, validated against its stored type.
        func describe(_ dataset: hid_t, _ name: String) throws -> (shape: [Int], dtype: DType) {
            func corrupt(_ why: String) -> CheckpointError { .corrupt(path: path, reason: "\(name): \(why)") }
            guard case .string(let typeName)? = HDF5.readAttribute(dataset, "tessera_dtype") else {
                throw CheckpointError.foreign(path: path, reason: "\(name) has no tessera_dtype attribute")
            }
            guard let dtype = DType(storedName: typeName) else { throw corrupt("unknown dtype '\(typeName)'") }
            guard let space = HDF5Handle(H5Dget_space(dataset), close: H5Sclose),
                  let type = HDF5Handle(H5Dget_type(dataset), close: H5Tclose) else { throw corrupt("unreadable header") }
            let rank = Int(H5Sget_simple_extent_ndims(space.id))
            guard rank >= 0 && rank <= 32 else { throw corrupt("invalid rank \(rank)") }
            var dims = [hsize_t](repeating: 0, count: Swift.max(rank, 1))
            guard H5Sget_simple_extent_dims(space.id, &dims, nil) >= 0 else { throw corrupt("unreadable shape") }
            let shape = dims.prefix(rank).map { Int(clamping: $0) }
            var count = 1
            for d in shape {
                let (product, overflow) = count.multipliedReportingOverflow(by: d)
                guard !overflow && product <= 1 << 36 else { throw corrupt("implausible shape \(shape)") }
                count = product
            }
            guard H5Tget_class(type.id) == StoredType.expectedClass(dtype), H5Tget_size(type.id) == dtype.byteSize else {
                throw corrupt("stored type does not match dtype \(dtype)")
            }
            return (shape, dtype)
        }

        func readTensor(_ section: String, _ name: String) throws -> Tensor {
            // Section "": a dataset at the root (`saveArrays`); its name's first group must exist.
            let full = (section.isEmpty ? "/" : "/\(section)/") + CheckpointFile.groupPath(name)
            let parent = section.isEmpty ? "/" + CheckpointFile.groupPath(name).split(separator: "/")[0] : "/\(section)"
            guard H5Lexists(file.id, parent, h5Default) > 0,
                  let dataset = HDF5Handle(H5Dopen2(file.id, full, h5Default), close: H5Dclose) else {
                throw CheckpointError.missingEntry(path: path, name: name)
            }
            let (shape, dtype) = try describe(dataset.id, name)
            var tensor = Tensor.empty(shape, dtype: dtype)
            guard tensor.elementCount > 0 else { return tensor }
            guard let stored = StoredType.forDType(dtype) else { throw CheckpointError.corrupt(path: path, reason: "\(name): no type") }
            switch tessera_h5_check_storage(dataset.id, hsize_t(tensor.elementCount * dtype.byteSize), dtype.byteSize) {
            case 0: break
            case 1: throw CheckpointError.corrupt(path: path, reason: "\(name): a storage layout Tessera does not write")
            case 2: throw CheckpointError.corrupt(path: path, reason: "\(name): data in external files")
            case 3: throw CheckpointError.corrupt(path: path, reason: "\(name): stored size differs from shape \(shape) of \(dtype)")
            default: throw CheckpointError.corrupt(path: path, reason: "\(name): unreadable storage layout")
            }
            // A fresh contiguous host tensor: its unique operand starts at the storage's first byte.
            let destination = tensor.uniqueOperand().storage.pointer
            guard H5Dread(dataset.id, stored.type, hid_t(0), hid_t(0), h5Default, destination) >= 0 else {
                throw CheckpointError.corrupt(path: path, reason: "\(name): data unreadable or checksum mismatch")
            }
            if dtype == .bool {
                // Anything but 0/1 in a bool tensor is damage, and would be undefined behaviour to load.
                let bytes = destination.assumingMemoryBound(to: UInt8.self)
                for i in 0..<tensor.elementCount where bytes[i] > 1 {
                    throw CheckpointError.corrupt(path: path, reason: "\(name): bool value \(bytes[i])")
                }
            }
            return tensor
        }
    }

    /// Reads a whole checkpoint back. Throws `CheckpointError` for a missing, truncated,
    /// corrupt or foreign file; never traps on a bad file.
    public static func load(from path: String) throws -> Checkpoint {
        try HDF5.locked {
            let f = try OpenFile(path, verifyAll: true)
            var c = Checkpoint(model: [:])
            for name in try f.datasetNames("model") { c.model[name] = try f.readTensor("model", name) }
            for name in try f.datasetNames("optimizer") { c.optimizerTensors[name] = try f.readTensor("optimizer", name) }
            if H5Lexists(f.file.id, "/optimizer", h5Default) > 0,
               let group = HDF5Handle(H5Gopen2(f.file.id, "/optimizer", h5Default), close: H5Gclose) {
                for attribute in HDF5.attributeNames(group.id) where attribute.hasPrefix("scalar.") {
                    guard case .number(let v)? = HDF5.readAttribute(group.id, attribute) else {
                        throw CheckpointError.corrupt(path: path, reason: "optimizer scalar \(attribute) unreadable")
                    }
                    c.optimizerScalars[String(attribute.dropFirst("scalar.".count))] = v
                }
            }
            if case .number(let s)? = HDF5.readAttribute(f.file.id, "step") { c.step = Int(exactly: s) }
            if case .number(let e)? = HDF5.readAttribute(f.file.id, "epoch") { c.epoch = Int(exactly: e) }
            if let seed = HDF5.readUInt64Attribute(f.file.id, "rng_seed"), let offset = HDF5.readUInt64Attribute(f.file.id, "rng_offset") {
                c.random = (seed, offset)
            }
            for attribute in HDF5.attributeNames(f.file.id) where attribute.hasPrefix("meta.") {
                if let v = HDF5.readAttribute(f.file.id, attribute) { c.metadata[String(attribute.dropFirst(5))] = v }
            }
            return c
        }
    }

    /// Lists the stored tensors with shapes and dtypes, without reading their data.
    public static func contents(of path: String) throws -> [CheckpointEntry] {
        try HDF5.locked {
            let f = try OpenFile(path, verifyAll: false)
            var entries: [CheckpointEntry] = []
            for section in ["model", "optimizer"] {
                for name in try f.datasetNames(section) {
                    let full = "/\(section)/" + groupPath(name)
                    guard let dataset = HDF5Handle(H5Dopen2(f.file.id, full, h5Default), close: H5Dclose) else {
                        throw CheckpointError.corrupt(path: path, reason: "cannot open \(full)")
                    }
                    let (shape, dtype) = try f.describe(dataset.id, name)
                    entries.append(CheckpointEntry(name: name, section: section, shape: shape, dtype: dtype))
                }
            }
            return entries
        }
    }

    /// Root metadata (format, library, created, step, epoch, meta.*) without reading tensors.
    public static func attributes(of path: String) throws -> [String: MetadataValue] {
        try HDF5.locked {
            let f = try OpenFile(path, verifyAll: false)
            var result: [String: MetadataValue] = [:]
            for name in HDF5.attributeNames(f.file.id) {
                if let v = HDF5.readAttribute(f.file.id, name) { result[name] = v }
                else if let u = HDF5.readUInt64Attribute(f.file.id, name) { result[name] = .string(String(u)) }
            }
            return result
        }
    }

    /// Reads one tensor (`section` "model" or "optimizer", or "" for a dataset at the root of a
    /// `saveArrays` file) without loading the rest.
    public static func readTensor(named name: String, section: String = "model", from path: String) throws -> Tensor {
        try HDF5.locked { try OpenFile(path, verifyAll: false).readTensor(section, name) }
    }
}

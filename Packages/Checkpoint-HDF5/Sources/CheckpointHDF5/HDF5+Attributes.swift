import CHDF5

/// Attribute reading and writing on any HDF5 object (file root, group, dataset).
extension HDF5 {
    static let scalarSpace: () -> HDF5Handle? = { HDF5Handle(H5Screate(H5S_SCALAR), close: H5Sclose) }

    static func writeAttribute(_ object: hid_t, _ name: String, _ value: MetadataValue) -> Bool {
        switch value {
        case .number(let v):
            var v = v
            return writeRawAttribute(object, name, tessera_h5t_native_double(), &v)
        case .string(let s):
            var bytes = Array(s.utf8)
            if bytes.isEmpty { bytes = [0] }
            guard let type = HDF5Handle(H5Tcopy(tessera_h5t_c_s1()), close: H5Tclose),
                  H5Tset_size(type.id, bytes.count) >= 0 else { return false }
            return bytes.withUnsafeMutableBytes { writeRawAttribute(object, name, type.id, $0.baseAddress!) }
        }
    }

    static func writeUInt64Attribute(_ object: hid_t, _ name: String, _ value: UInt64) -> Bool {
        var v = value
        return writeRawAttribute(object, name, tessera_h5t_native_uint64(), &v)
    }

    private static func writeRawAttribute(_ object: hid_t, _ name: String, _ type: hid_t, _ data: UnsafeMutableRawPointer) -> Bool {
        guard let space = scalarSpace(),
              let attribute = HDF5Handle(H5Acreate2(object, name, type, space.id, h5Default, h5Default), close: H5Aclose)
        else { return false }
        return H5Awrite(attribute.id, type, data) >= 0
    }

    static func hasAttribute(_ object: hid_t, _ name: String) -> Bool { H5Aexists(object, name) > 0 }

    /// A scalar number or fixed-length string attribute; nil when absent or of another kind.
    static func readAttribute(_ object: hid_t, _ name: String) -> MetadataValue? {
        guard hasAttribute(object, name),
              let attribute = HDF5Handle(H5Aopen(object, name, h5Default), close: H5Aclose),
              let type = HDF5Handle(H5Aget_type(attribute.id), close: H5Tclose),
              let space = HDF5Handle(H5Aget_space(attribute.id), close: H5Sclose),
              H5Sget_simple_extent_npoints(space.id) == 1 else { return nil }
        switch H5Tget_class(type.id) {
        case H5T_FLOAT, H5T_INTEGER:
            var v = 0.0
            return H5Aread(attribute.id, tessera_h5t_native_double(), &v) >= 0 ? .number(v) : nil
        case H5T_STRING:
            guard H5Tis_variable_str(type.id) == 0 else { return nil }
            let size = H5Tget_size(type.id)
            guard size > 0 && size < 1 << 20 else { return nil }
            var bytes = [UInt8](repeating: 0, count: size + 1)
            guard bytes.withUnsafeMutableBytes({ H5Aread(attribute.id, type.id, $0.baseAddress!) }) >= 0 else { return nil }
            let end = bytes.firstIndex(of: 0) ?? size
            return .string(String(decoding: bytes[0..<end], as: UTF8.self))
        default:
            return nil
        }
    }

    static func readUInt64Attribute(_ object: hid_t, _ name: String) -> UInt64? {
        guard hasAttribute(object, name),
              let attribute = HDF5Handle(H5Aopen(object, name, h5Default), close: H5Aclose) else { return nil }
        var v: UInt64 = 0
        return H5Aread(attribute.id, tessera_h5t_native_uint64(), &v) >= 0 ? v : nil
    }

    /// Names of all attributes of an object.
    static func attributeNames(_ object: hid_t) -> [String] {
        var info = H5O_info_t()
        guard H5Oget_info(object, &info) >= 0 else { return [] }
        var names: [String] = []
        for i in 0..<info.num_attrs {
            guard let attribute = HDF5Handle(H5Aopen_by_idx(object, ".", H5_INDEX_NAME, H5_ITER_INC, i, h5Default, h5Default),
                                             close: H5Aclose) else { continue }
            let length = H5Aget_name(attribute.id, 0, nil)
            guard length > 0 && length < 4096 else { continue }
            var buffer = [CChar](repeating: 0, count: length + 1)
            _ = H5Aget_name(attribute.id, buffer.count, &buffer)
            names.append(String(cString: buffer))
        }
        return names
    }
}

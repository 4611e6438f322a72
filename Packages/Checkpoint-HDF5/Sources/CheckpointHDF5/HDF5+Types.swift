import CHDF5
import TensorCore

/// How each dtype is stored: the file type, the memory type, and the name in the
/// `tessera_dtype` attribute that makes round trips exact.
struct StoredType {
    /// The HDF5 type (closed by the handle when it was created here).
    let type: hid_t
    let owner: HDF5Handle?

    static func forDType(_ dtype: DType) -> StoredType? {
        switch dtype {
        case .float32: return StoredType(type: tessera_h5t_native_float(), owner: nil)
        case .float64: return StoredType(type: tessera_h5t_native_double(), owner: nil)
        case .int32: return StoredType(type: tessera_h5t_native_int32(), owner: nil)
        case .int64: return StoredType(type: tessera_h5t_native_int64(), owner: nil)
        case .uint8, .bool: return StoredType(type: tessera_h5t_native_uint8(), owner: nil)
        // bfloat16 has no HDF5 type: its bits are stored as uint16 (tessera_dtype says so).
        case .bfloat16: return StoredType(type: tessera_h5t_native_uint16(), owner: nil)
        case .float16:
            guard let handle = HDF5Handle(tessera_h5t_make_float16(), close: H5Tclose) else { return nil }
            return StoredType(type: handle.id, owner: handle)
        }
    }

    /// The HDF5 class a stored dtype must have in the file.
    static func expectedClass(_ dtype: DType) -> H5T_class_t {
        switch dtype {
        case .float32, .float64, .float16: return H5T_FLOAT
        default: return H5T_INTEGER
        }
    }
}

extension DType {
    init?(storedName: String) {
        guard let match = DType.allCases.first(where: { $0.description == storedName }) else { return nil }
        self = match
    }
}

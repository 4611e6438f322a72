/// The element type of a tensor.
///
/// float32 is the default. float16 and bfloat16 are storage types on the CPU: operations
/// on them compute in float32 and round the result back, as PyTorch's CPU kernels do.
public enum DType: Int, CaseIterable, Sendable, CustomStringConvertible {
    /// IEEE single precision.
    case float32
    /// IEEE double precision.
    case float64
    /// IEEE half precision.
    case float16
    /// Brain floating point (float32's exponent, 7 mantissa bits).
    case bfloat16
    /// 32-bit signed integer.
    case int32
    /// 64-bit signed integer (indices, labels).
    case int64
    /// 8-bit unsigned integer (pixels).
    case uint8
    /// true or false, one byte each.
    case bool

    /// Bytes per element.
    @inlinable public var byteSize: Int {
        switch self {
        case .float64, .int64: return 8
        case .float32, .int32: return 4
        case .float16, .bfloat16: return 2
        case .uint8, .bool: return 1
        }
    }

    /// float32, float64, float16 or bfloat16.
    @inlinable public var isFloatingPoint: Bool {
        switch self {
        case .float32, .float64, .float16, .bfloat16: return true
        default: return false
        }
    }

    /// float16 and bfloat16: stored at reduced precision, computed in float32 on the CPU.
    @inlinable public var isReducedPrecision: Bool { self == .float16 || self == .bfloat16 }

    /// int32, int64 or uint8 (not bool).
    @inlinable public var isInteger: Bool {
        switch self {
        case .int32, .int64, .uint8: return true
        default: return false
        }
    }

    public var description: String {
        switch self {
        case .float32: return "float32"
        case .float64: return "float64"
        case .float16: return "float16"
        case .bfloat16: return "bfloat16"
        case .int32: return "int32"
        case .int64: return "int64"
        case .uint8: return "uint8"
        case .bool: return "bool"
        }
    }

    /// The type two operands are computed in, by PyTorch's promotion rules restricted to
    /// same-category operands: floats win over integers, wider wins over narrower.
    public static func promoted(_ a: DType, _ b: DType) -> DType {
        if a == b { return a }
        func rank(_ d: DType) -> Int {
            switch d {
            case .bool: return 0
            case .uint8: return 1
            case .int32: return 2
            case .int64: return 3
            case .float16: return 4
            case .bfloat16: return 5
            case .float32: return 6
            case .float64: return 7
            }
        }
        // float16 with bfloat16 promotes to float32, as in PyTorch.
        if (a == .float16 && b == .bfloat16) || (a == .bfloat16 && b == .float16) { return .float32 }
        return rank(a) >= rank(b) ? a : b
    }
}

/// A Swift type that can be the element of a tensor.
public protocol TensorScalar {
    /// The tensor element type this Swift type stands for.
    static var dtype: DType { get }
    /// The value nearest `value` (integers truncate toward zero and clamp).
    init(tensorDouble value: Double)
    /// The value as a Double.
    var tensorDouble: Double { get }
}

/// A floating-point element type the CPU computes in (Float and Double).
public protocol TensorFloat: TensorScalar, BinaryFloatingPoint, SIMDScalar, Codable
where Self.RawSignificand: FixedWidthInteger {
    static func _exp(_ x: Self) -> Self
    static func _log(_ x: Self) -> Self
    static func _log1p(_ x: Self) -> Self
    static func _expm1(_ x: Self) -> Self
    static func _sin(_ x: Self) -> Self
    static func _cos(_ x: Self) -> Self
    static func _tanh(_ x: Self) -> Self
    static func _erf(_ x: Self) -> Self
    static func _pow(_ x: Self, _ y: Self) -> Self
}

/// An integer element type (Int32, Int64, UInt8).
public protocol TensorInteger: TensorScalar, FixedWidthInteger, SIMDScalar, Codable {}

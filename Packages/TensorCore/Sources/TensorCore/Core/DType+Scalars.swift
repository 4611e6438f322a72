#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Float: TensorFloat {
    /// `.float32`.
    public static var dtype: DType { .float32 }
    /// The nearest Float.
    @inlinable public init(tensorDouble value: Double) { self = Float(value) }
    /// The value as a Double.
    @inlinable public var tensorDouble: Double { Double(self) }
    @inlinable public static func _exp(_ x: Float) -> Float { expf(x) }
    @inlinable public static func _log(_ x: Float) -> Float { logf(x) }
    @inlinable public static func _log1p(_ x: Float) -> Float { log1pf(x) }
    @inlinable public static func _expm1(_ x: Float) -> Float { expm1f(x) }
    @inlinable public static func _sin(_ x: Float) -> Float { sinf(x) }
    @inlinable public static func _cos(_ x: Float) -> Float { cosf(x) }
    @inlinable public static func _tanh(_ x: Float) -> Float { tanhf(x) }
    @inlinable public static func _erf(_ x: Float) -> Float { erff(x) }
    @inlinable public static func _pow(_ x: Float, _ y: Float) -> Float { powf(x, y) }
}

extension Double: TensorFloat {
    /// `.float64`.
    public static var dtype: DType { .float64 }
    /// The value itself.
    @inlinable public init(tensorDouble value: Double) { self = value }
    /// The value itself.
    @inlinable public var tensorDouble: Double { self }
    @inlinable public static func _exp(_ x: Double) -> Double { exp(x) }
    @inlinable public static func _log(_ x: Double) -> Double { log(x) }
    @inlinable public static func _log1p(_ x: Double) -> Double { log1p(x) }
    @inlinable public static func _expm1(_ x: Double) -> Double { expm1(x) }
    @inlinable public static func _sin(_ x: Double) -> Double { sin(x) }
    @inlinable public static func _cos(_ x: Double) -> Double { cos(x) }
    @inlinable public static func _tanh(_ x: Double) -> Double { tanh(x) }
    @inlinable public static func _erf(_ x: Double) -> Double { erf(x) }
    @inlinable public static func _pow(_ x: Double, _ y: Double) -> Double { pow(x, y) }
}

extension Float16: TensorScalar {
    /// `.float16`.
    public static var dtype: DType { .float16 }
    /// The nearest Float16.
    @inlinable public init(tensorDouble value: Double) { self = Float16(Float(value)) }
    /// The value as a Double.
    @inlinable public var tensorDouble: Double { Double(Float(self)) }
}

extension Int32: TensorInteger {
    /// `.int32`.
    public static var dtype: DType { .int32 }
    /// Truncated toward zero, clamped to Int32's range.
    @inlinable public init(tensorDouble value: Double) { self = Int32(clamping: Int64(value)) }
    /// The value as a Double.
    @inlinable public var tensorDouble: Double { Double(self) }
}

extension Int64: TensorInteger {
    /// `.int64`.
    public static var dtype: DType { .int64 }
    /// Truncated toward zero.
    @inlinable public init(tensorDouble value: Double) { self = Int64(value) }
    /// The value as a Double.
    @inlinable public var tensorDouble: Double { Double(self) }
}

extension UInt8: TensorInteger {
    /// `.uint8`.
    public static var dtype: DType { .uint8 }
    /// Truncated toward zero, wrapped to 8 bits.
    @inlinable public init(tensorDouble value: Double) { self = UInt8(truncatingIfNeeded: Int64(value)) }
    /// The value as a Double.
    @inlinable public var tensorDouble: Double { Double(self) }
}

extension Bool: TensorScalar {
    /// `.bool`.
    public static var dtype: DType { .bool }
    /// True unless zero.
    @inlinable public init(tensorDouble value: Double) { self = value != 0 }
    /// 1 or 0.
    @inlinable public var tensorDouble: Double { self ? 1 : 0 }
}

/// Brain floating point: the upper 16 bits of a float32 (8 exponent bits, 7 mantissa bits).
public struct BFloat16: TensorScalar, Hashable, Sendable, CustomStringConvertible {
    /// The 16 bits: sign, 8 exponent bits, 7 mantissa bits.
    public var bitPattern: UInt16

    /// The value with these bits.
    public init(bitPattern: UInt16) { self.bitPattern = bitPattern }

    /// Rounds to nearest even, as PyTorch does; NaN stays a quiet NaN.
    @inlinable public init(_ value: Float) {
        let bits = value.bitPattern
        if value.isNaN { bitPattern = UInt16(truncatingIfNeeded: (bits >> 16) | 0x40); return }
        let rounding: UInt32 = 0x7FFF + ((bits >> 16) & 1)
        bitPattern = UInt16(truncatingIfNeeded: (bits &+ rounding) >> 16)
    }

    /// The value as a Float (exact).
    @inlinable public var floatValue: Float { Float(bitPattern: UInt32(bitPattern) << 16) }

    /// `.bfloat16`.
    public static var dtype: DType { .bfloat16 }
    /// The nearest bfloat16 (round to nearest even).
    @inlinable public init(tensorDouble value: Double) { self.init(Float(value)) }
    /// The value as a Double.
    @inlinable public var tensorDouble: Double { Double(floatValue) }
    public var description: String { floatValue.description }
}

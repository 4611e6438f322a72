infix operator .&& : LogicalConjunctionPrecedence
infix operator .|| : LogicalDisjunctionPrecedence

/// Element-wise comparisons and logic; results are bool tensors and carry no gradient.
extension Tensor {
    /// Element-wise `a == b` (broadcasting), as bool.
    public static func .== (a: Tensor, b: Tensor) -> Tensor { a.binaryKernel(.equal, b, "equal") }
    /// Element-wise `a != b` (broadcasting), as bool.
    public static func .!= (a: Tensor, b: Tensor) -> Tensor { a.binaryKernel(.notEqual, b, "notEqual") }
    /// Element-wise `a < b` (broadcasting), as bool.
    public static func .< (a: Tensor, b: Tensor) -> Tensor { a.binaryKernel(.less, b, "less") }
    /// Element-wise `a <= b` (broadcasting), as bool.
    public static func .<= (a: Tensor, b: Tensor) -> Tensor { a.binaryKernel(.lessEqual, b, "lessEqual") }
    /// Element-wise `a > b` (broadcasting), as bool.
    public static func .> (a: Tensor, b: Tensor) -> Tensor { a.binaryKernel(.greater, b, "greater") }
    /// Element-wise `a >= b` (broadcasting), as bool.
    public static func .>= (a: Tensor, b: Tensor) -> Tensor { a.binaryKernel(.greaterEqual, b, "greaterEqual") }

    /// Element-wise `a == s`, as bool.
    public static func .== (a: Tensor, s: Double) -> Tensor { a.scalarKernel(.equal, s, scalarIsLeft: false, "equal") }
    /// Element-wise `a != s`, as bool.
    public static func .!= (a: Tensor, s: Double) -> Tensor { a.scalarKernel(.notEqual, s, scalarIsLeft: false, "notEqual") }
    /// Element-wise `a < s`, as bool.
    public static func .< (a: Tensor, s: Double) -> Tensor { a.scalarKernel(.less, s, scalarIsLeft: false, "less") }
    /// Element-wise `a <= s`, as bool.
    public static func .<= (a: Tensor, s: Double) -> Tensor { a.scalarKernel(.lessEqual, s, scalarIsLeft: false, "lessEqual") }
    /// Element-wise `a > s`, as bool.
    public static func .> (a: Tensor, s: Double) -> Tensor { a.scalarKernel(.greater, s, scalarIsLeft: false, "greater") }
    /// Element-wise `a >= s`, as bool.
    public static func .>= (a: Tensor, s: Double) -> Tensor { a.scalarKernel(.greaterEqual, s, scalarIsLeft: false, "greaterEqual") }

    /// Element-wise logical and (nonzero is true), as bool.
    public static func .& (a: Tensor, b: Tensor) -> Tensor { a.binaryKernel(.logicalAnd, b, "logicalAnd") }
    /// Element-wise logical or (nonzero is true), as bool.
    public static func .| (a: Tensor, b: Tensor) -> Tensor { a.binaryKernel(.logicalOr, b, "logicalOr") }
    /// Element-wise logical exclusive or (nonzero is true), as bool.
    public static func .^ (a: Tensor, b: Tensor) -> Tensor { a.binaryKernel(.logicalXor, b, "logicalXor") }
    /// The same as `.&`.
    public static func .&& (a: Tensor, b: Tensor) -> Tensor { a .& b }
    /// The same as `.|`.
    public static func .|| (a: Tensor, b: Tensor) -> Tensor { a .| b }
    /// Element-wise logical not (nonzero is true), as bool.
    public static prefix func .! (a: Tensor) -> Tensor { a.logicalNot() }

    /// Element-wise logical not, as bool.
    public func logicalNot() -> Tensor { unaryKernel(.logicalNot, "logicalNot") }
    /// Element-wise logical and with `other`, as bool.
    public func logicalAnd(_ other: Tensor) -> Tensor { self .& other }
    /// Element-wise logical or with `other`, as bool.
    public func logicalOr(_ other: Tensor) -> Tensor { self .| other }
    /// Element-wise logical exclusive or with `other`, as bool.
    public func logicalXor(_ other: Tensor) -> Tensor { self .^ other }

    /// NaN elements.
    public func isNaN() -> Tensor { self .!= self }
    /// Finite elements (not NaN, not ±Inf).
    public func isFinite() -> Tensor { abs() .< Double.infinity }

    /// True when shapes match and every element is equal.
    public func allEqual(_ other: Tensor) -> Bool {
        shape == other.shape && (self .== other).all().item(as: Bool.self)
    }
}

infix operator .&& : LogicalConjunctionPrecedence
infix operator .|| : LogicalDisjunctionPrecedence

/// Element-wise comparisons and logic; results are bool tensors and carry no gradient.
extension Tensor {
    public static func .== (a: Tensor, b: Tensor) -> Tensor { a.binaryKernel(.equal, b, "equal") }
    public static func .!= (a: Tensor, b: Tensor) -> Tensor { a.binaryKernel(.notEqual, b, "notEqual") }
    public static func .< (a: Tensor, b: Tensor) -> Tensor { a.binaryKernel(.less, b, "less") }
    public static func .<= (a: Tensor, b: Tensor) -> Tensor { a.binaryKernel(.lessEqual, b, "lessEqual") }
    public static func .> (a: Tensor, b: Tensor) -> Tensor { a.binaryKernel(.greater, b, "greater") }
    public static func .>= (a: Tensor, b: Tensor) -> Tensor { a.binaryKernel(.greaterEqual, b, "greaterEqual") }

    public static func .== (a: Tensor, s: Double) -> Tensor { a.scalarKernel(.equal, s, scalarIsLeft: false, "equal") }
    public static func .!= (a: Tensor, s: Double) -> Tensor { a.scalarKernel(.notEqual, s, scalarIsLeft: false, "notEqual") }
    public static func .< (a: Tensor, s: Double) -> Tensor { a.scalarKernel(.less, s, scalarIsLeft: false, "less") }
    public static func .<= (a: Tensor, s: Double) -> Tensor { a.scalarKernel(.lessEqual, s, scalarIsLeft: false, "lessEqual") }
    public static func .> (a: Tensor, s: Double) -> Tensor { a.scalarKernel(.greater, s, scalarIsLeft: false, "greater") }
    public static func .>= (a: Tensor, s: Double) -> Tensor { a.scalarKernel(.greaterEqual, s, scalarIsLeft: false, "greaterEqual") }

    public static func .& (a: Tensor, b: Tensor) -> Tensor { a.binaryKernel(.logicalAnd, b, "logicalAnd") }
    public static func .| (a: Tensor, b: Tensor) -> Tensor { a.binaryKernel(.logicalOr, b, "logicalOr") }
    public static func .^ (a: Tensor, b: Tensor) -> Tensor { a.binaryKernel(.logicalXor, b, "logicalXor") }
    public static func .&& (a: Tensor, b: Tensor) -> Tensor { a .& b }
    public static func .|| (a: Tensor, b: Tensor) -> Tensor { a .| b }
    public static prefix func .! (a: Tensor) -> Tensor { a.logicalNot() }

    public func logicalNot() -> Tensor { unaryKernel(.logicalNot, "logicalNot") }
    public func logicalAnd(_ other: Tensor) -> Tensor { self .& other }
    public func logicalOr(_ other: Tensor) -> Tensor { self .| other }
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

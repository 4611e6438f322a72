import Testing
import TensorCore

/// Absolute plus relative tolerance: `|actual - expected| <= atol + rtol * |expected|`.
public struct Tolerance: Sendable {
    /// Allowed absolute difference (`atol`).
    public var absolute: Double
    /// Allowed difference relative to the expected value (`rtol`).
    public var relative: Double

    /// A tolerance of `absolute + relative × |expected|`.
    public init(absolute: Double, relative: Double) {
        self.absolute = absolute
        self.relative = relative
    }

    /// Defaults per dtype, as `torch.testing.assert_close`.
    public static func `default`(for dtype: DType) -> Tolerance {
        switch dtype {
        case .float64: return Tolerance(absolute: 1e-7, relative: 1e-7)
        case .float32: return Tolerance(absolute: 1e-5, relative: 1.3e-6)
        case .float16: return Tolerance(absolute: 1e-5, relative: 1e-3)
        case .bfloat16: return Tolerance(absolute: 1e-5, relative: 1.6e-2)
        default: return Tolerance(absolute: 0, relative: 0)
        }
    }
}

/// The worst element of a comparison, or nil when everything is within tolerance.
public struct Mismatch: CustomStringConvertible, Sendable {
    /// Index of the worst element.
    public var index: [Int]
    /// Its value.
    public var actual: Double
    /// The value it should have had.
    public var expected: Double
    /// Elements outside tolerance.
    public var mismatchedCount: Int
    /// Elements compared.
    public var total: Int

    public var description: String {
        "\(mismatchedCount) of \(total) elements differ; worst at \(index): \(actual) vs expected \(expected) (difference \(Swift.abs(actual - expected)))"
    }
}

/// Compares element-wise; NaN equals NaN, infinities must match exactly.
public func findMismatch(_ actual: [Double], _ expected: [Double], shape: [Int], tolerance: Tolerance) -> Mismatch? {
    var worst: (Int, Double) = (-1, -1)
    var count = 0
    for i in 0..<Swift.min(actual.count, expected.count) {
        let a = actual[i], e = expected[i]
        if a.isNaN && e.isNaN { continue }
        if a.isInfinite || e.isInfinite {
            if a != e { count += 1; if worst.1 < .infinity { worst = (i, .infinity) } }
            continue
        }
        let excess = Swift.abs(a - e) - (tolerance.absolute + tolerance.relative * Swift.abs(e))
        if excess > 0 || a.isNaN || e.isNaN {
            count += 1
            let score = a.isNaN || e.isNaN ? Double.infinity : excess
            if score > worst.1 { worst = (i, score) }
        }
    }
    guard count > 0 else { return nil }
    var index: [Int] = []
    var rest = worst.0
    for d in shape.reversed() { index.insert(d > 0 ? rest % d : 0, at: 0); rest = d > 0 ? rest / d : 0 }
    return Mismatch(index: index, actual: actual[worst.0], expected: expected[worst.0], mismatchedCount: count, total: actual.count)
}

/// Records a test issue when `actual` and `expected` differ in shape or beyond tolerance
/// (per-dtype default), naming the worst element.
public func expectClose(_ actual: Tensor, _ expected: Tensor, tolerance: Tolerance? = nil,
                        _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
    guard actual.shape == expected.shape else {
        Issue.record(Comment(rawValue: "shape \(actual.shape) differs from expected \(expected.shape)" + (comment.map { " — " + $0.rawValue } ?? "")),
                     sourceLocation: sourceLocation)
        return
    }
    let t = tolerance ?? Tolerance.default(for: actual.dtype)
    let a = withoutGradients { actual.scalars(as: Double.self) }
    let e = withoutGradients { expected.scalars(as: Double.self) }
    if let m = findMismatch(a, e, shape: actual.shape, tolerance: t) {
        Issue.record(Comment(rawValue: "\(m)" + (comment.map { " — " + $0.rawValue } ?? "")), sourceLocation: sourceLocation)
    }
}

/// `expectClose` against plain values in row-major order.
public func expectClose(_ actual: Tensor, _ expected: [Double], shape: [Int]? = nil, tolerance: Tolerance? = nil,
                        _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
    let e = Tensor(expected, shape: shape ?? actual.shape).cast(to: actual.dtype.isFloatingPoint ? actual.dtype : .float64)
    let a = actual.dtype.isFloatingPoint ? actual : actual.cast(to: .float64)
    expectClose(a, e, tolerance: tolerance, comment, sourceLocation: sourceLocation)
}

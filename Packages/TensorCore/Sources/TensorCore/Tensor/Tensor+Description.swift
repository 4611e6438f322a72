/// Printing like PyTorch: `tensor([[1.0000, 2.0000], ...], dtype=float64)`, eliding the
/// middle of axes when the tensor has more than 1000 elements.
extension Tensor: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String { format() }

    public var debugDescription: String { "Tensor(shape: \(shapeText(shape)), dtype: \(dtype), device: \(device))\n" + format() }

    private static let summaryThreshold = 1000
    private static let edgeItems = 3

    func format() -> String {
        let values = withoutGradients { scalars(as: Double.self) }
        let summarize = values.count > Tensor.summaryThreshold
        let formatter = ScalarFormatter(values: values, dtype: dtype)
        let prefix = "tensor("
        var body = ""
        if rank == 0 {
            body = formatter.format(values.first ?? 0)
        } else {
            body = formatAxis(0, offset: 0, values: values, formatter: formatter, summarize: summarize, indent: prefix.count)
        }
        var suffix: [String] = []
        if elementCount == 0 { suffix.append("size=\(shapeText(shape).replacingCharacters("[", "(").replacingCharacters("]", ")"))") }
        if dtype != .float32 && dtype != .int64 && dtype != .bool { suffix.append("dtype=\(dtype)") }
        if device != .cpu { suffix.append("device='\(device)'") }
        if let op = autograd?.operation, !(autograd?.isLeaf ?? true) { suffix.append("gradFn=\(op)") }
        else if autograd != nil { suffix.append("requiresGrad=true") }
        return prefix + body + suffix.map { ", " + $0 }.joined() + ")"
    }

    private func formatAxis(_ axis: Int, offset: Int, values: [Double], formatter: ScalarFormatter,
                            summarize: Bool, indent: Int) -> String {
        let n = shape[axis]
        let inner = shape[(axis + 1)...].reduce(1, *)
        var indices = Array(0..<n)
        let elide = summarize && n > 2 * Tensor.edgeItems
        if elide { indices = Array(0..<Tensor.edgeItems) + Array((n - Tensor.edgeItems)..<n) }
        var parts: [String] = []
        for (k, i) in indices.enumerated() {
            if elide && k == Tensor.edgeItems { parts.append(axis == rank - 1 ? " ..." : "...") }
            if axis == rank - 1 {
                parts.append(formatter.format(values[offset + i]))
            } else {
                parts.append(formatAxis(axis + 1, offset: offset + i * inner, values: values, formatter: formatter,
                                        summarize: summarize, indent: indent + 1))
            }
        }
        if axis == rank - 1 { return "[" + parts.joined(separator: ", ") + "]" }
        let separator = "," + String(repeating: "\n", count: rank - axis - 1) + String(repeating: " ", count: indent + 1)
        return "[" + parts.joined(separator: separator) + "]"
    }
}

/// Chooses one notation for all elements, as PyTorch does: integers plainly, floats with
/// four decimals, or scientific when the magnitudes span too much.
private struct ScalarFormatter {
    let dtype: DType
    let scientific: Bool
    let integral: Bool
    let width: Int

    init(values: [Double], dtype: DType) {
        self.dtype = dtype
        let finite = values.filter { $0.isFinite }
        let magnitudes = finite.map { Swift.abs($0) }.filter { $0 > 0 }
        let maxMagnitude = magnitudes.max() ?? 0, minMagnitude = magnitudes.min() ?? 0
        integral = dtype.isFloatingPoint && finite.allSatisfy { $0.rounded() == $0 }
        // PyTorch's rule: scientific when magnitudes span more than 1000x or exceed 1e8, or
        // (for non-integral values) when some magnitude is below 1e-4.
        let ratio = minMagnitude > 0 ? maxMagnitude / minMagnitude : 0
        scientific = dtype.isFloatingPoint
            && (maxMagnitude >= 1e8 || ratio > 1000 || (!integral && minMagnitude > 0 && minMagnitude < 1e-4))
        var w = 0
        for v in values { w = Swift.max(w, ScalarFormatter.raw(v, dtype, scientific, integral).count) }
        width = w
    }

    static func raw(_ v: Double, _ dtype: DType, _ scientific: Bool, _ integral: Bool) -> String {
        if dtype == .bool { return v != 0 ? "True" : "False" }
        if !dtype.isFloatingPoint { return String(Int64(v)) }
        if v.isNaN { return "nan" }
        if v.isInfinite { return v > 0 ? "inf" : "-inf" }
        if scientific { return scientificText(v) }
        if integral { return String(Int64(v)) + "." }
        return fixed(v, digits: 4)
    }

    func format(_ v: Double) -> String {
        let s = ScalarFormatter.raw(v, dtype, scientific, integral)
        return String(repeating: " ", count: Swift.max(0, width - s.count)) + s
    }

    static func fixed(_ v: Double, digits: Int) -> String {
        let scale = 10_000.0
        let rounded = (Swift.abs(v) * scale).rounded()
        let whole = Int64(rounded / scale)
        let fraction = Int64(rounded - Double(whole) * scale)
        let fractionText = String(fraction)
        let sign = v < 0 && rounded != 0 ? "-" : ""
        return sign + String(whole) + "." + String(repeating: "0", count: digits - fractionText.count) + fractionText
    }

    static func scientificText(_ v: Double) -> String {
        if v == 0 { return "0.0000e+00" }
        var exponent = Int((Swift.abs(v)).log10Floor)
        var mantissa = v / pow10(exponent)
        if Swift.abs((mantissa * 10_000).rounded()) >= 100_000 { exponent += 1; mantissa = v / pow10(exponent) }
        let e = Swift.abs(exponent)
        return fixed(mantissa, digits: 4) + "e" + (exponent < 0 ? "-" : "+") + (e < 10 ? "0" : "") + String(e)
    }

    static func pow10(_ e: Int) -> Double {
        var r = 1.0
        for _ in 0..<Swift.abs(e) { r *= 10 }
        return e < 0 ? 1 / r : r
    }
}

private extension Double {
    var log10Floor: Double {
        var e = 0.0, v = self
        while v >= 10 { v /= 10; e += 1 }
        while v < 1 && v > 0 { v *= 10; e -= 1 }
        return e
    }
}

private extension String {
    func replacingCharacters(_ a: Character, _ b: Character) -> String { String(map { $0 == a ? b : $0 }) }
}

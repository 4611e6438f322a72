/// One item of a tensor subscript: `x[0]`, `x[1..<3]`, `x[.all, 2]`, `x[.ellipsis, 0]`,
/// `x[.stride(0, 10, by: 2)]`, `x[.newAxis]`.
public struct TensorIndex: Sendable {
    enum Kind: Sendable {
        case index(Int)
        /// Python-style slice: missing bounds mean the whole axis; negative bounds count from the end.
        case slice(start: Int?, end: Int?, step: Int)
        case all
        case ellipsis
        case newAxis
    }

    let kind: Kind
}

/// What a tensor subscript accepts: integers, ranges and `TensorIndex` items.
public protocol TensorIndexConvertible {
    /// The subscript item this value stands for.
    var tensorIndex: TensorIndex { get }
}

extension TensorIndex: TensorIndexConvertible {
    /// Itself.
    public var tensorIndex: TensorIndex { self }
}
extension Int: TensorIndexConvertible {
    /// One position; the axis is removed.
    public var tensorIndex: TensorIndex { TensorIndex(kind: .index(self)) }
}
extension Range: TensorIndexConvertible where Bound == Int {
    /// The slice `lowerBound..<upperBound`.
    public var tensorIndex: TensorIndex { TensorIndex(kind: .slice(start: lowerBound, end: upperBound, step: 1)) }
}
extension ClosedRange: TensorIndexConvertible where Bound == Int {
    /// The slice `lowerBound...upperBound`.
    public var tensorIndex: TensorIndex { TensorIndex(kind: .slice(start: lowerBound, end: upperBound + 1, step: 1)) }
}
extension PartialRangeFrom: TensorIndexConvertible where Bound == Int {
    /// The slice from `lowerBound` to the end.
    public var tensorIndex: TensorIndex { TensorIndex(kind: .slice(start: lowerBound, end: nil, step: 1)) }
}
extension PartialRangeUpTo: TensorIndexConvertible where Bound == Int {
    /// The slice from the start to before `upperBound`.
    public var tensorIndex: TensorIndex { TensorIndex(kind: .slice(start: nil, end: upperBound, step: 1)) }
}
extension PartialRangeThrough: TensorIndexConvertible where Bound == Int {
    /// The slice from the start through `upperBound`.
    public var tensorIndex: TensorIndex { TensorIndex(kind: .slice(start: nil, end: upperBound + 1, step: 1)) }
}

extension Tensor {
    /// The layout that `items` select from this tensor's layout.
    func indexedLayout(_ items: [TensorIndex]) -> Layout {
        let consuming = items.filter { if case .newAxis = $0.kind { return false }; if case .ellipsis = $0.kind { return false }; return true }.count
        let ellipses = items.filter { if case .ellipsis = $0.kind { return true }; return false }.count
        tensorCheck(ellipses <= 1, "[subscript] at most one ellipsis allowed")
        tensorCheck(consuming <= rank, "[subscript] \(consuming) indices for a tensor of rank \(rank) (shape \(shapeText(shape)))")
        var shapeOut: [Int] = [], stridesOut: [Int] = []
        var offset = layout.offset
        var axis = 0
        func keep(_ count: Int) {
            for _ in 0..<count { shapeOut.append(shape[axis]); stridesOut.append(layout.strides[axis]); axis += 1 }
        }
        for item in items {
            switch item.kind {
            case .index(let i):
                let n = shape[axis]
                let j = i < 0 ? i + n : i
                tensorCheck(j >= 0 && j < n, "[subscript] index \(i) is out of range for axis \(axis) of size \(n) in \(shapeText(shape))")
                offset += j * layout.strides[axis]
                axis += 1
            case .slice(let start, let end, let step):
                let n = shape[axis]
                tensorCheck(step != 0, "[subscript] slice step must be non-zero")
                func resolve(_ v: Int?, _ defaultValue: Int) -> Int {
                    guard let v else { return defaultValue }
                    return v < 0 ? v + n : v
                }
                let lo: Int, hi: Int
                if step > 0 {
                    lo = resolve(start, 0); hi = resolve(end, n)
                    tensorCheck(lo >= 0 && lo <= n && hi >= lo && hi <= n,
                                "[subscript] range \(start.map(String.init) ?? "")..<\(end.map(String.init) ?? "") is out of bounds for axis \(axis) of size \(n)")
                    shapeOut.append((hi - lo + step - 1) / step)
                } else {
                    lo = resolve(start, n - 1); hi = end.map { $0 < 0 ? $0 + n : $0 } ?? -1
                    tensorCheck(lo >= -1 && lo < Swift.max(n, 1) && hi >= -1 && hi <= lo,
                                "[subscript] reversed slice from \(lo) to \(hi) is out of bounds for axis \(axis) of size \(n)")
                    shapeOut.append((lo - hi + (-step) - 1) / (-step))
                }
                stridesOut.append(layout.strides[axis] * step)
                if shapeOut.last! > 0 { offset += lo * layout.strides[axis] }
                axis += 1
            case .all:
                keep(1)
            case .ellipsis:
                keep(rank - consuming)
            case .newAxis:
                shapeOut.append(1); stridesOut.append(0)
            }
        }
        keep(rank - axis)
        return Layout(shape: shapeOut, strides: stridesOut, offset: offset)
    }

    /// A view selected by indices, ranges, `.all`, `.ellipsis`, `.newAxis` and strides.
    /// Assigning copies (with broadcasting) into the selected region.
    public subscript(_ items: TensorIndexConvertible...) -> Tensor {
        get { indexed(items.map { $0.tensorIndex }) }
        set { assign(newValue, at: items.map { $0.tensorIndex }) }
    }

    /// `self[items...]` with the items in an array.
    public func indexed(_ items: [TensorIndex]) -> Tensor {
        let selected = indexedLayout(items)
        let original = shape
        let result = view(selected).recorded("subscript", self) { g, _ in
            var z = Tensor.zeros(original, dtype: g.dtype, device: g.device)
            z.assign(g, at: items)
            return [z]
        }
        if let node = result.autograd, node !== autograd { node.region = (items, original) }
        return result
    }

    /// Writes `value` (broadcast) into the region `items` selects.
    /// Copies the storage first when anything else shares it, so views and saved tensors keep their values.
    public mutating func assign(_ value: Tensor, at items: [TensorIndex]) {
        let region = indexedLayout(items)
        guard let s = broadcastShapes(value.shape, region.shape), s == region.shape else {
            tensorFailure("[subscript] cannot assign a tensor of shape \(shapeText(value.shape)) to a region of shape \(shapeText(region.shape))")
        }
        tensorCheck(value.device == device, "[subscript] value on \(value.device) assigned into a tensor on \(device)")
        let before = self
        let source = value.dtype == dtype ? value : value.cast(to: dtype)
        let tracking = ThreadState.current.gradientsEnabled && (autograd != nil || value.autograd != nil)
        if !isKnownUniquelyReferenced(&storage) || tracking {
            let fresh = Tensor(uninitializedShape: shape, dtype: dtype, backend: backend)
            backend.copy(operand, into: fresh.operand)
            storage = fresh.storage
            layout = fresh.layout
        }
        let target = indexedLayout(items)
        backend.copy(source.operand.with(layout: source.layout.broadcast(to: target.shape)),
                     into: Operand(storage: storage, layout: target, dtype: dtype))
        autograd = nil
        guard tracking else { return }
        self = recorded("assign", before, source) { g, _ in
            // The overwritten region gets no gradient from the old value.
            var keep = Tensor.ones(g.shape, dtype: g.dtype, device: g.device)
            keep.assign(Tensor.zeros([], dtype: g.dtype, device: g.device), at: items)
            return [before.requiresGrad ? g * keep : nil,
                    source.requiresGrad ? g.indexed(items).sumToShape(source.shape) : nil]
        }
    }
}

/// Lets `.all`, `.ellipsis`, `.newAxis` and `.stride(...)` appear among other subscript items.
extension TensorIndexConvertible where Self == TensorIndex {
    /// The whole axis.
    public static var all: TensorIndex { TensorIndex(kind: .all) }
    /// As many whole axes as needed to use up the rank.
    public static var ellipsis: TensorIndex { TensorIndex(kind: .ellipsis) }
    /// A new axis of size 1.
    public static var newAxis: TensorIndex { TensorIndex(kind: .newAxis) }
    /// One position (the axis is removed); negative counts from the end.
    public static func index(_ i: Int) -> TensorIndex { TensorIndex(kind: .index(i)) }
    /// Python-style `start:end:step`; nil bounds cover the axis, negative ones count from the end.
    public static func slice(start: Int?, end: Int?, step: Int = 1) -> TensorIndex {
        TensorIndex(kind: .slice(start: start, end: end, step: step))
    }
    /// A Python-style slice `start:end:step` (missing bounds: the whole axis).
    public static func stride(_ start: Int?, _ end: Int?, by step: Int) -> TensorIndex {
        TensorIndex(kind: .slice(start: start, end: end, step: step))
    }
}

/// How a tensor's elements sit in its storage: shape, strides and offset, in elements.
///
/// Strides may be zero (broadcast) or negative (flipped views).
public struct Layout: Equatable, Sendable {
    /// Lengths of the axes.
    public var shape: [Int]
    /// Elements between consecutive indices of each axis (0: broadcast).
    public var strides: [Int]
    /// Index of the first element in the storage, in elements.
    public var offset: Int

    /// A layout of `shape` with `strides` from `offset`.
    public init(shape: [Int], strides: [Int], offset: Int = 0) {
        self.shape = shape
        self.strides = strides
        self.offset = offset
    }

    /// A row-major layout with no gaps.
    public init(contiguous shape: [Int]) {
        self.shape = shape
        self.strides = Layout.contiguousStrides(for: shape)
        self.offset = 0
    }

    /// Row-major strides of `shape`.
    @inlinable public static func contiguousStrides(for shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var running = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[axis] = running
            running *= shape[axis]
        }
        return strides
    }

    /// The number of axes.
    @inlinable public var rank: Int { shape.count }

    /// The product of the shape.
    @inlinable public var elementCount: Int {
        var n = 1
        for d in shape { n *= d }
        return n
    }

    /// The product of `shape`, or nil when it overflows (shapes from users and files are checked
    /// with this before anything is multiplied out).
    public static func checkedElementCount(_ shape: [Int]) -> Int? {
        var n = 1
        for d in shape {
            let (product, overflow) = n.multipliedReportingOverflow(by: d)
            if overflow { return nil }
            n = product
        }
        return n
    }

    /// Row-major without gaps (size-1 axes may have any stride).
    public var isContiguous: Bool {
        var expected = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) where shape[axis] != 1 {
            if strides[axis] != expected { return false }
            expected *= shape[axis]
        }
        return true
    }

    /// The layout seen through broadcasting to `target` (zero strides on new or size-1 axes).
    /// The caller has checked that the shapes are compatible.
    public func broadcast(to target: [Int]) -> Layout {
        if shape == target { return self }
        var newStrides = [Int](repeating: 0, count: target.count)
        let lead = target.count - shape.count
        for axis in 0..<shape.count where shape[axis] != 1 {
            newStrides[lead + axis] = strides[axis]
        }
        return Layout(shape: target, strides: newStrides, offset: offset)
    }
}

/// The NumPy broadcast of two shapes, or nil when they are incompatible.
public func broadcastShapes(_ a: [Int], _ b: [Int]) -> [Int]? {
    if a == b { return a }
    let rank = max(a.count, b.count)
    var result = [Int](repeating: 1, count: rank)
    for i in 0..<rank {
        let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
        let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
        if da == db || db == 1 { result[i] = da } else if da == 1 { result[i] = db } else { return nil }
    }
    return result
}

/// Normalises a possibly negative axis, stopping with a message naming `op` when out of range.
@inlinable public func normalizedAxis(_ axis: Int, rank: Int, op: StaticString) -> Int {
    let a = axis < 0 ? axis + rank : axis
    tensorCheck(a >= 0 && a < Swift.max(rank, 1) && (rank > 0 || a == 0),
                "[\(op)] axis \(axis) is out of range for a tensor of rank \(rank)")
    return a
}

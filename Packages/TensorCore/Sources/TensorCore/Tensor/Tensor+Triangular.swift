extension Tensor {
    /// The lower triangle of the last two axes (`torch.tril`): elements with `j - i <= k`
    /// kept, the rest zero. `k = 0` keeps the diagonal, `-1` starts below it.
    public func lowerTriangle(_ k: Int = 0) -> Tensor { triangle(k, upper: false, op: "lowerTriangle") }

    /// The upper triangle of the last two axes (`torch.triu`): elements with `j - i >= k` kept.
    public func upperTriangle(_ k: Int = 0) -> Tensor { triangle(k, upper: true, op: "upperTriangle") }

    /// The main diagonal of the last two axes: `[..., m, n] -> [..., min(m, n)]`.
    public func diagonal() -> Tensor {
        tensorCheck(rank >= 2, "[diagonal] needs at least 2 axes, got \(shapeText(shape))")
        let k = Swift.min(shape[rank - 2], shape[rank - 1])
        let square = narrowed(axis: -2, start: 0, length: k).narrowed(axis: -1, start: 0, length: k)
        return Tensor.where(Tensor.triangleMask(k, k, device: device) { i, j in i == j }, square,
                            Tensor.zeros([], dtype: dtype, device: device)).sum(axis: -1)
    }

    /// Square matrices with the last axis on their diagonal: `[..., k] -> [..., k, k]`.
    public func diagonalEmbedded() -> Tensor {
        tensorCheck(rank >= 1, "[diagonalEmbedded] needs at least 1 axis, got a scalar")
        let k = shape[rank - 1]
        return Tensor.where(Tensor.triangleMask(k, k, device: device) { i, j in i == j },
                            unsqueezed(axis: -2).expanded(to: shape + [k]),
                            Tensor.zeros([], dtype: dtype, device: device))
    }

    private func triangle(_ k: Int, upper: Bool, op: StaticString) -> Tensor {
        tensorCheck(rank >= 2, "[\(op)] needs at least 2 axes, got \(shapeText(shape))")
        let mask = Tensor.triangleMask(shape[rank - 2], shape[rank - 1], device: device) { i, j in
            upper ? j - i >= k : j - i <= k
        }
        // `where`, not a product with the mask: an infinity outside the triangle stays out.
        return Tensor.where(mask, self, Tensor.zeros([], dtype: dtype, device: device))
    }

    /// A bool `[m, n]` mask with `keep(i, j)` at each position.
    static func triangleMask(_ m: Int, _ n: Int, device: Device, _ keep: (Int, Int) -> Bool) -> Tensor {
        var values = [Double](repeating: 0, count: m * n)
        for i in 0..<m { for j in 0..<n where keep(i, j) { values[i * n + j] = 1 } }
        return Tensor(values, shape: [m, n], device: device) .> 0.5
    }
}

/// Reductions of rows into segments (PyTorch Geometric's `scatter(..., reduce:)`, `softmax`):
/// row i of `self` belongs to segment `segments[i]` (int64 `[n]`, values in 0..<count). Empty
/// segments give 0 (sum, mean, max) as PyTorch Geometric's. All record gradients; they are
/// built from `indexAdding`, `indexSelect` and `gather`, whose backward passes are those ops'.
extension Tensor {
    private func checkedSegments(_ segments: Tensor, _ count: Int, _ op: String) -> Tensor {
        tensorCheck(rank >= 1 && segments.rank == 1 && segments.shape[0] == shape[0],
                    "[\(op)] segments \(shapeText(segments.shape)) should be [\(rank >= 1 ? shape[0] : 0)], one per row of \(shapeText(shape))")
        tensorCheck(count >= 0, "[\(op)] segment count \(count) must be non-negative")
        let ids = segments.dtype == .int64 ? segments : segments.cast(to: .int64, differentiable: false)
        if shape[0] > 0 {
            let values = ids.scalars(as: Int64.self)
            tensorCheck(values.allSatisfy { $0 >= 0 && $0 < Int64(count) },
                        "[\(op)] segment ids must be in 0..<\(count), got \(values.min()!)...\(values.max()!)")
        }
        return ids
    }

    /// Per-segment sums `[count, ...]`.
    public func segmentSum(_ segments: Tensor, count: Int) -> Tensor {
        let ids = checkedSegments(segments, count, "segmentSum")
        return Tensor.zeros([count] + shape.dropFirst(), dtype: dtype, device: device).indexAdding(axis: 0, indices: ids, source: self)
    }

    /// How many rows each segment has, `[count]` (float, this tensor's dtype).
    public func segmentCounts(_ segments: Tensor, count: Int) -> Tensor {
        let ids = checkedSegments(segments, count, "segmentCounts")
        return Tensor.zeros([count], dtype: dtype, device: device)
            .indexAdding(axis: 0, indices: ids, source: Tensor.ones([shape[0]], dtype: dtype, device: device))
    }

    /// Per-segment means `[count, ...]` (0 for an empty segment).
    public func segmentMean(_ segments: Tensor, count: Int) -> Tensor {
        let counts = segmentCounts(segments, count: count).clamped(min: 1)
        return segmentSum(segments, count: count) / counts.reshaped(to: [count] + Array(repeating: 1, count: rank - 1))
    }

    /// Per-segment, per-entry maxima `[count, ...]` (0 for an empty segment); the gradient goes
    /// to the first row that attains each maximum.
    public func segmentMax(_ segments: Tensor, count: Int) -> Tensor {
        let ids = checkedSegments(segments, count, "segmentMax").scalars(as: Int64.self)
        let width = shape.dropFirst().reduce(1, *), flat = reshaped(to: [shape[0], width])
        let values = flat.detached().cast(to: .float64).scalars(as: Double.self)
        // The winning row of each (segment, entry); an empty segment points at a zero row appended below.
        let none = Int64(shape[0])
        var winner = [Int64](repeating: none, count: count * width), best = [Double](repeating: 0, count: count * width)
        for i in 0..<shape[0] {
            let base = Int(ids[i]) * width
            for j in 0..<width where winner[base + j] == none || values[i * width + j] > best[base + j] {
                best[base + j] = values[i * width + j]
                winner[base + j] = Int64(i)
            }
        }
        let padded = Tensor.concatenated([flat, Tensor.zeros([1, width], dtype: dtype, device: device)], axis: 0)
        let index = Tensor(winner, shape: [count, width]).moved(to: device)
        return padded.gather(axis: 0, index: index).reshaped(to: [count] + shape.dropFirst())
    }

    /// The softmax of each entry over the rows of its segment, `self`'s shape (attention over a
    /// node's incoming edges); the per-segment maximum is subtracted first, without a gradient
    /// (softmax does not change under a shift).
    public func segmentSoftmax(_ segments: Tensor, count: Int) -> Tensor {
        let ids = checkedSegments(segments, count, "segmentSoftmax")
        let shift = withoutGradients { detached().segmentMax(ids, count: count).indexSelect(axis: 0, indices: ids) }
        let e = (self - shift).exp()
        return e / e.segmentSum(ids, count: count).indexSelect(axis: 0, indices: ids)
    }
}

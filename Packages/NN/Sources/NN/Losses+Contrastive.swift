import TensorCore

/// SimCLR's normalised-temperature cross-entropy (NT-Xent, Chen et al. 2020) of two views
/// `z1`, `z2` `[N, d]` of the same N examples: the 2N embeddings are L2-normalised, every pair
/// compared by cosine similarity over `temperature`, and each embedding's other view is its
/// positive against the 2N − 2 others (itself excluded); the mean over the 2N rows.
public func ntXentLoss(_ z1: Tensor, _ z2: Tensor, temperature: Double = 0.5) -> Tensor {
    tensorCheck(z1.rank == 2 && z1.shape == z2.shape && z1.shape[0] >= 2 && temperature > 0,
                "[ntXentLoss] views \(shapeText(z1.shape)) and \(shapeText(z2.shape)) should be the same [N ≥ 2, d]; temperature \(temperature) > 0")
    let n = z1.shape[0]
    let z = Tensor.concatenated([z1, z2], axis: 0)
    let unit = z / (z.squared().sum(axis: 1, keepDims: true).sqrt() + 1e-12)
    // The diagonal (each embedding against itself) drops out of the softmax.
    let selfMask = Tensor.eye(2 * n, dtype: z.dtype) * -1e9
    let logits = unit.matmul(unit.transposed()) / temperature + selfMask
    let positives = Tensor((0..<(2 * n)).map { Int64($0 < n ? $0 + n : $0 - n) }, shape: [2 * n])
    return crossEntropy(logits: logits, targets: positives)
}

/// InfoNCE (van den Oord et al. 2018) of queries and keys `[N, d]` whose rows pair up: the
/// cross-entropy of `q kᵀ / temperature` with row i's positive the key i (L2-normalised first
/// when `normalize`); the mean over queries.
public func infoNCELoss(queries: Tensor, keys: Tensor, temperature: Double = 0.1, normalize: Bool = true) -> Tensor {
    tensorCheck(queries.rank == 2 && queries.shape == keys.shape && temperature > 0,
                "[infoNCELoss] queries \(shapeText(queries.shape)) and keys \(shapeText(keys.shape)) should be the same [N, d]; temperature \(temperature) > 0")
    let unit = { (x: Tensor) in normalize ? x / (x.squared().sum(axis: 1, keepDims: true).sqrt() + 1e-12) : x }
    let logits = unit(queries).matmul(unit(keys).transposed()) / temperature
    return crossEntropy(logits: logits, targets: Tensor((0..<queries.shape[0]).map(Int64.init), shape: [queries.shape[0]]))
}

/// The triplet margin loss, as `torch.nn.TripletMarginLoss` (p = 2):
/// `max(0, ‖a − p + ε‖ − ‖a − n + ε‖ + margin)` per row with ε = 1e-6.
public func tripletMarginLoss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: Double = 1,
                              reduction: Reduction = .mean) -> Tensor {
    tensorCheck(anchor.rank == 2 && anchor.shape == positive.shape && anchor.shape == negative.shape,
                "[tripletMarginLoss] anchor \(shapeText(anchor.shape)), positive \(shapeText(positive.shape)) and negative \(shapeText(negative.shape)) should be the same [N, d]")
    let distance = { (x: Tensor, y: Tensor) in (x - y + 1e-6).squared().sum(axis: 1).sqrt() }
    return reduce((distance(anchor, positive) - distance(anchor, negative) + margin).relu(), reduction)
}

import TensorCore

/// How a loss combines per-element values.
public enum Reduction: Sendable {
    /// One loss per element (or example).
    case none
    /// Their mean.
    case mean
    /// Their sum.
    case sum
}

func reduce(_ losses: Tensor, _ reduction: Reduction) -> Tensor {
    switch reduction {
    case .none: return losses
    case .mean: return losses.mean()
    case .sum: return losses.sum()
    }
}

func checkSameShape(_ op: StaticString, _ predictions: Tensor, _ targets: Tensor) {
    tensorCheck(predictions.shape == targets.shape,
                "[\(op)] predictions \(shapeText(predictions.shape)) and targets \(shapeText(targets.shape)) differ")
}

/// Cross-entropy of `logits [N, C]` against class indices (`targets [N]`, integers) or
/// class probabilities (`targets [N, C]`, floats), computed through log-softmax.
///
/// With `classWeights`, each sample counts `w[target]` and the mean divides by the summed
/// weights; `ignoreIndex` drops samples; `labelSmoothing` ε mixes the target with the
/// uniform distribution: `(1 - ε) nll + ε/C Σ_c -w_c log p_c` — all as PyTorch.
///
/// Shape: logits `[N, C]` with targets `[N]` (indices) or `[N, C]` (probabilities) -> a scalar (`.none`: `[N]`).
public func crossEntropy(logits: Tensor, targets: Tensor, classWeights: Tensor? = nil, ignoreIndex: Int? = nil,
                         labelSmoothing: Double = 0, reduction: Reduction = .mean) -> Tensor {
    tensorCheck(logits.rank == 2, "[crossEntropy] logits must be [N, C], got \(shapeText(logits.shape))")
    tensorCheck(labelSmoothing >= 0 && labelSmoothing <= 1, "[crossEntropy] label smoothing \(labelSmoothing) outside [0, 1]")
    let (n, c) = (logits.shape[0], logits.shape[1])
    if let w = classWeights { tensorCheck(w.shape == [c], "[crossEntropy] class weights \(shapeText(w.shape)) should be [\(c)]") }
    let logP = logits.logSoftmax(axis: 1)
    let weights = classWeights?.cast(to: logits.dtype)

    if targets.dtype.isFloatingPoint {
        tensorCheck(targets.shape == logits.shape,
                    "[crossEntropy] probability targets \(shapeText(targets.shape)) should match logits \(shapeText(logits.shape))")
        var p = targets.cast(to: logits.dtype)
        if labelSmoothing > 0 { p = p * (1 - labelSmoothing) + labelSmoothing / Double(c) }
        var terms = -(logP * p)
        if let w = weights { terms = terms * w }
        let perSample = terms.sum(axes: [1])
        return reduction == .mean ? perSample.sum() / Double(n) : reduce(perSample, reduction)
    }

    tensorCheck(targets.shape == [n], "[crossEntropy] targets \(shapeText(targets.shape)) should be [\(n)] for logits \(shapeText(logits.shape))")
    let index = targets.cast(to: .int64)
    let keep: Tensor? = ignoreIndex.map { (index .!= Double($0)).cast(to: logits.dtype) }
    // Ignored samples may hold any index (often -100): point them at class 0, masked out below.
    let safeIndex = ignoreIndex.map { Tensor.where(index .== Double($0), Tensor.zeros([], dtype: .int64, device: index.device), index) } ?? index
    var sampleWeight = weights.map { $0.indexSelect(axis: 0, indices: safeIndex) } ?? Tensor.ones([n], dtype: logits.dtype, device: logits.device)
    if let keep { sampleWeight = sampleWeight * keep }
    let picked = logP.gather(axis: 1, index: safeIndex.unsqueezed(axis: 1)).squeezed(axis: 1)
    var perSample = -picked * sampleWeight
    if labelSmoothing > 0 {
        var smooth = -logP
        if let w = weights { smooth = smooth * w }
        var smoothSum = smooth.sum(axes: [1]) / Double(c)
        if let keep { smoothSum = smoothSum * keep }
        perSample = perSample * (1 - labelSmoothing) + smoothSum * labelSmoothing
    }
    switch reduction {
    case .none: return perSample
    case .sum: return perSample.sum()
    case .mean: return perSample.sum() / sampleWeight.sum()
    }
}

/// Negative log-likelihood of log-probabilities `[N, C]` at integer targets `[N]`.
///
/// Shape: `[N, C]` with targets `[N]` -> a scalar (`.none`: `[N]`).
public func nllLoss(logProbabilities: Tensor, targets: Tensor, classWeights: Tensor? = nil,
                    ignoreIndex: Int? = nil, reduction: Reduction = .mean) -> Tensor {
    tensorCheck(logProbabilities.rank == 2 && targets.shape == [logProbabilities.shape[0]],
                "[nllLoss] log-probabilities \(shapeText(logProbabilities.shape)) and targets \(shapeText(targets.shape)) do not fit")
    let index = targets.cast(to: .int64)
    let keep: Tensor? = ignoreIndex.map { (index .!= Double($0)).cast(to: logProbabilities.dtype) }
    let safeIndex = ignoreIndex.map { Tensor.where(index .== Double($0), Tensor.zeros([], dtype: .int64, device: index.device), index) } ?? index
    var w = classWeights.map { $0.cast(to: logProbabilities.dtype).indexSelect(axis: 0, indices: safeIndex) }
        ?? Tensor.ones([logProbabilities.shape[0]], dtype: logProbabilities.dtype, device: logProbabilities.device)
    if let keep { w = w * keep }
    let perSample = -logProbabilities.gather(axis: 1, index: safeIndex.unsqueezed(axis: 1)).squeezed(axis: 1) * w
    return reduction == .mean ? perSample.sum() / w.sum() : reduce(perSample, reduction)
}

/// Mean squared error `(prediction - target)²`.
///
/// Shape: predictions and targets of one shape -> a scalar (`.none`: that shape).
public func meanSquaredError(predictions: Tensor, targets: Tensor, reduction: Reduction = .mean) -> Tensor {
    checkSameShape("meanSquaredError", predictions, targets)
    return reduce((predictions - targets).squared(), reduction)
}

/// `|prediction - target|`.
///
/// Shape: predictions and targets of one shape -> a scalar (`.none`: that shape).
public func l1Loss(predictions: Tensor, targets: Tensor, reduction: Reduction = .mean) -> Tensor {
    checkSameShape("l1Loss", predictions, targets)
    return reduce((predictions - targets).abs(), reduction)
}

/// Quadratic below `beta`, linear above: `0.5 d² / beta` or `|d| - 0.5 beta` (PyTorch's smooth L1).
///
/// Shape: predictions and targets of one shape -> a scalar (`.none`: that shape).
public func smoothL1Loss(predictions: Tensor, targets: Tensor, beta: Double = 1, reduction: Reduction = .mean) -> Tensor {
    checkSameShape("smoothL1Loss", predictions, targets)
    let d = (predictions - targets).abs()
    guard beta > 0 else { return reduce(d, reduction) }
    return reduce(Tensor.where(d .< beta, d.squared() * (0.5 / beta), d - 0.5 * beta), reduction)
}

/// Huber loss: `0.5 d²` below `delta`, `delta (|d| - 0.5 delta)` above.
///
/// Shape: predictions and targets of one shape -> a scalar (`.none`: that shape).
public func huberLoss(predictions: Tensor, targets: Tensor, delta: Double = 1, reduction: Reduction = .mean) -> Tensor {
    checkSameShape("huberLoss", predictions, targets)
    let d = (predictions - targets).abs()
    return reduce(Tensor.where(d .< delta, d.squared() * 0.5, (d - 0.5 * delta) * delta), reduction)
}

/// Binary cross-entropy of probabilities; logs are clamped at -100 as in PyTorch.
///
/// Shape: predictions and targets of one shape -> a scalar (`.none`: that shape).
public func binaryCrossEntropy(probabilities: Tensor, targets: Tensor, weights: Tensor? = nil,
                               reduction: Reduction = .mean) -> Tensor {
    checkSameShape("binaryCrossEntropy", probabilities, targets)
    let logP = probabilities.log().clamped(min: -100)
    let log1mP = (1 - probabilities).log().clamped(min: -100)
    var losses = -(targets * logP + (1 - targets) * log1mP)
    if let w = weights { losses = losses * w }
    return reduce(losses, reduction)
}

/// Binary cross-entropy on logits, stable for any magnitude:
/// `max(x, 0) - x t + log(1 + exp(-|x|))`, with optional `positiveWeight` on the positive term.
///
/// Shape: predictions and targets of one shape -> a scalar (`.none`: that shape).
public func binaryCrossEntropyWithLogits(logits: Tensor, targets: Tensor, weights: Tensor? = nil,
                                         positiveWeight: Tensor? = nil, reduction: Reduction = .mean) -> Tensor {
    checkSameShape("binaryCrossEntropyWithLogits", logits, targets)
    let logSigmoidNeg = -(logits.relu()) - (-logits.abs()).exp().log1p()   // log σ(-x)
    var losses: Tensor
    if let pw = positiveWeight {
        let logSigmoid = logSigmoidNeg + logits                              // log σ(x)
        losses = -(pw * targets * logSigmoid + (1 - targets) * logSigmoidNeg)
    } else {
        losses = logits.relu() - logits * targets + (-logits.abs()).exp().log1p()
    }
    if let w = weights { losses = losses * w }
    return reduce(losses, reduction)
}

/// KL divergence `Σ t (log t - input)` with `input` given as log-probabilities (PyTorch's
/// `kl_div`); `batchMean` divides by the batch size, the mathematically right mean.
///
/// Shape: input and targets of one shape -> a scalar (`.none`: that shape).
public func klDivergence(logProbabilities input: Tensor, targets: Tensor, targetsAreLog: Bool = false,
                         batchMean: Bool = true) -> Tensor {
    checkSameShape("klDivergence", input, targets)
    let pointwise: Tensor
    if targetsAreLog {
        pointwise = targets.exp() * (targets - input)
    } else {
        let safeLog = Tensor.where(targets .> 0, targets, Tensor.ones([], dtype: targets.dtype, device: targets.device)).log()
        pointwise = targets * (safeLog - input)
    }
    return batchMean ? pointwise.sum() / Double(input.shape.first ?? 1) : pointwise.mean()
}

/// Multi-class hinge loss (PyTorch's `multi_margin_loss`, p = 1):
/// `Σ_{c ≠ y} max(0, margin - x_y + x_c) / C`.
///
/// Shape: logits `[N, C]` with targets `[N]` -> a scalar (`.none`: `[N]`).
public func multiMarginLoss(logits: Tensor, targets: Tensor, margin: Double = 1, reduction: Reduction = .mean) -> Tensor {
    tensorCheck(logits.rank == 2 && targets.shape == [logits.shape[0]],
                "[multiMarginLoss] logits \(shapeText(logits.shape)) and targets \(shapeText(targets.shape)) do not fit")
    let c = logits.shape[1]
    let index = targets.cast(to: .int64).unsqueezed(axis: 1)
    let correct = logits.gather(axis: 1, index: index)
    let notTarget = 1 - Tensor.oneHot(targets.cast(to: .int64), classCount: c, dtype: logits.dtype)
    let perSample = ((logits - correct + margin).relu() * notTarget).sum(axes: [1]) / Double(c)
    return reduce(perSample, reduction)
}

/// Cosine embedding loss: `1 - cos(a, b)` for targets +1, `max(0, cos(a, b) - margin)` for -1.
///
/// Shape: `a` and `b` `[N, D]` with targets `[N]` of ±1 -> a scalar (`.none`: `[N]`).
public func cosineEmbeddingLoss(_ a: Tensor, _ b: Tensor, targets: Tensor, margin: Double = 0,
                                reduction: Reduction = .mean) -> Tensor {
    tensorCheck(a.shape == b.shape && a.rank == 2 && targets.shape == [a.shape[0]],
                "[cosineEmbeddingLoss] inputs \(shapeText(a.shape)), \(shapeText(b.shape)) and targets \(shapeText(targets.shape)) do not fit")
    let eps = 1e-12
    let cosine = (a * b).sum(axes: [1]) / ((a.squared().sum(axes: [1]) + eps) * (b.squared().sum(axes: [1]) + eps)).sqrt()
    let t = targets.cast(to: a.dtype)
    let positive = (t .> 0).cast(to: a.dtype)
    let losses = positive * (1 - cosine) + (1 - positive) * (cosine - margin).relu()
    return reduce(losses, reduction)
}

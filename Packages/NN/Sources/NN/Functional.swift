import TensorCore

/// The layers' math as free functions, for code that keeps its own parameters.

/// `x Wᵀ + b`. Shape: `[..., in] x [out, in] -> [..., out]`.
public func linear(_ x: Tensor, weight: Tensor, bias: Tensor? = nil) -> Tensor {
    x.linear(weight: weight, bias: bias)
}

/// Inverted dropout: zeroes with probability `p` and rescales when `training`.
/// `maskShape` (broadcast to `x`) drops whole slices, e.g. `[N, C, 1, 1]` for channels.
public func dropout(_ x: Tensor, p: Double, training: Bool = true, maskShape: [Int]? = nil,
                    generator: RandomGenerator? = nil) -> Tensor {
    tensorCheck(p >= 0 && p < 1, "[dropout] probability \(p) outside [0, 1)")
    guard training, p > 0 else { return x }
    return x * Tensor.bernoulli(maskShape ?? x.shape, p: 1 - p, dtype: x.dtype, device: x.device, generator: generator) / (1 - p)
}

/// Layer normalisation over the last axis with optional per-feature scale and shift.
public func layerNorm(_ x: Tensor, weight: Tensor? = nil, bias: Tensor? = nil, epsilon: Double = 1e-5) -> Tensor {
    var y = x.layerNormalized(epsilon: epsilon)
    if let weight { y = y * weight }
    if let bias { y = y + bias }
    return y
}

/// Batch normalisation of `[N, C, *]` with given statistics (evaluation) or the batch's (training).
public func batchNorm(_ x: Tensor, runningMean: Tensor?, runningVariance: Tensor?, weight: Tensor? = nil, bias: Tensor? = nil,
                      training: Bool, epsilon: Double = 1e-5) -> Tensor {
    tensorCheck(x.rank >= 2, "[batchNorm] input \(shapeText(x.shape)) needs [N, C, ...]")
    let c = x.shape[1]
    let statShape = [1, c] + [Int](repeating: 1, count: x.rank - 2)
    let axes = [0] + Array(2..<x.rank)
    let mean: Tensor, variance: Tensor
    if training || runningMean == nil || runningVariance == nil {
        mean = x.mean(axes: axes, keepDims: true)
        variance = (x - mean).squared().mean(axes: axes, keepDims: true)
    } else {
        mean = runningMean!.reshaped(to: statShape)
        variance = runningVariance!.reshaped(to: statShape)
    }
    var y = (x - mean) * (variance + epsilon).rsqrt()
    if let weight { y = y * weight.reshaped(to: statShape) }
    if let bias { y = y + bias.reshaped(to: statShape) }
    return y
}

/// Batch normalisation of `[N, C, *]` with the batch's statistics, as one autograd node on
/// the backend's fused kernels (`Tensor.batchNormalized`): returns the output and the
/// per-channel batch mean and biased variance `[C]` (detached, for running estimates). The
/// same function as `batchNorm(training: true)`, in two passes over `x` each way.
public func batchNormTraining(_ x: Tensor, weight: Tensor? = nil, bias: Tensor? = nil, epsilon: Double = 1e-5)
    -> (output: Tensor, mean: Tensor, variance: Tensor) {
    tensorCheck(x.rank >= 2, "[batchNorm] input \(shapeText(x.shape)) needs [N, C, ...]")
    let c = x.shape[1]
    let w = weight ?? Tensor.ones([c], dtype: x.dtype, device: x.device)
    let b = bias ?? Tensor.zeros([c], dtype: x.dtype, device: x.device)
    return x.batchNormalized(weight: w, bias: b, epsilon: epsilon)
}

/// Group normalisation of `[N, C, *]` into `groups` groups.
public func groupNorm(_ x: Tensor, groups: Int, weight: Tensor? = nil, bias: Tensor? = nil, epsilon: Double = 1e-5) -> Tensor {
    tensorCheck(x.rank >= 2 && x.shape[1] % groups == 0, "[groupNorm] input \(shapeText(x.shape)) channels do not split into \(groups) groups")
    var y = x.reshaped(to: [x.shape[0], groups, -1]).layerNormalized(epsilon: epsilon).reshaped(to: x.shape)
    let statShape = [1, x.shape[1]] + [Int](repeating: 1, count: x.rank - 2)
    if let weight { y = y * weight.reshaped(to: statShape) }
    if let bias { y = y + bias.reshaped(to: statShape) }
    return y
}

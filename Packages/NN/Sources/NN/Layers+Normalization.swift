import TensorCore

/// Normalises over the trailing `normalizedShape` axes, then scales and shifts per element.
///
/// Shape: `[..., *normalizedShape]` unchanged.
public final class LayerNorm: Module {
    /// The trailing axes normalised.
    public let normalizedShape: [Int]
    /// Added to the variance for stability.
    public let epsilon: Double
    /// Per-element scale (nil without the affine transform).
    public let weight: Parameter?
    /// Per-element shift (nil without it).
    public let bias: Parameter?

    /// Layer norm over `normalizedShape`, with a learnt scale and shift unless told otherwise.
    public init(_ normalizedShape: [Int], epsilon: Double = 1e-5, elementwiseAffine: Bool = true, bias: Bool = true) {
        self.normalizedShape = normalizedShape
        self.epsilon = epsilon
        weight = elementwiseAffine ? Parameter(Tensor.ones(normalizedShape)) : nil
        self.bias = elementwiseAffine && bias ? Parameter(Tensor.zeros(normalizedShape)) : nil
    }

    /// Layer norm over one trailing axis of `size`.
    public convenience init(_ size: Int, epsilon: Double = 1e-5) { self.init([size], epsilon: epsilon) }

    public override func forward(_ x: Tensor) -> Tensor {
        let k = normalizedShape.count
        tensorCheck(x.rank >= k && Array(x.shape.suffix(k)) == normalizedShape,
                    "[LayerNorm] input \(shapeText(x.shape)) does not end in \(shapeText(normalizedShape))")
        let flat = k == 1 ? x : x.reshaped(to: Array(x.shape.dropLast(k)) + [-1])
        var y = flat.layerNormalized(epsilon: epsilon)
        if k != 1 { y = y.reshaped(to: x.shape) }
        if let w = weight { y = y * w.value }
        if let b = bias { y = y + b.value }
        return y
    }
}

/// `x / sqrt(mean(x²) + eps) * weight` over the trailing axes (Zhang & Sennrich 2019).
/// Shape: `[..., *normalizedShape]` unchanged.
public final class RMSNorm: Module {
    /// The trailing axes normalised.
    public let normalizedShape: [Int]
    /// Added to the mean square (nil: the dtype's machine epsilon).
    public let epsilon: Double?
    /// Per-element scale (nil without it).
    public let weight: Parameter?

    /// `epsilon` nil uses the dtype's machine epsilon, as PyTorch.
    public init(_ normalizedShape: [Int], epsilon: Double? = nil, elementwiseAffine: Bool = true) {
        self.normalizedShape = normalizedShape
        self.epsilon = epsilon
        weight = elementwiseAffine ? Parameter(Tensor.ones(normalizedShape)) : nil
    }

    public override func forward(_ x: Tensor) -> Tensor {
        let k = normalizedShape.count
        tensorCheck(x.rank >= k && Array(x.shape.suffix(k)) == normalizedShape,
                    "[RMSNorm] input \(shapeText(x.shape)) does not end in \(shapeText(normalizedShape))")
        let eps = epsilon ?? (x.dtype == .float64 ? Double.ulpOfOne : Double(Float.ulpOfOne))
        let axes = Array((x.rank - k)..<x.rank)
        let y = x * (x.squared().mean(axes: axes, keepDims: true) + eps).rsqrt()
        return weight.map { y * $0.value } ?? y
    }
}

/// Batch normalisation over `[N, C]` or `[N, C, L]` inputs, per channel.
///
/// Training normalises with the batch's statistics and updates running estimates
/// (`running = (1 - momentum) running + momentum batch`, unbiased variance); evaluation
/// uses the running estimates. Shape: `[N, C]` or `[N, C, L]` unchanged.
public final class BatchNorm1d: Module {
    /// Channels `C`.
    public let featureCount: Int
    /// Added to the variance for stability.
    public let epsilon: Double
    /// Weight of the batch in the running estimates.
    public let momentum: Double
    /// Per-channel scale (nil when not affine).
    public let weight: Parameter?
    /// Per-channel shift (nil when not affine).
    public let bias: Parameter?
    /// Running mean per channel (nil when not tracked).
    public let runningMean: Buffer?
    /// Running unbiased variance per channel (nil when not tracked).
    public let runningVariance: Buffer?

    /// Batch norm over `featureCount` channels with PyTorch's defaults.
    public init(featureCount: Int, epsilon: Double = 1e-5, momentum: Double = 0.1, affine: Bool = true,
                trackRunningStatistics: Bool = true) {
        self.featureCount = featureCount
        self.epsilon = epsilon
        self.momentum = momentum
        weight = affine ? Parameter(Tensor.ones([featureCount])) : nil
        bias = affine ? Parameter(Tensor.zeros([featureCount])) : nil
        runningMean = trackRunningStatistics ? Buffer(Tensor.zeros([featureCount])) : nil
        runningVariance = trackRunningStatistics ? Buffer(Tensor.ones([featureCount])) : nil
    }

    public override func forward(_ x: Tensor) -> Tensor {
        tensorCheck((x.rank == 2 || x.rank == 3) && x.shape[1] == featureCount,
                    "[BatchNorm1d] input \(shapeText(x.shape)) should be [N, \(featureCount)] or [N, \(featureCount), L]")
        let axes = x.rank == 2 ? [0] : [0, 2]
        let statShape = x.rank == 2 ? [1, featureCount] : [1, featureCount, 1]
        if isTraining || runningMean == nil {
            let count = axes.reduce(1) { $0 * x.shape[$1] }
            tensorCheck(count > 1, "[BatchNorm1d] needs more than one value per channel in training, got \(shapeText(x.shape))")
            let (y, mean, variance) = batchNormTraining(x, weight: weight?.value, bias: bias?.value, epsilon: epsilon)
            if isTraining, let rm = runningMean, let rv = runningVariance {
                withoutGradients {
                    let unbiased = variance * (Double(count) / Double(count - 1))
                    rm.value = rm.value * (1 - momentum) + mean * momentum
                    rv.value = rv.value * (1 - momentum) + unbiased * momentum
                }
            }
            return y
        }
        let mean = runningMean!.value.reshaped(to: statShape)
        let variance = runningVariance!.value.reshaped(to: statShape)
        var y = (x - mean) * (variance + epsilon).rsqrt()
        if let w = weight { y = y * w.value.reshaped(to: statShape) }
        if let b = bias { y = y + b.value.reshaped(to: statShape) }
        return y
    }
}

/// Group normalisation (Wu & He 2018): channels split into groups, each normalised over
/// its channels and spatial positions. Shape: `[N, C, *]` unchanged.
public final class GroupNorm: Module {
    /// Groups the channels are split into.
    public let groupCount: Int
    /// Channels `C`.
    public let channelCount: Int
    /// Added to the variance for stability.
    public let epsilon: Double
    /// Per-channel scale (nil when not affine).
    public let weight: Parameter?
    /// Per-channel shift (nil when not affine).
    public let bias: Parameter?

    /// Group norm of `channelCount` channels in `groupCount` groups (it must divide them).
    public init(groupCount: Int, channelCount: Int, epsilon: Double = 1e-5, affine: Bool = true) {
        tensorCheck(groupCount > 0 && channelCount % groupCount == 0,
                    "[GroupNorm] \(channelCount) channels do not split into \(groupCount) groups")
        self.groupCount = groupCount
        self.channelCount = channelCount
        self.epsilon = epsilon
        weight = affine ? Parameter(Tensor.ones([channelCount])) : nil
        bias = affine ? Parameter(Tensor.zeros([channelCount])) : nil
    }

    public override func forward(_ x: Tensor) -> Tensor {
        tensorCheck(x.rank >= 2 && x.shape[1] == channelCount,
                    "[GroupNorm] input \(shapeText(x.shape)) should have \(channelCount) channels on axis 1")
        let n = x.shape[0]
        var y = x.reshaped(to: [n, groupCount, -1]).layerNormalized(epsilon: epsilon).reshaped(to: x.shape)
        let statShape = [1, channelCount] + [Int](repeating: 1, count: x.rank - 2)
        if let w = weight { y = y * w.value.reshaped(to: statShape) }
        if let b = bias { y = y + b.value.reshaped(to: statShape) }
        return y
    }
}

import TensorCore

/// An exponential moving average of weights (Polyak averaging as diffusion models and GANs
/// use it; `torch.optim.swa_utils.AveragedModel` with an EMA update, timm's `ModelEmaV2`):
/// after each optimizer step `average ← decay · average + (1 − decay) · source`.
///
/// The averages live in parameters of their own (typically a second copy of the network,
/// frozen), so a module holding both checkpoints, resumes and samples from the average without
/// extra bookkeeping. With `warmup`, the decay used at update k is `min(decay, (1 + k) / (10 + k))`
/// so early averages are not dominated by the initial weights.
public final class ExponentialMovingAverage {
    /// The trained parameters.
    public let source: [Parameter]
    /// The averages, one per source parameter (frozen: `requiresGrad` false).
    public let average: [Parameter]
    /// The decay of the average.
    public let decay: Double
    /// Whether early updates use a smaller decay.
    public let warmup: Bool
    /// Updates taken so far (for the warm-up).
    public var updateCount = 0

    /// An average of `source` kept in `average` (same shapes), which starts as a copy of it.
    public init(source: [Parameter], average: [Parameter], decay: Double = 0.999, warmup: Bool = false) {
        tensorCheck(decay >= 0 && decay < 1, "[ExponentialMovingAverage] decay \(decay) must be in [0, 1)")
        tensorCheck(source.count == average.count && zip(source, average).allSatisfy { $0.shape == $1.shape && $0 !== $1 },
                    "[ExponentialMovingAverage] needs one distinct average of the same shape per parameter "
                    + "(\(source.count) sources, \(average.count) averages)")
        self.source = source
        self.average = average
        self.decay = decay
        self.warmup = warmup
        for a in average { a.requiresGrad = false }
        copySourceToAverage()
    }

    /// The decay the next update uses.
    public var currentDecay: Double { warmup ? Swift.min(decay, Double(1 + updateCount) / Double(10 + updateCount)) : decay }

    /// One update of every average from its source's current value.
    public func update() {
        let d = currentDecay
        withoutGradients {
            for (s, a) in zip(source, average) {
                a.value = a.value * d + s.value.cast(to: a.dtype) * (1 - d)
            }
        }
        updateCount += 1
    }

    /// Sets every average to its source (a restart of the average).
    public func copySourceToAverage() {
        withoutGradients { for (s, a) in zip(source, average) { a.value = s.value.cast(to: a.dtype).copied() } }
    }
}

import TensorCore

/// Zeroes elements with probability `p` in training and scales the rest by `1 / (1 - p)`;
/// the identity in eval mode. Shape: any, unchanged.
public final class Dropout: Module {
    /// The probability of zeroing an element.
    public let p: Double
    let generator: RandomGenerator?

    /// Dropout with probability `p`, drawing masks from `generator` (the global stream when nil).
    public init(p: Double = 0.5, generator: RandomGenerator? = nil) {
        tensorCheck(p >= 0 && p < 1, "[Dropout] probability \(p) outside [0, 1)")
        self.p = p
        self.generator = generator
    }

    public override func forward(_ x: Tensor) -> Tensor {
        dropout(x, p: p, training: isTraining, generator: generator)
    }
}

/// Dropout for SELU networks: keeps mean and variance (Klambauer et al. 2017), as PyTorch.
/// Shape: any, unchanged.
public final class AlphaDropout: Module {
    /// The probability of dropping an element.
    public let p: Double
    let generator: RandomGenerator?

    /// Alpha dropout with probability `p`, drawing masks from `generator` (the global stream when nil).
    public init(p: Double = 0.5, generator: RandomGenerator? = nil) {
        tensorCheck(p >= 0 && p < 1, "[AlphaDropout] probability \(p) outside [0, 1)")
        self.p = p
        self.generator = generator
    }

    public override func forward(_ x: Tensor) -> Tensor {
        guard isTraining, p > 0 else { return x }
        let alpha = -1.7580993408473766
        let a = 1 / ((1 - p) * (1 + p * alpha * alpha)).squareRoot()
        let b = -a * alpha * p
        let keep = Tensor.bernoulli(x.shape, p: 1 - p, dtype: x.dtype, device: x.device, generator: generator)
        return (x * keep + (1 - keep) * alpha) * a + b
    }
}

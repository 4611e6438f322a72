import TensorCore

// Log-densities and divergences the latent-variable models are built from, per example: each
// takes `[N, ...]` and sums over everything but the batch axis, returning `[N]` (nats).

/// The per-example sum over all axes but the first.
func sumPerExample(_ t: Tensor) -> Tensor {
    t.rank == 1 ? t : t.reshaped(to: [t.shape[0], -1]).sum(axes: [1])
}

/// log p(x | logits) of a Bernoulli per element, summed per example: `x·ℓ − softplus(ℓ)`, which
/// is minus PyTorch's `binary_cross_entropy_with_logits(ℓ, x, reduction='sum')` per example. `x` may
/// hold any value in [0, 1] (pixel intensities), as in the usual MNIST VAE.
///
/// Shape: logits and x `[N, ...]` -> `[N]`.
public func bernoulliLogLikelihood(logits: Tensor, x: Tensor) -> Tensor {
    tensorCheck(logits.shape == x.shape, "[bernoulliLogLikelihood] logits \(shapeText(logits.shape)) and x \(shapeText(x.shape)) differ")
    return sumPerExample(x * logits - logits.softplus())
}

/// log N(x; mean, exp(logScale)²) per element, summed per example. `logScale` broadcasts (a
/// learned scalar makes the σ-VAE of Rybkin et al. 2021).
///
/// Shape: mean and x `[N, ...]`, logScale broadcastable -> `[N]`.
public func gaussianLogLikelihood(mean: Tensor, logScale: Tensor, x: Tensor) -> Tensor {
    tensorCheck(mean.shape == x.shape, "[gaussianLogLikelihood] mean \(shapeText(mean.shape)) and x \(shapeText(x.shape)) differ")
    let z = (x - mean) * (logScale * -1).exp()
    let logTwoPi = 1.8378770664093453
    return sumPerExample(z.squared() * -0.5 - logScale - logTwoPi / 2)
}

/// log N(z; mean, exp(logVariance)) of a diagonal Gaussian, summed per example.
///
/// Shape: `[N, L]` each -> `[N]`.
public func diagonalGaussianLogDensity(_ z: Tensor, mean: Tensor, logVariance: Tensor) -> Tensor {
    let logTwoPi = 1.8378770664093453
    return sumPerExample(((z - mean).squared() * (logVariance * -1).exp() + logVariance + logTwoPi) * -0.5)
}

/// KL(N(mean, exp(logVariance)) ‖ N(0, I)) per example, in closed form:
/// `½ Σ (μ² + σ² − 1 − log σ²)`.
///
/// Shape: `[N, L]` each -> `[N]`.
public func gaussianKLToStandardNormal(mean: Tensor, logVariance: Tensor) -> Tensor {
    tensorCheck(mean.shape == logVariance.shape,
                "[gaussianKLToStandardNormal] mean \(shapeText(mean.shape)) and logVariance \(shapeText(logVariance.shape)) differ")
    return sumPerExample((mean.squared() + logVariance.exp() - 1 - logVariance) * 0.5)
}

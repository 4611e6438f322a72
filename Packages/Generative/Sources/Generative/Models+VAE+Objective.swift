import Foundation
import TensorCore

/// The ELBO of a batch, its terms kept apart (nats per example, `[N]` each).
public struct ELBOTerms {
    /// −log p(x | z) at one posterior sample z.
    public let reconstruction: Tensor
    /// KL(q(z | x) ‖ p(z)), in closed form.
    public let kl: Tensor
    /// The β of the model's configuration.
    public let beta: Double

    /// The training loss: the batch mean of reconstruction + β·KL (the negative ELBO when β = 1).
    public var loss: Tensor { (reconstruction + kl * beta).mean() }
    /// The batch mean of the negative ELBO (β = 1), whatever β trains.
    public var negativeELBO: Tensor { (reconstruction + kl).mean() }
}

extension VAE {
    /// The ELBO's terms for `x` with one reparameterised posterior sample per example.
    public func elbo(_ x: Tensor, labels: Tensor? = nil, generator: RandomGenerator? = nil) -> ELBOTerms {
        let (mean, logVariance) = encode(x, labels: labels)
        let z = reparameterize(mean: mean, logVariance: logVariance, generator: generator)
        let decoded = decode(z, labels: labels)
        return ELBOTerms(reconstruction: logLikelihood(x, decoded: decoded) * -1,
                         kl: gaussianKLToStandardNormal(mean: mean, logVariance: logVariance), beta: configuration.beta)
    }

    /// The importance-weighted bound on −log p(x) with `samples` posterior draws per example
    /// (Burda et al. 2016): `−log (1/k) Σₖ p(x | zₖ) p(zₖ) / q(zₖ | x)`, per example `[N]`. With
    /// k = 1 it is the negative ELBO in expectation; it tightens as k grows. All N·k draws are
    /// decoded at once: pass batches small enough for N·k images.
    public func iwaeNegativeLogLikelihood(_ x: Tensor, labels: Tensor? = nil, samples k: Int,
                                          generator: RandomGenerator? = nil) -> Tensor {
        tensorCheck(k > 0, "[VAE.iwaeNegativeLogLikelihood] samples \(k) must be positive")
        let n = x.shape[0], latent = configuration.latentSize
        let (mean, logVariance) = encode(x, labels: labels)
        // [N, k, L] draws, flattened to N·k rows for the decoder.
        let means = mean.unsqueezed(axis: 1).expanded(to: [n, k, latent])
        let logVariances = logVariance.unsqueezed(axis: 1).expanded(to: [n, k, latent])
        let epsilon = Tensor.randn([n, k, latent], dtype: mean.dtype, generator: generator).moved(to: mean.device)
        let z = means + (logVariances * 0.5).exp() * epsilon
        let flatZ = z.reshaped(to: [n * k, latent])
        let repeatedX = x.unsqueezed(axis: 1).expanded(to: [n, k] + Array(x.shape.dropFirst())).reshaped(to: [n * k] + Array(x.shape.dropFirst()))
        let repeatedLabels = labels.map { $0.unsqueezed(axis: 1).expanded(to: [n, k]).reshaped(to: [n * k]) }
        let logPx = logLikelihood(repeatedX, decoded: decode(flatZ, labels: repeatedLabels))
        let zero = Tensor.zeros([n * k, latent], dtype: mean.dtype).moved(to: mean.device)
        let logPz = diagonalGaussianLogDensity(flatZ, mean: zero, logVariance: zero)
        let logQz = diagonalGaussianLogDensity(flatZ, mean: means.reshaped(to: [n * k, latent]),
                                               logVariance: logVariances.reshaped(to: [n * k, latent]))
        let logWeights = (logPx + logPz - logQz).reshaped(to: [n, k])
        return (logWeights.logSumExp(axes: [1]) - Foundation.log(Double(k))) * -1
    }
}


import NN
import TensorCore

/// The adversarial objectives, each a pair of losses on the discriminator's raw scores
/// (logits for the non-saturating GAN, critic values otherwise), means over the batch.
public enum GANLoss: String, Codable, Sendable, CaseIterable {
    /// Goodfellow et al. 2014 with the generator's non-saturating loss: D minimises
    /// `softplus(−D(x)) + softplus(D(G(z)))` (binary cross-entropy on logits), G minimises
    /// `softplus(−D(G(z)))`.
    case nonSaturating = "non-saturating"
    /// Lim & Ye 2017, Miyato et al. 2018: D minimises `relu(1 − D(x)) + relu(1 + D(G(z)))`,
    /// G minimises `−D(G(z))`.
    case hinge
    /// Arjovsky et al. 2017 (with Gulrajani et al.'s penalty, `gradientPenalty`): the critic
    /// minimises `D(G(z)) − D(x)`, G minimises `−D(G(z))`.
    case wasserstein

    /// The discriminator's (critic's) loss from its scores on real and generated data.
    public func discriminatorLoss(real: Tensor, fake: Tensor) -> Tensor {
        switch self {
        case .nonSaturating: return (-real).softplus().mean() + fake.softplus().mean()
        case .hinge: return (1 - real).relu().mean() + (1 + fake).relu().mean()
        case .wasserstein: return fake.mean() - real.mean()
        }
    }

    /// The generator's loss from the discriminator's scores on generated data.
    public func generatorLoss(fake: Tensor) -> Tensor {
        switch self {
        case .nonSaturating: return (-fake).softplus().mean()
        case .hinge, .wasserstein: return -fake.mean()
        }
    }
}

/// WGAN-GP's gradient penalty (Gulrajani et al. 2017): `mean((‖∇ₓ̂ D(x̂)‖₂ − 1)²)` at points
/// `x̂ = ε x + (1 − ε) x̃` on lines between real `x` and generated `x̃` samples, ε ~ U(0, 1) per
/// sample. The gradient is taken with `createGraph`, so the penalty is differentiable in the
/// critic's parameters (double backward), as `torch.autograd.grad(..., create_graph=True)`.
///
/// `mixing` gives ε `[N]` explicitly (tests); otherwise it is drawn from `generator`.
public func gradientPenalty(critic: (Tensor) -> Tensor, real: Tensor, fake: Tensor, mixing: Tensor? = nil,
                            generator: RandomGenerator? = nil) -> Tensor {
    tensorCheck(real.shape == fake.shape && real.rank >= 2,
                "[gradientPenalty] real \(shapeText(real.shape)) and fake \(shapeText(fake.shape)) must be batches of one shape")
    let n = real.shape[0]
    let epsilon = mixing ?? Tensor.rand([n], dtype: real.dtype, generator: generator).moved(to: real.device)
    tensorCheck(epsilon.shape == [n], "[gradientPenalty] mixing \(shapeText(epsilon.shape)) must be [\(n)]")
    let e = epsilon.reshaped(to: [n] + Array(repeating: 1, count: real.rank - 1))
    let (_, slopes) = scoresAndSlopes(critic, at: e * real.detached() + (1 - e) * fake.detached())
    let norms = (slopes.reshaped(to: [n, -1]).squared().sum(axis: 1) + 1e-12).sqrt()
    return (norms - 1).squared().mean()
}

/// Mescheder et al.'s R1 penalty (2018): `mean(‖∇ₓ D(x)‖₂²)` at the real samples, with the
/// critic's scores there, so one forward pass serves the adversarial loss and the penalty. The
/// discriminator's loss adds `γ/2 ·` it; it keeps the discriminator flat on the data, which
/// stabilises non-saturating GANs without a Lipschitz constraint. The gradient is taken with
/// `createGraph` (double backward), as `torch.autograd.grad(..., create_graph=True)`.
public func realGradientPenalty(critic: (Tensor) -> Tensor, real: Tensor) -> (penalty: Tensor, scores: Tensor) {
    tensorCheck(real.rank >= 2 && real.shape[0] > 0, "[realGradientPenalty] real \(shapeText(real.shape)) must be a non-empty batch")
    let (scores, slopes) = scoresAndSlopes(critic, at: real.detached())
    return (slopes.reshaped(to: [real.shape[0], -1]).squared().sum(axis: 1).mean(), scores)
}

/// The critic's scores at `points` and their input gradient, recorded (`createGraph`) so that
/// a penalty on it differentiates in the critic's parameters: both penalties' shared step.
private func scoresAndSlopes(_ critic: (Tensor) -> Tensor, at points: Tensor) -> (scores: Tensor, slopes: Tensor) {
    let inputs = points.requiringGrad()
    let scores = withGradients(enabled: true) { critic(inputs) }
    let slopes = withGradients(enabled: true) {
        gradients(of: [scores.sum()], withRespectTo: [inputs], createGraph: true)[0]
    }
    return (scores, slopes)
}

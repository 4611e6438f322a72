import NN
import Foundation
import Testing
import TensorCore
import TensorCoreTesting
@testable import Generative

/// The VAE objective's pieces against PyTorch, and their gradients numerically.
@Suite("VAE objective")
struct ObjectiveTests {
    let tight = Tolerance(absolute: 1e-10, relative: 1e-10)

    @Test func bernoulliLogLikelihoodMatchesBinaryCrossEntropyWithLogits() {
        let x = Fixtures.tensor("bernoulli", "x"), logits = Fixtures.tensor("bernoulli", "logits")
        expectClose(bernoulliLogLikelihood(logits: logits, x: x), Fixtures.tensor("bernoulli", "log_likelihood"), tolerance: tight)
    }

    @Test func gaussianLogLikelihoodMatchesNormalLogProb() {
        let ll = gaussianLogLikelihood(mean: Fixtures.tensor("gaussian", "mean"), logScale: Fixtures.tensor("gaussian", "log_scale"),
                                       x: Fixtures.tensor("gaussian", "x"))
        expectClose(ll, Fixtures.tensor("gaussian", "log_likelihood"), tolerance: tight)
    }

    @Test func klAndLogDensityMatchTorchDistributions() {
        let mean = Fixtures.tensor("gaussian_kl", "mean"), logVariance = Fixtures.tensor("gaussian_kl", "log_variance")
        expectClose(gaussianKLToStandardNormal(mean: mean, logVariance: logVariance), Fixtures.tensor("gaussian_kl", "kl"), tolerance: tight)
        expectClose(diagonalGaussianLogDensity(Fixtures.tensor("gaussian_kl", "z"), mean: mean, logVariance: logVariance),
                    Fixtures.tensor("gaussian_kl", "log_density"), tolerance: tight)
    }

    @Test func iwaeBoundOfGivenLogWeightsMatchesLogSumExp() {
        // The bound's last step, with log-weights around -50 (exp underflows float32 there).
        let w = Fixtures.tensor("iwae", "log_weights")
        expectClose((w.logSumExp(axes: [1]) - Foundation.log(7.0)) * -1, Fixtures.tensor("iwae", "bound"), tolerance: tight)
    }

    @Test func gradientsOfTheTermsMatchCentralDifferences() {
        let g = RandomGenerator(seed: 4)
        let x = Tensor.rand([2, 1, 2, 3], dtype: .float64, generator: g)
        GradientCheck.check([Tensor.randn([2, 1, 2, 3], dtype: .float64, generator: g)]) { bernoulliLogLikelihood(logits: $0[0], x: x) }
        GradientCheck.check([Tensor.randn([2, 1, 2, 3], dtype: .float64, generator: g), Tensor([0.3], shape: [1]).cast(to: .float64)]) {
            gaussianLogLikelihood(mean: $0[0], logScale: $0[1], x: x)
        }
        GradientCheck.check([Tensor.randn([3, 4], dtype: .float64, generator: g), Tensor.randn([3, 4], dtype: .float64, generator: g)]) {
            gaussianKLToStandardNormal(mean: $0[0], logVariance: $0[1])
        }
    }

    /// Gradients reach the encoder through the reparameterised sample, and β weights the KL.
    @Test func elboGradientsReachEveryParameterAndBetaWeightsTheKL() {
        let model = VAE(VAEConfiguration(architecture: .mlp, imageShape: [1, 2, 3], latentSize: 2, hiddenSize: 5, beta: 4),
                        generator: RandomGenerator(seed: 5))
        for p in model.parameters() { p.value = p.value.cast(to: .float64) }
        let x = Tensor.rand([4, 1, 2, 3], dtype: .float64, generator: RandomGenerator(seed: 6))
        GradientCheck.checkParameters(model.parameters().filter { $0 !== model.logScale }) {
            model.elbo(x, generator: RandomGenerator(seed: 7)).loss
        }
        let terms = model.elbo(x, generator: RandomGenerator(seed: 7))
        let expected = (terms.reconstruction + terms.kl * 4).mean().item(as: Double.self)
        #expect(abs(terms.loss.item(as: Double.self) - expected) < 1e-12)
        #expect(terms.kl.scalars(as: Double.self).allSatisfy { $0 >= 0 })
    }
}

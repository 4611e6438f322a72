import Foundation
import NN
import Optim
import Testing
import TensorCore
import TensorCoreTesting
@testable import Generative

@Suite("Diffusion")
struct DiffusionTests {
    @Test(arguments: [NoiseSchedule.Kind.linear, .cosine])
    func schedulesMatchTheirClosedForms(kind: NoiseSchedule.Kind) {
        let schedule = NoiseSchedule(kind, steps: 50)
        let key = "schedule_" + kind.rawValue
        expectClose(Tensor(schedule.betas), Fixtures.tensor(key, "betas"), tolerance: Tolerance(absolute: 1e-14, relative: 1e-12))
        expectClose(Tensor(schedule.alphaBars), Fixtures.tensor(key, "alpha_bars"), tolerance: Tolerance(absolute: 1e-14, relative: 1e-12))
        expectClose(Tensor((0..<50).map(schedule.posteriorVariance)), Fixtures.tensor(key, "posterior_variance"),
                    tolerance: Tolerance(absolute: 1e-14, relative: 1e-12))
        // The posterior mean's coefficients: μ̃ of x_t = √ᾱ x₀ + √(1 − ᾱ) ε is unbiased for
        // E[x_{t−1} | x₀] = √ᾱ_{t−1} x₀ when ε averages out: a + b √ᾱ_t = √ᾱ_{t−1}.
        for t in [1, 10, 49] {
            let (a, b) = schedule.posteriorMeanCoefficients(t)
            #expect(abs(a + b * schedule.alphaBars[t].squareRoot() - schedule.previousAlphaBar(t).squareRoot()) < 1e-12)
        }
    }

    /// A tiny model (the schedule and the conversions are what these tests use).
    func tinyModel(_ prediction: DiffusionConfiguration.Prediction = .epsilon, classes: Int? = nil, timesteps: Int = 50,
                   shape: [Int] = [1, 2, 2]) -> Diffusion {
        Diffusion(DiffusionConfiguration(imageShape: shape, timesteps: timesteps, prediction: prediction, classCount: classes,
                                         conditionDropout: classes == nil ? 0 : 0.2, baseChannels: 4, channelMultipliers: [1],
                                         attentionLevels: [], attentionHeads: 1), generator: RandomGenerator(seed: 1))
    }

    /// With the true target as the network's output, each parameterisation recovers the noise
    /// and the clean image.
    @Test(arguments: DiffusionConfiguration.Prediction.allCases)
    func everyPredictionRecoversNoiseAndImage(prediction: DiffusionConfiguration.Prediction) {
        let model = tinyModel(prediction)
        let g = RandomGenerator(seed: 2)
        let x0 = Tensor.rand([3, 1, 2, 2], low: -0.9, high: 0.9, generator: g), noise = Tensor.randn([3, 1, 2, 2], generator: g)
        for t in [0, 20, 49] {
            let xt = model.schedule.noised(x0, noise: noise, at: [t, t, t])
            let a = model.schedule.alphaBars[t]
            let target: Tensor
            switch prediction {
            case .epsilon: target = noise
            case .x0: target = x0
            case .v: target = noise * a.squareRoot() - x0 * (1 - a).squareRoot()
            }
            let (n, x) = model.predict(xt, t: t, labels: nil, denoiser: { _, _, _ in target })
            expectClose(x, x0, tolerance: Tolerance(absolute: 2e-4, relative: 1e-4), "x0 at t = \(t)")
            expectClose(n, noise, tolerance: Tolerance(absolute: 2e-3, relative: 1e-3), "noise at t = \(t)")
        }
    }

    /// Guidance w mixes the conditional (w = 1) and unconditional (w = 0) predictions and
    /// extrapolates past them.
    @Test func guidanceMixesConditionalAndUnconditionalPredictions() {
        let model = tinyModel(classes: 3)
        let labels = Tensor([0, 2] as [Int64])
        // ε̂ = 0.1 for a class, 0 for "no class" (index 3).
        let denoiser: Diffusion.Denoiser = { x, _, l in
            let conditional = (l!.cast(to: .float32) .< 3).cast(to: .float32).reshaped(to: [x.shape[0], 1, 1, 1])
            return Tensor.zeros(like: x) + conditional * 0.1
        }
        let xt = Tensor.zeros([2, 1, 2, 2])
        for (w, expected) in [(0.0, 0.0), (1.0, 0.1), (3.0, 0.3)] {
            let noise = model.predict(xt, t: 0, labels: labels, guidance: w, denoiser: denoiser).noise
            expectClose(noise, Tensor.full([2, 1, 2, 2], value: expected), tolerance: Tolerance(absolute: 1e-5, relative: 1e-4), "w = \(w)")
        }
    }

    /// The Bayes-optimal noise predictor for data N(μ, s²) per pixel.
    func oracle(_ model: Diffusion, mean: Double, deviation s: Double) -> Diffusion.Denoiser {
        { x, t, _ in
            let a = model.schedule.factors(model.schedule.alphaBars, at: t, like: x)
            return (1 - a).sqrt() * (x - a.sqrt() * mean) / (a * (s * s) + 1 - a)
        }
    }

    /// DDIM with η = 1 over every step is DDPM's ancestral sampler: the same draws give the
    /// same samples, and both sample the data's distribution (the oracle's N(μ, s²));
    /// deterministic DDIM in 10 steps does too.
    @Test func ddimWithEtaOneAndEveryStepIsTheAncestralSampler() {
        let model = tinyModel(timesteps: 100)
        let (mu, s) = (0.3, 0.2)   // in the model's [−1, 1] range
        let denoiser = oracle(model, mean: mu, deviation: s)
        let ancestral = model.sampleAncestral(count: 500, labels: nil, guidance: 1, denoiser: denoiser, generator: RandomGenerator(seed: 3))
        let ddim = model.sampleDDIM(count: 500, steps: 100, eta: 1, labels: nil, guidance: 1, denoiser: denoiser,
                                    generator: RandomGenerator(seed: 3))
        #expect(largestDifference(ancestral, ddim) < 1e-4)
        let fast = model.sampleDDIM(count: 500, steps: 10, eta: 0, labels: nil, guidance: 1, denoiser: denoiser,
                                    generator: RandomGenerator(seed: 4))
        for (name, samples, tolerance) in [("ancestral", ancestral, 0.02), ("ddim-10", fast, 0.03)] {
            let x = (samples * 2 - 1).cast(to: .float64)
            let m = x.mean().item(as: Double.self), sd = (x - m).squared().mean().sqrt().item(as: Double.self)
            #expect(abs(m - mu) < tolerance && abs(sd - s) < 2 * tolerance, "\(name): mean \(m), deviation \(sd)")
        }
        #expect(model.samplingTimesteps(10) == [90, 80, 70, 60, 50, 40, 30, 20, 10, 0])
    }

    /// The U-Net's gradients (through attention, group norm, the class embedding and the
    /// residual blocks) against central differences in float64.
    @Test func unetGradientsMatchCentralDifferences() {
        let configuration = DiffusionConfiguration(imageShape: [1, 4, 4], timesteps: 10, classCount: 3, baseChannels: 4,
                                                   channelMultipliers: [1, 2], attentionLevels: [1], attentionHeads: 2)
        let model = Diffusion(configuration, generator: RandomGenerator(seed: 5))
        // The zero output layer would hide everything below it.
        model.network.outConv.weight.value = Tensor.randn(model.network.outConv.weight.shape, standardDeviation: 0.3,
                                                          generator: RandomGenerator(seed: 6))
        for p in model.network.parameters() { p.value = p.value.cast(to: .float64) }
        let g = RandomGenerator(seed: 7)
        let x = Tensor.randn([2, 1, 4, 4], dtype: .float64, generator: g), weights = Tensor.randn([2, 1, 4, 4], dtype: .float64, generator: g)
        let labels = Tensor([1, 3] as [Int64])
        let unet = model.network
        let chosen = unet.namedParameters().filter { name, _ in
            ["stem.weight", "classEmbedding.weight", "outConv.weight"].contains(name) || name.hasSuffix("in_proj_weight")
                || name.hasSuffix("embedding.weight") || name.hasSuffix("norm1.weight")
        }.map(\.1)
        #expect(chosen.count >= 6)
        GradientCheck.checkParameters(chosen, tolerance: Tolerance(absolute: 1e-6, relative: 1e-5)) {
            (unet(x, timesteps: [3, 8], labels: labels) * weights).sum()
        }
        GradientCheck.check([x]) { (unet($0[0], timesteps: [3, 8], labels: labels) * weights).sum() }
    }

    /// A tiny conditional model learns two patterns: the loss falls, the average trails the
    /// network, and guided DDIM samples of each class come out nearer their own pattern.
    @Test func aTinyConditionalModelLearnsTwoPatterns() {
        let configuration = DiffusionConfiguration(imageShape: [1, 4, 4], timesteps: 100, classCount: 2, conditionDropout: 0.2,
                                                   baseChannels: 8, channelMultipliers: [1, 2], attentionLevels: [1], attentionHeads: 2,
                                                   emaDecay: 0.9)
        let model = Diffusion(configuration, generator: RandomGenerator(seed: 8))
        let patterns = Tensor((0..<32).map { i -> Float in i < 16 ? (i % 2 == 0 ? 0.9 : 0.1) : (i / 4 % 2 == 0 ? 0.9 : 0.1) },
                              shape: [2, 1, 4, 4])
        let optimizer = Adam(parameters: model.trainableParameters, learningRate: 3e-3)
        let g = RandomGenerator(seed: 9)
        var losses: [Double] = []
        for _ in 0..<200 {
            let labels = Tensor.randint(0, 2, shape: [16], generator: g)
            let batch = patterns.indexSelect(axis: 0, indices: labels)
            optimizer.zeroGradients()
            let loss = model.loss(batch, labels: labels, generator: g)
            loss.backward()
            optimizer.step()
            model.updateAverage()
            losses.append(loss.item(as: Double.self))
        }
        let early = losses.prefix(20).reduce(0, +) / 20, late = losses.suffix(20).reduce(0, +) / 20
        #expect(late < 0.5 * early, "loss \(early) → \(late)")
        #expect(largestDifference(model.average.parameters()[0].value, model.network.parameters()[0].value) > 0)
        for k in 0..<2 {
            let samples = model.sampleDDIM(count: 8, steps: 20, labels: Tensor([Int64](repeating: Int64(k), count: 8)), guidance: 2,
                                           useAverage: false, generator: RandomGenerator(seed: 10))
            let own = (samples - patterns.narrowed(axis: 0, start: k, length: 1)).squared().mean().item(as: Double.self)
            let other = (samples - patterns.narrowed(axis: 0, start: 1 - k, length: 1)).squared().mean().item(as: Double.self)
            #expect(own < other, "class \(k): distance to its pattern \(own), to the other \(other)")
        }
    }

    /// The average warms up as diffusers' EMAModel: update n (from 0) uses decay
    /// min(d, (1 + n) / (10 + n)), and `step` places a resumed run's update in that schedule.
    @Test func theMovingAverageWarmsUp() {
        let model = Diffusion(DiffusionConfiguration(imageShape: [1, 2, 2], timesteps: 10, classCount: nil, conditionDropout: 0,
                                                     baseChannels: 4, channelMultipliers: [1], attentionLevels: [], attentionHeads: 1,
                                                     emaDecay: 0.999), generator: RandomGenerator(seed: 3))
        let (source, average) = (model.trainableParameters[0], model.average.parameters()[0])
        for (step, decay) in [(1, 0.1), (2, 2.0 / 11), (1000, 1000.0 / 1009), (10000, 0.999), (5, 5.0 / 14)] {
            let before = average.value.cast(to: .float64)
            source.value = source.value + 1
            model.updateAverage(step: step)
            let expected = before * decay + source.value.cast(to: .float64) * (1 - decay)
            #expect(largestDifference(average.value.cast(to: .float64), expected) < 1e-5, "step \(step)")
        }
    }

    @Test func badSamplingRequestsStopNamingTheValues() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let model = Diffusion(DiffusionConfiguration(imageShape: [1, 2, 2], timesteps: 10, classCount: nil, conditionDropout: 0,
                                                         baseChannels: 4, channelMultipliers: [1], attentionLevels: [], attentionHeads: 1))
            _ = model.sampleDDIM(count: 1, steps: 5, guidance: 3)
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("guidance 3.0 needs a class-conditional model"), "\(message)")
        let steps = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let model = Diffusion(DiffusionConfiguration(imageShape: [1, 2, 2], timesteps: 10, classCount: nil, conditionDropout: 0,
                                                         baseChannels: 4, channelMultipliers: [1], attentionLevels: [], attentionHeads: 1))
            _ = model.sampleDDIM(count: 1, steps: 11)
        }
        let stepsMessage = String(decoding: steps?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stepsMessage.contains("sampling steps 11 must be in 1...10"), "\(stepsMessage)")
    }
}

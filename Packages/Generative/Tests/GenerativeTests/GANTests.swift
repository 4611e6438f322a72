import Foundation
import NN
import Optim
import Testing
import TensorCore
import TensorCoreTesting
import Training
import Vision
@testable import Generative

@Suite("GAN")
struct GANTests {
    @Test func lossesMatchPyTorch() {
        let real = Fixtures.tensor("gan_losses", "real"), fake = Fixtures.tensor("gan_losses", "fake")
        for (loss, name) in [(GANLoss.nonSaturating, "non_saturating"), (.hinge, "hinge"), (.wasserstein, "wasserstein")] {
            let d = loss.discriminatorLoss(real: real, fake: fake).item(as: Double.self)
            let g = loss.generatorLoss(fake: fake).item(as: Double.self)
            #expect(abs(d - (Fixtures.value("gan_losses", name + "_d") as! Double)) < 1e-12, "\(name) discriminator")
            #expect(abs(g - (Fixtures.value("gan_losses", name + "_g") as! Double)) < 1e-12, "\(name) generator")
        }
    }

    /// The fixture's critic: Linear 3→5, tanh, Linear 5→1 in float64 with PyTorch's weights.
    func fixtureCritic() -> (Sequential, [Parameter]) {
        let first = Linear(inputSize: 3, outputSize: 5, dtype: .float64), second = Linear(inputSize: 5, outputSize: 1, dtype: .float64)
        first.weight.value = Fixtures.tensor("gradient_penalty", "w1")
        first.bias!.value = Fixtures.tensor("gradient_penalty", "b1")
        second.weight.value = Fixtures.tensor("gradient_penalty", "w2")
        second.bias!.value = Fixtures.tensor("gradient_penalty", "b2")
        return (Sequential([first, Tanh(), second]), [first.weight, first.bias!, second.weight, second.bias!])
    }

    /// The penalty's value and its gradient in the critic's parameters (through double
    /// backward) equal PyTorch's `autograd.grad(..., create_graph=True)`.
    @Test func gradientPenaltyAndItsParameterGradientsMatchPyTorch() {
        let (critic, parameters) = fixtureCritic()
        let penalty = gradientPenalty(critic: { critic($0) }, real: Fixtures.tensor("gradient_penalty", "real"),
                                      fake: Fixtures.tensor("gradient_penalty", "fake"), mixing: Fixtures.tensor("gradient_penalty", "mixing"))
        #expect(abs(penalty.item(as: Double.self) - (Fixtures.value("gradient_penalty", "penalty") as! Double)) < 1e-10)
        penalty.backward()
        for (p, name) in zip(parameters, ["grad_w1", "grad_b1", "grad_w2", "grad_b2"]) {
            expectClose(p.grad ?? Tensor.zeros(like: p.value), Fixtures.tensor("gradient_penalty", name),
                        tolerance: Tolerance(absolute: 1e-10, relative: 1e-8), "\(name)")
        }
    }

    /// R1's value, the scores it returns and its gradient in the critic's parameters (double
    /// backward) equal PyTorch's at the fixture's real points.
    @Test func realGradientPenaltyAndItsParameterGradientsMatchPyTorch() {
        let (critic, parameters) = fixtureCritic()
        let (penalty, scores) = realGradientPenalty(critic: { critic($0) }, real: Fixtures.tensor("gradient_penalty", "real"))
        #expect(abs(penalty.item(as: Double.self) - (Fixtures.value("r1_penalty", "penalty") as! Double)) < 1e-10)
        expectClose(scores.reshaped(to: [-1]), Fixtures.tensor("r1_penalty", "scores"), tolerance: Tolerance(absolute: 1e-12, relative: 1e-10))
        penalty.backward()
        for (p, name) in zip(parameters, ["grad_w1", "grad_b1", "grad_w2", "grad_b2"]) {
            expectClose(p.grad ?? Tensor.zeros(like: p.value), Fixtures.tensor("r1_penalty", name),
                        tolerance: Tolerance(absolute: 1e-10, relative: 1e-8), "\(name)")
        }
    }

    /// WGAN-GP's penalty and R1 of a convolutional critic with leaky ReLU (the DCGAN
    /// discriminator's layers), differentiated in its parameters through the recorded backward
    /// pass, against central differences in float64: a second-order check of convolution and
    /// activation gradients (3×3 and 4×4 kernels).
    @Test(arguments: [false, true])
    func penaltiesOfAConvolutionalCriticMatchCentralDifferences(r1: Bool) {
        let g = RandomGenerator(seed: r1 ? 12 : 11)
        let conv = Conv2d(inputChannels: 1, outputChannels: 2, kernelSize: r1 ? 4 : 3, stride: 2, padding: 1, generator: g)
        let dense = Linear(inputSize: 2 * 3 * 3, outputSize: 1, dtype: .float64, generator: g)
        let critic = Sequential([conv, LeakyReLU(negativeSlope: 0.2), Flatten(), dense, Tanh()])
        for p in critic.parameters() { p.value = p.value.cast(to: .float64) }
        let real = Tensor.randn([3, 1, 6, 6], dtype: .float64, generator: g), fake = Tensor.randn([3, 1, 6, 6], dtype: .float64, generator: g)
        let mixing = Tensor.rand([3], dtype: .float64, generator: g)
        GradientCheck.checkParameters(critic.parameters(), tolerance: Tolerance(absolute: 1e-6, relative: 1e-5)) {
            r1 ? realGradientPenalty(critic: { critic($0) }, real: real).penalty
               : gradientPenalty(critic: { critic($0) }, real: real, fake: fake, mixing: mixing)
        }
    }

    @Test func networksHaveTheConfiguredShapesAndRanges() {
        let dcgan = GAN(GANConfiguration(classCount: 10), generator: RandomGenerator(seed: 1))
        let labels = Tensor((0..<6).map { Int64($0) })
        let images = dcgan.sample(count: 6, labels: labels, generator: RandomGenerator(seed: 2))
        #expect(images.shape == [6, 1, 28, 28])
        let values = images.scalars(as: Float.self)
        #expect(values.allSatisfy { $0 >= 0 && $0 <= 1 })
        #expect(dcgan.discriminator(dcgan.toModel(images), labels: labels).shape == [6])
        let toy = GAN(GANConfiguration(architecture: .mlp, dataShape: [2], latentSize: 8, width: 16, loss: .hinge, spectralNorm: true))
        #expect(toy.sample(count: 5).shape == [5, 2])
        #expect(toy.discriminator.namedModules().contains { $0.1 is SpectralNorm })
        // The discriminator's and generator's parameters are disjoint and together the model's.
        let ids = { (m: Module) in Set(m.parameters().map { ObjectIdentifier($0) }) }
        #expect(ids(toy.generator).isDisjoint(with: ids(toy.discriminator)))
        #expect(ids(toy.generator).union(ids(toy.discriminator)) == ids(toy))
    }

    /// Trained on one Gaussian blob, the generator's samples move onto it (their mean within 0.5
    /// of its centre, and an epoch's MMD a tenth of the untrained generator's: GANs circle
    /// their equilibrium, so the figures are not taken at one instant), the run writes its
    /// figures, pictures and model.h5; the non-saturating loss and the hinge loss with a
    /// spectrally normalised discriminator updated three times per generator step.
    @Test(arguments: [(GANLoss.nonSaturating, false, 1), (.hinge, true, 3)])
    func aSmallGANLearnsABlob(loss: GANLoss, spectralNorm: Bool, criticSteps: Int) throws {
        let g = RandomGenerator(seed: 3)
        let center = Tensor([1.5, -1.0] as [Float], shape: [1, 2])
        func blob(_ n: Int) -> Tensor { Tensor.randn([n, 2], standardDeviation: 0.3, generator: g) + center }
        let train = TensorDataset(inputs: blob(2048), targets: Tensor.zeros([2048], dtype: .int64))
        let reference = blob(500)
        let model = GAN(GANConfiguration(architecture: .mlp, dataShape: [2], latentSize: 4, width: 32, loss: loss,
                                         spectralNorm: spectralNorm, discriminatorBatchNorm: false), generator: RandomGenerator(seed: 4))
        let before = maximumMeanDiscrepancy(model.sample(count: 500, generator: RandomGenerator(seed: 5)), reference)
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-gan-\(UUID().uuidString)").path
        var run = GANTraining(model: model, outputDirectory: out)
        run.epochs = 20
        run.batchSize = 64
        run.discriminatorSteps = criticSteps
        run.generatorLearningRate = 5e-4
        run.discriminatorLearningRate = 5e-4
        run.evaluationSamples = 500
        run.referencePoints = reference
        run.log = { _ in }
        let history = try run.run(train: train)
        let samples = model.sample(count: 500, generator: RandomGenerator(seed: 6))
        let mean = samples.mean(axis: 0).scalars(as: Float.self)
        #expect(abs(mean[0] - 1.5) < 0.5 && abs(mean[1] + 1.0) < 0.5, "sample mean \(mean)")
        let mmd = history.values(of: "mmd")
        #expect(mmd.min()! < before / 10, "MMD per epoch \(mmd) vs untrained \(before)")
        #expect(history.epochs.allSatisfy { $0["train_discriminator_loss"] != nil && $0["train_generator_loss"] != nil })
        for file in ["results.json", "model.h5", "samples-epoch-006.png", "samples.png"] {
            #expect(FileManager.default.fileExists(atPath: "\(out)/\(file)"), "\(file)")
        }
    }

    /// A critic trained with the gradient penalty between two blobs estimates their Wasserstein-1
    /// distance (|(1.5, −1)| ≈ 1.80 for equal shapes) and has unit slopes pointing from the
    /// generated blob to the real one: what WGAN-GP's generator follows.
    @Test func aPenalisedCriticEstimatesTheWassersteinDistance() {
        let g = RandomGenerator(seed: 3)
        let center = Tensor([1.5, -1.0] as [Float], shape: [1, 2])
        let model = GAN(GANConfiguration(architecture: .mlp, dataShape: [2], latentSize: 4, width: 32, loss: .wasserstein,
                                         discriminatorBatchNorm: false), generator: RandomGenerator(seed: 4))
        let optimizer = Adam(parameters: model.discriminator.parameters(), learningRate: 5e-4, beta1: 0.5, beta2: 0.9)
        var estimates: [Double] = []
        for _ in 0..<300 {
            let real = Tensor.randn([64, 2], standardDeviation: 0.3, generator: g) + center
            let fake = Tensor.randn([64, 2], standardDeviation: 0.3, generator: g)
            optimizer.zeroGradients()
            let adversarial = GANLoss.wasserstein.discriminatorLoss(real: model.discriminator(real, labels: nil),
                                                                    fake: model.discriminator(fake, labels: nil))
            let penalty = gradientPenalty(critic: { model.discriminator($0, labels: nil) }, real: real, fake: fake, generator: g)
            (adversarial + penalty * 10).backward()
            optimizer.step()
            estimates.append(-adversarial.item(as: Double.self))
        }
        let estimate = estimates.suffix(50).reduce(0, +) / 50
        #expect(abs(estimate - 1.80) < 0.3, "W1 estimate \(estimate)")
        let points = Tensor.randn([16, 2], standardDeviation: 0.3, generator: g).requiringGrad()
        let slopes = gradients(of: [model.discriminator(points, labels: nil).sum()], withRespectTo: [points])[0].scalars(as: Float.self)
        for i in 0..<16 {
            let (a, b) = (Double(slopes[2 * i]), Double(slopes[2 * i + 1]))
            let norm = (a * a + b * b).squareRoot(), cosine = (a * 1.5 - b) / (norm * 1.8028)
            #expect(norm > 0.5 && norm < 1.5 && cosine > 0.85, "slope \(a), \(b) at point \(i)")
        }
    }

    /// A discriminator whose weights became NaN stops the run at its first step, naming the
    /// discriminator's loss (the trainer names the first figure that is not finite).
    @Test func aDivergingGANStopsNamingTheStepAndTheNetwork() throws {
        let model = GAN(GANConfiguration(architecture: .mlp, dataShape: [2], latentSize: 2, width: 8, discriminatorBatchNorm: false))
        let weight = model.discriminator.parameters()[0]
        weight.value = weight.value * Double.nan
        var run = GANTraining(model: model, outputDirectory: FileManager.default.temporaryDirectory.appendingPathComponent("tessera-nan-\(UUID().uuidString)").path)
        run.evaluationSamples = 10
        run.log = { _ in }
        let error = #expect(throws: TrainingError.self) {
            try run.run(train: TensorDataset(inputs: Tensor.randn([128, 2]), targets: Tensor.zeros([128], dtype: .int64)))
        }
        guard case let .nonFiniteLoss(step, _, _, figure)? = error else { Issue.record("\(String(describing: error))"); return }
        #expect(step == 1 && figure == "train_discriminator_loss")
        #expect("\(error!)".contains("train_discriminator_loss became") && "\(error!)".contains("nan at step 1 (epoch 1)"))
    }

    /// WGAN-GP's schedule: both rates fall linearly to 0 over the run's generator updates.
    @Test func theLinearScheduleTakesBothRatesToZero() throws {
        let model = GAN(GANConfiguration(architecture: .mlp, dataShape: [2], latentSize: 2, width: 8, loss: .wasserstein,
                                         discriminatorBatchNorm: false), generator: RandomGenerator(seed: 1))
        var run = GANTraining(model: model, outputDirectory: FileManager.default.temporaryDirectory.appendingPathComponent("tessera-gan-lr-\(UUID().uuidString)").path)
        run.epochs = 2
        run.batchSize = 32
        run.discriminatorSteps = 2
        run.penaltyWeight = 0.1
        run.generatorLearningRate = 1e-3
        run.discriminatorLearningRate = 1e-3
        run.schedule = .linear
        run.evaluationSamples = 10
        run.log = { _ in }
        // 128 points in chunks of 2 × 32: two generator updates an epoch, four in all.
        let history = try run.run(train: TensorDataset(inputs: Tensor.randn([128, 2], generator: RandomGenerator(seed: 2)),
                                                       targets: Tensor.zeros([128], dtype: .int64)))
        let rates = history.values(of: "learning_rate")
        #expect(rates.count == 2 && abs(rates[0] - 5e-4) < 1e-12 && abs(rates[1]) < 1e-12, "\(rates)")
    }

    /// The DCGAN's layers start from Radford et al.'s N(0, 0.02) (batch norm's scales N(1, 0.02),
    /// biases 0), and the discriminator takes its own width when one is given (recorded in the
    /// configuration; files without it keep the generator's).
    @Test func theDCGANStartsFromRadfordsInitialisationAndCanWidenItsDiscriminator() throws {
        let model = GAN(GANConfiguration(width: 8, discriminatorWidth: 16), generator: RandomGenerator(seed: 1))
        var weights: [Float] = [], scales: [Float] = [], biases: [Float] = []
        for (_, module) in model.namedModules() {
            if let m = module as? Conv2d { weights += m.weight.value.scalars(as: Float.self); biases += m.bias?.value.scalars(as: Float.self) ?? [] }
            if let m = module as? ConvTranspose2d { weights += m.weight.value.scalars(as: Float.self); biases += m.bias?.value.scalars(as: Float.self) ?? [] }
            if let m = module as? Linear { weights += m.weight.value.scalars(as: Float.self); biases += m.bias?.value.scalars(as: Float.self) ?? [] }
            if let m = module as? BatchNorm2d { scales += m.weight.value.scalars(as: Float.self); biases += m.bias.value.scalars(as: Float.self) }
        }
        func moments(_ v: [Float]) -> (mean: Double, deviation: Double) {
            let mean = v.reduce(0.0) { $0 + Double($1) } / Double(v.count)
            return (mean, (v.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(v.count)).squareRoot())
        }
        #expect(weights.count > 20_000 && abs(moments(weights).mean) < 1e-3 && abs(moments(weights).deviation - 0.02) < 1e-3)
        #expect(scales.count == 16 + 8 + 32 && abs(moments(scales).mean - 1) < 0.02 && moments(scales).deviation < 0.04)
        #expect(!biases.isEmpty && biases.allSatisfy { $0 == 0 })
        // The discriminator is 16 wide (16 and 32 channels), the generator 8 (16 maps of 7×7, then 8).
        let criticConvolutions = model.discriminator.namedModules().compactMap { $0.1 as? Conv2d }.map(\.weight.value.shape)
        #expect(criticConvolutions == [[16, 1, 4, 4], [32, 16, 4, 4]])
        let generatorConvolutions = model.generator.namedModules().compactMap { $0.1 as? ConvTranspose2d }.map(\.weight.value.shape)
        #expect(generatorConvolutions == [[16, 8, 4, 4], [8, 1, 4, 4]])
        let decoded = try JSONDecoder().decode(GANConfiguration.self, from: JSONEncoder().encode(model.configuration))
        #expect(decoded == model.configuration && decoded.criticWidth == 16)
        #expect(GANConfiguration(width: 8).criticWidth == 8)
    }

    /// The generator's moving average: each update blends the weights with the warm-up's decay,
    /// copies batch norm's running statistics, samples come from the average (not the live
    /// generator), it travels in checkpoints, and configurations written before it still load.
    @Test func theGeneratorAverageBlendsWeightsAndIsWhatSamplesComeFrom() throws {
        let model = GAN(GANConfiguration(width: 4, averageDecay: 0.9), generator: RandomGenerator(seed: 1))
        let average = try #require(model.averageGenerator)
        let live = model.generator.parameters(), copies = average.parameters()
        #expect(copies.allSatisfy { !$0.requiresGrad } && live.count == copies.count)
        #expect(Set(model.generator.parameters().map(ObjectIdentifier.init)).isDisjoint(with: copies.map(ObjectIdentifier.init)))
        let before = copies.map { $0.value.copied() }
        withoutGradients { for p in live { p.value = p.value + 1 } }
        // Training-mode forward passes move the live running statistics.
        _ = model.generator(model.noise(8, generator: RandomGenerator(seed: 2)), labels: nil)
        model.updateAverage(step: 1)
        // Update 0 of the warm-up decays by min(0.9, 1 / 10) = 0.1: average = 0.1 · before + 0.9 · live.
        for (b, (a, l)) in zip(before, zip(copies, live)) {
            expectClose(a.value, b * 0.1 + l.value * 0.9, tolerance: Tolerance(absolute: 1e-6, relative: 1e-6))
        }
        for ((_, l), (_, a)) in zip(model.generator.namedBuffers(), average.namedBuffers()) {
            #expect(a.value.scalars(as: Float.self) == l.value.scalars(as: Float.self))
        }
        // Samples come from the average: changing the live generator leaves them as they were.
        let z = model.noise(4, generator: RandomGenerator(seed: 3))
        let first = model.sample(noise: z, labels: nil)
        withoutGradients { for p in live { p.value = p.value * 0 } }
        #expect(model.sample(noise: z, labels: nil).scalars(as: Float.self) == first.scalars(as: Float.self))
        // The average is part of the model's state; a configuration without the key decodes to none.
        #expect(model.stateDict().keys.contains { $0.hasPrefix("averageGenerator.") })
        let reloaded = GAN(model.configuration)
        try reloaded.loadStateDict(model.stateDict())
        #expect(reloaded.sample(noise: z, labels: nil).scalars(as: Float.self) == first.scalars(as: Float.self))
        var old = try JSONSerialization.jsonObject(with: JSONEncoder().encode(GANConfiguration())) as! [String: Any]
        old.removeValue(forKey: "averageDecay")
        let decoded = try JSONDecoder().decode(GANConfiguration.self, from: JSONSerialization.data(withJSONObject: old))
        #expect(decoded == GANConfiguration() && decoded.averageDecay == nil && GAN(decoded).averageGenerator == nil)
    }

    @Test func sampleClassificationCountsConfidenceClassesAndConditions() {
        /// Logits that put sample i in class i % 3, confidently for even i.
        final class Stub: Module {
            override func forward(_ x: Tensor) -> Tensor {
                let n = x.shape[0]
                return Tensor((0..<n).flatMap { i -> [Float] in
                    (0..<4).map { k in k == i % 3 ? (i % 2 == 0 ? 10 : 0.5) : 0 }
                }, shape: [n, 4])
            }
        }
        let verdict = SampleClassification(classifier: Stub(), images: Tensor.zeros([6, 1, 2, 2]),
                                           conditionedOn: Tensor([0, 1, 2, 2, 1, 0] as [Int64]))
        #expect(verdict.histogram == [2, 2, 2, 0])
        #expect(verdict.confidentFraction == 0.5)
        #expect(verdict.conditionedAccuracy == 4.0 / 6)
        #expect(verdict.figures["class_fraction_3"] == 0 && verdict.figures["class_fraction_max"] == 1.0 / 3)
    }
}

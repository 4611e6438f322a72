import Foundation
import NN
import Optim
import TensorCore

/// A fully connected layer with a factorised Gaussian posterior over its weights and biases
/// (Bayes by backprop, Blundell et al. 2015): `w ~ N(μ, softplus(ρ)²)` against a
/// `N(0, priorStandardDeviation²)` prior. Each forward pass samples, through the local
/// reparameterisation trick (Kingma et al. 2015): the pre-activations' mean `x μᵀ + μ_b` and
/// variance `x² σ²ᵀ + σ_b²` are exact, and one Gaussian draw per activation replaces one per
/// weight (lower-variance gradients, a batch-sized draw).
public final class BayesianLinear: Module {
    /// The posterior means of the weights `[out, in]`.
    public let weightMean: Parameter
    /// The weights' pre-softplus scales: σ = softplus(ρ).
    public let weightRho: Parameter
    /// The posterior means of the biases `[out]`.
    public let biasMean: Parameter
    /// The biases' pre-softplus scales.
    public let biasRho: Parameter
    /// The prior N(0, σ_p²) on every weight and bias.
    public let priorStandardDeviation: Double
    let generator: RandomGenerator

    /// A layer whose posterior starts at PyTorch-like uniform means and standard deviation `initialStandardDeviation`.
    public init(inputSize: Int, outputSize: Int, priorStandardDeviation: Double = 0.1, initialStandardDeviation: Double = 1e-3,
                dtype: DType = .float32, generator: RandomGenerator) {
        tensorCheck(inputSize > 0 && outputSize > 0 && priorStandardDeviation > 0,
                    "[BayesianLinear] needs positive sizes and prior scale, got \(inputSize), \(outputSize), \(priorStandardDeviation)")
        let bound = 1 / Double(inputSize).squareRoot()
        let rho = Foundation.log(Foundation.exp(initialStandardDeviation) - 1)  // softplus⁻¹
        weightMean = Parameter(Tensor.rand([outputSize, inputSize], low: -bound, high: bound, dtype: dtype, generator: generator))
        weightRho = Parameter(Tensor.full([outputSize, inputSize], value: rho, dtype: dtype))
        biasMean = Parameter(Tensor.zeros([outputSize], dtype: dtype))
        biasRho = Parameter(Tensor.full([outputSize], value: rho, dtype: dtype))
        self.priorStandardDeviation = priorStandardDeviation
        self.generator = generator
        super.init()
    }

    /// A sample of the layer's output, `[n, inputSize] -> [n, outputSize]`.
    public override func forward(_ x: Tensor) -> Tensor {
        let mean = x.linear(weight: weightMean.value, bias: biasMean.value)
        let variance = x.squared().linear(weight: weightRho.value.softplus().squared(), bias: biasRho.value.softplus().squared())
        let noise = Tensor.randn(mean.shape, dtype: mean.dtype, device: mean.device, generator: generator)
        return mean + (variance + 1e-16).sqrt() * noise
    }

    /// `KL(q ‖ p)` of the layer's weights and biases, in closed form for Gaussians.
    public func klDivergence() -> Tensor {
        func kl(_ mu: Tensor, _ rho: Tensor) -> Tensor {
            let sigma = rho.softplus(), p = priorStandardDeviation
            return (Foundation.log(p) - sigma.log() + (sigma.squared() + mu.squared()) / (2 * p * p) - 0.5).sum()
        }
        return kl(weightMean.value, weightRho.value) + kl(biasMean.value, biasRho.value)
    }
}

/// A ReLU MLP of `BayesianLinear` layers.
public final class BayesianMLP: Module {
    /// The layers, input first.
    public let layers: [BayesianLinear]

    /// Layers of `sizes[0] -> sizes[1] -> …`, ReLU between them.
    public init(sizes: [Int], priorStandardDeviation: Double = 0.1, generator: RandomGenerator) {
        tensorCheck(sizes.count >= 2, "[BayesianMLP] needs at least input and output sizes, got \(sizes)")
        layers = (0..<(sizes.count - 1)).map {
            BayesianLinear(inputSize: sizes[$0], outputSize: sizes[$0 + 1], priorStandardDeviation: priorStandardDeviation,
                           generator: generator)
        }
        super.init()
    }

    /// Logits of one posterior sample.
    public override func forward(_ x: Tensor) -> Tensor {
        var h = x
        for (i, layer) in layers.enumerated() {
            h = layer(h)
            if i < layers.count - 1 { h = h.relu() }
        }
        return h
    }

    /// The KL divergence of the whole network's posterior from its prior.
    public func klDivergence() -> Tensor {
        layers.dropFirst().reduce(layers[0].klDivergence()) { $0 + $1.klDivergence() }
    }
}

/// Training and evaluating networks with predictive uncertainty.
public enum BayesianTraining {
    /// Bayes by backprop: minimises the negative ELBO per example,
    /// `E_q[−log p(y|x, w)] + KL(q ‖ p) / N`, with Adam over shuffled minibatches. Returns the
    /// per-epoch mean loss and mean KL per example. With `annealed`, the learning rate follows a
    /// half cosine from `learningRate` to 0 over the run's batches (the posterior means settle
    /// instead of wandering with the gradient noise of a sampled objective).
    public static func fit(_ model: BayesianMLP, inputs: Tensor, labels: Tensor, epochs: Int, batchSize: Int = 128,
                           learningRate: Double = 1e-3, annealed: Bool = false, seed: UInt64,
                           report: (Int, Double, Double) -> Void = { _, _, _ in }) -> [(loss: Double, kl: Double)] {
        let n = inputs.shape[0]
        let optimizer = Adam(parameters: model.parameters(), learningRate: learningRate)
        let batchesPerEpoch = (n + batchSize - 1) / batchSize
        let schedule = annealed ? CosineAnnealingSchedule(optimizer, maxSteps: Swift.max(1, epochs * batchesPerEpoch)) : nil
        let sampler = RandomSampler(seed: seed)
        var history: [(Double, Double)] = []
        for epoch in 0..<epochs {
            let order = sampler.indices(count: n, epoch: epoch)
            var total = 0.0, klTotal = 0.0, batches = 0
            for start in stride(from: 0, to: n, by: batchSize) {
                let index = Tensor(order[start..<Swift.min(start + batchSize, n)].map(Int64.init), shape: [Swift.min(batchSize, n - start)])
                let x = inputs.indexSelect(axis: 0, indices: index), y = labels.indexSelect(axis: 0, indices: index)
                let kl = model.klDivergence() / Double(n)
                let loss = crossEntropy(logits: model(x), targets: y) + kl
                optimizer.zeroGradients()
                loss.backward()
                optimizer.step()
                schedule?.step()
                total += loss.item(as: Double.self); klTotal += kl.item(as: Double.self); batches += 1
            }
            history.append((total / Double(batches), klTotal / Double(batches)))
            report(epoch + 1, total / Double(batches), klTotal / Double(batches))
        }
        return history
    }

    /// The predictive distribution `[n, classes]`: softmax averaged over `samples` stochastic
    /// forward passes of `model` (posterior samples for a Bayesian network; with dropout
    /// modules in training mode, MC dropout), in batches of `batchSize`.
    public static func predictive(_ model: Module, _ x: Tensor, samples: Int, batchSize: Int = 1000) -> Tensor {
        withoutGradients {
            let n = x.shape[0]
            let parts = stride(from: 0, to: n, by: batchSize).map { start -> Tensor in
                let batch = x.narrowed(axis: 0, start: start, length: Swift.min(batchSize, n - start))
                var sum = model(batch).softmax(axis: -1)
                for _ in 1..<Swift.max(samples, 1) { sum = sum + model(batch).softmax(axis: -1) }
                return sum / Double(Swift.max(samples, 1))
            }
            return Tensor.concatenated(parts, axis: 0)
        }
    }
}

/// Calibration and uncertainty measures of predictive distributions.
public enum Uncertainty {
    /// One bin of a reliability diagram.
    public struct CalibrationBin {
        /// The bin's lower confidence edge (excluded).
        public var lower: Double
        /// The bin's upper confidence edge (included).
        public var upper: Double
        /// The mean confidence of the predictions in the bin.
        public var meanConfidence: Double
        /// The fraction of them that are right.
        public var accuracy: Double
        /// How many predictions fell in the bin.
        public var count: Int
    }

    /// The expected calibration error over `bins` equal-width confidence bins (Guo et al.
    /// 2017): `Σ_b (n_b / n) |accuracy_b − confidence_b|`, and the bins for a reliability
    /// diagram.
    public static func expectedCalibrationError(_ probabilities: Tensor, labels: Tensor, bins: Int = 15)
        -> (error: Double, bins: [CalibrationBin]) {
        let confidence = probabilities.max(axes: [1]).scalars(as: Double.self)
        let correct = (probabilities.argmax(axis: 1) .== labels).scalars(as: Bool.self)
        var result: [CalibrationBin] = []
        var error = 0.0
        for b in 0..<bins {
            let lo = Double(b) / Double(bins), hi = Double(b + 1) / Double(bins)
            let members = confidence.indices.filter { confidence[$0] > lo && confidence[$0] <= hi }
            let meanConfidence = members.isEmpty ? 0 : members.map { confidence[$0] }.reduce(0, +) / Double(members.count)
            let accuracy = members.isEmpty ? 0 : Double(members.filter { correct[$0] }.count) / Double(members.count)
            error += Double(members.count) / Double(Swift.max(confidence.count, 1)) * Swift.abs(accuracy - meanConfidence)
            result.append(CalibrationBin(lower: lo, upper: hi, meanConfidence: meanConfidence, accuracy: accuracy, count: members.count))
        }
        return (error, result)
    }

    /// The entropy `−Σ p log p` of each row, `[n, classes] -> [n]`.
    public static func entropy(_ probabilities: Tensor) -> Tensor {
        withoutGradients { -(probabilities * probabilities.clamped(min: 1e-12).log()).sum(axes: [1]) }
    }

    /// The area under the ROC curve of a score that should be larger on `positive` than on
    /// `negative` examples: the probability that a random positive outscores a random
    /// negative (ties count half), by ranking.
    public static func auroc(positive: [Double], negative: [Double]) -> Double {
        let all = (positive.map { ($0, true) } + negative.map { ($0, false) }).sorted { $0.0 < $1.0 }
        var rankSum = 0.0, i = 0
        while i < all.count {
            var j = i
            while j + 1 < all.count && all[j + 1].0 == all[i].0 { j += 1 }
            let rank = Double(i + j) / 2 + 1
            for k in i...j where all[k].1 { rankSum += rank }
            i = j + 1
        }
        let p = Double(positive.count), q = Double(negative.count)
        return (rankSum - p * (p + 1) / 2) / Swift.max(p * q, 1)
    }
}

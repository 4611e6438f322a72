import Datasets
import Foundation
import Generative
import Optim
import TensorCore
import Theory
import Training

/// `tessera course lstsq|elm|spectral|ntk|taylor|newton`: the numerical-methods and theory
/// lectures' experiments, each through the Theory, Optim and TensorCore libraries.
public struct CourseCommand {
    static let experiments = ["lstsq", "elm", "spectral", "ntk", "taylor", "newton", "bnn", "node"]
    static let spec = CommandSpec(
        usage: "tessera course lstsq|elm|spectral|ntk|taylor|newton|bnn|node [options]",
        summary: """
        lstsq: a Tikhonov least-squares classifier on MNIST pixels, by the normal equations and by
        CGLS, with the L-curve (lcurve.svg). elm: an extreme learning machine (random tanh layer,
        least-squares output) on MNIST. spectral: spectral clustering against k-means on two moons
        and concentric circles (clusters.svg). ntk: the empirical NTK of ReLU perceptrons of growing
        width against the infinite-width kernel (ntk.svg). taylor: the Taylor test of softmax
        regression's gradient on Peaks (taylor.svg). newton: Newton-CG against gradient descent on
        softmax regression (newton.svg). bnn: a Bayes-by-backprop MLP (784-400-400-10) on MNIST with
        its calibration (ECE, reliability.svg) and the predictive entropy of Fashion-MNIST against
        MNIST test images (AUROC). node: adjoint against backpropagated gradients of a neural ODE at
        tolerances 1e-10 ... 1e-1, and a 100-layer ResNet as forward Euler with unconstrained and
        antisymmetric layers (trajectories.svg). Each prints its figures and writes results.json to --out.
        """,
        options: [
            OptionSpec("lambda", "X", "lstsq/elm: Tikhonov regularisation (default lstsq 1, elm 1e-2)"),
            OptionSpec("hidden", "H", "elm: random features (default 2000)"),
            OptionSpec("train-size", "N", "lstsq/elm: training images used (default all 60000)"),
            OptionSpec("widths", "W,W", "ntk: widths (default 64,256,1024,4096)"),
            OptionSpec("depth", "L", "ntk: hidden layers (default 1)"),
            OptionSpec("epochs", "N", "bnn: passes over MNIST (default 10)"),
            OptionSpec("samples", "S", "bnn: posterior samples averaged per prediction (default 10)"),
            OptionSpec("prior", "X", "bnn: the prior's standard deviation (default 0.1)"),
            OptionSpec("lr", "X", "bnn: Adam learning rate (default 1e-3)"),
            OptionSpec("schedule", "NAME", "bnn: constant or cosine (the rate annealed to 0 over the run; default cosine)"),
        ] + OptionSpec.runOptions(out: "runs/course-EXPERIMENT"))
    public static var usage: String { spec.help }

    public var experiment = "lstsq"
    public var lambda: Double?
    public var hidden = 2000
    public var trainSize = 60000
    public var widths = [64, 256, 1024, 4096]
    public var depth = 1
    public var epochs = 10
    public var samples = 10
    public var prior = 0.1
    public var learningRate = 1e-3
    public var annealed = true
    public var options: RunOptions
    var arguments: [String]

    public init(arguments: [String]) throws {
        self.arguments = arguments
        let args = try Self.spec.parse(arguments)
        guard let first = args.positional.first, Self.experiments.contains(first) else {
            throw UsageError("expected an experiment: tessera course " + Self.experiments.joined(separator: "|"))
        }
        guard args.positional.count == 1 else { throw UsageError("unexpected argument '\(args.positional[1])'") }
        experiment = first
        if args.values["lambda"] != nil {
            lambda = try args.value("lambda", default: 1.0, where: { $0 >= 0 && $0.isFinite }, expected: "a non-negative number")
        }
        hidden = try args.value("hidden", default: 2000, where: { $0 > 0 && $0 <= 20000 }, expected: "an integer in 1...20000")
        trainSize = try args.value("train-size", default: 60000, where: { $0 > 0 && $0 <= 60000 }, expected: "an integer in 1...60000")
        if let text = args.values["widths"] {
            let parsed = text.split(separator: ",").map { Int($0) }
            guard !parsed.isEmpty, parsed.allSatisfy({ $0 != nil && $0! > 0 && $0! <= 16384 }) else {
                throw UsageError("invalid value '\(text)' for --widths; expected comma-separated integers in 1...16384")
            }
            widths = parsed.map { $0! }
        }
        depth = try args.value("depth", default: 1, where: { $0 >= 1 && $0 <= 4 }, expected: "an integer in 1...4")
        epochs = try args.value("epochs", default: 10, where: { $0 >= 1 && $0 <= 1000 }, expected: "an integer in 1...1000")
        samples = try args.value("samples", default: 10, where: { $0 >= 1 && $0 <= 1000 }, expected: "an integer in 1...1000")
        prior = try args.value("prior", default: 0.1, where: { $0 > 0 && $0.isFinite }, expected: "a positive number")
        learningRate = try args.value("lr", default: 1e-3, where: { $0 > 0 && $0.isFinite }, expected: "a positive number")
        switch args.values["schedule"] ?? "cosine" {
        case "cosine": annealed = true
        case "constant": annealed = false
        case let other: throw UsageError("invalid value '\(other)' for --schedule; expected constant or cosine")
        }
        options = try RunOptions(args)
    }

    public func run(print output: (String) -> Void = { Swift.print($0) }) throws {
        let out = try options.prepare(defaultOut: "runs/course-\(experiment)")
        var configuration: [String: JSONValue] = ["command": .string("tessera " + (["course"] + arguments).joined(separator: " ")),
                                                  "experiment": .string(experiment), "seed": .number(Double(options.seed))]
        var records: [EpochRecord] = []
        var final: [String: Double] = [:]
        switch experiment {
        case "lstsq", "elm":
            let train = try ImageDatasets.mnistLike("mnist", split: .train, root: options.root)
            let test = try ImageDatasets.mnistLike("mnist", split: .test, root: options.root)
            let used = Swift.min(trainSize, train.inputs.shape[0])
            let x = train.inputs.narrowed(axis: 0, start: 0, length: used).cast(to: .float64)
            let y = train.targets.narrowed(axis: 0, start: 0, length: used)
            let tx = test.inputs.cast(to: .float64), ty = test.targets
            configuration["train_size"] = .number(Double(used))
            if experiment == "lstsq" {
                let lambda = self.lambda ?? 1
                configuration["lambda"] = .number(lambda)
                let lambdas = [1e-2, 1e-1, 1, 10, 100, 1e3, 1e4, 1e5]
                let report = try CourseExperiments.leastSquares(train: (x, y), test: (tx, ty), classes: 10, regularization: lambda,
                                                                lCurve: lambdas)
                for (i, p) in report.lCurve.enumerated() {
                    records.append(EpochRecord(epoch: i + 1, metrics: ["lambda": p.regularization, "residual_norm": p.residualNorm,
                                                                        "solution_norm": p.solutionNorm, "test_accuracy": p.testAccuracy]))
                    output(String(format: "λ %-8.0e residual %.4f  ‖W‖ %.4f  test accuracy %.4f", p.regularization, p.residualNorm,
                                  p.solutionNorm, p.testAccuracy))
                }
                final = ["test_accuracy": report.normalEquationsAccuracy, "cgls_test_accuracy": report.cglsAccuracy,
                         "cgls_iterations": Double(report.cglsIterations), "cgls_relative_difference": report.relativeDifference,
                         "train_accuracy": report.trainAccuracy]
                let chart = XYChart(title: "L-curve (Tikhonov least squares, MNIST)", xLabel: "‖A W − Y‖", yLabel: "‖W‖",
                                    logX: true, logY: true, series: [.init(name: "λ = 1e-2 … 1e5", x: report.lCurve.map(\.residualNorm),
                                                                           y: report.lCurve.map(\.solutionNorm), color: "#1f77b4")])
                try chart.svgDocument().write(toFile: out + "/lcurve.svg", atomically: true, encoding: .utf8)
            } else {
                let lambda = self.lambda ?? 1e-2
                configuration["lambda"] = .number(lambda); configuration["hidden"] = .number(Double(hidden))
                var elm = ExtremeLearningMachine(inputSize: 784, hidden: hidden, generator: RandomGenerator(seed: options.seed))
                try elm.fit(x, labels: y, classes: 10, regularization: lambda)
                final = ["test_accuracy": elm.accuracy(tx, labels: ty), "train_accuracy": elm.accuracy(x, labels: y)]
            }
        case "bnn":
            let train = try ImageDatasets.mnistLike("mnist", split: .train, root: options.root)
            let test = try ImageDatasets.mnistLike("mnist", split: .test, root: options.root)
            let fashion = try ImageDatasets.mnistLike("fashion-mnist", split: .test, root: options.root)
            let used = Swift.min(trainSize, train.inputs.shape[0])
            let x = train.inputs.narrowed(axis: 0, start: 0, length: used), y = train.targets.narrowed(axis: 0, start: 0, length: used)
            configuration["epochs"] = .number(Double(epochs)); configuration["samples"] = .number(Double(samples))
            configuration["sizes"] = .string("784-400-400-10"); configuration["prior_standard_deviation"] = .number(prior)
            configuration["learning_rate"] = .number(learningRate)
            configuration["schedule"] = .string(annealed ? "cosine" : "constant")
            let model = BayesianMLP(sizes: [784, 400, 400, 10], priorStandardDeviation: prior, generator: RandomGenerator(seed: options.seed))
            let history = BayesianTraining.fit(model, inputs: x, labels: y, epochs: epochs, learningRate: learningRate,
                                               annealed: annealed, seed: options.seed) { epoch, loss, kl in
                output(String(format: "epoch %d/%d  loss %.4f  kl per example %.4f", epoch, epochs, loss, kl))
            }
            records = history.enumerated().map { EpochRecord(epoch: $0.offset + 1, metrics: ["train_loss": $0.element.loss, "kl": $0.element.kl]) }
            let p = BayesianTraining.predictive(model, test.inputs, samples: samples)
            let accuracy = (p.argmax(axis: 1) .== test.targets).cast(to: .float64).mean().item(as: Double.self)
            let (ece, bins) = Uncertainty.expectedCalibrationError(p, labels: test.targets)
            let inDistribution = Uncertainty.entropy(p).scalars(as: Double.self)
            let outOfDistribution = Uncertainty.entropy(BayesianTraining.predictive(model, fashion.inputs, samples: samples)).scalars(as: Double.self)
            final = ["test_accuracy": accuracy, "ece": ece,
                     "fashion_mnist_entropy_auroc": Uncertainty.auroc(positive: outOfDistribution, negative: inDistribution),
                     "mean_entropy_mnist": inDistribution.reduce(0, +) / Double(inDistribution.count),
                     "mean_entropy_fashion_mnist": outOfDistribution.reduce(0, +) / Double(outOfDistribution.count)]
            let filled = bins.filter { $0.count > 0 }
            try XYChart(title: String(format: "Reliability (ECE %.4f)", ece), xLabel: "confidence", yLabel: "accuracy",
                        series: [.init(name: "perfect calibration", x: [0, 1], y: [0, 1], color: "#999999"),
                                 .init(name: "Bayes by backprop", x: filled.map(\.meanConfidence), y: filled.map(\.accuracy), color: "#1f77b4")])
                .svgDocument().write(toFile: out + "/reliability.svg", atomically: true, encoding: .utf8)
        case "node":
            let report = CourseExperiments.neuralODE(seed: options.seed)
            for (i, g) in report.gradientGaps.enumerated() {
                records.append(EpochRecord(epoch: i + 1, metrics: ["tolerance": g.tolerance, "adjoint_gradient_gap": g.gap,
                                                                    "function_evaluations": Double(g.functionEvaluations)]))
                output(String(format: "tolerance %.0e: adjoint vs backprop relative gap %.3e (%d evaluations)", g.tolerance, g.gap,
                              g.functionEvaluations))
                final[String(format: "adjoint_gradient_gap_%.0e", g.tolerance)] = g.gap
            }
            final["euler_resnet_amplification_unconstrained"] = report.amplification.unconstrained
            final["euler_resnet_amplification_antisymmetric"] = report.amplification.antisymmetric
            let colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]
            try XYChart(title: "Trajectories of dy/dt = tanh(yW + b)", xLabel: "y₁", yLabel: "y₂",
                        series: report.trajectories.enumerated().map { .init(name: "start \($0.offset + 1)", x: $0.element.map(\.0),
                                                                              y: $0.element.map(\.1), color: colors[$0.offset % 4]) })
                .svgDocument().write(toFile: out + "/trajectories.svg", atomically: true, encoding: .utf8)
        case "spectral":
            let generator = RandomGenerator(seed: options.seed)
            var series: [XYChart] = []
            for (name, toy) in [("two_moons", ToyDistribution.twoMoons), ("circles", ToyDistribution.circles)] {
                let sample = toy.sample(600, noise: toy == .twoMoons ? 0.05 : 0.03, generator: generator)
                let points = sample.points.cast(to: .float64)
                let spectral = SpectralClustering.fit(points, k: 2, generator: generator)
                let plain = KMeans.fit(points, k: 2, generator: generator)
                final[name + "_accuracy"] = SpectralClustering.accuracy(spectral.labels, truth: sample.components, k: 2)
                final[name + "_kmeans_accuracy"] = SpectralClustering.accuracy(plain.labels, truth: sample.components, k: 2)
                let xy = points.scalars(as: Double.self), labels = spectral.labels.scalars(as: Int64.self)
                series.append(XYChart(title: "\(name): spectral clustering", xLabel: "x", yLabel: "y", series: (0..<2).map { c in
                    let members = labels.indices.filter { labels[$0] == Int64(c) }
                    return .init(name: "cluster \(c)", x: members.map { xy[2 * $0] }, y: members.map { xy[2 * $0 + 1] },
                                 color: c == 0 ? "#1f77b4" : "#d62728", line: false)
                }))
            }
            try series[0].svgDocument().write(toFile: out + "/clusters-moons.svg", atomically: true, encoding: .utf8)
            try series[1].svgDocument().write(toFile: out + "/clusters-circles.svg", atomically: true, encoding: .utf8)
        case "ntk":
            configuration["depth"] = .number(Double(depth))
            let points = Tensor.randn([20, 4], dtype: .float64, generator: RandomGenerator(seed: options.seed))
            let results = CourseExperiments.ntkError(points: points, widths: widths, depth: depth,
                                                     seeds: [options.seed, options.seed + 1, options.seed + 2])
            for (i, r) in results.enumerated() {
                let mean = r.errors.reduce(0, +) / Double(r.errors.count)
                records.append(EpochRecord(epoch: i + 1, metrics: ["width": Double(r.width), "ntk_relative_error": mean]))
                final["ntk_relative_error_\(r.width)"] = mean
                output(String(format: "width %-6d relative error %.4f  (√(64/width) × first: %.4f)", r.width, mean,
                              (results[0].errors.reduce(0, +) / 3) * (Double(results[0].width) / Double(r.width)).squareRoot()))
            }
            let means = results.map { $0.errors.reduce(0, +) / Double($0.errors.count) }
            let first = means[0] * Double(results[0].width).squareRoot()
            try XYChart(title: "Empirical vs analytic NTK", xLabel: "width", yLabel: "relative Frobenius error", logX: true, logY: true,
                        series: [.init(name: "measured (mean of 3)", x: results.map { Double($0.width) }, y: means, color: "#1f77b4"),
                                 .init(name: "1/√width", x: results.map { Double($0.width) },
                                       y: results.map { first / Double($0.width).squareRoot() }, color: "#999999")])
                .svgDocument().write(toFile: out + "/ntk.svg", atomically: true, encoding: .utf8)
        default:  // taylor, newton: softmax regression on Peaks
            let data = Peaks.dataset(2000, seed: options.seed)
            let features = Tensor.concatenated([data.inputs.cast(to: .float64), Tensor.ones([2000, 1], dtype: .float64)], axis: 1)
            let loss: (Tensor) -> Tensor = { w in
                Tensor.crossEntropyFormula(logits: features.matmul(w.reshaped(to: [3, 5])), targets: data.targets).mean()
                    + 1e-3 * w.squared().sum()
            }
            let start = Tensor.randn([15], standardDeviation: 0.1, dtype: .float64, generator: RandomGenerator(seed: options.seed))
            if experiment == "taylor" {
                let report = DerivativeTest.taylor(loss, at: start)
                output(report.description)
                final = ["zeroth_order_slope": report.zerothOrderSlope, "first_order_slope": report.firstOrderSlope]
                for i in report.steps.indices {
                    records.append(EpochRecord(epoch: i + 1, metrics: ["h": report.steps[i], "e0": report.zerothOrderErrors[i],
                                                                        "e1": report.firstOrderErrors[i]]))
                }
                try XYChart(title: "Taylor test (softmax regression, Peaks)", xLabel: "h", yLabel: "error", logX: true, logY: true,
                            series: [.init(name: "E0 = |f(x+hv) − f(x)|", x: report.steps, y: report.zerothOrderErrors, color: "#1f77b4"),
                                     .init(name: "E1 = |… − h ∇f·v|", x: report.steps, y: report.firstOrderErrors, color: "#d62728")])
                    .svgDocument().write(toFile: out + "/taylor.svg", atomically: true, encoding: .utf8)
            } else {
                let descent = Minimizers.gradientDescent(loss, at: start, maxIterations: 500, gradientTolerance: 0)
                let newton = Minimizers.newtonCG(loss, at: start, targetLoss: descent.losses.last!)
                final = ["gradient_descent_iterations": Double(descent.iterations), "gradient_descent_loss": descent.losses.last!,
                         "newton_cg_iterations": Double(newton.iterations), "newton_cg_loss": newton.losses.last!,
                         "newton_cg_hessian_vector_products": Double(newton.innerIterations),
                         "iteration_ratio": Double(descent.iterations) / Double(Swift.max(newton.iterations, 1))]
                try XYChart(title: "Softmax regression on Peaks", xLabel: "iteration", yLabel: "loss", logY: true,
                            series: [.init(name: "gradient descent (Armijo)", x: descent.losses.indices.map(Double.init), y: descent.losses, color: "#1f77b4"),
                                     .init(name: "Newton-CG", x: newton.losses.indices.map(Double.init), y: newton.losses, color: "#d62728")])
                    .svgDocument().write(toFile: out + "/newton.svg", atomically: true, encoding: .utf8)
            }
        }
        for key in final.keys.sorted() { output("\(key): \(final[key]!)") }
        try Trainer.writeResults(history: TrainingHistory(epochs: records), configuration: configuration, final: final, to: out)
        output("wrote \(out)/results.json")
    }
}

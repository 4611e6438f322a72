import Foundation
import Generative
import NN
import TensorCore
import Training

/// `tessera train score|flow`: a score model or a RealNVP flow on a 2-D toy through the
/// Generative package's `ToyTraining`.
public struct ToyModelCommand {
    static let spec = CommandSpec(
        usage: "tessera train score|flow [options]",
        summary: """
        Trains a model of 2-D points with Adam. score: a noise-conditional MLP by denoising score
        matching over 10 noise scales, sampled by annealed Langevin dynamics (--process ncsn, the
        default), or over the VP-SDE's marginals, sampled by reverse-time Euler–Maruyama
        (--process vp; --sampler ode for the probability-flow ODE);
        flow: RealNVP affine couplings by maximum likelihood, with test_log_likelihood every epoch
        and a single Gaussian fitted to the training points as the baseline. Every epoch:
        samples-epoch-NNN.png (a scatter plot over the data), mmd against held-out points, and
        for the 8 Gaussians mode_coverage and within_3_sigma. Writes results.json, metrics.csv,
        curves and model.h5 to --out.
        """,
        options: [
            OptionSpec("dataset", "NAME", "8gaussians (score's default), moons (flow's default), swiss-roll, checkerboard, circles"),
            OptionSpec("process", "KIND", "score: ncsn (default: annealed Langevin) or vp (the VP-SDE)"),
            OptionSpec("sampler", "KIND", "score with vp: sde (default) or ode (probability flow)"),
            OptionSpec("sampling-steps", "S", "score: SDE/ODE steps (default 500) or Langevin steps per noise level (default 100)"),
            OptionSpec("hidden", "H", "hidden width (score 128, flow 64)"),
            OptionSpec("coordinate-frequency", "F", "score: highest frequency of the coordinates' sinusoidal encoding (default 30; 0: none)"),
            OptionSpec("layers", "L", "flow: affine coupling layers (default 8)"),
            OptionSpec("epochs", "N", "passes over the training points (score 40, flow 20)"),
            OptionSpec("train-size", "N", "points drawn for training (default 32768)"),
            OptionSpec("batch-size", "B", "points per step (default 256)"),
            OptionSpec("lr", "X", "Adam learning rate, annealed to 0 on a cosine (default 1e-3)"),
            OptionSpec("samples", "N", "samples the per-epoch measures use (default 2000)"),
        ] + OptionSpec.runOptions(out: "runs/MODEL-DATASET", data: false))
    public static var usage: String { spec.help }

    public var model = "score"
    public var toy = ToyDistribution.eightGaussians
    /// NCSN by default: on the 8 Gaussians its annealed Langevin samples reach the modes'
    /// 3σ (0.06) where the VP-SDE's stay wider in the same budget.
    public var scoreConfiguration = ScoreModelConfiguration(process: .ncsn)
    public var flowConfiguration = RealNVPConfiguration()
    public var probabilityFlow = false
    public var samplingSteps = 500
    public var epochs = 40
    public var trainSize = 32768
    public var batchSize = 256
    public var learningRate = 1e-3
    public var samples = 2000
    public var options: RunOptions
    var arguments: [String] = []

    public init(arguments: [String]) throws {
        self.arguments = arguments
        let args = try Self.spec.parse(arguments)
        guard let first = args.positional.first, ["score", "flow"].contains(first) else {
            throw UsageError("expected a model: tessera train score|flow [options]")
        }
        guard args.positional.count == 1 else { throw UsageError("unexpected argument '\(args.positional[1])'") }
        model = first
        let name = args.values["dataset"] ?? (model == "score" ? "8gaussians" : "moons")
        guard let toy = ToyDistribution(rawValue: name) else {
            throw UsageError("invalid value '\(name)' for --dataset; expected " + ToyDistribution.allCases.map(\.rawValue).joined(separator: ", "))
        }
        self.toy = toy
        let positive = { (v: Int) in v > 0 }
        if model == "score" {
            if let text = args.values["process"] {
                guard let p = ScoreModelConfiguration.Process(rawValue: text) else { throw UsageError("invalid value '\(text)' for --process; expected vp or ncsn") }
                scoreConfiguration.process = p
            }
            if let text = args.values["sampler"] {
                guard ["sde", "ode"].contains(text) else { throw UsageError("invalid value '\(text)' for --sampler; expected sde or ode") }
                guard scoreConfiguration.process == .vp else { throw UsageError("--sampler \(text): annealed Langevin (--process ncsn) has no other sampler") }
                probabilityFlow = text == "ode"
            }
            samplingSteps = try args.value("sampling-steps", default: scoreConfiguration.process == .vp ? 500 : 100,
                                           where: { $0 > 0 && $0 <= 100_000 }, expected: "an integer in 1...100000")
            scoreConfiguration.hiddenSize = try args.value("hidden", default: 128, where: positive, expected: "a positive integer")
            scoreConfiguration.coordinateFrequency = try args.value("coordinate-frequency", default: 30.0,
                                                                    where: { $0 == 0 || ($0 >= 1 && $0 <= 1e6) }, expected: "0 or a number in 1...1000000")
            try CommandChecks.fitsInMemory([[(scoreConfiguration.hiddenSize, "hidden"), (scoreConfiguration.hiddenSize, "hidden"), (3, nil)]],
                                           bytesPerElement: 16)
            if args.values["layers"] != nil { throw UsageError("--layers applies to flow only") }
        } else {
            if args.values["process"] != nil || args.values["sampler"] != nil || args.values["sampling-steps"] != nil || args.values["coordinate-frequency"] != nil {
                throw UsageError("--process, --sampler, --sampling-steps and --coordinate-frequency apply to score only")
            }
            flowConfiguration.hiddenSize = try args.value("hidden", default: 64, where: positive, expected: "a positive integer")
            flowConfiguration.couplingLayers = try args.value("layers", default: 8, where: { $0 > 0 && $0 <= 256 }, expected: "an integer in 1...256")
            try CommandChecks.fitsInMemory([[(flowConfiguration.hiddenSize, "hidden"), (flowConfiguration.hiddenSize, "hidden"),
                                             (flowConfiguration.couplingLayers, "layers"), (3, nil)]], bytesPerElement: 16)
        }
        epochs = try args.value("epochs", default: model == "score" ? 40 : 20, where: positive, expected: "a positive integer")
        trainSize = try args.value("train-size", default: 32768, where: { $0 > 1 && $0 <= 10_000_000 }, expected: "an integer in 2...10000000")
        batchSize = try args.value("batch-size", default: 256, where: positive, expected: "a positive integer")
        learningRate = try args.value("lr", default: 1e-3, where: { $0 > 0 && $0.isFinite }, expected: "a positive number")
        samples = try args.value("samples", default: 2000, where: { $0 > 1 && $0 <= 1_000_000 }, expected: "an integer in 2...1000000")
        options = try RunOptions(args)
    }

    @discardableResult
    public func run(print output: (String) -> Void = { Swift.print($0) }) throws -> TrainingHistory {
        try withoutActuallyEscaping(output) { output in
            let out = try options.prepare(defaultOut: "runs/\(model)-\(toy.rawValue)")
            let seed = options.seed
            let recorded: [String: JSONValue] = ["command": .string((["tessera", "train"] + arguments).joined(separator: " "))]
            var run: ToyTraining
            if model == "score" {
                let score = ScoreModel(scoreConfiguration, generator: RandomGenerator(seed: seed))
                let (steps, flow) = (samplingSteps, probabilityFlow)
                run = ToyTraining(model: score, toy: toy, outputDirectory: out, loss: { score.loss($0, generator: $1) }, sampler: { count, g in
                    score.configuration.process == .vp ? score.sampleSDE(count: count, steps: steps, probabilityFlow: flow, generator: g)
                                                       : score.annealedLangevin(count: count, stepsPerLevel: steps, generator: g)
                })
                run.parameters = score.trainableParameters
                run.afterStep = { score.updateAverage() }
                run.modelMetadata = ["kind": "score", "config": String(decoding: try JSONEncoder().encode(scoreConfiguration), as: UTF8.self)]
                output("training a \(scoreConfiguration.process.rawValue) score model (\(score.parameterCount) parameters) on \(toy.rawValue)")
            } else {
                let flow = RealNVP(flowConfiguration, generator: RandomGenerator(seed: seed))
                run = ToyTraining(model: flow, toy: toy, outputDirectory: out, loss: { x, _ in flow.logLikelihood(x).mean() * -1 },
                                  sampler: { count, g in withoutGradients { flow.sample(count: count, generator: g) } })
                run.evaluate = { test in withoutGradients { ["test_log_likelihood": flow.logLikelihood(test).mean().item(as: Double.self)] } }
                run.modelMetadata = ["kind": "flow", "config": String(decoding: try JSONEncoder().encode(flowConfiguration), as: UTF8.self)]
                output("training RealNVP (\(flowConfiguration.couplingLayers) couplings, \(flow.parameterCount) parameters) on \(toy.rawValue)")
            }
            run.trainSize = trainSize
            run.epochs = epochs
            run.batchSize = batchSize
            run.learningRate = learningRate
            run.seed = seed
            run.evaluationSamples = samples
            run.checkpointDirectory = options.checkpointDirectory
            run.resume = options.resume
            run.log = output
            var extra = recorded
            if model == "score" {
                extra["model"] = try JSONValue(encoding: scoreConfiguration)
                extra["sampler"] = .string(scoreConfiguration.process == .ncsn ? "annealed-langevin" : (probabilityFlow ? "ode" : "sde"))
                extra["sampling_steps"] = .number(Double(samplingSteps))
            } else {
                extra["model"] = try JSONValue(encoding: flowConfiguration)
                // The baseline the flow must beat: one Gaussian fitted to the same training points.
                let train = toy.dataset(trainSize, seed: seed &+ 100).inputs, test = toy.sample(2000, generator: RandomGenerator(seed: seed &+ 101)).points
                run.extraFinalFigures["gaussian_test_log_likelihood"] = gaussianFitLogLikelihood(train: train, test: test)
            }
            return try run.run(recorded: extra)
        }
    }
}

import TensorCore
import Training

/// `tessera curve`: fits a small MLP to a noisy curve with TensorCore alone (tensors,
/// autograd, a hand-written SGD with momentum) and prints the loss falling.
public struct CurveCommand {
    static let spec = CommandSpec(
        usage: "tessera curve [options]",
        summary: """
        Fits y = x sin(3x) + noise on 256 points with a 1-H-H-1 tanh MLP, full batch,
        SGD with momentum 0.9, with TensorCore alone, and prints the mean squared error as it falls.
        """,
        options: [
            OptionSpec("steps", "N", "optimisation steps (default 2000)"),
            OptionSpec("lr", "X", "learning rate (default 0.1)"),
            OptionSpec("hidden", "H", "hidden width (default 32)"),
            OptionSpec("seed", "S", "random seed (default 0)"),
            OptionSpec("out", "DIR", "where results.json goes (default runs/curve)"),
        ])
    public static var usage: String { spec.help }

    public var steps = 2000
    public var learningRate = 0.1
    public var hidden = 32
    public var seed: UInt64 = 0
    public var outDirectory = "runs/curve"

    public init(arguments: [String]) throws {
        let args = try Self.spec.parse(arguments)
        guard args.positional.isEmpty else { throw UsageError("unexpected argument '\(args.positional[0])'") }
        steps = try args.value("steps", default: 2000, where: { $0 > 0 }, expected: "a positive integer")
        learningRate = try args.value("lr", default: 0.1, where: { $0 > 0 && $0.isFinite }, expected: "a positive number")
        hidden = try args.value("hidden", default: 32, where: { $0 > 0 }, expected: "a positive integer")
        try CommandChecks.fitsInMemory([[(1, nil), (hidden, "hidden")], [(hidden, "hidden"), (hidden, "hidden")], [(hidden, "hidden")]],
                                       bytesPerElement: 16)
        seed = try args.value("seed", default: UInt64(0))
        outDirectory = args.values["out"] ?? outDirectory
    }

    /// Runs the fit; returns the losses at each step (also printed every `reportEvery`).
    @discardableResult
    public func run(print output: (String) -> Void = { Swift.print($0) }, reportEvery: Int = 200) throws -> [Double] {
        try CommandChecks.prepareDirectory(outDirectory, option: "out")
        let generator = RandomGenerator(seed: seed)
        let x = Tensor.linspace(-1, 1, count: 256).reshaped(to: [256, 1])
        let y = x * (x * 3).sin() + Tensor.randn([256, 1], standardDeviation: 0.05, generator: generator)

        func layer(_ fanIn: Int, _ fanOut: Int) -> (Parameter, Parameter) {
            let bound = 1 / Double(fanIn).squareRoot()
            return (Parameter(Tensor.rand([fanIn, fanOut], low: -bound, high: bound, generator: generator)),
                    Parameter(Tensor.rand([fanOut], low: -bound, high: bound, generator: generator)))
        }
        let layers = [layer(1, hidden), layer(hidden, hidden), layer(hidden, 1)]
        let parameters = layers.flatMap { [$0.0, $0.1] }
        var velocity = parameters.map { Tensor.zeros(like: $0.value) }

        output("fitting y = x sin(3x) + noise with a 1-\(hidden)-\(hidden)-1 MLP, SGD lr \(learningRate), momentum 0.9")
        var losses: [Double] = []
        let clock = ContinuousClock()
        let start = clock.now
        for step in 1...steps {
            var h = x
            for (i, (w, b)) in layers.enumerated() {
                h = h.matmul(w.value) + b.value
                if i < layers.count - 1 { h = h.tanh() }
            }
            let loss = (h - y).squared().mean()
            for p in parameters { p.grad = nil }
            loss.backward()
            withoutGradients {
                for (i, p) in parameters.enumerated() {
                    velocity[i] = velocity[i] * 0.9 + p.grad!
                    p.value = p.value - velocity[i] * learningRate
                }
            }
            let value = loss.item(as: Double.self)
            losses.append(value)
            guard value.isFinite else {
                output("step \(step): loss is \(value); lower --lr")
                break
            }
            if step == 1 || step % reportEvery == 0 || step == steps {
                let elapsed = Double((clock.now - start).components.attoseconds) / 1e18 + Double((clock.now - start).components.seconds)
                let rate = Double(step) / Swift.max(elapsed, 1e-9)
                output(progressLine(step: step, of: steps, loss: value, rate: rate))
            }
        }
        if let first = losses.first, let last = losses.last {
            output("loss \(format(first)) -> \(format(last)) (noise floor 0.0025)")
            // One record per report interval, and the run's figures (the loop stays TensorCore's own).
            let history = TrainingHistory(epochs: stride(from: reportEvery, through: losses.count, by: reportEvery).map {
                EpochRecord(epoch: $0 / reportEvery, metrics: ["step": Double($0), "train_loss": losses[$0 - 1]])
            })
            try Trainer.writeResults(history: history, configuration: [
                "command": "tessera curve", "steps": .number(Double(steps)), "learning_rate": .number(learningRate),
                "hidden": .number(Double(hidden)), "seed": .number(Double(seed)),
            ], final: ["train_loss": last, "initial_loss": first, "steps": Double(losses.count)], to: outDirectory)
        }
        return losses
    }

    func progressLine(step: Int, of total: Int, loss: Double, rate: Double) -> String {
        let width = 24
        let filled = width * step / total
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let eta = Double(total - step) / Swift.max(rate, 1e-9)
        return "[\(bar)] step \(step)/\(total)  loss \(format(loss))  \(Int(rate)) steps/s  eta \(format(eta, digits: 1))s"
    }
}

/// `--help`: not an error, but stops the command with its usage text.
public struct HelpRequested: Error {
    public var text: String
}

func format(_ v: Double, digits: Int = 5) -> String {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let r = (v * scale).rounded() / scale
    return "\(r)"
}

import Foundation
import GraphNetworks
import TensorCore
import Training

/// `tessera train gcn|gat|sage --dataset karate|sbm` and `tessera train gin --dataset cycles`:
/// graph neural networks through the GraphNetworks library.
public struct GraphCommand {
    static let models = ["gcn", "gat", "sage", "gin"]
    static let spec = CommandSpec(
        usage: "tessera train gcn|gat|sage|gin [options]",
        summary: """
        Node classification (gcn, gat, sage) on Zachary's karate club with one labelled member per
        club, or on a 4-block stochastic block model with 20 labelled nodes per block; graph
        classification (gin) of cycles against trees. Writes results.json (final.test_accuracy
        over the unlabelled nodes or held-out graphs) and, for nodes, embeddings.svg (the first
        layer's embeddings on their two principal components, coloured by class) to --out.
        """,
        options: [
            OptionSpec("dataset", "NAME", "karate (gcn's default), sbm (gat's and sage's), or cycles (gin's, the only one it takes)"),
            OptionSpec("task", "NAME", "gcn: nodes (default) or links (held-out edge prediction, final.link_auc)"),
            OptionSpec("epochs", "N", "full-batch epochs (default 200; gin 30 epochs of minibatches)"),
            OptionSpec("lr", "X", "Adam learning rate (default 0.01; gat 0.005)"),
            OptionSpec("weight-decay", "X", "node models: Adam's L2 weight decay (default 5e-4)"),
            OptionSpec("p-in", "P", "sbm: edge probability inside a block (default 0.15)"),
            OptionSpec("p-out", "P", "sbm: edge probability across blocks (default 0.01)"),
        ] + OptionSpec.runOptions(out: "runs/MODEL-DATASET", data: false))
    public static var usage: String { spec.help }

    public var model = "gcn"
    public var dataset = "karate"
    public var epochs = 200
    public var learningRate = 0.01
    public var weightDecay = 5e-4
    public var task = "nodes"
    public var inside = 0.15
    public var across = 0.01
    public var options: RunOptions
    var arguments: [String]

    public init(arguments: [String]) throws {
        self.arguments = arguments
        let args = try Self.spec.parse(arguments)
        model = try args.onlyPositional(from: Self.models, usage: "tessera train")
        dataset = args.values["dataset"] ?? (model == "gin" ? "cycles" : model == "gcn" ? "karate" : "sbm")
        if model == "gin" {
            guard dataset == "cycles" else { throw UsageError("invalid value '\(dataset)' for --dataset; gin classifies graphs: cycles") }
        } else if GraphExperiments.NodeDataset(rawValue: dataset) == nil {
            throw UsageError("invalid value '\(dataset)' for --dataset; expected karate or sbm")
        }
        task = args.values["task"] ?? "nodes"
        guard ["nodes", "links"].contains(task) else { throw UsageError("invalid value '\(task)' for --task; expected nodes or links") }
        if task == "links" && model != "gcn" { throw UsageError("--task links trains a GCN encoder: tessera train gcn --task links") }
        epochs = try args.value("epochs", default: model == "gin" ? 30 : 200, where: { $0 >= 1 && $0 <= 100_000 }, expected: "an integer in 1...100000")
        learningRate = try args.value("lr", default: model == "gat" ? 0.005 : 0.01, where: { $0 > 0 && $0.isFinite }, expected: "a positive number")
        inside = try args.value("p-in", default: 0.15, where: { $0 >= 0 && $0 <= 1 }, expected: "a probability in [0, 1]")
        across = try args.value("p-out", default: 0.01, where: { $0 >= 0 && $0 <= 1 }, expected: "a probability in [0, 1]")
        if dataset != "sbm" && (args.values["p-in"] != nil || args.values["p-out"] != nil) {
            throw UsageError("--p-in and --p-out are the sbm dataset's; --dataset is \(dataset)")
        }
        weightDecay = try args.value("weight-decay", default: 5e-4, where: { $0 >= 0 && $0.isFinite }, expected: "a non-negative number")
        options = try RunOptions(args)
        if options.checkpointDirectory != nil || options.resume {
            throw UsageError("--checkpoint-dir and --resume: graph runs take seconds and are not checkpointed")
        }
    }

    public func run(print output: (String) -> Void = { Swift.print($0) }) throws {
        let out = try options.prepare(defaultOut: "runs/\(model)-\(dataset)")
        let configuration: [String: JSONValue] = [
            "command": .string("tessera " + (["train"] + arguments).joined(separator: " ")), "model": .string(model),
            "dataset": .string(dataset), "task": .string(task), "epochs": .number(Double(epochs)), "learning_rate": .number(learningRate),
            "weight_decay": .number(weightDecay), "p_in": .number(inside), "p_out": .number(across),
            "seed": .number(Double(options.seed)),
        ]
        let losses: [Double], final: [String: Double]
        if task == "links" {
            let report = GraphExperiments.linkPrediction(on: GraphExperiments.NodeDataset(rawValue: dataset)!, epochs: epochs,
                                                         learningRate: learningRate, inside: inside, across: across, seed: options.seed)
            losses = report.losses
            final = ["link_auc": report.auc]
        } else if model == "gin" {
            let report = GraphExperiments.cyclesAgainstTrees(epochs: epochs, learningRate: learningRate, seed: options.seed)
            losses = report.losses
            final = ["test_accuracy": report.testAccuracy, "train_accuracy": report.trainAccuracy]
        } else {
            let kind = GraphLayerKind(rawValue: model)!, data = GraphExperiments.NodeDataset(rawValue: dataset)!
            let report = GraphExperiments.nodeClassification(kind, on: data, epochs: epochs, learningRate: learningRate,
                                                                weightDecay: weightDecay, inside: inside, across: across, seed: options.seed)
            losses = report.losses
            final = ["test_accuracy": report.testAccuracy, "train_accuracy": report.trainAccuracy,
                     "labelled_nodes": Double(report.trainNodes.count), "test_nodes": Double(report.testNodes.count)]
            let colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]
            let classes = Set(report.embedding.labels).sorted()
            try XYChart(title: "\(model) on \(dataset): node embeddings (first layer, 2 principal components)", xLabel: "PC 1", yLabel: "PC 2",
                        series: classes.map { c in
                            let rows = report.embedding.labels.indices.filter { report.embedding.labels[$0] == c }
                            return .init(name: "class \(c)", x: rows.map { report.embedding.points[$0][0] }, y: rows.map { report.embedding.points[$0][1] },
                                         color: colors[c % colors.count], line: false)
                        })
                .svgDocument().write(toFile: out + "/embeddings.svg", atomically: true, encoding: .utf8)
        }
        let history = TrainingHistory(epochs: losses.enumerated().map { EpochRecord(epoch: $0.offset + 1, metrics: ["train_loss": $0.element]) })
        try Trainer.writeResults(history: history, configuration: configuration, final: final, to: out)
        for key in final.keys.sorted() { output("\(key): \(final[key]!)") }
        output("wrote \(out)/results.json")
    }
}

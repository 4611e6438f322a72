import Foundation

/// One epoch's (or one evaluation's) named figures: `train_loss`, `train_accuracy`,
/// `validation_loss`, `validation_accuracy`, `learning_rate`, `seconds`, and whatever a
/// callback or family adds.
public struct EpochRecord: Equatable, Sendable {
    /// The epoch (or evaluation) number, from 1.
    public var epoch: Int
    /// The figures by name.
    public var metrics: [String: Double]

    /// A record of `epoch` holding `metrics`.
    public init(epoch: Int, metrics: [String: Double] = [:]) {
        self.epoch = epoch
        self.metrics = metrics
    }

    /// The figure called `name`, if recorded.
    public subscript(name: String) -> Double? {
        get { metrics[name] }
        set { metrics[name] = newValue }
    }
}

/// Every epoch of a run, in order.
public struct TrainingHistory: Equatable, Sendable {
    /// The records in order.
    public var epochs: [EpochRecord] = []
    /// A history of `epochs`.
    public init(epochs: [EpochRecord] = []) { self.epochs = epochs }

    /// The metric names in a stable order: training's loss and accuracy, every other split's
    /// (sorted by split), the learning rate and time, then the rest sorted.
    public var metricNames: [String] {
        let all = Set(epochs.flatMap { $0.metrics.keys })
        func split(_ name: String) -> String? {
            for kind in ["_loss", "_accuracy"] where name.hasSuffix(kind) { return String(name.dropLast(kind.count)) }
            return nil
        }
        let splits = Set(all.compactMap(split)).subtracting(["train"]).sorted()
        let ordered = (["train"] + splits).flatMap { ["\($0)_loss", "\($0)_accuracy"] } + ["learning_rate", "seconds"]
        return ordered.filter(all.contains) + all.subtracting(ordered).sorted()
    }

    /// The curves to plot: for `loss` and `accuracy` (those with any), each split's values by
    /// epoch (`train`, `test`, …), in `metricNames` order.
    public var curves: [(kind: String, series: [(split: String, values: [Double])])] {
        let names = metricNames
        return ["loss", "accuracy"].compactMap { kind in
            let matching = names.filter { $0.hasSuffix("_" + kind) }
            guard !matching.isEmpty else { return nil }
            return (kind, matching.map { (String($0.dropLast(kind.count + 1)), values(of: $0)) })
        }
    }

    /// The values of `name` by epoch (NaN where an epoch lacks it).
    public func values(of name: String) -> [Double] { epochs.map { $0.metrics[name] ?? .nan } }

    /// `epoch,train_loss,...` with one line per epoch.
    public var csv: String {
        let names = metricNames
        var text = (["epoch"] + names).joined(separator: ",") + "\n"
        for e in epochs {
            text += ([String(e.epoch)] + names.map { e.metrics[$0].map { "\($0)" } ?? "" }).joined(separator: ",") + "\n"
        }
        return text
    }

    /// Reads `csv` back (the format a checkpoint keeps its history in).
    public init(csv: String) {
        let lines = csv.split(separator: "\n").map(String.init)
        guard let header = lines.first?.split(separator: ",", omittingEmptySubsequences: false).map(String.init) else { return }
        for line in lines.dropFirst() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == header.count, let epoch = Int(fields[0]) else { continue }
            var record = EpochRecord(epoch: epoch)
            for (name, field) in zip(header.dropFirst(), fields.dropFirst()) { record.metrics[name] = Double(field) }
            epochs.append(record)
        }
    }

    /// The records as a JSON array of objects (`epoch` and every figure), as results.json holds them.
    public var jsonValue: JSONValue {
        .array(epochs.map { e in
            var members = e.metrics.mapValues { JSONValue.number($0) }
            members["epoch"] = .number(Double(e.epoch))
            return .object(members)
        })
    }
}

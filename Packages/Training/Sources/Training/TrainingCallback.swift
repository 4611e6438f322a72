/// Hooks into a `Trainer`'s loop, as Keras callbacks and Lightning hooks: every method has an
/// empty default, so a callback implements what it needs. Set `trainer.shouldStop` to end
/// training after the current epoch.
public protocol TrainingCallback: AnyObject {
    func trainingWillBegin(_ trainer: Trainer)
    func epochWillBegin(_ trainer: Trainer, epoch: Int)
    /// After each optimizer step: the global step and the batch's (unscaled) loss.
    func batchDidEnd(_ trainer: Trainer, step: Int, loss: Double)
    /// After an epoch and its validation; `record` may gain figures here.
    func epochDidEnd(_ trainer: Trainer, record: inout EpochRecord)
    func trainingDidEnd(_ trainer: Trainer, history: TrainingHistory)
    /// Before `final` goes into results.json; figures may be added (`perplexity`, …).
    func finalFiguresWillBeWritten(_ trainer: Trainer, final: inout [String: Double])
}

extension TrainingCallback {
    public func trainingWillBegin(_ trainer: Trainer) {}
    public func epochWillBegin(_ trainer: Trainer, epoch: Int) {}
    public func batchDidEnd(_ trainer: Trainer, step: Int, loss: Double) {}
    public func epochDidEnd(_ trainer: Trainer, record: inout EpochRecord) {}
    public func trainingDidEnd(_ trainer: Trainer, history: TrainingHistory) {}
    public func finalFiguresWillBeWritten(_ trainer: Trainer, final: inout [String: Double]) {}
}

/// Adds the perplexity (e to the mean loss in nats) of every `<split>_loss` of a language
/// model to each record as `<split>_perplexity`, and the last evaluation's as `perplexity`
/// to `final` (from `validation_loss` when recorded, else from `train_loss`).
public final class PerplexityReport: TrainingCallback {
    /// A callback adding perplexities.
    public init() {}

    public func epochDidEnd(_ trainer: Trainer, record: inout EpochRecord) {
        for (name, value) in record.metrics where name.hasSuffix("_loss") {
            record[String(name.dropLast("_loss".count)) + "_perplexity"] = Metrics.perplexity(meanLoss: value)
        }
    }

    public func finalFiguresWillBeWritten(_ trainer: Trainer, final: inout [String: Double]) {
        if let loss = final["validation_loss"] ?? final["train_loss"] { final["perplexity"] = Metrics.perplexity(meanLoss: loss) }
    }
}

/// Stops when `monitor` has not improved by more than `minimumDelta` for `patience` epochs,
/// as Keras' `EarlyStopping`; `stoppedEpoch` says when.
public final class EarlyStopping: TrainingCallback {
    /// Whether lower (loss) or higher (accuracy) values of the monitored figure are better.
    public enum Mode: String, Codable, Sendable { case minimize, maximize }

    /// The record figure watched (`validation_loss`, `test_accuracy`, …).
    public let monitor: String
    /// Which direction counts as improvement.
    public let mode: Mode
    /// Epochs without improvement tolerated before stopping.
    public let patience: Int
    /// The least change that counts as an improvement.
    public let minimumDelta: Double
    /// The best value seen so far.
    public private(set) var best: Double?
    /// The epoch that gave `best`.
    public private(set) var bestEpoch: Int?
    /// The epoch after which training was stopped (nil while it has not been).
    public private(set) var stoppedEpoch: Int?
    private var waited = 0

    /// Stops after `patience` epochs without an improvement of `monitor` by more than `minimumDelta`.
    public init(monitor: String = "validation_loss", mode: Mode = .minimize, patience: Int = 3, minimumDelta: Double = 0) {
        self.monitor = monitor
        self.mode = mode
        self.patience = patience
        self.minimumDelta = minimumDelta
    }

    public func epochDidEnd(_ trainer: Trainer, record: inout EpochRecord) {
        guard let value = record[monitor], value.isFinite else { return }
        let improved = best.map { mode == .minimize ? value < $0 - minimumDelta : value > $0 + minimumDelta } ?? true
        if improved {
            best = value
            bestEpoch = record.epoch
            waited = 0
        } else {
            waited += 1
            if waited >= patience {
                stoppedEpoch = record.epoch
                trainer.shouldStop = true
            }
        }
    }
}

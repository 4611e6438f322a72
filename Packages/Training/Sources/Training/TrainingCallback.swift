/// Hooks into a `Trainer`'s loop, as Keras callbacks and Lightning hooks: every method has an
/// empty default, so a callback implements what it needs. Set `trainer.shouldStop` to end
/// training after the current epoch.
public protocol TrainingCallback: AnyObject {
    /// Before the first epoch (after a resume has restored the trainer).
    func trainingWillBegin(_ trainer: Trainer)
    /// Before each epoch's (or evaluation interval's) first batch.
    func epochWillBegin(_ trainer: Trainer, epoch: Int)
    /// After each optimizer step: the global step and the batch's (unscaled) loss.
    func batchDidEnd(_ trainer: Trainer, step: Int, loss: Double)
    /// After an epoch and its validation; `record` may gain figures here.
    func epochDidEnd(_ trainer: Trainer, record: inout EpochRecord)
    /// After the last epoch, before results are written.
    func trainingDidEnd(_ trainer: Trainer, history: TrainingHistory)
    /// Before `final` goes into results.json; figures may be added (`perplexity`, …).
    func finalFiguresWillBeWritten(_ trainer: Trainer, final: inout [String: Double])
}

extension TrainingCallback {
    /// Does nothing.
    public func trainingWillBegin(_ trainer: Trainer) {}
    /// Does nothing.
    public func epochWillBegin(_ trainer: Trainer, epoch: Int) {}
    /// Does nothing.
    public func batchDidEnd(_ trainer: Trainer, step: Int, loss: Double) {}
    /// Does nothing.
    public func epochDidEnd(_ trainer: Trainer, record: inout EpochRecord) {}
    /// Does nothing.
    public func trainingDidEnd(_ trainer: Trainer, history: TrainingHistory) {}
    /// Does nothing.
    public func finalFiguresWillBeWritten(_ trainer: Trainer, final: inout [String: Double]) {}
}

/// Adds the perplexity (e to the mean loss in nats) of every `<split>_loss` of a language
/// model to each record as `<split>_perplexity`, and the last evaluation's as `perplexity`
/// to `final` (from `validation_loss` when recorded, else from `train_loss`).
public final class PerplexityReport: TrainingCallback {
    /// A callback adding perplexities.
    public init() {}

    /// Adds `<split>_perplexity` for every `<split>_loss` of the record.
    public func epochDidEnd(_ trainer: Trainer, record: inout EpochRecord) {
        for (name, value) in record.metrics where name.hasSuffix("_loss") {
            record[String(name.dropLast("_loss".count)) + "_perplexity"] = Metrics.perplexity(meanLoss: value)
        }
    }

    /// Adds `perplexity` from the final validation (or training) loss.
    public func finalFiguresWillBeWritten(_ trainer: Trainer, final: inout [String: Double]) {
        if let loss = final["validation_loss"] ?? final["train_loss"] { final["perplexity"] = Metrics.perplexity(meanLoss: loss) }
    }
}

/// Stops when `monitor` has not improved by more than `minimumDelta` for `patience` epochs,
/// as Keras' `EarlyStopping`; `stoppedEpoch` says when.
public final class EarlyStopping: TrainingCallback {
    /// Whether lower (loss) or higher (accuracy) values of the monitored figure are better.
    public enum Mode: String, Codable, Sendable {
        /// Lower is better (a loss).
        case minimize
        /// Higher is better (an accuracy).
        case maximize
    }

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

    /// Compares the record's monitored figure with the best so far; stops the trainer after
    /// `patience` epochs without improvement.
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

import Foundation
import NN
import Optim
import TensorCore

/// Runs epochs over a `DataLoader`: forward, loss, backward, gradient accumulation and
/// clipping, the optimizer and schedule steps, evaluation after every epoch, callbacks,
/// progress, checkpoints with bit-identical resume, and the run's results (results.json,
/// metrics.csv, curves.svg). What PyTorch Lightning's `Trainer.fit` and Keras' `fit` do.
///
/// ```swift
/// let trainer = Trainer(model: model, optimizer: SGD(parameters: model.parameters(), learningRate: 0.05, momentum: 0.9),
///                       configuration: TrainerConfiguration(epochs: 5, outputDirectory: "runs/mlp"))
/// let history = try trainer.fit(trainLoader, evaluating: testLoader, as: "test")
/// ```
public final class Trainer {
    /// The model trained (in train mode during epochs, eval mode during evaluation).
    public let model: Module
    /// The optimizer stepping the model's parameters.
    public let optimizer: Optimizer
    /// The learning-rate schedule (stepped per batch or per epoch).
    public let schedule: LearningRateSchedule?
    /// `loss(output, target)`: a mean over the batch (default: cross-entropy on logits).
    public let loss: (Tensor, Tensor) -> Tensor
    /// How the loop runs and where its outputs go.
    public var configuration: TrainerConfiguration
    /// Called at the loop's events, in order.
    public var callbacks: [TrainingCallback]
    /// Recorded under `configuration` in results.json besides the trainer's own (the command
    /// line, the model's configuration, the dataset).
    public var recordedConfiguration: [String: JSONValue] = [:]
    /// Where epoch lines go (standard output by default).
    public var log: (String) -> Void = { print($0) }
    /// Set by a callback to end training after the current epoch.
    public var shouldStop = false

    /// Optimizer steps taken so far (across resumes).
    public internal(set) var step = 0
    /// The epoch running or last finished (1-based).
    public internal(set) var epoch = 0
    /// Every finished epoch's record (restored ones too after a resume).
    public internal(set) var history = TrainingHistory()

    /// A trainer of `model` with `optimizer` (and `schedule`), minimising `loss`.
    public init(model: Module, optimizer: Optimizer, schedule: LearningRateSchedule? = nil,
                loss: @escaping (Tensor, Tensor) -> Tensor = { crossEntropy(logits: $0, targets: $1) },
                configuration: TrainerConfiguration = TrainerConfiguration(), callbacks: [TrainingCallback] = []) {
        tensorCheck(configuration.epochs > 0 && configuration.accumulationSteps > 0,
                    "[Trainer] epochs (\(configuration.epochs)) and accumulation steps (\(configuration.accumulationSteps)) must be positive")
        self.model = model
        self.optimizer = optimizer
        self.schedule = schedule
        self.loss = loss
        self.configuration = configuration
        self.callbacks = callbacks
    }

    /// Running sums of one epoch's training figures (kept in mid-epoch checkpoints).
    struct EpochTotals {
        var lossSum = 0.0, correct = 0, seen = 0, batches = 0
        var hasAccuracy = false
    }

    /// Trains for `configuration.epochs`, evaluating `evaluation` after every epoch under the
    /// names `<name>_loss` and `<name>_accuracy`; returns the history (also in `history`).
    /// Throws `TrainingError` when the loss stops being finite or an output cannot be written.
    @discardableResult
    public func fit<D: Dataset, V: Dataset>(_ train: DataLoader<D>, evaluating evaluation: DataLoader<V>?,
                                            as name: String = "validation") throws -> TrainingHistory
        where D.Example == LabeledExample, V.Example == LabeledExample {
        shouldStop = false
        var resumed = try resumeIfAsked()
        callbacks.forEach { $0.trainingWillBegin(self) }
        let lastEpoch = Swift.min(configuration.epochs, configuration.stopAfterEpoch ?? configuration.epochs)
        var epochNumber = resumed?.epoch ?? history.epochs.count + 1
        while epochNumber <= lastEpoch && !shouldStop {
            epoch = epochNumber
            let epochStarted = Date()
            var totals = resumed?.totals ?? EpochTotals()
            let skip = resumed?.batchesDone ?? 0
            resumed = nil
            try trainEpoch(train, skipping: skip, totals: &totals)
            var record = EpochRecord(epoch: epochNumber)
            record["train_loss"] = totals.lossSum / Double(Swift.max(totals.seen, 1))
            if totals.hasAccuracy { record["train_accuracy"] = Double(totals.correct) / Double(Swift.max(totals.seen, 1)) }
            if let evaluation {
                let result = evaluate(evaluation)
                record["\(name)_loss"] = result.loss
                if let accuracy = result.accuracy { record["\(name)_accuracy"] = accuracy }
            }
            if !configuration.scheduleStepsPerBatch { schedule?.step() }
            record["learning_rate"] = optimizer.learningRate
            record["seconds"] = Date().timeIntervalSince(epochStarted)
            for callback in callbacks { callback.epochDidEnd(self, record: &record) }
            history.epochs.append(record)
            log(Self.line(record))
            if epochNumber % Swift.max(configuration.checkpointEveryEpochs, 1) == 0 || epochNumber == lastEpoch || shouldStop {
                try saveCheckpoint(completedEpoch: epochNumber)
            }
            epochNumber += 1
        }
        callbacks.forEach { $0.trainingDidEnd(self, history: history) }
        if let directory = configuration.outputDirectory, !history.epochs.isEmpty {
            try writeResults(to: directory, final: finalFigures())
        }
        return history
    }

    /// `fit` without an evaluation set.
    @discardableResult
    public func fit<D: Dataset>(_ train: DataLoader<D>) throws -> TrainingHistory where D.Example == LabeledExample {
        try fit(train, evaluating: Optional<DataLoader<D>>.none)
    }

    /// One epoch, optionally skipping the first `skip` batches (a resumed epoch).
    private func trainEpoch<D: Dataset>(_ train: DataLoader<D>, skipping skip: Int, totals: inout EpochTotals)
        throws where D.Example == LabeledExample {
        model.train()
        callbacks.forEach { $0.epochWillBegin(self, epoch: epoch) }
        let batchCount = train.batchCount
        let bar = configuration.showsProgress ? ProgressBar(total: batchCount, label: "epoch \(epoch)/\(configuration.epochs)") : nil
        let accumulation = configuration.accumulationSteps
        let device = model.device
        var pending = 0, index = 0
        for batch in train.batches(epoch: epoch - 1) {
            index += 1
            if index <= skip { continue }
            let (input, target) = Self.moved(batch, to: device)
            let output = model(input)
            let batchLoss = loss(output, target)
            let value = batchLoss.item(as: Double.self)
            guard value.isFinite else { throw TrainingError.nonFiniteLoss(step: step + 1, epoch: epoch, value: value) }
            if pending == 0 { optimizer.zeroGradients() }
            (accumulation > 1 ? batchLoss * (1 / Double(accumulation)) : batchLoss).backward()
            pending += 1
            let n = target.shape.first ?? 1
            totals.lossSum += value * Double(n)
            totals.seen += n
            totals.batches += 1
            if let correct = Self.correctCount(output, target) {
                totals.correct += correct
                totals.hasAccuracy = true
            }
            if pending == accumulation || index == batchCount {
                if let maxNorm = configuration.gradientClipNorm { clipGradientNorm(model.parameters(), maxNorm: maxNorm) }
                optimizer.step()
                pending = 0
                step += 1
                if configuration.scheduleStepsPerBatch { schedule?.step() }
                for callback in callbacks { callback.batchDidEnd(self, step: step, loss: value) }
                if let every = configuration.checkpointEverySteps, step % every == 0, index < batchCount {
                    try saveCheckpoint(completedEpoch: epoch - 1, batchesDone: index, totals: totals)
                }
            }
            bar?.update(done: index, work: totals.seen, status: Self.status(totals))
        }
        bar?.finish(done: index, work: totals.seen, status: Self.status(totals))
    }

    /// Loss (the mean of `loss` over every example) and, for classification outputs, accuracy.
    public struct Evaluation: Equatable, Sendable {
        /// The mean loss over every example.
        public var loss: Double
        /// The fraction classified right (nil for outputs that are not class scores).
        public var accuracy: Double?
        /// Examples evaluated.
        public var count: Int
    }

    /// Evaluates without gradients in eval mode (the model returns to train mode after).
    public func evaluate<V: Dataset>(_ data: DataLoader<V>) -> Evaluation where V.Example == LabeledExample {
        Self.evaluate(model, on: data, loss: loss)
    }

    /// `evaluate` for a model without a trainer (a checkpoint loaded for evaluation).
    public static func evaluate<V: Dataset>(_ model: Module, on data: DataLoader<V>,
                                            loss: (Tensor, Tensor) -> Tensor = { crossEntropy(logits: $0, targets: $1) })
        -> Evaluation where V.Example == LabeledExample {
        model.eval()
        defer { model.train() }
        let device = model.device
        return withoutGradients {
            var lossSum = 0.0, correct = 0, seen = 0, classification = false
            for batch in data.batches() {
                let (input, target) = moved(batch, to: device)
                let output = model(input)
                let n = target.shape.first ?? 1
                lossSum += loss(output, target).item(as: Double.self) * Double(n)
                seen += n
                if let c = correctCount(output, target) { correct += c; classification = true }
            }
            let total = Double(Swift.max(seen, 1))
            return Evaluation(loss: lossSum / total, accuracy: classification ? Double(correct) / total : nil, count: seen)
        }
    }

    /// A batch on the model's device (loaders collate on the CPU).
    static func moved(_ batch: LabeledExample, to device: Device) -> (Tensor, Tensor) {
        (batch.input.device == device ? batch.input : batch.input.moved(to: device),
         batch.target.device == device ? batch.target : batch.target.moved(to: device))
    }

    /// Correct predictions when `output [n, classes]` scores int64 `target [n]`; nil otherwise.
    static func correctCount(_ output: Tensor, _ target: Tensor) -> Int? {
        guard output.rank == 2, target.rank == 1, target.dtype == .int64, target.shape[0] == output.shape[0] else { return nil }
        return withoutGradients { Int((output.argmax(axis: 1) .== target).cast(to: .int64).sum().item(as: Int64.self)) }
    }

    static func status(_ t: EpochTotals) -> String {
        "loss \(String(format: "%.4f", t.lossSum / Double(Swift.max(t.seen, 1))))"
    }

    /// `epoch 3: train_loss 0.3120, train_accuracy 0.8871, ... (2.9s)`.
    static func line(_ record: EpochRecord) -> String {
        let figures = TrainingHistory(epochs: [record]).metricNames.filter { $0 != "seconds" }
            .map { "\($0) \(String(format: $0 == "learning_rate" ? "%.3g" : "%.4f", record[$0]!))" }
        return "epoch \(record.epoch): " + figures.joined(separator: ", ") + String(format: " (%.1fs)", record["seconds"] ?? 0)
    }

    /// The last epoch's figures and the training time of every epoch (resumed ones too), for
    /// `final` in results.json.
    public func finalFigures() -> [String: Double] {
        guard let last = history.epochs.last else { return [:] }
        var final = last.metrics.filter { $0.key != "seconds" && $0.key != "learning_rate" }
        final["seconds"] = history.epochs.compactMap { $0["seconds"] }.reduce(0, +)
        return final
    }
}

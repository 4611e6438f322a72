import Foundation
import NN
import Optim
import TensorCore

/// What one training batch gives the trainer: its loss (the mean over the batch, the value
/// differentiated), how many examples or tokens that mean is over (the epoch's loss is
/// weighted by it) and, for a classifier, how many of them were right.
public struct TrainingStepOutput {
    /// The batch's mean loss.
    public var loss: Tensor
    /// Examples (or tokens) in the batch.
    public var count: Int
    /// Correct predictions among them (nil when accuracy does not apply).
    public var correct: Int?

    /// The output of one batch of `count` examples.
    public init(loss: Tensor, count: Int = 1, correct: Int? = nil) {
        self.loss = loss
        self.count = count
        self.correct = correct
    }
}

/// What one batch of a step that updates the parameters itself gives the trainer (Lightning's
/// manual optimisation: a GAN's alternating discriminator and generator updates): its named
/// figures (`discriminator_loss`, `generator_loss`, …), averaged over the epoch into
/// `train_<name>` weighted by `count`. A figure that is not finite stops training, naming it.
public struct ManualStepOutput {
    /// The batch's figures by name.
    public var figures: [String: Double]
    /// Examples in the batch.
    public var count: Int

    /// The output of one batch of `count` examples.
    public init(figures: [String: Double], count: Int = 1) {
        self.figures = figures
        self.count = count
    }
}

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
    /// Set by a callback to end training after the current epoch (after the current step
    /// when set from `batchDidEnd`).
    public var shouldStop = false
    /// What the progress bar's rate counts (`samples`; `tokens` for a language model).
    public var progressUnit = "samples"
    /// Generators besides the global stream whose positions checkpoints record and a resume
    /// restores (the sampler of a step-based run's random batches), by a stable name.
    public var randomGenerators: [String: RandomGenerator] = [:]
    /// Data-parallel training across processes (nil: this process trains alone). Every rank
    /// runs the same `fit` on its own shard of the data (a `DistributedSampler`'s loader);
    /// rank 0 alone logs, shows progress and writes checkpoints and results.
    public var distribution: TrainingDistribution?
    /// When the current `fit` began (the time budget counts from here).
    var started = Date()
    /// Examples (or tokens) trained on in the current `fit`, and their rate over it (training
    /// and evaluation time) once it ended: `<progressUnit>_per_second` in `final`.
    var processed = 0, throughput: Double?

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
        /// Count-weighted sums of a manual step's figures.
        var figureSums: [String: Double] = [:]
    }

    /// How a batch becomes an update: the trainer differentiates the loss and steps the
    /// optimizer, or the step did both itself.
    enum StepBody<Batch> {
        case automatic((Batch) throws -> TrainingStepOutput)
        case manual((Batch) throws -> ManualStepOutput)
    }

    /// Trains for `configuration.epochs`, evaluating `evaluation` after every epoch under the
    /// names `<name>_loss` and `<name>_accuracy`; returns the history (also in `history`).
    /// Throws `TrainingError` when the loss stops being finite or an output cannot be written.
    @discardableResult
    public func fit<D: Dataset, V: Dataset>(_ train: DataLoader<D>, evaluating evaluation: DataLoader<V>?,
                                            as name: String = "validation") throws -> TrainingHistory
        where D.Example == LabeledExample, V.Example == LabeledExample {
        let device = model.device
        return try fit(batchesPerEpoch: train.batchCount, batches: { train.batches(epoch: $0 - 1) }, step: { batch in
            let (input, target) = Self.moved(batch, to: device)
            let output = self.model(input)
            return TrainingStepOutput(loss: self.loss(output, target), count: target.shape.first ?? 1,
                                      correct: Self.correctCount(output, target))
        }, evaluate: evaluation.map { data -> () throws -> [String: Double] in
            {
                let result = try self.summedOverRanks(self.evaluate(data))
                var figures = ["\(name)_loss": result.loss]
                if let accuracy = result.accuracy { figures["\(name)_accuracy"] = accuracy }
                return figures
            }
        })
    }

    /// `fit` without an evaluation set.
    @discardableResult
    public func fit<D: Dataset>(_ train: DataLoader<D>) throws -> TrainingHistory where D.Example == LabeledExample {
        try fit(train, evaluating: Optional<DataLoader<D>>.none)
    }

    /// Trains for `configuration.epochs` over batches of any kind: `batches(epoch)` yields an
    /// epoch's `batchesPerEpoch` batches (epochs from 1) and `step` turns one into its loss, as
    /// Lightning's `training_step` (the trainer does backward, accumulation, clipping, the
    /// optimizer and the schedule). `evaluate` runs after every epoch and returns named figures
    /// (`validation_loss`, `validation_accuracy`, …) for the epoch's record.
    ///
    /// For models whose input is not one tensor (a token batch and its mask), or whose state is
    /// carried from batch to batch (truncated backpropagation through time).
    @discardableResult
    public func fit<S: Sequence>(batchesPerEpoch: Int, batches: (_ epoch: Int) -> S,
                                 step: (S.Element) throws -> TrainingStepOutput,
                                 evaluate: (() throws -> [String: Double])? = nil) throws -> TrainingHistory {
        try withoutActuallyEscaping(step) { step in
            try run(intervals: configuration.epochs, batchCount: { _ in batchesPerEpoch },
                    label: { "epoch \($0)/\(self.configuration.epochs)" }, batches: batches, step: .automatic(step), evaluate: evaluate,
                    recordsSteps: false)
        }
    }

    /// Trains for `configuration.epochs` with a step that updates the parameters itself
    /// (Lightning's manual optimisation): `step` zeroes gradients, differentiates and steps the
    /// parts of `optimizer` it chooses (a `CombinedOptimizer`'s discriminator, then its
    /// generator) and returns its figures, recorded as `train_<name>`. Gradient accumulation
    /// and clipping are the step's to do; checkpoints, resume, schedules, evaluation, callbacks
    /// and the time budget work as in every `fit`.
    @discardableResult
    public func fit<S: Sequence>(batchesPerEpoch: Int, batches: (_ epoch: Int) -> S,
                                 manualStep step: (S.Element) throws -> ManualStepOutput,
                                 evaluate: (() throws -> [String: Double])? = nil) throws -> TrainingHistory {
        tensorCheck(configuration.accumulationSteps == 1 && configuration.gradientClipNorm == nil,
                    "[Trainer.fit] a manual step accumulates and clips itself (accumulation steps "
                    + "\(configuration.accumulationSteps), clip norm \(configuration.gradientClipNorm.map { "\($0)" } ?? "none"))")
        return try withoutActuallyEscaping(step) { step in
            try run(intervals: configuration.epochs, batchCount: { _ in batchesPerEpoch },
                    label: { "epoch \($0)/\(self.configuration.epochs)" }, batches: batches, step: .manual(step),
                    evaluate: evaluate, recordsSteps: false)
        }
    }

    /// Trains for `steps` optimizer steps (a language model's random batches: there are no
    /// epochs), evaluating every `evaluationInterval` steps and after the last; each evaluation
    /// is one record of the history (its `step` figure says when), and checkpoints follow
    /// `checkpointEverySteps`. `step(k)` returns the loss of step `k` (from 0); draw its batch
    /// from a generator listed in `randomGenerators` so that a resumed run draws the same ones.
    @discardableResult
    public func fit(steps: Int, evaluatingEvery evaluationInterval: Int, step: (_ step: Int) throws -> TrainingStepOutput,
                    evaluate: (() throws -> [String: Double])? = nil) throws -> TrainingHistory {
        tensorCheck(steps > 0 && evaluationInterval > 0 && configuration.accumulationSteps == 1,
                    "[Trainer.fit] steps (\(steps)) and the evaluation interval (\(evaluationInterval)) must be positive, "
                    + "and a step-based fit accumulates nothing (accumulation steps \(configuration.accumulationSteps))")
        let intervals = (steps + evaluationInterval - 1) / evaluationInterval
        func range(_ interval: Int) -> Range<Int> {
            (interval - 1) * evaluationInterval..<Swift.min(interval * evaluationInterval, steps)
        }
        return try withoutActuallyEscaping(step) { step in
            try run(intervals: intervals, batchCount: { range($0).count },
                    label: { "steps \(range($0).upperBound)/\(steps)" }, batches: range, step: .automatic(step), evaluate: evaluate,
                    recordsSteps: true)
        }
    }

    /// The loop behind every `fit`: `intervals` epochs (or evaluation intervals), each of
    /// `batchCount(interval)` batches.
    private func run<S: Sequence>(intervals: Int, batchCount: (Int) -> Int, label: (Int) -> String,
                                  batches: (Int) -> S, step: StepBody<S.Element>,
                                  evaluate: (() throws -> [String: Double])?, recordsSteps: Bool) throws -> TrainingHistory {
        shouldStop = false
        started = Date()
        processed = 0
        throughput = nil
        var resumed = try resumeIfAsked(batchCount: batchCount)
        callbacks.forEach { $0.trainingWillBegin(self) }
        let lastEpoch = Swift.min(intervals, configuration.stopAfterEpoch ?? intervals)
        var epochNumber = resumed?.epoch ?? history.epochs.count + 1
        while epochNumber <= lastEpoch && !shouldStop {
            epoch = epochNumber
            let epochStarted = Date()
            var totals = resumed?.totals ?? EpochTotals()
            let skip = resumed?.batchesDone ?? 0
            resumed = nil
            try trainEpoch(batches(epochNumber), count: batchCount(epochNumber), label: label(epochNumber), skipping: skip,
                           totals: &totals, step: step)
            totals = try summedOverRanks(totals)
            var record = EpochRecord(epoch: epochNumber)
            if recordsSteps { record["step"] = Double(self.step) }
            if case .automatic = step { record["train_loss"] = totals.lossSum / Double(Swift.max(totals.seen, 1)) }
            for (name, sum) in totals.figureSums { record["train_" + name] = sum / Double(Swift.max(totals.seen, 1)) }
            if totals.hasAccuracy { record["train_accuracy"] = Double(totals.correct) / Double(Swift.max(totals.seen, 1)) }
            if let evaluate { record.metrics.merge(try evaluate()) { _, new in new } }
            // Weights that became infinite late in an epoch show first in the evaluation: a
            // NaN validation loss ends the run as a NaN training loss does.
            if let (name, value) = record.metrics.first(where: { $0.key.hasSuffix("_loss") && !$0.value.isFinite }) {
                throw TrainingError.nonFiniteLoss(step: self.step, epoch: epochNumber, value: value, figure: name)
            }
            if !configuration.scheduleStepsPerBatch { schedule?.step() }
            record["learning_rate"] = optimizer.learningRate
            record["seconds"] = Date().timeIntervalSince(epochStarted)
            for callback in callbacks { callback.epochDidEnd(self, record: &record) }
            history.epochs.append(record)
            say(Self.line(record))
            if epochNumber % Swift.max(configuration.checkpointEveryEpochs, 1) == 0 || epochNumber == lastEpoch || shouldStop {
                try saveCheckpoint(completedEpoch: epochNumber)
            }
            epochNumber += 1
        }
        let worldProcessed = try distribution.map { try $0.sumAcrossRanks([Double(processed)])[0] } ?? Double(processed)
        throughput = worldProcessed / Swift.max(Date().timeIntervalSince(started), 1e-9)
        callbacks.forEach { $0.trainingDidEnd(self, history: history) }
        if let directory = configuration.outputDirectory, !history.epochs.isEmpty, distribution?.isMainProcess ?? true {
            try writeResults(to: directory, final: finalFigures())
        }
        return history
    }

    /// One epoch, optionally skipping the first `skip` batches (a resumed epoch).
    private func trainEpoch<S: Sequence>(_ batches: S, count batchCount: Int, label: String, skipping skip: Int,
                                         totals: inout EpochTotals, step body: StepBody<S.Element>) throws {
        model.train()
        callbacks.forEach { $0.epochWillBegin(self, epoch: epoch) }
        let bar = configuration.showsProgress && distribution?.isMainProcess ?? true ? ProgressBar(total: batchCount, label: label, unit: progressUnit) : nil
        let accumulation = configuration.accumulationSteps
        var pending = 0, index = 0
        for batch in batches {
            index += 1
            if index <= skip { continue }
            if case .manual(let manualStep) = body {
                try takeManualStep(manualStep(batch), batchesDone: index, of: batchCount, totals: &totals)
                bar?.update(done: index, work: totals.seen, status: Self.status(totals))
                if shouldStop { break }
                continue
            }
            guard case .automatic(let computeLoss) = body else { continue }
            try distribution?.prepareForward()
            let output = try computeLoss(batch)
            let value = output.loss.item(as: Double.self)
            guard value.isFinite else { throw TrainingError.nonFiniteLoss(step: step + 1, epoch: epoch, value: value, figure: "train_loss") }
            if pending == 0 { optimizer.zeroGradients() }
            let endsWindow = pending + 1 == accumulation || index == batchCount
            distribution?.synchronizesGradients = endsWindow
            (accumulation > 1 ? output.loss * (1 / Double(accumulation)) : output.loss).backward()
            pending += 1
            totals.lossSum += value * Double(output.count)
            totals.seen += output.count
            processed += output.count
            totals.batches += 1
            if let correct = output.correct {
                totals.correct += correct
                totals.hasAccuracy = true
            }
            if endsWindow {
                try distribution?.finishGradientSynchronization()
                if let maxNorm = configuration.gradientClipNorm { clipGradientNorm(model.parameters(), maxNorm: maxNorm) }
                optimizer.step()
                pending = 0
                step += 1
                if configuration.scheduleStepsPerBatch { schedule?.step() }
                try stepDidEnd(batchesDone: index, of: batchCount, loss: value, totals: totals)
            }
            bar?.update(done: index, work: totals.seen, status: Self.status(totals))
            if shouldStop && pending == 0 { break }
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

    /// Correct predictions when `output [n, classes]` scores int64 `target [n]`; nil otherwise
    /// (for `TrainingStepOutput.correct` in a custom step).
    public static func correctCount(_ output: Tensor, _ target: Tensor) -> Int? {
        guard output.rank == 2, target.rank == 1, target.dtype == .int64, target.shape[0] == output.shape[0] else { return nil }
        return withoutGradients { Int((output.argmax(axis: 1) .== target).cast(to: .int64).sum().item(as: Int64.self)) }
    }

    static func status(_ t: EpochTotals) -> String {
        let n = Double(Swift.max(t.seen, 1))
        if !t.figureSums.isEmpty {
            return t.figureSums.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.4f", $0.value / n))" }.joined(separator: ", ")
        }
        return "loss \(String(format: "%.4f", t.lossSum / n))"
    }

    /// Books one manual step: its figures (stopping on one that is not finite) and the step's end.
    private func takeManualStep(_ output: ManualStepOutput, batchesDone index: Int, of batchCount: Int, totals: inout EpochTotals) throws {
        if let (name, value) = output.figures.sorted(by: { $0.key < $1.key }).first(where: { !$0.value.isFinite }) {
            throw TrainingError.nonFiniteLoss(step: step + 1, epoch: epoch, value: value, figure: "train_" + name)
        }
        for (name, value) in output.figures { totals.figureSums[name, default: 0] += value * Double(output.count) }
        totals.seen += output.count
        processed += output.count
        totals.batches += 1
        step += 1
        if configuration.scheduleStepsPerBatch { schedule?.step() }
        let loss = output.figures.sorted { $0.key < $1.key }.first?.value ?? 0
        try stepDidEnd(batchesDone: index, of: batchCount, loss: loss, totals: totals)
    }

    /// After an optimizer step: callbacks, a mid-epoch checkpoint when one is due (not after
    /// the epoch's last batch, whose checkpoint follows the evaluation) and the time budget.
    private func stepDidEnd(batchesDone index: Int, of batchCount: Int, loss value: Double, totals: EpochTotals) throws {
        for callback in callbacks { callback.batchDidEnd(self, step: step, loss: value) }
        if let every = configuration.checkpointEverySteps, step % every == 0, index < batchCount {
            try saveCheckpoint(completedEpoch: epoch - 1, batchesDone: index, of: batchCount, totals: totals)
        }
        if let budget = configuration.timeBudget, try agreed(Date().timeIntervalSince(started) >= budget) {
            say("time budget of \(budget) s reached after step \(step)")
            shouldStop = true
        }
    }

    /// `epoch 3: train_loss 0.3120, train_accuracy 0.8871, ... (2.9s)` (`step 500: …` for a
    /// step-based fit).
    static func line(_ record: EpochRecord) -> String {
        let head = record["step"].map { "step \(Int($0))" } ?? "epoch \(record.epoch)"
        let figures = TrainingHistory(epochs: [record]).metricNames.filter { $0 != "seconds" && $0 != "step" }
            .map { "\($0) \(String(format: $0 == "learning_rate" ? "%.3g" : "%.4f", record[$0]!))" }
        return head + ": " + figures.joined(separator: ", ") + String(format: " (%.1fs)", record["seconds"] ?? 0)
    }

    /// The last epoch's figures, the training time of every epoch (resumed ones too) and what
    /// the callbacks add (`finalFiguresWillBeWritten`), for `final` in results.json.
    public func finalFigures() -> [String: Double] {
        guard let last = history.epochs.last else { return [:] }
        var final = last.metrics.filter { $0.key != "seconds" && $0.key != "learning_rate" && $0.key != "step" }
        final["seconds"] = history.epochs.compactMap { $0["seconds"] }.reduce(0, +)
        if let steps = last["step"] { final["steps"] = steps }
        if let throughput, processed > 0 { final["\(progressUnit)_per_second"] = throughput }
        for callback in callbacks { callback.finalFiguresWillBeWritten(self, final: &final) }
        return final
    }
}

extension Trainer {
    /// `matrix[true][predicted]` of `model` over every example of `data` (eval mode, no
    /// gradients; the model returns to train mode): the input of `Metrics.classReport` and of
    /// Vision's `saveConfusionMatrixPNG`.
    public static func confusionMatrix<V: Dataset>(of model: Module, on data: DataLoader<V>, classCount: Int) -> [[Int]]
        where V.Example == LabeledExample {
        model.eval()
        defer { model.train() }
        let device = model.device
        var matrix = [[Int]](repeating: [Int](repeating: 0, count: classCount), count: classCount)
        withoutGradients {
            for batch in data.batches() {
                let (input, target) = moved(batch, to: device)
                let counts = Metrics.confusionMatrix(predictions: model(input).argmax(axis: 1).moved(to: .cpu),
                                                     targets: target.moved(to: .cpu), classCount: classCount)
                for t in 0..<classCount { for p in 0..<classCount { matrix[t][p] += counts[t][p] } }
            }
        }
        return matrix
    }
}

extension Trainer {
    /// `log`, on rank 0 only when training is distributed.
    func say(_ line: String) {
        if distribution?.isMainProcess ?? true { log(line) }
    }

    /// An epoch's (or a checkpoint's) running figures summed over the ranks; the same totals
    /// when training alone. Figure names are summed in sorted order, the same on every rank.
    func summedOverRanks(_ totals: EpochTotals) throws -> EpochTotals {
        guard let distribution, distribution.worldSize > 1 else { return totals }
        let names = totals.figureSums.keys.sorted()
        let values = [totals.lossSum, Double(totals.correct), Double(totals.seen), Double(totals.batches),
                      totals.hasAccuracy ? 1 : 0] + names.map { totals.figureSums[$0]! }
        let sums = try distribution.sumAcrossRanks(values)
        var result = totals
        result.lossSum = sums[0]
        result.correct = Int(sums[1].rounded())
        result.seen = Int(sums[2].rounded())
        result.batches = Int(sums[3].rounded())
        result.hasAccuracy = sums[4] > 0
        for (k, name) in names.enumerated() { result.figureSums[name] = sums[5 + k] }
        return result
    }

    /// Whether any rank says `condition` (every rank stops at the same step, so none waits in
    /// a collective the others have left).
    func agreed(_ condition: Bool) throws -> Bool {
        guard let distribution, distribution.worldSize > 1 else { return condition }
        return try distribution.sumAcrossRanks([condition ? 1 : 0])[0] > 0
    }
}

extension Trainer {
    /// An evaluation of this rank's shard of the data made the world's: count-weighted means
    /// over every rank's examples (each rank evaluates its own `DistributedSampler` shard).
    func summedOverRanks(_ evaluation: Evaluation) throws -> Evaluation {
        guard let distribution, distribution.worldSize > 1 else { return evaluation }
        let n = Double(evaluation.count)
        let sums = try distribution.sumAcrossRanks([evaluation.loss * n, (evaluation.accuracy ?? 0) * n,
                                                    evaluation.accuracy == nil ? 0 : 1, n])
        let total = Swift.max(sums[3], 1)
        return Evaluation(loss: sums[0] / total, accuracy: sums[2] > 0 ? sums[1] / total : nil, count: Int(sums[3].rounded()))
    }
}

import CheckpointHDF5
import Safetensors
import Foundation
import NN
import Optim
import TensorCore

/// Checkpoints hold everything a resumed run needs to continue bit-identically: the model,
/// the optimizer's state, the step, the schedule's position, the global random stream (dropout
/// and other draws) and the trainer's `randomGenerators`, the history, and within an epoch the batches done and the running sums.
extension Trainer {
    /// Where a resumed run continues.
    struct ResumePoint {
        var epoch: Int
        var batchesDone: Int
        var totals: EpochTotals
    }

    func saveCheckpoint(completedEpoch: Int, batchesDone: Int = 0, of epochBatches: Int = 0,
                        totals: EpochTotals = EpochTotals()) throws {
        guard let directory = configuration.checkpointDirectory else { return }
        // Every rank sums a mid-epoch checkpoint's running figures (a collective); rank 0 writes
        // them with the world size, so a run resumed on another world size skips as many examples.
        let totals = batchesDone > 0 ? try summedOverRanks(totals) : totals
        if let sharded = optimizer as? ShardedOptimizerState { try sharded.consolidateState(onto: 0) }
        guard distribution?.isMainProcess ?? true else { return }
        let state = optimizer.stateDict()
        var metadata: [String: MetadataValue] = [
            "history": .string(history.csv),
            "batches_done": .number(Double(batchesDone)),
            "loss_sum": .number(totals.lossSum), "correct": .number(Double(totals.correct)),
            "seen": .number(Double(totals.seen)), "partial_batches": .number(Double(totals.batches)),
            "has_accuracy": .number(totals.hasAccuracy ? 1 : 0),
            "world_size": .number(Double(distribution?.worldSize ?? 1)),
            "epoch_batches": .number(Double(epochBatches)),
        ]
        for (name, sum) in totals.figureSums { metadata["figure_sum." + name] = .number(sum) }
        // Strings: a 64-bit seed does not survive a Double.
        for (name, generator) in randomGenerators {
            metadata["generator." + name] = .string("\(generator.seed):\(generator.offset)")
        }
        if let schedule { metadata["schedule_steps"] = .number(Double(schedule.stepCount)) }
        if let text = try? JSONValue(encoding: configuration).text(indent: nil) { metadata["trainer_configuration"] = .string(text) }
        for (key, value) in recordedConfiguration { metadata["configuration." + key] = .string(value.text(indent: nil)) }
        let checkpoint = Checkpoint(model: model.stateDict(), optimizerTensors: state.tensors, optimizerScalars: state.scalars,
                                    step: step, epoch: completedEpoch,
                                    random: (RandomGenerator.global.seed, RandomGenerator.global.offset), metadata: metadata)
        do {
            try CheckpointFile.save(checkpoint, inDirectory: directory, keepLast: configuration.keepLastCheckpoints)
        } catch {
            throw TrainingError.cannotWrite(path: directory, reason: "\(error)")
        }
    }

    /// Loads the newest checkpoint when `configuration.resume` asks for it (throwing when the
    /// folder holds none); nil when resuming is off. `batchCount(epoch)` is this run's number
    /// of batches in an epoch (this world's, when resuming on another number of ranks).
    func resumeIfAsked(batchCount: (Int) -> Int) throws -> ResumePoint? {
        guard configuration.resume, let directory = configuration.checkpointDirectory else { return nil }
        // Asked to continue but nothing is there: say so rather than silently start afresh
        // (a mistyped folder would otherwise retrain from scratch).
        guard let latest = CheckpointFile.latest(inDirectory: directory) else {
            throw TrainingError.cannotResume(path: directory, reason: "it holds no checkpoint; train without resume to start afresh")
        }
        let saved = try CheckpointFile.load(from: latest)
        do {
            try model.loadStateDict(saved.model)
            try optimizer.load(stateDict: OptimizerStateDict(tensors: saved.optimizerTensors, scalars: saved.optimizerScalars))
        } catch {
            throw TrainingError.cannotResume(path: latest, reason: "\(error)")
        }
        step = saved.step ?? 0
        func number(_ key: String) -> Double {
            if case .number(let v)? = saved.metadata[key] { return v }
            return 0
        }
        if let closedForm = schedule as? ClosedFormSchedule { closedForm.restore(stepCount: Int(number("schedule_steps"))) }
        if let random = saved.random {
            RandomGenerator.global.reseed(random.seed)
            RandomGenerator.global.offset = random.offset
        }
        for (name, generator) in randomGenerators {
            guard case .string(let text)? = saved.metadata["generator." + name],
                  let parts = Optional(text.split(separator: ":").compactMap { UInt64($0) }), parts.count == 2 else {
                throw TrainingError.cannotResume(path: latest, reason: "it records no position of the random generator '\(name)'")
            }
            generator.reseed(parts[0])
            generator.offset = parts[1]
        }
        if case .string(let csv)? = saved.metadata["history"] { history = TrainingHistory(csv: csv) }
        let completed = saved.epoch ?? 0
        var totals = EpochTotals()
        totals.lossSum = number("loss_sum")
        totals.correct = Int(number("correct"))
        totals.seen = Int(number("seen"))
        totals.batches = Int(number("partial_batches"))
        totals.hasAccuracy = number("has_accuracy") != 0
        for case let (key, .number(sum)) in saved.metadata where key.hasPrefix("figure_sum.") {
            totals.figureSums[String(key.dropFirst("figure_sum.".count))] = sum
        }
        var batchesDone = Int(number("batches_done"))
        let savedWorld = Swift.max(Int(number("world_size")), 1), world = distribution?.worldSize ?? 1
        let savedBatches = Int(number("epoch_batches"))
        if savedWorld != world && batchesDone > 0 && savedBatches > 0 {
            // The saved ranks had done this fraction of the epoch's batches (the sampler shares
            // one order among the ranks): skip as much of it, in this world's batches.
            batchesDone = Int((Double(batchesDone) / Double(savedBatches) * Double(batchCount(completed + 1))).rounded())
        }
        // The saved sums are the world's: rank 0 carries them on, the other ranks add their own.
        if !(distribution?.isMainProcess ?? true) { totals = EpochTotals() }
        say("resumed from \(latest) after epoch \(completed)\(batchesDone > 0 ? " and \(batchesDone) batches" : ""), step \(step)")
        return ResumePoint(epoch: completed + 1, batchesDone: batchesDone, totals: batchesDone > 0 ? totals : EpochTotals())
    }
}

extension Trainer {
    /// Writes the model's state dict for inference or sharing: safetensors for a path ending in
    /// `.safetensors` (Hugging Face's format; metadata as strings), otherwise an HDF5 checkpoint.
    public func saveModel(to path: String, metadata: [String: String] = [:]) throws {
        do {
            if path.hasSuffix(".safetensors") {
                try Safetensors.write(model.stateDict(), metadata: metadata, to: path)
            } else {
                try CheckpointFile.save(Checkpoint(model: model.stateDict(), step: step, epoch: epoch,
                                                   metadata: metadata.mapValues { .string($0) }), to: path)
            }
        } catch {
            throw TrainingError.cannotWrite(path: path, reason: "\(error)")
        }
    }
}

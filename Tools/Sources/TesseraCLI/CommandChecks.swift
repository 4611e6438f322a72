import CheckpointHDF5
import Datasets
import Foundation
import Generative
import NN
import TensorCore
import Training
import Vision

/// Checks every command makes before work starts, so that a mistake costs nothing: sizes the
/// machine cannot hold and folders that cannot be written are usage errors naming the option.
enum CommandChecks {
    /// `--threads N`: positive and at most the machine's cores (more only slows the kernels).
    static func threads(_ args: Arguments) throws -> Int? {
        guard args.values["threads"] != nil else { return nil }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        return try args.value("threads", default: 1, where: { $0 > 0 && $0 <= cores },
                              expected: "a positive integer up to this machine's \(cores) cores")
    }

    /// `--resume`: it needs `--checkpoint-dir`, and a checkpoint there to resume from.
    static func resume(_ args: Arguments, checkpointDirectory: String?) throws -> Bool {
        guard args.flag("resume") else { return false }
        guard let directory = checkpointDirectory else { throw UsageError("--resume needs --checkpoint-dir") }
        guard CheckpointFile.latest(inDirectory: directory) != nil else {
            throw UsageError("--resume: \(directory) holds no checkpoint to resume from (leave out --resume to start afresh)")
        }
        return true
    }

    /// One factor of a size check: a value and the option that sets it (nil for a constant).
    typealias Factor = (value: Int, option: String?)

    /// What a size check counts, for its message.
    enum Counted {
        /// Weights, gradients and optimizer state: bytes per parameter.
        case parameters
        /// Activations kept for the backward pass.
        case activations
    }

    /// Element counts that must fit in memory: each group's product (without overflow), summed,
    /// times `bytesPerElement`, within the machine's memory. Otherwise a usage error naming the
    /// option with the largest value in the group that overflows or holds the most elements.
    static func fitsInMemory(_ groups: [[Factor]], bytesPerElement: Int, counting counted: Counted = .parameters) throws {
        func culprit(_ group: [Factor]) -> String {
            group.filter { $0.option != nil }.max { $0.value < $1.value }?.option ?? "batch-size"
        }
        var total = 0, largest = (count: -1, option: "batch-size")
        for group in groups {
            var product = 1
            for factor in group {
                let (p, overflow) = product.multipliedReportingOverflow(by: factor.value)
                guard !overflow else { throw UsageError("--\(culprit(group)): the model would have more elements than can be counted") }
                product = p
            }
            if product > largest.count { largest = (product, culprit(group)) }
            let (sum, overflow) = total.addingReportingOverflow(product)
            guard !overflow else { throw UsageError("--\(largest.option): the model would have more elements than can be counted") }
            total = sum
        }
        let memory = ProcessInfo.processInfo.physicalMemory
        let (bytes, overflow) = total.multipliedReportingOverflow(by: bytesPerElement)
        guard !overflow, UInt64(bytes) <= memory else {
            let size = overflow ? "more than 2^63" : String(bytes / 1_000_000)
            let what = counted == .parameters ? "\(total) parameters need about \(size) MB for weights, gradients and optimizer state"
                                              : "\(total) activations need about \(size) MB kept for the backward pass"
            throw UsageError("--\(largest.option): \(what); this machine has \(memory / 1_000_000) MB")
        }
    }

    /// Creates `path` (and its parents) now, or says why it cannot be an output folder:
    /// a file in the way or a folder that cannot be made, before any training runs.
    static func prepareDirectory(_ path: String, option: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw UsageError("--\(option) \(path) is a file, not a folder") }
            guard FileManager.default.isWritableFile(atPath: path) else { throw UsageError("--\(option) \(path) is not writable") }
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw UsageError("--\(option) \(path) cannot be created (a file in its path, or no permission)")
        }
    }
}

/// The options the generative training commands share — `--seed`, `--threads`, `--out`,
/// `--data`, `--checkpoint-dir`, `--resume` — checked once, and the folders prepared before
/// any work.
public struct RunOptions {
    public var seed: UInt64 = 0
    public var threads: Int?
    public var outDirectory: String?
    public var dataRoot: String?
    public var checkpointDirectory: String?
    public var resume = false

    init(_ args: Arguments) throws {
        seed = try args.value("seed", default: UInt64(0))
        threads = try CommandChecks.threads(args)
        outDirectory = args.values["out"]
        dataRoot = args.values["data"]
        checkpointDirectory = args.values["checkpoint-dir"]
        resume = try CommandChecks.resume(args, checkpointDirectory: checkpointDirectory)
    }

    /// Applies `--threads`, creates `--out` (default `defaultOut`) and `--checkpoint-dir`;
    /// returns the output folder.
    func prepare(defaultOut: String) throws -> String {
        if let threads { CPUThreads.count = threads }
        let out = outDirectory ?? defaultOut
        try CommandChecks.prepareDirectory(out, option: "out")
        if let checkpointDirectory { try CommandChecks.prepareDirectory(checkpointDirectory, option: "checkpoint-dir") }
        return out
    }

    /// The dataset root (`--data`, else the default).
    var root: String { dataRoot ?? DatasetLocation.defaultRoot() }
}

/// The LeNet-5 that labels generated images: read from `--classifier` when given (now, so a
/// bad file stops the command before training), else trained on the real images when needed.
struct SampleJudge {
    /// `--classifier`, when given.
    let path: String?
    /// The network read from it.
    let classifier: LeNet5?

    init(_ args: Arguments) throws {
        path = args.values["classifier"]
        guard let path else { classifier = nil; return }
        guard FileManager.default.fileExists(atPath: path) else { throw UsageError("--classifier \(path) does not exist") }
        let classifier = LeNet5()
        try classifier.loadStateDict(CheckpointFile.load(from: path).model)
        self.classifier = classifier
    }

    /// The classifier and its test accuracy on `dataset` (training one for 3 epochs without `--classifier`).
    func judge(dataset: String, train: TensorDataset, test: TensorDataset, seed: UInt64, output: @escaping (String) -> Void) throws
        -> (classifier: Module, accuracy: Double, description: String) {
        if let classifier, let path {
            let accuracy = Trainer.evaluate(classifier, on: DataLoader(test, batchSize: 500, prefetch: false)).accuracy ?? 0
            output(String(format: "classifier %@: test accuracy %.4f", path, accuracy))
            return (classifier, accuracy, path)
        }
        output("training the LeNet-5 that labels generated images (3 epochs on the real \(dataset) images)")
        let (classifier, accuracy) = try SampleClassification.trainLeNet(train: train, test: test, seed: seed &+ 200, log: output)
        output(String(format: "classifier test accuracy %.4f", accuracy))
        return (classifier, accuracy, "LeNet-5 trained 3 epochs on \(dataset)")
    }
}

extension RunOptions {
    /// Stops with a usage error when `--checkpoint-dir` or `--resume` is given to a command whose
    /// runs are short and not checkpointed; `reason` says so.
    func refuseCheckpoints(_ reason: String) throws {
        if checkpointDirectory != nil || resume { throw UsageError("--checkpoint-dir and --resume: \(reason)") }
    }
}

/// What a short training command leaves in `--out`: results.json (the command's recorded
/// configuration with its settings merged in, the per-epoch history and the final figures),
/// metrics.csv, curves.svg and model.h5 (the weights and `metadata`); then the final figures,
/// one per line.
enum RunRecord {
    static func write(history: TrainingHistory, configuration: [String: JSONValue], settings: some Encodable, final: [String: Double],
                      model: Module, epoch: Int, metadata: [String: MetadataValue], to out: String, print output: (String) -> Void) throws {
        var recorded = configuration
        if case let .object(fields) = try JSONValue(encoding: settings) { recorded.merge(fields) { a, _ in a } }
        try Trainer.writeResults(history: history, configuration: recorded, final: final, to: out)
        try CheckpointFile.save(Checkpoint(model: model.stateDict(), step: 0, epoch: epoch, metadata: metadata), to: "\(out)/model.h5")
        for key in final.keys.sorted() { output("\(key): \(final[key]!)") }
    }
}

import Foundation
import NN
import Optim
import Testing
import TensorCore
import TensorCoreTesting
import CheckpointHDF5
import Safetensors
@testable import Training

/// Two Gaussian blobs per class in 4-D: learnable in a few epochs by a small MLP.
func blobs(count: Int, seed: UInt64) -> TensorDataset {
    let g = RandomGenerator(seed: seed)
    let labels = (0..<count).map { Int64($0 % 3) }
    let centres = Tensor([2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 2, 0], shape: [3, 4])
    let y = Tensor(labels)
    let x = centres.indexSelect(axis: 0, indices: y) + Tensor.randn([count, 4], generator: g) * 0.5
    return TensorDataset(inputs: x, targets: y)
}

func temporaryDirectory(_ name: String) -> String {
    let path = NSTemporaryDirectory() + "tessera-training-\(getpid())-\(name)"
    try? FileManager.default.removeItem(atPath: path)
    return path
}

func makeMLP(seed: UInt64) -> Sequential {
    let g = RandomGenerator(seed: seed)
    return Sequential(Linear(inputSize: 4, outputSize: 16, generator: g), ReLU(), Dropout(p: 0.1),   // the global stream, which checkpoints keep
                      Linear(inputSize: 16, outputSize: 3, generator: g))
}

@Suite("Trainer", .serialized)
struct TrainerTests {
    let train = blobs(count: 240, seed: 1), test = blobs(count: 90, seed: 2)

    func trainer(_ model: Module, _ configuration: TrainerConfiguration, momentum: Double = 0.9) -> (Trainer, SGD) {
        let optimizer = SGD(parameters: model.parameters(), learningRate: 0.1, momentum: momentum)
        let t = Trainer(model: model, optimizer: optimizer, configuration: configuration)
        t.log = { _ in }
        return (t, optimizer)
    }

    @Test func trainsAndWritesResultsMetricsAndCurves() throws {
        let out = temporaryDirectory("results")
        let model = makeMLP(seed: 3)
        let (t, _) = trainer(model, TrainerConfiguration(epochs: 4, outputDirectory: out, showsProgress: false))
        t.recordedConfiguration["command"] = "tessera test"
        let history = try t.fit(DataLoader(train, batchSize: 16, sampler: RandomSampler(seed: 0)),
                                evaluating: DataLoader(test, batchSize: 50), as: "test")
        #expect(history.epochs.count == 4)
        let first = history.epochs[0], last = history.epochs[3]
        #expect(last["train_loss"]! < first["train_loss"]!)
        #expect(last["test_accuracy"]! > 0.9, "\(last)")
        let results = try JSONValue(parsing: Data(contentsOf: URL(fileURLWithPath: out + "/results.json")))
        #expect(results["configuration"]?["command"] == "tessera test")
        #expect(results["configuration"]?["trainer"]?["epochs"]?.numberValue == 4)
        #expect(results["final"]?["test_accuracy"]?.numberValue == last["test_accuracy"])
        #expect(results["final"]?["train_loss"]?.numberValue == last["train_loss"])
        #expect((results["final"]?["seconds"]?.numberValue ?? 0) > 0)
        if case .array(let epochs)? = results["epochs"] { #expect(epochs.count == 4) } else { Issue.record("no epochs array") }
        let csv = try String(contentsOfFile: out + "/metrics.csv", encoding: .utf8)
        #expect(csv.hasPrefix("epoch,train_loss,train_accuracy,test_loss,test_accuracy,learning_rate,seconds\n"))
        #expect(TrainingHistory(csv: csv).values(of: "train_loss") == history.values(of: "train_loss"))
        let svg = try String(contentsOfFile: out + "/curves.svg", encoding: .utf8)
        #expect(svg.contains("<polyline") && svg.contains("● test"))
    }

    /// Stopped after epoch 1 and resumed, or interrupted mid-epoch and resumed from a step
    /// checkpoint: the same weights, bit for bit, as an uninterrupted run (dropout included).
    @Test func resumedRunsAreBitIdenticalToUninterruptedOnes() throws {
        let loader = DataLoader(train, batchSize: 16, sampler: RandomSampler(seed: 5))
        func run(_ configuration: TrainerConfiguration) throws -> (Sequential, TrainingHistory) {
            RandomGenerator.global.reseed(11)
            let model = makeMLP(seed: 7)
            let (t, optimizer) = trainer(model, configuration)
            let schedule = CosineAnnealingSchedule(optimizer, maxSteps: 3 * loader.batchCount)
            let scheduled = Trainer(model: model, optimizer: optimizer, schedule: schedule, configuration: configuration)
            scheduled.log = t.log
            return (model, try scheduled.fit(loader))
        }
        let (whole, wholeHistory) = try run(TrainerConfiguration(epochs: 3, showsProgress: false))

        let byEpoch = temporaryDirectory("resume-epoch")
        _ = try run(TrainerConfiguration(epochs: 3, checkpointDirectory: byEpoch, stopAfterEpoch: 1, showsProgress: false))
        let (resumed, resumedHistory) = try run(TrainerConfiguration(epochs: 3, checkpointDirectory: byEpoch, resume: true, showsProgress: false))
        for (a, b) in zip(whole.parameters(), resumed.parameters()) { #expect(a.value.scalars == b.value.scalars) }
        #expect(resumedHistory.values(of: "train_loss") == wholeHistory.values(of: "train_loss"))

        // Every 4 steps, keeping them all; then drop everything after a mid-epoch one (step 20 of 45).
        let bySteps = temporaryDirectory("resume-steps")
        _ = try run(TrainerConfiguration(epochs: 3, checkpointDirectory: bySteps, checkpointEverySteps: 4, keepLastCheckpoints: 100,
                                         showsProgress: false))
        for file in try FileManager.default.contentsOfDirectory(atPath: bySteps) where file > "step-000000020.h5" {
            try FileManager.default.removeItem(atPath: bySteps + "/" + file)
        }
        let (midway, midwayHistory) = try run(TrainerConfiguration(epochs: 3, checkpointDirectory: bySteps, resume: true, showsProgress: false))
        for (a, b) in zip(whole.parameters(), midway.parameters()) { #expect(a.value.scalars == b.value.scalars) }
        #expect(midwayHistory.values(of: "train_loss") == wholeHistory.values(of: "train_loss"))
    }

    /// Two batches of 8 accumulated take the step one batch of 16 takes.
    @Test func accumulatedGradientsMatchTheLargerBatch() throws {
        func weights(batch: Int, accumulation: Int) throws -> [Float] {
            let model = Sequential(Linear(inputSize: 4, outputSize: 3, generator: RandomGenerator(seed: 9)))
            let (t, _) = trainer(model, TrainerConfiguration(epochs: 2, accumulationSteps: accumulation, showsProgress: false), momentum: 0)
            try t.fit(DataLoader(train, batchSize: batch))
            return model.parameters().flatMap { $0.value.scalars }
        }
        let large = try weights(batch: 16, accumulation: 1), accumulated = try weights(batch: 8, accumulation: 2)
        expectClose(Tensor(accumulated), Tensor(large), tolerance: Tolerance(absolute: 1e-5, relative: 1e-5))
        #expect(accumulated != (try weights(batch: 8, accumulation: 1)))
    }

    @Test func clippingBoundsEveryUpdate() throws {
        let model = Sequential(Linear(inputSize: 4, outputSize: 3, generator: RandomGenerator(seed: 9)))
        let before = model.parameters().flatMap { $0.value.scalars }
        let (t, _) = trainer(model, TrainerConfiguration(epochs: 1, gradientClipNorm: 1e-3, showsProgress: false), momentum: 0)
        try t.fit(DataLoader(train, batchSize: 240))   // one step of lr 0.1 on a gradient of norm ≤ 1e-3
        let after = model.parameters().flatMap { $0.value.scalars }
        let moved = zip(before, after).map { Double($0 - $1) * Double($0 - $1) }.reduce(0, +).squareRoot()
        #expect(moved <= 1e-4 * 1.001 && moved > 1e-5, "moved \(moved)")
    }

    /// A model on another device trains on batches the loader made on the CPU, to the CPU's numbers.
    @Test func batchesFollowTheModelToItsDevice() throws {
        EmulatedDevice.register()
        func run(_ device: Device) throws -> (TrainingHistory, [Float]) {
            let model = Sequential(Linear(inputSize: 4, outputSize: 3, generator: RandomGenerator(seed: 9)))
            model.move(to: device)
            let (t, _) = trainer(model, TrainerConfiguration(epochs: 2, showsProgress: false), momentum: 0.9)
            let history = try t.fit(DataLoader(train, batchSize: 32), evaluating: DataLoader(test, batchSize: 45))
            #expect(model.device == device)
            return (history, model.parameters().flatMap { $0.value.moved(to: .cpu).scalars })
        }
        let (cpuHistory, cpuWeights) = try run(.cpu), (deviceHistory, deviceWeights) = try run(EmulatedDevice.device)
        #expect(deviceWeights == cpuWeights)
        #expect(deviceHistory.values(of: "validation_accuracy") == cpuHistory.values(of: "validation_accuracy"))
    }

    @Test func theModelIsWrittenInEitherFormat() throws {
        let model = makeMLP(seed: 3)
        let (t, _) = trainer(model, TrainerConfiguration(epochs: 1, showsProgress: false))
        try t.fit(DataLoader(train, batchSize: 60))
        let directory = temporaryDirectory("formats")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try t.saveModel(to: directory + "/model.safetensors", metadata: ["format": "pt"])
        try t.saveModel(to: directory + "/model.h5")
        let st = try Safetensors.read(from: directory + "/model.safetensors"), h5 = try CheckpointFile.load(from: directory + "/model.h5")
        #expect(st.metadata == ["format": "pt"] && h5.epoch == 1)
        for (name, value) in model.stateDict() {
            #expect(st.tensors[name]!.scalars == value.scalars && h5.model[name]!.scalars == value.scalars, "\(name)")
        }
    }

    @Test func earlyStoppingEndsARunThatStopsImproving() throws {
        let model = makeMLP(seed: 3)
        let optimizer = SGD(parameters: model.parameters(), learningRate: 0)   // nothing changes: no improvement
        let stopper = EarlyStopping(monitor: "validation_loss", patience: 2)
        let t = Trainer(model: model, optimizer: optimizer, configuration: TrainerConfiguration(epochs: 10, showsProgress: false),
                        callbacks: [stopper])
        t.log = { _ in }
        let history = try t.fit(DataLoader(train, batchSize: 60), evaluating: DataLoader(test, batchSize: 90))
        #expect(history.epochs.count == 3)
        #expect(stopper.stoppedEpoch == 3 && stopper.bestEpoch == 1)
    }

    @Test func aNonFiniteLossStopsWithItsStep() throws {
        let model = makeMLP(seed: 3)
        let optimizer = SGD(parameters: model.parameters(), learningRate: 1e30)
        let t = Trainer(model: model, optimizer: optimizer, configuration: TrainerConfiguration(epochs: 3, showsProgress: false))
        t.log = { _ in }
        #expect {
            try t.fit(DataLoader(train, batchSize: 16))
        } throws: { error in
            guard case TrainingError.nonFiniteLoss(let step, let epoch, _, _)? = error as? TrainingError else { return false }
            return step >= 2 && epoch >= 1 && (error as! TrainingError).description.contains("at step \(step)")
        }
    }

    /// Asked to resume from a folder with nothing in it, the trainer says so instead of
    /// silently training from scratch.
    @Test func resumingFromAnEmptyFolderIsAnError() throws {
        let directory = temporaryDirectory("empty-resume")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let (t, _) = trainer(makeMLP(seed: 3), TrainerConfiguration(epochs: 1, checkpointDirectory: directory, resume: true,
                                                                     showsProgress: false))
        #expect(throws: TrainingError.cannotResume(path: directory, reason: "it holds no checkpoint; train without resume to start afresh")) {
            try t.fit(DataLoader(train, batchSize: 60))
        }
        #expect(t.step == 0)
    }
}

import Foundation
import NN
import Optim
import Testing
import TensorCore
@testable import Training

/// Step-based fits (random batches, as a language model trains) and fits over batches of any
/// kind (inputs that are not one tensor, state carried between batches). Nested in the
/// serialized Trainer suite: both replay the process-wide random stream (dropout).
extension TrainerTests {
    @Suite("Trainer steps")
    struct Steps {
        let data = blobs(count: 240, seed: 1)

        /// A run of `steps` random batches of 16 drawn from a generator the trainer keeps.
        func stepRun(_ configuration: TrainerConfiguration, steps: Int = 30, every: Int = 10,
                     callbacks: [TrainingCallback] = []) throws -> (Sequential, TrainingHistory, Trainer) {
            RandomGenerator.global.reseed(4)
            let model = makeMLP(seed: 7)
            let sampler = RandomGenerator(seed: 21)
            let optimizer = Adam(parameters: model.parameters(), learningRate: 1e-2)
            let t = Trainer(model: model, optimizer: optimizer, schedule: CosineAnnealingSchedule(optimizer, maxSteps: steps),
                            configuration: configuration, callbacks: callbacks)
            t.log = { _ in }
            t.randomGenerators["batches"] = sampler
            let history = try t.fit(steps: steps, evaluatingEvery: every, step: { _ in
                let rows = Tensor.randint(0, 240, shape: [16], generator: sampler)
                let batch = self.data.inputs.indexSelect(axis: 0, indices: rows), target = self.data.targets.indexSelect(axis: 0, indices: rows)
                return TrainingStepOutput(loss: crossEntropy(logits: model(batch), targets: target), count: 16)
            }, evaluate: {
                withoutGradients { ["validation_loss": crossEntropy(logits: model(self.data.inputs), targets: self.data.targets).item(as: Double.self)] }
            })
            return (model, history, t)
        }

        @Test func evaluatesEveryIntervalAndRecordsTheStep() throws {
            let out = temporaryDirectory("steps")
            let (_, history, t) = try stepRun(TrainerConfiguration(outputDirectory: out, showsProgress: false), steps: 25, every: 10,
                                              callbacks: [PerplexityReport()])
            #expect(history.values(of: "step") == [10, 20, 25])
            #expect(t.step == 25)
            let losses = history.values(of: "validation_loss")
            #expect(losses.last! < losses.first!)
            for record in history.epochs {
                #expect(abs(record["validation_perplexity"]! - exp(record["validation_loss"]!)) < 1e-9)
            }
            let results = try JSONValue(parsing: Data(contentsOf: URL(fileURLWithPath: out + "/results.json")))
            #expect(results["final"]?["steps"]?.numberValue == 25)
            #expect(results["final"]?["perplexity"]?.numberValue == exp(losses.last!))
            #expect(FileManager.default.fileExists(atPath: out + "/curves.png"))
            #expect(try String(contentsOfFile: out + "/curves.svg", encoding: .utf8).contains(">evaluation<"))
        }

        /// Interrupted after step 12 (a mid-interval checkpoint) and resumed: the same weights, bit
        /// for bit, because the batch generator's position is in the checkpoint.
        @Test func aResumedStepRunDrawsTheSameBatches() throws {
            let (whole, wholeHistory, _) = try stepRun(TrainerConfiguration(showsProgress: false))
            let directory = temporaryDirectory("step-resume")
            _ = try stepRun(TrainerConfiguration(checkpointDirectory: directory, checkpointEverySteps: 4, keepLastCheckpoints: 100,
                                                 showsProgress: false))
            for file in try FileManager.default.contentsOfDirectory(atPath: directory) where file > "step-000000012.h5" {
                try FileManager.default.removeItem(atPath: directory + "/" + file)
            }
            let (resumed, resumedHistory, t) = try stepRun(TrainerConfiguration(checkpointDirectory: directory, resume: true,
                                                                                 showsProgress: false))
            #expect(t.step == 30)
            for (a, b) in zip(whole.parameters(), resumed.parameters()) { #expect(a.value.scalars == b.value.scalars) }
            #expect(resumedHistory.values(of: "validation_loss") == wholeHistory.values(of: "validation_loss"))
        }

        @Test func aTimeBudgetEndsTheRunAfterAStepAndEvaluatesIt() throws {
            let (_, history, t) = try stepRun(TrainerConfiguration(showsProgress: false, timeBudget: 1e-9))
            #expect(t.step == 1)
            #expect(history.values(of: "step") == [1] && history.epochs[0]["validation_loss"] != nil)
        }

        /// Batches of any kind through `step`: the same weights as `fit` over a loader giving the
        /// same batches, and a state carried from batch to batch is the caller's.
        @Test func customBatchesTrainAsTheLoaderDoes() throws {
            func fresh() -> (Sequential, Trainer) {
                let model = Sequential(Linear(inputSize: 4, outputSize: 3, generator: RandomGenerator(seed: 9)))
                let t = Trainer(model: model, optimizer: SGD(parameters: model.parameters(), learningRate: 0.1, momentum: 0.9),
                                configuration: TrainerConfiguration(epochs: 2, showsProgress: false))
                t.log = { _ in }
                return (model, t)
            }
            let (a, byLoader) = fresh()
            let loader = DataLoader(data, batchSize: 48)
            try byLoader.fit(loader)
            let (b, byStep) = fresh()
            var seenPerEpoch: [Int] = []
            let history = try byStep.fit(batchesPerEpoch: loader.batchCount, batches: { epoch -> [LabeledExample] in
                seenPerEpoch.append(epoch)
                return Array(loader.batches(epoch: epoch - 1))
            }, step: { batch in
                let logits = b(batch.input)
                return TrainingStepOutput(loss: crossEntropy(logits: logits, targets: batch.target), count: 48,
                                          correct: Trainer.correctCount(logits, batch.target))
            })
            #expect(seenPerEpoch == [1, 2])
            for (x, y) in zip(a.parameters(), b.parameters()) { #expect(x.value.scalars == y.value.scalars) }
            #expect(history.values(of: "train_loss") == byLoader.history.values(of: "train_loss"))
            #expect(history.values(of: "train_accuracy") == byLoader.history.values(of: "train_accuracy"))
        }
    }
}

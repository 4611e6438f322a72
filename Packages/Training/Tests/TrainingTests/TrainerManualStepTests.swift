import Foundation
import NN
import Optim
import Testing
import TensorCore
@testable import Training

/// Steps that update the parameters themselves (a GAN's alternating updates through a
/// `CombinedOptimizer`): figures recorded as `train_<name>`, the same weights as a hand loop,
/// a mid-epoch resume that continues bit for bit, and a non-finite figure that stops naming it.
extension TrainerTests {
    @Suite("Trainer manual steps")
    struct ManualSteps {
        let data = blobs(count: 240, seed: 1)

        /// Two linear "networks" updated alternately on one batch, as a discriminator and a generator.
        final class Pair: Module {
            let first = Linear(inputSize: 4, outputSize: 3, generator: RandomGenerator(seed: 9))
            let second = Linear(inputSize: 4, outputSize: 3, generator: RandomGenerator(seed: 10))
        }

        func run(_ configuration: TrainerConfiguration, poisonAt: Int? = nil) throws -> (Pair, TrainingHistory, Trainer) {
            let pair = Pair()
            let optimizer = CombinedOptimizer([("first", Adam(parameters: pair.first.parameters(), learningRate: 1e-2)),
                                               ("second", SGD(parameters: pair.second.parameters(), learningRate: 0.1, momentum: 0.9))])
            let t = Trainer(model: pair, optimizer: optimizer, configuration: configuration)
            t.log = { _ in }
            let loader = DataLoader(data, batchSize: 48, sampler: RandomSampler(seed: 3))
            var calls = 0
            let history = try t.fit(batchesPerEpoch: loader.batchCount, batches: { loader.batches(epoch: $0) }, manualStep: { batch in
                calls += 1
                var figures: [String: Double] = [:]
                for name in ["first", "second"] {
                    let part = optimizer[name]
                    part.zeroGradients()
                    let layer = name == "first" ? pair.first : pair.second
                    let loss = crossEntropy(logits: layer(batch.input), targets: batch.target)
                    loss.backward()
                    part.step()
                    figures[name + "_loss"] = calls == poisonAt && name == "second" ? .nan : loss.item(as: Double.self)
                }
                return ManualStepOutput(figures: figures, count: batch.input.shape[0])
            })
            return (pair, history, t)
        }

        @Test func figuresAreRecordedPerEpochAndBothPartsTrain() throws {
            let (_, history, t) = try run(TrainerConfiguration(epochs: 3, showsProgress: false))
            #expect(t.step == 15)
            #expect(history.epochs[0]["train_loss"] == nil)
            for name in ["train_first_loss", "train_second_loss"] {
                let values = history.values(of: name)
                #expect(values.count == 3 && values.last! < values.first!, "\(name): \(values)")
            }
        }

        @Test func aMidEpochResumeContinuesBitForBit() throws {
            let (whole, wholeHistory, _) = try run(TrainerConfiguration(epochs: 2, showsProgress: false))
            let directory = temporaryDirectory("manual-resume")
            _ = try run(TrainerConfiguration(epochs: 2, checkpointDirectory: directory, checkpointEverySteps: 3,
                                             keepLastCheckpoints: 100, showsProgress: false))
            // Keep only the first checkpoint: step 3, three batches into the first epoch.
            let files = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
            for file in files.dropFirst() { try FileManager.default.removeItem(atPath: directory + "/" + file) }
            let (resumed, resumedHistory, t) = try run(TrainerConfiguration(epochs: 2, checkpointDirectory: directory, resume: true,
                                                                             showsProgress: false))
            #expect(t.step == 10)
            for (a, b) in zip(whole.parameters(), resumed.parameters()) { #expect(a.value.scalars == b.value.scalars) }
            #expect(resumedHistory.values(of: "train_second_loss") == wholeHistory.values(of: "train_second_loss"))
        }

        @Test func aNonFiniteFigureStopsNamingItAndTheStep() throws {
            let error = #expect(throws: TrainingError.self) {
                _ = try run(TrainerConfiguration(epochs: 3, showsProgress: false), poisonAt: 7)
            }
            guard case let .nonFiniteLoss(step, epoch, value, figure)? = error else { Issue.record("\(String(describing: error))"); return }
            #expect(step == 7 && epoch == 2 && value.isNaN && figure == "train_second_loss")
            #expect("\(error!)".contains("train_second_loss became nan at step 7"))
        }
    }
}

import Foundation
import NN
import Optim
import Testing
import TensorCore
import Training

/// The README's "Training your own model" block, on a small synthetic set (it must keep
/// compiling and working as written). Part of the serialized Trainer suite: the block draws its
/// initial weights from the global random stream, which the resume test replays.
extension TrainerTests {
    @Test func theReadmeBlockTrainsAndWritesItsOutputs() throws {
        let directory = temporaryDirectory("readme")
        let train = TensorDataset(inputs: Tensor.randn([256, 784], generator: RandomGenerator(seed: 1)),
                                  targets: Tensor((0..<256).map { Int64($0 % 10) }))
        let test = TensorDataset(inputs: train.inputs[0..<64], targets: train.targets[0..<64])
        // --- README block (paths under a temporary directory, 2 epochs) ---
        let model = MLP(MLPConfiguration(inputSize: 784, hiddenSizes: [512, 256], outputSize: 10))
        let optimizer = SGD(parameters: model.parameters(), learningRate: 0.05, momentum: 0.9)
        let loader = DataLoader(train, batchSize: 128, sampler: RandomSampler(seed: 0))
        let trainer = Trainer(model: model, optimizer: optimizer,
                              schedule: CosineAnnealingSchedule(optimizer, maxSteps: 2 * loader.batchCount),
                              configuration: TrainerConfiguration(epochs: 2, outputDirectory: directory + "/mlp",
                                                                  checkpointDirectory: directory + "/mlp/checkpoints",
                                                                  showsProgress: false),
                              callbacks: [EarlyStopping(monitor: "test_loss", patience: 3)])
        trainer.log = { _ in }
        let history = try trainer.fit(loader, evaluating: DataLoader(test, batchSize: 1000), as: "test")
        // ---
        #expect(history.epochs.count == 2)
        #expect(FileManager.default.fileExists(atPath: directory + "/mlp/results.json"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory + "/mlp/checkpoints").count == 2)
    }
}

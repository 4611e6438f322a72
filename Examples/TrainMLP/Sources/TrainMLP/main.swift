import Datasets
import NN
import Optim
import TensorCore
import Training

let seed = UInt64(CommandLine.arguments.dropFirst().first ?? "0") ?? 0
let train = try ImageDatasets.mnistLike("fashion-mnist", split: .train, root: DatasetLocation.defaultRoot())
let test = try ImageDatasets.mnistLike("fashion-mnist", split: .test, root: DatasetLocation.defaultRoot())
let model = MLP(MLPConfiguration(inputSize: 784, hiddenSizes: [512, 256], outputSize: 10), generator: RandomGenerator(seed: seed))
let optimizer = SGD(parameters: model.parameters(), learningRate: 0.05, momentum: 0.9)
let loader = DataLoader(train, batchSize: 128, sampler: RandomSampler(seed: seed))
let trainer = Trainer(model: model, optimizer: optimizer,
                      schedule: CosineAnnealingSchedule(optimizer, maxSteps: 10 * loader.batchCount),
                      configuration: TrainerConfiguration(epochs: 10, outputDirectory: "runs/example-mlp-seed\(seed)"))
let history = try trainer.fit(loader, evaluating: DataLoader(test, batchSize: 1000), as: "test")
print("test accuracy:", history.epochs.last!["test_accuracy"]!)

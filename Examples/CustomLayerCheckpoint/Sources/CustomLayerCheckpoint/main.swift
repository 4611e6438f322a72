import CheckpointHDF5
import Foundation
import NN
import Optim
import TensorCore

/// A custom layer: a learned per-feature gate, `x · σ(g)`, around a Linear.
final class GatedLinear: Module {
    let linear: Linear
    let gate: Parameter

    init(inputSize: Int, outputSize: Int, generator: RandomGenerator) {
        linear = Linear(inputSize: inputSize, outputSize: outputSize, generator: generator)
        gate = Parameter(Tensor.zeros([outputSize]))
        super.init()
    }

    override func forward(_ x: Tensor) -> Tensor { linear(x) * gate.value.sigmoid() }
}

let g = RandomGenerator(seed: 0)
let x = Tensor.randn([64, 3], generator: g), y = x.matmul(Tensor([1, -2, 0.5, 3, 0, 1], shape: [3, 2]))
let model = GatedLinear(inputSize: 3, outputSize: 2, generator: g)
let optimizer = Adam(parameters: model.parameters(), learningRate: 0.05)
for _ in 0..<300 {
    optimizer.zeroGradients()
    meanSquaredError(predictions: model(x), targets: y).backward()
    optimizer.step()
}
let path = NSTemporaryDirectory() + "gated-linear-\(getpid()).h5"
try CheckpointFile.save(Checkpoint(model: model.stateDict()), to: path)

// Inference elsewhere: a fresh model, its weights from the file.
let restored = GatedLinear(inputSize: 3, outputSize: 2, generator: RandomGenerator(seed: 99))
try restored.loadStateDict(try CheckpointFile.load(from: path).model)
restored.eval()
let same = withoutGradients { (restored(x) - model(x)).abs().max().item() }
print("parameters:", model.namedParameters().map(\.0).sorted(), "loss:", withoutGradients { meanSquaredError(predictions: restored(x), targets: y).item() })
guard same == 0 else { fatalError("restored model differs by \(same)") }
try? FileManager.default.removeItem(atPath: path)

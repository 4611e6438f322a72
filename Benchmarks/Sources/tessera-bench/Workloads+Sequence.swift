import NN
import Optim
import SequenceModels
import TensorCore

/// LSTM layer and GPT training step, named as in peers/torch_bench.py.
func sequenceWorkloads(_ g: RandomGenerator) -> [Workload] {
    var list: [Workload] = []
    list.append(Workload(name: "lstm_fwd_bwd_b32_t64_h256", unit: "Ktoken/s", workPerStep: 32 * 64 / 1e3) {
        let lstm = LSTM(inputSize: 256, hiddenSize: 256, batchFirst: true, generator: g)
        let x = Tensor.randn([32, 64, 256], generator: g).requiringGrad()
        return {
            lstm(x).output.sum().backward()
            x.grad = nil  // as the PyTorch peer does (accumulating would add a pass over x)
            for p in lstm.parameters() { p.grad = nil }
        }
    })
    list.append(Workload(name: "gpt_train_step_16x128", unit: "Ktoken/s", workPerStep: 16 * 128 / 1e3) {
        let gpt = GPT(GPTConfiguration(vocabularySize: 65, blockSize: 128, layers: 6, heads: 6, width: 192, dropout: 0), generator: g)
        let parameters = gpt.parameters()
        let opt = AdamW(groups: [
            ParameterGroup(parameters: parameters.filter { $0.shape.count >= 2 }, options: .init(learningRate: 1e-3, beta2: 0.99, weightDecay: 0.1)),
            ParameterGroup(parameters: parameters.filter { $0.shape.count < 2 }, options: .init(learningRate: 1e-3, beta2: 0.99, weightDecay: 0)),
        ])
        let x = Tensor.randint(0, 65, shape: [16, 128], generator: g)
        let y = Tensor.randint(0, 65, shape: [16, 128], generator: g)
        return {
            let loss = gpt.loss(x, targets: y)
            opt.zeroGradients()
            loss.backward()
            _ = clipGradientNorm(parameters, maxNorm: 1)
            opt.step()
        }
    })
    return list
}

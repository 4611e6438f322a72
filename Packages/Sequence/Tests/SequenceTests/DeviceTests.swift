import Testing
import NN
import Optim
import TensorCore
import TensorCoreTesting
import CUDABackend
@testable import SequenceModels

/// Recurrent layers, attention, Transformers and the language models on other devices,
/// training and generating: nothing may be made on the CPU, and the numbers (and sampled
/// tokens) are the CPU's.
@Suite("Sequence on other devices")
struct DeviceTests {
    /// TensorCoreTesting's `emulated:0` (CPU kernels under another label), and `cuda:0` (the
    /// CUDA backend's kernels, on a GPU or the CUDA emulator) where either exists.
    static let devices: [Device] = {
        EmulatedDevice.register()
        return [EmulatedDevice.device] + [CUDABackend.deviceForTesting()].compactMap { $0 }
    }()

    func agree(on target: Device, _ body: (Device) -> [Tensor], sourceLocation: SourceLocation = #_sourceLocation) {
        let cpu = body(.cpu), device = body(target)
        for (i, (a, b)) in zip(cpu, device).enumerated() {
            #expect(b.device == target, "result \(i) is on \(b.device)", sourceLocation: sourceLocation)
            expectClose(b.moved(to: .cpu), a, tolerance: Tolerance(absolute: 1e-4, relative: 1e-4), sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: DeviceTests.devices)
    func recurrentLayersAndCells(on target: Device) {
        agree(on: target) { d in
            let g = RandomGenerator(seed: 1)
            let lstm = LSTM(inputSize: 3, hiddenSize: 4, numLayers: 2, batchFirst: true, bidirectional: true, generator: g)
            let gru = GRU(inputSize: 3, hiddenSize: 4, generator: g)
            let rnn = RNN(inputSize: 3, hiddenSize: 4, nonlinearity: .relu, generator: g)
            for m in [lstm, gru, rnn] as [Module] { m.move(to: d) }
            let x = Tensor.randn([2, 5, 3], generator: RandomGenerator(seed: 2)).moved(to: d)
            let (y, state) = lstm(x)
            let (z, h) = gru(x.transposed(0, 1))
            let (r, _) = rnn(x.transposed(0, 1))
            (y.sum() + z.sum() + r.sum() + state.hidden.sum()).backward()
            return [y, state.cell, z, h, r, lstm.parameters()[0].grad!, gru.parameters()[0].grad!]
        }
    }

    @Test(arguments: DeviceTests.devices)
    func attentionAndTransformers(on target: Device) {
        agree(on: target) { d in
            let g = RandomGenerator(seed: 3)
            let mha = MultiheadAttention(embedDim: 8, numHeads: 2, batchFirst: true, generator: g)
            let encoder = TransformerEncoderLayer(width: 8, heads: 2, feedForwardWidth: 16, dropout: 0, generator: g)
            let decoder = TransformerDecoderLayer(width: 8, heads: 2, feedForwardWidth: 16, dropout: 0, generator: g)
            let additive = AdditiveAttention(querySize: 8, keySize: 8, hiddenSize: 6, generator: g)
            let learned = LearnedPositionalEmbedding(maxLength: 10, dimension: 8, generator: g)
            let sinusoidal = SinusoidalPositionalEncoding(dimension: 8)
            for m in [mha, encoder, decoder, additive, learned, sinusoidal] as [Module] { m.move(to: d) }
            let x = Tensor.randn([2, 5, 8], generator: RandomGenerator(seed: 4)).moved(to: d)
            let padding = AttentionMask.padding(lengths: [5, 3], keys: 5, device: d).reshaped(to: [2, 5]).logicalNot()
            let (attended, weights) = mha(x, x, x, keyPaddingMask: padding,
                                          attentionMask: AttentionMask.causal(queries: 5, keys: 5, device: d).logicalNot(), needWeights: true)
            let encoded = encoder(sinusoidal(learned(x)), keyPaddingMask: padding)
            let decoded = decoder(RotaryEmbedding(dimension: 8)(x), memory: encoded)
            let alibi = scaledDotProductAttention(x.unsqueezed(axis: 1), x.unsqueezed(axis: 1), x.unsqueezed(axis: 1),
                                                  mask: ALiBi.bias(heads: 1, queries: 5, keys: 5, device: d))
            let (context, _) = additive(query: x[.all, 0], keys: x, values: x)
            (attended.sum() + encoded.sum() + decoded.sum() + context.sum()).backward()
            return [attended, weights!, encoded, decoded, alibi, context, mha.parameters()[0].grad!]
        }
    }

    @Test(arguments: DeviceTests.devices)
    func languageModelsTrainAndGenerate(on target: Device) {
        func run(_ d: Device) -> ([Tensor], [[Int]]) {
            let g = RandomGenerator(seed: 5)
            let gpt = GPT(GPTConfiguration(vocabularySize: 11, blockSize: 8, layers: 1, heads: 2, width: 8, dropout: 0), generator: g)
            let char = CharRNN(vocabularySize: 11, embeddingSize: 4, hiddenSize: 6, layers: 1, generator: g)
            let classifier = TransformerClassifier(vocabularySize: 11, classes: 3, width: 8, heads: 2, layers: 1, dropout: 0, generator: g)
            let seq2seq = Seq2Seq(sourceVocabulary: 9, targetVocabulary: 9, embedding: 4, hidden: 6, generator: g)
            for m in [gpt, char, classifier, seq2seq] as [Module] { m.move(to: d) }
            let tokens = Tensor([Int64](arrayLiteral: 1, 2, 3, 4, 5, 6, 7, 8, 2, 3, 4, 5, 6, 7, 8, 9), shape: [2, 8]).moved(to: d)
            let loss = gpt.loss(tokens[.all, 0..<7], targets: tokens[.all, 1..<8])
            let (logits, _) = char(tokens, state: nil)
            let classes = classifier(tokens, mask: tokens .> 2)
            (loss + logits.sum() + classes.sum()).backward()
            let samples = [gpt.generate(prompt: [1, 2], count: 9, sampling: Sampling(temperature: 0.8, topK: 5), generator: RandomGenerator(seed: 6)),
                           char.generate(prompt: [3], count: 4, sampling: Sampling(topP: 0.9), generator: RandomGenerator(seed: 7)),
                           seq2seq.greedyDecode([3, 4, 5], maxLength: 4), seq2seq.beamSearch([3, 4, 5], beamWidth: 2, maxLength: 4).tokens]
            return ([loss, logits, classes, gpt.parameters()[0].grad!], samples)
        }
        let cpu = run(.cpu), device = run(target)
        for (a, b) in zip(cpu.0, device.0) {
            #expect(b.device == target)
            expectClose(b.moved(to: .cpu), a, tolerance: Tolerance(absolute: 1e-4, relative: 1e-4))
        }
        #expect(cpu.1 == device.1)
    }

    /// Three GPT training steps with AdamW (the fused update on CUDA) on the device: the
    /// losses and the trained weights are the CPU's within float32 tolerance.
    @Test(arguments: DeviceTests.devices)
    func gptTrainingStepsMatchTheCPU(on target: Device) {
        let tokens = Tensor([Int64](arrayLiteral: 1, 5, 3, 4, 9, 6, 7, 8, 2, 3, 10, 5, 6, 0, 8, 9), shape: [2, 8])
        // Adam divides by √v: a weight whose gradient is float32 noise (~1e-9, summed in another
        // order on the device) still moves by a noise-signed fraction of the step, so weights
        // agree to 1e-4 (agree's tolerance) of the 1e-2 learning rate, not to 1e-5.
        agree(on: target) { device in
            let gpt = GPT(GPTConfiguration(vocabularySize: 11, blockSize: 8, layers: 2, heads: 2, width: 16, dropout: 0),
                          generator: RandomGenerator(seed: 9))
            gpt.move(to: device)
            let optimizer = AdamW(parameters: gpt.parameters(), learningRate: 1e-2, weightDecay: 0.1)
            let t = tokens.moved(to: device)
            var losses: [Tensor] = []
            for _ in 0..<3 {
                optimizer.zeroGradients()
                let loss = gpt.loss(t[.all, 0..<7], targets: t[.all, 1..<8])
                loss.backward()
                optimizer.step()
                losses.append(loss)
            }
            return losses + gpt.parameters().map(\.value)
        }
    }
}

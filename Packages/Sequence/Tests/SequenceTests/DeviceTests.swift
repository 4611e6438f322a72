import Testing
import NN
import TensorCore
import TensorCoreTesting
@testable import SequenceModels

/// Recurrent layers, attention, Transformers and the language models on an emulated
/// device (`emulated:0`), training and generating: nothing may be made on the CPU, and the numbers
/// (and sampled tokens) are the CPU's.
@Suite("Sequence on an emulated device")
struct DeviceTests {
    func agree(_ body: (Device) -> [Tensor], sourceLocation: SourceLocation = #_sourceLocation) {
        EmulatedDevice.register()
        let cpu = body(.cpu), device = body(EmulatedDevice.device)
        for (i, (a, b)) in zip(cpu, device).enumerated() {
            #expect(b.device == EmulatedDevice.device, "result \(i) is on \(b.device)", sourceLocation: sourceLocation)
            expectClose(b.moved(to: .cpu), a, tolerance: Tolerance(absolute: 1e-4, relative: 1e-4), sourceLocation: sourceLocation)
        }
    }

    @Test func recurrentLayersAndCells() {
        agree { d in
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

    @Test func attentionAndTransformers() {
        agree { d in
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

    @Test func languageModelsTrainAndGenerate() {
        EmulatedDevice.register()
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
        let cpu = run(.cpu), device = run(EmulatedDevice.device)
        for (a, b) in zip(cpu.0, device.0) {
            #expect(b.device == EmulatedDevice.device)
            expectClose(b.moved(to: .cpu), a, tolerance: Tolerance(absolute: 1e-4, relative: 1e-4))
        }
        #expect(cpu.1 == device.1)
    }
}

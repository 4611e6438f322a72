import Foundation
import Testing
import NN
import Optim
import TensorCore
import TensorCoreTesting
@testable import SequenceModels

@Suite("Seq2seq, beam search and BLEU")
struct Seq2SeqTests {
    @Test func bleuMatchesHandComputedValues() {
        let candidate = "the cat sat on the mat".split(separator: " ").map(String.init)
        let reference = "the cat is on the mat".split(separator: " ").map(String.init)
        // Clipped precisions 5/6, 3/5, 1/4; equal lengths: (5/6 · 3/5 · 1/4)^(1/3) = 0.5.
        #expect(abs(bleu(candidates: [candidate], references: [[reference]], maxN: 3) - 0.5) < 1e-12)
        #expect(bleu(candidates: [candidate], references: [[reference]]) == 0)  // no matching 4-gram
        #expect(abs(bleu(candidates: [reference], references: [[reference]]) - 1) < 1e-12)
        // Short candidate: perfect precision, brevity penalty exp(1 - 6/2).
        #expect(abs(bleu(candidates: [["the", "cat"]], references: [[reference]], maxN: 2) - exp(-2)) < 1e-12)
        // Several references: counts clip to the most generous one, length to the closest.
        let other = ["a", "cat", "sat", "on", "the", "mat"]
        #expect(bleu(candidates: [candidate], references: [[reference, other]], maxN: 4) > 0.6)
    }

    @Test func additiveAttentionGradientCheck() {
        let attention = AdditiveAttention(querySize: 3, keySize: 2, hiddenSize: 4, dtype: .float64, generator: RandomGenerator(seed: 5))
        let q = Tensor.randn([2, 3], dtype: .float64), k = Tensor.randn([2, 4, 2], dtype: .float64)
        let v = Tensor.randn([2, 4, 3], dtype: .float64)
        let mask = Tensor([1, 1, 1, 0, 1, 1, 0, 0], shape: [2, 4]) .!= 0
        GradientCheck.check([q, k, v], "additive attention inputs") { x in
            let r = attention(query: x[0], keys: x[1], values: x[2], mask: mask)
            return Tensor.concatenated([r.context.reshaped(to: [-1]), r.weights.reshaped(to: [-1])], axis: 0)
        }
        GradientCheck.checkParameters(attention.parameters(), "additive attention weights") {
            (attention(query: q, keys: k, values: v, mask: mask).context * fixtureWeights([2, 3])).sum()
        }
        // ALiBi and sliding-window masks on the composed attention path.
        let qh = Tensor.randn([1, 2, 4, 3], dtype: .float64), kh = Tensor.randn([1, 2, 4, 3], dtype: .float64)
        let vh = Tensor.randn([1, 2, 4, 3], dtype: .float64)
        GradientCheck.check([qh, kh, vh], "ALiBi") { x in
            scaledDotProductAttention(x[0], x[1], x[2], mask: ALiBi.bias(heads: 2, queries: 4, keys: 4, dtype: .float64))
        }
        GradientCheck.check([qh, kh, vh], "sliding window") { x in
            scaledDotProductAttention(x[0], x[1], x[2], mask: AttentionMask.slidingWindow(length: 4, window: 2))
        }
        let rope = RotaryEmbedding(dimension: 4)
        GradientCheck.check([Tensor.randn([3, 4], dtype: .float64)], "RoPE") { x in rope(x[0], offset: 2) }
    }

    /// Learns to reverse short sequences; beam search must score at least as well as greedy.
    @Test func learnsToReverseSequences() {
        Tensor.manualSeed(21)
        let generator = RandomGenerator(seed: 21)
        // Tokens: 0 pad, 1 start, 2 end, 3..<9 symbols.
        let model = Seq2Seq(sourceVocabulary: 9, targetVocabulary: 9, embedding: 16, hidden: 48, generator: generator)
        let optimizer = Adam(parameters: model.parameters(), learningRate: 0.01)
        func example(_ i: Int) -> [Int] { (0..<(3 + i % 3)).map { j in 3 + (i * 7 + j * 5 + i / 3) % 6 } }
        for step in 0..<250 {
            let rows = (0..<32).map { example(step * 32 + $0) }
            let source = PaddedBatch(rows).tokens
            let target = PaddedBatch(rows.map { [1] + $0.reversed() + [2] }).tokens
            let loss = model.loss(source: source, target: target)
            optimizer.zeroGradients()
            loss.backward()
            _ = clipGradientNorm(model.parameters(), maxNorm: 1)
            optimizer.step()
        }
        let tests = (0..<30).map { example(100_000 + $0 * 13) }
        let correct = tests.filter { model.greedyDecode($0, maxLength: 8) == Array($0.reversed()) }.count
        #expect(correct >= 27, "greedy decoding reversed \(correct) of 30")
        for source in tests.prefix(5) {
            let greedy = model.beamSearch(source, beamWidth: 1, maxLength: 8)
            let beam = model.beamSearch(source, beamWidth: 4, maxLength: 8)
            #expect(beam.logProbability >= greedy.logProbability - 1e-9)
            #expect(greedy.tokens == model.greedyDecode(source, maxLength: 8))
        }
        let candidates = tests.map { model.greedyDecode($0, maxLength: 8).map(String.init) }
        #expect(bleu(candidates: candidates, references: tests.map { [$0.reversed().map(String.init)] }) > 0.9)
    }
}

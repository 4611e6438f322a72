import Foundation
import Testing
import NN
import TensorCore
import TensorCoreTesting
@testable import SequenceModels

@Suite("Attention and Transformers")
struct AttentionTests {
    let tight = Tolerance(absolute: 1e-10, relative: 1e-9)

    @Test func scaledDotProductAttentionMatchesPyTorch() {
        let q = Fixtures.tensor("sdpa", "q"), k = Fixtures.tensor("sdpa", "k"), v = Fixtures.tensor("sdpa", "v")
        let rows = Fixtures.group("sdpa")["bool_mask"] as! [[Bool]]
        let boolMask = Tensor(rows.flatMap { $0 }.map { $0 ? 1.0 : 0.0 }, shape: [4, 6]) .!= 0
        expectClose(scaledDotProductAttention(q, k, v), Fixtures.tensor("sdpa", "plain"), tolerance: tight, "plain")
        expectClose(scaledDotProductAttention(q, k, v, mask: boolMask), Fixtures.tensor("sdpa", "bool"), tolerance: tight, "bool mask")
        expectClose(scaledDotProductAttention(q, k, v, mask: Fixtures.tensor("sdpa", "float_mask")),
                    Fixtures.tensor("sdpa", "float"), tolerance: tight, "float mask")
        expectClose(scaledDotProductAttention(q, k, v, isCausal: true), Fixtures.tensor("sdpa", "causal"), tolerance: tight, "causal")
        expectClose(scaledDotProductAttention(q, k, v, scale: 0.3), Fixtures.tensor("sdpa", "scaled"), tolerance: tight, "scale")
        // float32 through the same fused path.
        expectClose(scaledDotProductAttention(q.cast(to: .float32), k.cast(to: .float32), v.cast(to: .float32), isCausal: true),
                    Fixtures.tensor("sdpa", "causal").cast(to: .float32), "causal float32")
    }

    @Test func attentionGradientCheck() {
        Tensor.manualSeed(8)
        let q = Tensor.randn([2, 3, 4], dtype: .float64), k = Tensor.randn([2, 5, 4], dtype: .float64)
        let v = Tensor.randn([2, 5, 3], dtype: .float64)
        GradientCheck.check([q, k, v], "fused") { x in scaledDotProductAttention(x[0], x[1], x[2]) }
        GradientCheck.check([q, k, v], "fused causal") { x in scaledDotProductAttention(x[0], x[1], x[2], isCausal: true) }
        GradientCheck.check([q, k.narrowed(axis: 0, start: 0, length: 1), v.narrowed(axis: 0, start: 0, length: 1)],
                            "fused, broadcast batch") { x in scaledDotProductAttention(x[0], x[1], x[2]) }
        let mask = Tensor.randn([3, 5]) .> -0.5
        GradientCheck.check([q, k, v], "bool mask") { x in
            scaledDotProductAttention(x[0], x[1], x[2], mask: mask .| AttentionMaskTestSupport.firstColumn(3, 5))
        }
        GradientCheck.checkSecondOrder([q, k, v], "fused, second order") { x in
            scaledDotProductAttention(x[0], x[1], x[2], isCausal: true)
        }
    }

    @Test func multiheadAttentionMatchesPyTorch() throws {
        let mha = MultiheadAttention(embedDim: 8, numHeads: 2, batchFirst: true, dtype: .float64)
        try mha.loadStateDict(Fixtures.dictionary("mha", "params"))
        #expect(Set(mha.namedParameters().map(\.0)) == ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"])
        let q = Fixtures.tensor("mha", "query"), kv = Fixtures.tensor("mha", "kv")
        let causal = AttentionMask.causal(queries: 5, keys: 5).logicalNot()  // PyTorch's MHA: true = masked
        let (selfOut, selfWeights) = mha(q, q, q, attentionMask: causal, needWeights: true)
        expectClose(selfOut, Fixtures.tensor("mha", "self_out"), tolerance: tight, "self-attention output")
        expectClose(selfWeights!, Fixtures.tensor("mha", "self_weights"), tolerance: tight, "self-attention weights")
        // Without weights the fused causal kernel runs; same values.
        expectClose(mha(q, q, q, isCausal: true).output, Fixtures.tensor("mha", "self_out"), tolerance: tight, "fused causal")
        let padding = Tensor([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1], shape: [2, 6]) .!= 0
        let (crossOut, crossWeights) = mha(q, kv, kv, keyPaddingMask: padding, needWeights: true)
        expectClose(crossOut, Fixtures.tensor("mha", "cross_out"), tolerance: tight, "cross-attention output")
        expectClose(crossWeights!, Fixtures.tensor("mha", "cross_weights"), tolerance: tight, "cross-attention weights")
        expectClose(mha(q, kv, kv, keyPaddingMask: padding).output, Fixtures.tensor("mha", "cross_out"), tolerance: tight,
                    "cross-attention through scaledDotProductAttention")
        // Time-major gives the same numbers transposed.
        let timeMajor = MultiheadAttention(embedDim: 8, numHeads: 2, dtype: .float64)
        try timeMajor.loadStateDict(mha.stateDict())
        expectClose(timeMajor(q.transposed(0, 1), kv.transposed(0, 1), kv.transposed(0, 1), keyPaddingMask: padding).output,
                    Fixtures.tensor("mha", "cross_out").transposed(0, 1), tolerance: tight, "time-major")
    }

    @Test func multiheadAttentionParameterGradients() {
        let mha = MultiheadAttention(embedDim: 4, numHeads: 2, batchFirst: true, dtype: .float64, generator: RandomGenerator(seed: 4))
        let x = Tensor.randn([2, 3, 4], dtype: .float64)
        let w = fixtureWeights([2, 3, 4])
        GradientCheck.checkParameters(mha.parameters(), "MHA weights, causal") { (mha(x, x, x, isCausal: true).output * w).sum() }
        GradientCheck.check([x], "MHA input") { v in mha(v[0], v[0], v[0]).output }
    }

    @Test func keyValueCacheGivesTheSameLogitsAsAFullPass() {
        let config = GPTConfiguration(vocabularySize: 11, blockSize: 8, layers: 2, heads: 2, width: 8, dropout: 0)
        let gpt = GPT(config, generator: RandomGenerator(seed: 6))
        let tokens = Tensor([3, 1, 4, 1, 5, 9, 2] as [Int64], shape: [1, 7])
        let full = withoutGradients { gpt(tokens) }
        let caches = gpt.blocks.map { _ in KeyValueCache() }
        let first = withoutGradients { gpt(tokens[.all, 0..<4], caches: caches) }   // a prompt of 4 (causal inside)
        let second = withoutGradients { gpt(tokens[.all, 4..<5], caches: caches) }  // one token
        let third = withoutGradients { gpt(tokens[.all, 5..<7], caches: caches) }   // two at once (offset causal mask)
        expectClose(Tensor.concatenated([first, second, third], axis: 1), full, tolerance: Tolerance(absolute: 1e-5, relative: 1e-4))
        #expect(caches[0].count == 7)
    }

    @Test func gptParametersAreTiedAndNamed() {
        let gpt = GPT(GPTConfiguration(vocabularySize: 65, blockSize: 128, layers: 6, heads: 6, width: 192))
        let names = gpt.namedParameters().map(\.0)
        #expect(names.contains("tokenEmbedding.weight") && names.contains("blocks.5.attention.qkv.weight"))
        // No separate output matrix: tied to the token embedding.
        #expect(gpt.parameterCount == 65 * 192 + 128 * 192 + 6 * (12 * 192 * 192 + 13 * 192) + 2 * 192)
    }

    @Test func samplingRespectsTopKTopPAndGreedy() {
        let logits = Tensor([1.0, 3.0, 2.0, 0.5, 2.5])
        #expect(Sampling.greedy.sample(logits: logits) == 1)
        let k2 = Sampling(topK: 2).probabilities(logits: logits)
        #expect(k2.enumerated().filter { $0.element > 0 }.map(\.offset) == [1, 4])
        expectClose(Tensor(k2), [0, 1 / (1 + exp(-0.5)), 0, 0, exp(-0.5) / (1 + exp(-0.5))], tolerance: tight)
        // Probabilities ∝ e^{3}, e^{2.5}, e^{2}, ...: top-p 0.5 keeps only the first (0.39 < 0.5 -> two).
        let p = Sampling(topP: 0.5).probabilities(logits: logits)
        #expect(p.enumerated().filter { $0.element > 0 }.map(\.offset) == [1, 4])
        let cold = Sampling(temperature: 0.01).probabilities(logits: logits)
        #expect(cold[1] > 0.999)
        let generator = RandomGenerator(seed: 1)
        var counts = [0, 0, 0, 0, 0]
        for _ in 0..<2000 { counts[Sampling(topK: 2).sample(logits: logits, generator: generator)] += 1 }
        #expect(counts[0] == 0 && counts[2] == 0 && counts[3] == 0)
        #expect(abs(Double(counts[1]) / 2000 - k2[1]) < 0.04)
    }

    @Test func positionalEncodings() {
        let table = SinusoidalPositionalEncoding.table(length: 10, dimension: 6)
        expectClose(table[3, 2], [sin(3 / pow(10000, 2.0 / 6))], tolerance: tight)
        expectClose(table[7, 5], [cos(7 / pow(10000, 4.0 / 6))], tolerance: tight)
        // RoPE: q·k depends on the relative offset only.
        let rope = RotaryEmbedding(dimension: 8)
        let q = Tensor.randn([1, 8], dtype: .float64), k = Tensor.randn([1, 8], dtype: .float64)
        let a = (rope(q, offset: 5) * rope(k, offset: 2)).sum().item(as: Double.self)
        let b = (rope(q, offset: 13) * rope(k, offset: 10)).sum().item(as: Double.self)
        #expect(abs(a - b) < 1e-9)
        expectClose(rope(q, offset: 0), q, tolerance: tight, "position 0 is the identity")
        // ALiBi: slopes 2^-1 ... 2^-8 for 8 heads; bias -m·distance with -inf ahead.
        expectClose(Tensor(ALiBi.slopes(heads: 8)), (1...8).map { pow(2, -Double($0)) }, tolerance: tight)
        #expect(ALiBi.slopes(heads: 6).count == 6)
        let bias = ALiBi.bias(heads: 2, queries: 3, keys: 3, dtype: .float64)
        expectClose(bias[0, 2], [-2 * pow(2, -4), -pow(2, -4), 0], tolerance: tight)
        #expect(bias[1, 0, 1].item(as: Double.self) == -.infinity)
        let local = AttentionMask.slidingWindow(length: 5, window: 2)
        #expect(local.cast(to: .int64).scalars(as: Int64.self) == [1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 1, 1])
    }

    @Test func transformerLayersAreCausalAndDifferentiable() {
        let generator = RandomGenerator(seed: 12)
        for normFirst in [false, true] {
            let layer = TransformerEncoderLayer(width: 4, heads: 2, feedForwardWidth: 6, dropout: 0, normFirst: normFirst,
                                                dtype: .float64, generator: generator)
            let x = Tensor.randn([1, 5, 4], dtype: .float64)
            var changed = x
            changed[0, 4] = Tensor.randn([4], dtype: .float64)
            // Changing the last position leaves the earlier causal outputs unchanged.
            expectClose(layer(changed, isCausal: true)[0, 0..<4], layer(x, isCausal: true)[0, 0..<4], tolerance: tight)
            GradientCheck.checkParameters(layer.parameters(), "encoder layer normFirst=\(normFirst)") {
                (layer(x, isCausal: true) * fixtureWeights([1, 5, 4])).sum()
            }
        }
        let decoder = TransformerDecoderLayer(width: 4, heads: 2, feedForwardWidth: 6, dropout: 0, dtype: .float64,
                                              generator: generator)
        let memory = Tensor.randn([2, 3, 4], dtype: .float64), target = Tensor.randn([2, 4, 4], dtype: .float64)
        GradientCheck.check([target, memory], "decoder layer") { v in decoder(v[0], memory: v[1], targetIsCausal: true) }
    }

    @Test func maskShapeMismatchNamesLayerAndShapes() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let mha = MultiheadAttention(embedDim: 4, numHeads: 2, batchFirst: true)
            let x = Tensor.zeros([2, 3, 4])
            _ = mha(x, x, x, keyPaddingMask: Tensor.zeros([2, 5]) .> 0)
        }
        let text = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(text.contains("[MultiheadAttention] keyPaddingMask [2, 5] should be [2, 3]"))
    }
}

enum AttentionMaskTestSupport {
    /// Every query may see key 0, so no row is fully masked.
    static func firstColumn(_ l: Int, _ s: Int) -> Tensor {
        Tensor.arange(Double(s)).reshaped(to: [1, s]).expanded(to: [l, s]) .== 0
    }
}

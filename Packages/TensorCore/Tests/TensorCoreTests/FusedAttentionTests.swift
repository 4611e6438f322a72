import Testing
import TensorCore
import TensorCoreTesting

/// The CPU's fused float32 attention (attention.c) against the composed float64 attention:
/// outputs and all three gradients, causal or not, queries and keys of different lengths
/// (several 32-row blocks, and rows of queries that see no key block past their own), head
/// views of one packed QKV tensor, and a key/value batch broadcast over heads.
@Suite("Fused attention")
struct FusedAttentionTests {
    func check(_ q: Tensor, _ k: Tensor, _ v: Tensor, causal: Bool, _ label: String) {
        let seed = Tensor.randn(Array(q.shape.dropLast()) + [v.shape.last!], generator: RandomGenerator(seed: 5))
            .cast(to: .float32).cast(to: .float64)
        let q64 = q.detached().cast(to: .float64).requiringGrad(), k64 = k.detached().cast(to: .float64).requiringGrad()
        let v64 = v.detached().cast(to: .float64).requiringGrad()
        let reference = Tensor.composedAttention(query: q64, key: k64, value: v64, mask: nil, isCausal: causal,
                                                 dropout: 0, scale: 0.3, generator: nil)
        let expected = gradients(of: [reference], withRespectTo: [q64, k64, v64], seeds: [seed])
        let q32 = q.cast(to: .float32).requiringGrad(), k32 = k.cast(to: .float32).requiringGrad()
        let v32 = v.cast(to: .float32).requiringGrad()
        let fused = Tensor.scaledDotProductAttention(query: q32, key: k32, value: v32, isCausal: causal, scale: 0.3)
        let got = gradients(of: [fused], withRespectTo: [q32, k32, v32], seeds: [seed.cast(to: .float32)])
        let tolerance = Tolerance(absolute: 2e-5, relative: 1e-4)
        expectClose(fused.cast(to: .float64), reference.detached(), tolerance: tolerance, "\(label) output")
        for (name, (a, b)) in zip(["dq", "dk", "dv"], zip(got, expected)) {
            expectClose(a.cast(to: .float64), b, tolerance: tolerance, "\(label) \(name)")
        }
    }

    @Test func matchesComposedFloat64() {
        let g = RandomGenerator(seed: 9)
        for causal in [false, true] {
            for (l, s) in [(70, 70), (37, 70), (70, 37), (1, 5)] {
                let q = Tensor.randn([2, 3, l, 8], generator: g), k = Tensor.randn([2, 3, s, 8], generator: g)
                let v = Tensor.randn([2, 3, s, 5], generator: g)
                check(q, k, v, causal: causal, "causal \(causal) l \(l) s \(s)")
            }
        }
        // Heads as strided views of one [b, t, 3, heads, d] tensor, as in a GPT block.
        let qkv = Tensor.randn([2, 40, 3 * 4 * 8], generator: g).reshaped(to: [2, 40, 3, 4, 8]).permuted(2, 0, 3, 1, 4)
        check(qkv[0], qkv[1], qkv[2], causal: true, "packed QKV views")
        // Keys and values shared by every head (broadcast batch axis).
        check(Tensor.randn([2, 4, 33, 8], generator: g), Tensor.randn([2, 1, 33, 8], generator: g),
              Tensor.randn([2, 1, 33, 8], generator: g), causal: false, "broadcast keys")
    }
}

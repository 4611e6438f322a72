import Foundation
import NN
import TensorCore

/// The fixed sinusoidal encoding of "Attention Is All You Need":
/// `PE[p, 2i] = sin(p / 10000^(2i/d))`, `PE[p, 2i+1] = cos(p / 10000^(2i/d))`.
/// Added to `[batch, time, d]` inputs (batch-first), with optional dropout, as the PyTorch tutorial's module.
public final class SinusoidalPositionalEncoding: Module {
    /// The table `[maxLength, d]`.
    public let encoding: Buffer
    /// Dropout after adding positions, in training.
    public let dropout: Double
    let generator: RandomGenerator?

    /// The sinusoidal table for `maxLength` positions of `dimension` (even).
    public init(dimension: Int, maxLength: Int = 5000, dropout: Double = 0, dtype: DType = .float32,
                generator: RandomGenerator? = nil) {
        tensorCheck(dimension > 0 && dimension % 2 == 0,
                    "[SinusoidalPositionalEncoding] dimension must be positive and even, got \(dimension)")
        encoding = Buffer(Self.table(length: maxLength, dimension: dimension).cast(to: dtype))
        self.dropout = dropout
        self.generator = generator
    }

    /// `[length, dimension]` table.
    public static func table(length: Int, dimension: Int) -> Tensor {
        var values = [Double](repeating: 0, count: length * dimension)
        for p in 0..<length {
            for i in stride(from: 0, to: dimension, by: 2) {
                let angle = Double(p) / Foundation.pow(10000, Double(i) / Double(dimension))
                values[p * dimension + i] = Foundation.sin(angle)
                values[p * dimension + i + 1] = Foundation.cos(angle)
            }
        }
        return Tensor(values, shape: [length, dimension])
    }

    /// `x + PE[offset ..< offset + time]` for `x [batch, time, d]`.
    public func callAsFunction(_ x: Tensor, offset: Int) -> Tensor {
        let table = encoding.value
        tensorCheck(x.rank >= 2 && x.shape.last == table.shape[1] && offset + x.shape[x.rank - 2] <= table.shape[0],
                    "[SinusoidalPositionalEncoding] input \(shapeText(x.shape)) at offset \(offset) does not fit the table \(shapeText(table.shape))")
        let y = x + table.narrowed(axis: 0, start: offset, length: x.shape[x.rank - 2])
        return dropout > 0 && isTraining ? NN.dropout(y, p: dropout, generator: generator) : y
    }

    public override func forward(_ x: Tensor) -> Tensor { self(x, offset: 0) }
}

/// Learned absolute positions: an embedding table indexed by position (GPT-2's `wpe`).
public final class LearnedPositionalEmbedding: Module {
    /// The table `[maxLength, d]`, initialised normal with deviation 0.02.
    public let weight: Parameter

    /// A learned table for `maxLength` positions.
    public init(maxLength: Int, dimension: Int, dtype: DType = .float32, generator: RandomGenerator? = nil) {
        weight = Parameter(Initializer.normal([maxLength, dimension], standardDeviation: 0.02, dtype: dtype, generator: generator))
    }

    /// Embeddings of positions `offset ..< offset + length`: `[length, dimension]`.
    public func callAsFunction(length: Int, offset: Int = 0) -> Tensor {
        let count = weight.shape[0]
        tensorCheck(offset >= 0 && offset + length <= count,
                    "[LearnedPositionalEmbedding] positions \(offset)..<\(offset + length) exceed the \(count) learned positions")
        return weight.value.narrowed(axis: 0, start: offset, length: length)
    }

    /// `x + positions` for `x [..., time, dimension]`.
    public override func forward(_ x: Tensor) -> Tensor { x + self(length: x.shape[x.rank - 2]) }
}

/// Rotary position embedding (RoPE, Su et al. 2021) in the rotate-half form of GPT-NeoX and
/// LLaMA: feature pairs `(i, i + d/2)` rotate by angle `p · base^(-2i/d)`. Applied to queries
/// and keys (`[..., time, d]`), it makes their dot products depend on relative position only.
public struct RotaryEmbedding {
    /// Features rotated (even).
    public let dimension: Int
    /// The frequency base (10000 in RoPE).
    public let base: Double

    /// RoPE over `dimension` features.
    public init(dimension: Int, base: Double = 10000) {
        tensorCheck(dimension > 0 && dimension % 2 == 0, "[RotaryEmbedding] dimension must be positive and even, got \(dimension)")
        self.dimension = dimension
        self.base = base
    }

    /// cos and sin tables `[length, d]` for positions `offset ..< offset + length`.
    func tables(length: Int, offset: Int, dtype: DType, device: Device) -> (cos: Tensor, sin: Tensor) {
        let half = dimension / 2
        var angles = [Double](repeating: 0, count: length * dimension)
        for p in 0..<length {
            for i in 0..<half {
                let angle = Double(p + offset) * Foundation.pow(base, -2 * Double(i) / Double(dimension))
                angles[p * dimension + i] = angle
                angles[p * dimension + i + half] = angle
            }
        }
        let a = Tensor(angles, shape: [length, dimension])
        return (a.cos().cast(to: dtype).moved(to: device), a.sin().cast(to: dtype).moved(to: device))
    }

    /// Rotates `x [..., time, d]` whose first time step is position `offset`.
    public func callAsFunction(_ x: Tensor, offset: Int = 0) -> Tensor {
        tensorCheck(x.rank >= 2 && x.shape.last == dimension,
                    "[RotaryEmbedding] input \(shapeText(x.shape)) should end in dimension \(dimension)")
        let (c, s) = tables(length: x.shape[x.rank - 2], offset: offset, dtype: x.dtype, device: x.device)
        let halves = x.chunked(2, axis: -1)
        let rotated = Tensor.concatenated([-halves[1], halves[0]], axis: x.rank - 1)
        return x * c + rotated * s
    }
}

/// ALiBi (Press et al. 2022): instead of position embeddings, each head adds `-m_h · (i - j)`
/// to its scores, with slopes `m_h` a geometric sequence. Returns the additive bias
/// `[heads, queries, keys]` (bottom-right aligned like a cache), with `-inf` on future keys
/// when `causal`.
public enum ALiBi {
    /// The paper's slopes: `2^(-8h/n)` for `n` a power of two, interleaved otherwise.
    public static func slopes(heads: Int) -> [Double] {
        func powerOfTwo(_ n: Int) -> [Double] {
            let start = Foundation.pow(2, -8 / Double(n))
            return (0..<n).map { Foundation.pow(start, Double($0 + 1)) }
        }
        let lower = 1 << Int(Foundation.log2(Double(heads)))
        if lower == heads { return powerOfTwo(heads) }
        return powerOfTwo(lower) + Array(powerOfTwo(2 * lower).enumerated().filter { $0.offset % 2 == 0 }.map(\.element)
            .prefix(heads - lower))
    }

    /// ALiBi's additive bias `[heads, queries, keys]`: `-slope_h · (i - j)` (`-inf` above the diagonal when causal).
    public static func bias(heads: Int, queries: Int, keys: Int, causal: Bool = true, dtype: DType = .float32,
                            device: Device = .cpu) -> Tensor {
        let m = slopes(heads: heads)
        let offset = keys - queries
        var values = [Double](repeating: 0, count: heads * queries * keys)
        for h in 0..<heads {
            for i in 0..<queries {
                for j in 0..<keys {
                    let distance = i + offset - j
                    values[(h * queries + i) * keys + j] = causal && distance < 0 ? -.infinity : -m[h] * Double(Swift.abs(distance))
                }
            }
        }
        return Tensor(values, shape: [heads, queries, keys]).cast(to: dtype).moved(to: device)
    }
}

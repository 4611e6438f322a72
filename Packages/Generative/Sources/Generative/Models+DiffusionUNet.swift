import Foundation
import NN
import SequenceModels
import TensorCore
import Vision

/// Sinusoidal embeddings of timesteps (Vaswani et al.'s positions, as DDPM uses them):
/// `[sin(t·f₀), …, sin(t·f_{h−1}), cos(t·f₀), …]` with f_i = 10000^(−i/h), h = dimension / 2.
/// Shape: `[N]` timesteps → `[N, dimension]`.
public func timestepEmbedding(_ timesteps: [Int], dimension: Int, dtype: DType = .float32) -> Tensor {
    tensorCheck(dimension >= 2 && dimension % 2 == 0, "[timestepEmbedding] dimension \(dimension) must be even and at least 2")
    let half = dimension / 2
    var values = [Double](repeating: 0, count: timesteps.count * dimension)
    for (n, t) in timesteps.enumerated() {
        for i in 0..<half {
            let angle = Double(t) * exp(-log(10000) * Double(i) / Double(half))
            values[n * dimension + i] = sin(angle)
            values[n * dimension + half + i] = cos(angle)
        }
    }
    return Tensor(values, shape: [timesteps.count, dimension]).cast(to: dtype)
}

/// DDPM's residual block: group norm, SiLU, 3×3 convolution, plus the projected embedding
/// (timestep and class) per channel, group norm, SiLU, dropout, 3×3 convolution; a 1×1
/// convolution on the skip path when the width changes.
public final class DiffusionResidualBlock: Module {
    let norm1: GroupNorm
    let conv1: Conv2d
    let embedding: Linear
    let norm2: GroupNorm
    let dropout: Dropout
    let conv2: Conv2d
    let skip: Conv2d?

    init(inputChannels: Int, outputChannels: Int, embeddingSize: Int, dropout: Double, generator: RandomGenerator?) {
        norm1 = GroupNorm(groupCount: DiffusionUNet.groups(inputChannels), channelCount: inputChannels)
        conv1 = Conv2d(inputChannels: inputChannels, outputChannels: outputChannels, kernelSize: 3, padding: 1, generator: generator)
        embedding = Linear(inputSize: embeddingSize, outputSize: outputChannels, generator: generator)
        norm2 = GroupNorm(groupCount: DiffusionUNet.groups(outputChannels), channelCount: outputChannels)
        self.dropout = Dropout(p: dropout)
        conv2 = Conv2d(inputChannels: outputChannels, outputChannels: outputChannels, kernelSize: 3, padding: 1, generator: generator)
        skip = inputChannels == outputChannels ? nil
            : Conv2d(inputChannels: inputChannels, outputChannels: outputChannels, kernelSize: 1, generator: generator)
    }

    /// The block on `x [N, C, H, W]` with the embedding `e [N, embeddingSize]` (already through SiLU).
    func callAsFunction(_ x: Tensor, _ e: Tensor) -> Tensor {
        var h = conv1(norm1(x).silu())
        h = h + embedding(e).reshaped(to: [x.shape[0], -1, 1, 1])
        h = conv2(dropout(norm2(h).silu()))
        return h + (skip.map { $0(x) } ?? x)
    }
}

/// Self-attention over the positions of a feature map, with a residual: group norm, then
/// multi-head attention of the H·W positions (Sequence's `MultiheadAttention`), added back.
public final class SpatialSelfAttention: Module {
    let norm: GroupNorm
    let attention: MultiheadAttention

    /// Attention over maps of `channels` channels with `heads` heads.
    public init(channels: Int, heads: Int, generator: RandomGenerator? = nil) {
        norm = GroupNorm(groupCount: DiffusionUNet.groups(channels), channelCount: channels)
        attention = MultiheadAttention(embedDim: channels, numHeads: heads, batchFirst: true, generator: generator)
    }

    public override func forward(_ x: Tensor) -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let tokens = norm(x).reshaped(to: [n, c, h * w]).transposed(1, 2)
        let attended = attention(tokens, tokens, tokens).output
        return x + attended.transposed(1, 2).reshaped(to: [n, c, h, w])
    }
}

/// The denoising U-Net of DDPM (Ho et al. 2020) sized for small images: a 3×3 stem, levels of
/// residual blocks at widths `baseChannels · multipliers[i]` separated by stride-2
/// convolutions (down) and nearest upsampling with a 3×3 convolution (up), skip connections
/// from every down block, self-attention at the levels in `attentionLevels` and twice in the
/// middle, and a zero-initialised 3×3 output convolution. The timestep's sinusoidal embedding
/// passes an MLP; a class's learned embedding is added to it (index `classCount` is "no class",
/// for classifier-free guidance).
///
/// Shape: `[N, C, H, W]`, timesteps `[N]`, labels `[N]` → `[N, C, H, W]` (sides divisible by
/// 2^(levels − 1)).
public final class DiffusionUNet: Module {
    /// How it was built.
    public let configuration: DiffusionConfiguration
    let stem: Conv2d
    let timeMLP: Sequential
    let classEmbedding: Embedding?
    let downBlocks: [Module]
    let middle: [Module]
    let upBlocks: [Module]
    let outNorm: GroupNorm
    let outConv: Conv2d

    static func groups(_ channels: Int) -> Int { [32, 16, 8, 4, 2, 1].first { channels % $0 == 0 && channels / $0 >= 2 } ?? 1 }

    init(_ configuration: DiffusionConfiguration, generator: RandomGenerator?) {
        self.configuration = configuration
        let c = configuration.imageShape[0], base = configuration.baseChannels, embedding = 4 * base
        let widths = configuration.channelMultipliers.map { $0 * base }, dropout = configuration.dropout
        stem = Conv2d(inputChannels: c, outputChannels: base, kernelSize: 3, padding: 1, generator: generator)
        timeMLP = Sequential([Linear(inputSize: base, outputSize: embedding, generator: generator), SiLU(),
                              Linear(inputSize: embedding, outputSize: embedding, generator: generator)])
        classEmbedding = configuration.classCount.map { Embedding(count: $0 + 1, dimension: embedding, generator: generator) }
        func block(_ input: Int, _ output: Int) -> DiffusionResidualBlock {
            DiffusionResidualBlock(inputChannels: input, outputChannels: output, embeddingSize: embedding, dropout: dropout, generator: generator)
        }
        func attention(_ channels: Int) -> SpatialSelfAttention {
            SpatialSelfAttention(channels: channels, heads: configuration.attentionHeads, generator: generator)
        }
        // The down path records the width of every skip it leaves for the up path.
        var down: [Module] = [], skipWidths = [base], channels = base
        for (level, width) in widths.enumerated() {
            for _ in 0..<configuration.blocksPerLevel {
                down.append(block(channels, width))
                channels = width
                if configuration.attentionLevels.contains(level) { down.append(attention(width)) }
                skipWidths.append(width)
            }
            if level < widths.count - 1 {
                down.append(Conv2d(inputChannels: channels, outputChannels: channels, kernelSize: 3, stride: 2, padding: 1, generator: generator))
                skipWidths.append(channels)
            }
        }
        downBlocks = down
        middle = [block(channels, channels), attention(channels), block(channels, channels)]
        var up: [Module] = []
        for (level, width) in widths.enumerated().reversed() {
            for _ in 0...configuration.blocksPerLevel {
                up.append(block(channels + skipWidths.removeLast(), width))
                channels = width
                if configuration.attentionLevels.contains(level) { up.append(attention(width)) }
            }
            if level > 0 {
                up.append(Sequential([Upsample(scaleFactor: 2), Conv2d(inputChannels: channels, outputChannels: channels, kernelSize: 3,
                                                                        padding: 1, generator: generator)]))
            }
        }
        upBlocks = up
        outNorm = GroupNorm(groupCount: Self.groups(channels), channelCount: channels)
        outConv = Conv2d(inputChannels: channels, outputChannels: c, kernelSize: 3, padding: 1, generator: generator)
        // Zero output: the untrained network predicts 0 (DDPM's initialisation).
        outConv.weight.value = Tensor.zeros(like: outConv.weight.value)
        outConv.bias?.value = Tensor.zeros(like: outConv.bias!.value)
    }

    /// The network's output for noisy images `x` at `timesteps`, with `labels` (a class, or
    /// `classCount` for none) when conditional.
    public func callAsFunction(_ x: Tensor, timesteps: [Int], labels: Tensor?) -> Tensor {
        let shape = configuration.imageShape
        tensorCheck(x.rank == 4 && Array(x.shape.dropFirst()) == shape && timesteps.count == x.shape[0],
                    "[DiffusionUNet] input \(shapeText(x.shape)) with \(timesteps.count) timesteps; expected [N, \(shape.map(String.init).joined(separator: ", "))] and N timesteps")
        var e = timeMLP(timestepEmbedding(timesteps, dimension: configuration.baseChannels, dtype: x.dtype).moved(to: x.device))
        if let classEmbedding {
            guard let labels else { tensorFailure("[DiffusionUNet] a conditional model needs labels (\(configuration.classCount!) for none)") }
            e = e + classEmbedding(labels.cast(to: .int64))
        } else {
            tensorCheck(labels == nil, "[DiffusionUNet] labels given to an unconditional model")
        }
        e = e.silu()
        var h = stem(x)
        var skips = [h]
        for module in downBlocks {
            if let block = module as? DiffusionResidualBlock { h = block(h, e); skips.append(h) }
            else if module is SpatialSelfAttention { h = module(h); skips[skips.count - 1] = h }
            else { h = module(h); skips.append(h) }
        }
        for module in middle { h = (module as? DiffusionResidualBlock).map { $0(h, e) } ?? module(h) }
        for module in upBlocks {
            if let block = module as? DiffusionResidualBlock { h = block(Tensor.concatenated([h, skips.removeLast()], axis: 1), e) }
            else { h = module(h) }
        }
        return outConv(outNorm(h).silu())
    }
}

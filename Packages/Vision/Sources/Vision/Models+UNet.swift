import NN
import TensorCore

/// Two 3×3 convolutions with group norm and SiLU, plus an optional per-channel shift from a
/// time embedding (the hook diffusion models use).
public final class UNetBlock: Module {
    /// Conv2d: First 3×3 convolution.
    public let conv1: Conv2d
    /// GroupNorm: Its group norm.
    public let norm1: GroupNorm
    /// Conv2d: Second 3×3 convolution.
    public let conv2: Conv2d
    /// GroupNorm: Its group norm.
    public let norm2: GroupNorm
    /// Maps the time embedding to a per-channel shift (nil without one).
    public let timeProjection: Linear?

    /// A block from `inputChannels` to `outputChannels`, taking a time embedding of `timeEmbeddingSize` when given.
    public init(inputChannels: Int, outputChannels: Int, timeEmbeddingSize: Int? = nil, generator: RandomGenerator? = nil) {
        conv1 = Conv2d(inputChannels: inputChannels, outputChannels: outputChannels, kernelSize: 3, padding: 1, generator: generator)
        norm1 = GroupNorm(groupCount: UNetBlock.groups(outputChannels), channelCount: outputChannels)
        conv2 = Conv2d(inputChannels: outputChannels, outputChannels: outputChannels, kernelSize: 3, padding: 1, generator: generator)
        norm2 = GroupNorm(groupCount: UNetBlock.groups(outputChannels), channelCount: outputChannels)
        timeProjection = timeEmbeddingSize.map { Linear(inputSize: $0, outputSize: outputChannels, generator: generator) }
    }

    static func groups(_ channels: Int) -> Int { [8, 4, 2, 1].first { channels % $0 == 0 }! }

    /// The block on `x [N, C, H, W]`, shifted per channel by `time [N, timeEmbeddingSize]` when given.
    public func callAsFunction(_ x: Tensor, time: Tensor?) -> Tensor {
        var h = norm1(conv1(x)).silu()
        if let projection = timeProjection, let time {
            h = h + projection(time).reshaped(to: [x.shape[0], -1, 1, 1])
        }
        return norm2(conv2(h)).silu()
    }

    public override func forward(_ x: Tensor) -> Tensor { self(x, time: nil) }
}

/// U-Net (Ronneberger et al. 2015): an encoder of blocks and 2× max pools, a middle block
/// (where an attention module can be inserted), and a decoder of 2× upsampling, skip
/// concatenation and blocks. With `timeEmbeddingSize`, every block takes a time embedding.
///
/// Shape: `[N, inputChannels, H, W] -> [N, outputChannels, H, W]` (H, W divisible by 2^levels).
public final class UNet: Module {
    /// Encoder blocks, one per width.
    public let down: [UNetBlock]
    /// The block at the lowest resolution.
    public let middle: UNetBlock
    /// Optional module applied after the middle block (e.g. self-attention from Sequence).
    public let middleAttention: Module?
    /// Decoder blocks, one per width, widest last.
    public let up: [UNetBlock]
    /// 1×1 convolution to the output channels.
    public let head: Conv2d

    /// A U-Net with one level per width.
    public init(inputChannels: Int, outputChannels: Int, widths: [Int] = [32, 64], timeEmbeddingSize: Int? = nil,
                middleAttention: Module? = nil, generator: RandomGenerator? = nil) {
        tensorCheck(!widths.isEmpty, "[UNet] needs at least one level")
        var channels = inputChannels
        var down: [UNetBlock] = []
        for w in widths {
            down.append(UNetBlock(inputChannels: channels, outputChannels: w, timeEmbeddingSize: timeEmbeddingSize, generator: generator))
            channels = w
        }
        self.down = down
        middle = UNetBlock(inputChannels: channels, outputChannels: channels * 2, timeEmbeddingSize: timeEmbeddingSize, generator: generator)
        self.middleAttention = middleAttention
        channels *= 2
        var up: [UNetBlock] = []
        for w in widths.reversed() {
            up.append(UNetBlock(inputChannels: channels + w, outputChannels: w, timeEmbeddingSize: timeEmbeddingSize, generator: generator))
            channels = w
        }
        self.up = up
        head = Conv2d(inputChannels: channels, outputChannels: outputChannels, kernelSize: 1, generator: generator)
    }

    /// The U-Net on `x`, every block taking `time [N, timeEmbeddingSize]` when given.
    public func callAsFunction(_ x: Tensor, time: Tensor?) -> Tensor {
        let factor = 1 << down.count
        tensorCheck(x.rank == 4 && x.shape[2] % factor == 0 && x.shape[3] % factor == 0,
                    "[UNet] input \(shapeText(x.shape)) needs H and W divisible by \(factor)")
        var skips: [Tensor] = []
        var h = x
        for block in down {
            h = block(h, time: time)
            skips.append(h)
            h = h.maxPool2d(kernelSize: 2)
        }
        h = middle(h, time: time)
        if let attention = middleAttention { h = attention(h) }
        for block in up {
            h = Tensor.concatenated([h.upsampledNearest(scale: (2, 2)), skips.removeLast()], axis: 1)
            h = block(h, time: time)
        }
        return head(h)
    }

    public override func forward(_ x: Tensor) -> Tensor { self(x, time: nil) }
}

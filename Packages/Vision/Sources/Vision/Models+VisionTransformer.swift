import Foundation
import NN
import SequenceModels
import TensorCore

/// How to build a `VisionTransformer`: `Codable`, so results and checkpoints record it.
public struct ViTConfiguration: Codable, Equatable, Sendable {
    /// Position information added to the tokens.
    public enum Positions: String, Codable, CaseIterable, Sendable {
        /// Learned embeddings, one per token (ViT's choice).
        case learned
        /// Fixed 2-D sine-cosine embeddings (half the width for rows, half for columns; MAE's).
        case sinusoidal
    }

    /// Square image side in pixels.
    public var imageSize: Int
    /// Image channels.
    public var channels: Int
    /// Square patch side; must divide the image side.
    public var patchSize: Int
    /// Token width.
    public var width: Int
    /// Encoder layers.
    public var depth: Int
    /// Attention heads per layer (must divide the width).
    public var heads: Int
    /// Hidden width of each layer's MLP.
    public var mlpWidth: Int
    /// Dropout in the encoder (attention weights, residual branches) in training.
    public var dropout: Double
    /// Classes scored by the head.
    public var classes: Int
    /// Learned or sinusoidal positions.
    public var positions: Positions

    /// A configuration; the defaults are a small ViT for 28×28 gray images (7×7 patches: 16
    /// tokens and the class token).
    public init(imageSize: Int = 28, channels: Int = 1, patchSize: Int = 7, width: Int = 64, depth: Int = 6, heads: Int = 4,
                mlpWidth: Int = 128, dropout: Double = 0, classes: Int = 10, positions: Positions = .learned) {
        self.imageSize = imageSize
        self.channels = channels
        self.patchSize = patchSize
        self.width = width
        self.depth = depth
        self.heads = heads
        self.mlpWidth = mlpWidth
        self.dropout = dropout
        self.classes = classes
        self.positions = positions
    }

    /// Patches along each side.
    public var gridSize: Int { imageSize / patchSize }
}

/// Non-overlapping `patch × patch` patches, each linearly embedded (a convolution whose
/// kernel and stride are the patch): `[N, C, H, W] -> [N, (H/p)(W/p), width]`, row by row.
public final class PatchEmbedding: Module {
    /// The patch projection.
    public let projection: Conv2d

    /// Embeds `patchSize`² patches of `channels` into `width`.
    public init(channels: Int, width: Int, patchSize: Int, generator: RandomGenerator? = nil) {
        projection = Conv2d(inputChannels: channels, outputChannels: width, kernelSize: patchSize, stride: patchSize, generator: generator)
    }

    public override func forward(_ x: Tensor) -> Tensor {
        let y = projection(x)   // [N, width, gh, gw]
        return y.reshaped(to: [y.shape[0], y.shape[1], y.shape[2] * y.shape[3]]).transposed(1, 2)
    }
}

/// The Vision Transformer (Dosovitskiy et al. 2021): patch embeddings with a learned class
/// token prepended, learned or 2-D sinusoidal positions, a pre-norm Transformer encoder (GELU
/// MLPs), a final layer norm, and a linear head on the class token.
///
/// Shape: `[N, channels, imageSize, imageSize]` (or `[N, imageSize²]` for one channel)
/// `-> [N, classes]`.
///
/// ```swift
/// let vit = VisionTransformer(ViTConfiguration())          // 28×28 gray, 7×7 patches
/// let logits = vit(images)                                  // [N, 10]
/// let maps = vit.classTokenAttention(images)                // [N, 4, 4]
/// ```
public final class VisionTransformer: Module {
    /// The shape it was built from.
    public let configuration: ViTConfiguration
    /// Patches to tokens.
    public let patchEmbedding: PatchEmbedding
    /// The class token `[1, 1, width]`.
    public let classToken: Parameter
    /// Learned positions `[1, tokens + 1, width]` (nil for sinusoidal ones).
    public let positionEmbedding: Parameter?
    /// Fixed sinusoidal positions `[1, tokens + 1, width]` (nil for learned ones).
    public let fixedPositions: Buffer?
    /// The encoder layers (pre-norm) and final norm.
    public let encoder: TransformerEncoder
    /// Class token -> logits.
    public let head: Linear

    /// A ViT of `configuration`'s shape. Positions and the class token start as ViT's
    /// truncated-normal (σ 0.02); the layers as PyTorch's defaults.
    public init(_ configuration: ViTConfiguration, generator: RandomGenerator? = nil) {
        let c = configuration
        tensorCheck(c.imageSize > 0 && c.patchSize > 0 && c.imageSize % c.patchSize == 0,
                    "[VisionTransformer] patch size \(c.patchSize) must divide image size \(c.imageSize)")
        tensorCheck(c.width > 0 && c.heads > 0 && c.width % c.heads == 0 && c.depth > 0 && c.mlpWidth > 0 && c.classes > 0 && c.channels > 0,
                    "[VisionTransformer] width \(c.width) must be a positive multiple of heads \(c.heads); depth \(c.depth), "
                    + "MLP width \(c.mlpWidth), classes \(c.classes) and channels \(c.channels) positive")
        tensorCheck(c.positions == .learned || c.width % 4 == 0,
                    "[VisionTransformer] sinusoidal 2-D positions need a width divisible by 4, got \(c.width)")
        self.configuration = c
        let tokens = c.gridSize * c.gridSize + 1
        patchEmbedding = PatchEmbedding(channels: c.channels, width: c.width, patchSize: c.patchSize, generator: generator)
        classToken = Parameter(Self.truncatedNormal([1, 1, c.width], generator: generator))
        switch c.positions {
        case .learned:
            positionEmbedding = Parameter(Self.truncatedNormal([1, tokens, c.width], generator: generator))
            fixedPositions = nil
        case .sinusoidal:
            positionEmbedding = nil
            fixedPositions = Buffer(Self.sinusoidalPositions(grid: c.gridSize, width: c.width).unsqueezed(axis: 0))
        }
        encoder = TransformerEncoder(layers: (0..<c.depth).map { _ in
            TransformerEncoderLayer(width: c.width, heads: c.heads, feedForwardWidth: c.mlpWidth, dropout: c.dropout,
                                    activation: .gelu, normFirst: true, batchFirst: true, layerNormEpsilon: 1e-6, generator: generator)
        }, norm: LayerNorm([c.width], epsilon: 1e-6))
        head = Linear(inputSize: c.width, outputSize: c.classes, generator: generator)
        super.init()
    }

    /// N(0, 0.02²) clipped at ±2σ (timm truncates ViT's class token and positions there).
    static func truncatedNormal(_ shape: [Int], generator: RandomGenerator?) -> Tensor {
        (Tensor.randn(shape, generator: generator) * 0.02).clamped(min: -0.04, max: 0.04)
    }

    /// 2-D sine-cosine positions `[grid² + 1, width]` (the class token's row is zero): the first
    /// half of the width encodes the column, the second the row, each as 1-D sines and cosines
    /// of frequencies 1/10000^(2i/(width/2)).
    public static func sinusoidalPositions(grid: Int, width: Int) -> Tensor {
        let quarter = width / 4
        var rows: [Double] = Array(repeating: 0, count: width)
        for r in 0..<grid {
            for c in 0..<grid {
                var row = [Double](repeating: 0, count: width)
                for (half, position) in [(0, c), (1, r)] {
                    for i in 0..<quarter {
                        let angle = Double(position) / pow(10000, Double(i) / Double(quarter))
                        row[half * 2 * quarter + i] = sin(angle)
                        row[half * 2 * quarter + quarter + i] = cos(angle)
                    }
                }
                rows += row
            }
        }
        return Tensor(rows, shape: [grid * grid + 1, width]).cast(to: .float32)
    }

    /// The tokens entering the encoder: class token then patches, positions added.
    func tokens(_ x: Tensor) -> Tensor {
        let c = configuration
        let images = x.rank == 2 && c.channels == 1 ? x.reshaped(to: [x.shape[0], 1, c.imageSize, c.imageSize]) : x
        tensorCheck(images.rank == 4 && Array(images.shape.dropFirst()) == [c.channels, c.imageSize, c.imageSize],
                    "[VisionTransformer] input \(shapeText(x.shape)) should be [N, \(c.channels), \(c.imageSize), \(c.imageSize)]"
                    + (c.channels == 1 ? " or [N, \(c.imageSize * c.imageSize)]" : ""))
        let patches = patchEmbedding(images)
        let n = patches.shape[0]
        let cls = classToken.value.expanded(to: [n, 1, c.width])
        let sequence = Tensor.concatenated([cls, patches], axis: 1)
        return sequence + (positionEmbedding?.value ?? fixedPositions!.value)
    }

    public override func forward(_ x: Tensor) -> Tensor {
        let encoded = encoder(tokens(x))
        return head(encoded.narrowed(axis: 1, start: 0, length: 1).squeezed(axis: 1))
    }

    /// The last layer's attention from the class token to each patch, averaged over heads:
    /// `[N, grid, grid]`, each map summing to at most 1 (the rest is on the class token itself).
    /// Runs without gradients in eval mode.
    public func classTokenAttention(_ x: Tensor) -> Tensor {
        let wasTraining = isTraining
        eval()
        defer { train(wasTraining) }
        return withoutGradients {
            var h = tokens(x)
            for layer in encoder.layers.dropLast() { h = layer(h) }
            let last = encoder.layers.last!
            let y = last.norm1(h)
            let weights = last.selfAttention(y, y, y, needWeights: true).weights!   // [N, L, L]
            let g = configuration.gridSize
            return weights.narrowed(axis: 1, start: 0, length: 1).narrowed(axis: 2, start: 1, length: g * g)
                .reshaped(to: [h.shape[0], g, g])
        }
    }
}

/// Each image beside its class token's last-layer attention drawn over it in red (the map
/// enlarged to the image, nearest neighbour, and scaled to [0, 1] per image), both enlarged
/// `scale` times, as a PNG grid of `columns` tiles (pairs side by side). `images`
/// `[N, C, H, W]`, or `[N, H·W]` gray.
public func saveAttentionGrid(_ model: VisionTransformer, images: Tensor, to path: String, columns: Int = 8, scale: Int = 1) throws {
    tensorCheck(scale > 0, "[saveAttentionGrid] scale must be positive, got \(scale)")
    let c = model.configuration, n = images.shape[0], size = c.imageSize, g = c.gridSize, p = c.patchSize
    tensorCheck(c.channels == 1 || c.channels >= 3, "[saveAttentionGrid] images of \(c.channels) channels are neither gray nor colour")
    let pictures = (images.rank == 2 ? images.reshaped(to: [n, c.channels, size, size]) : images).cast(to: .float32)
    let maps = model.classTokenAttention(pictures)
    let tiles: Tensor = withoutGradients {
        let lo = maps.min(axes: [1, 2], keepDims: true), hi = maps.max(axes: [1, 2], keepDims: true)
        let scaled = (maps - lo) / (hi - lo + 1e-12)
        let heat = scaled.reshaped(to: [n, g, 1, g, 1]).expanded(to: [n, g, p, g, p]).reshaped(to: [n, 1, size, size])
        // Gray pictures become RGB so the overlay can be red.
        let gray = c.channels == 1 ? pictures.expanded(to: [n, 3, size, size]) : pictures.narrowed(axis: 1, start: 0, length: 3)
        let dim = gray * 0.4
        let red = dim.narrowed(axis: 1, start: 0, length: 1) + heat * 0.6
        let overlay = Tensor.concatenated([red, dim.narrowed(axis: 1, start: 1, length: 2)], axis: 1)
        let pairs = Tensor.stacked([gray.contiguous(), overlay], axis: 1).reshaped(to: [2 * n, 3, size, 1, size, 1])
        return pairs.expanded(to: [2 * n, 3, size, scale, size, scale]).reshaped(to: [2 * n, 3, size * scale, size * scale])
    }
    try saveImageGrid(tiles, to: path, columns: columns)
}

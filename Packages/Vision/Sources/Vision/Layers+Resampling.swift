import NN
import TensorCore

extension Tensor {
    /// Average over each of `outputSize` adaptive windows, as `adaptive_avg_pool2d`
    /// (window `[⌊i H / out⌋, ⌈(i + 1) H / out⌉)`). Built from slices and means, so it differentiates.
    public func adaptiveAvgPool2d(outputSize: (Int, Int)) -> Tensor {
        if rank == 4 && outputSize == (1, 1) { return mean(axes: [2, 3], keepDims: true) }
        return adaptivePool2d("adaptiveAvgPool2d", outputSize) { $0.mean(axes: [2, 3], keepDims: true) }
    }

    /// Maximum over each of `outputSize` adaptive windows, as `adaptive_max_pool2d` (the same
    /// windows as `adaptiveAvgPool2d`); max pooling's fast kernel when the sizes divide.
    public func adaptiveMaxPool2d(outputSize: (Int, Int)) -> Tensor {
        if rank == 4 && outputSize.0 > 0 && outputSize.1 > 0 && shape[2] % outputSize.0 == 0 && shape[3] % outputSize.1 == 0 {
            let k = (shape[2] / outputSize.0, shape[3] / outputSize.1)
            return maxPool2d(kernelSize: k, stride: k)
        }
        return adaptivePool2d("adaptiveMaxPool2d", outputSize) { $0.max(axes: [2, 3], keepDims: true) }
    }

    /// `reduce` over each adaptive window, assembled into `[N, C, outH, outW]`.
    private func adaptivePool2d(_ op: String, _ outputSize: (Int, Int), reduce: (Tensor) -> Tensor) -> Tensor {
        tensorCheck(rank == 4 && outputSize.0 > 0 && outputSize.1 > 0,
                    "[\(op)] input \(shapeText(shape)) should be [N, C, H, W] and the output size positive")
        let (h, w) = (shape[2], shape[3])
        var rows: [Tensor] = []
        for i in 0..<outputSize.0 {
            let y0 = i * h / outputSize.0, y1 = ((i + 1) * h + outputSize.0 - 1) / outputSize.0
            var cells: [Tensor] = []
            for j in 0..<outputSize.1 {
                let x0 = j * w / outputSize.1, x1 = ((j + 1) * w + outputSize.1 - 1) / outputSize.1
                cells.append(reduce(self[.all, .all, y0..<y1, x0..<x1]))
            }
            rows.append(Tensor.concatenated(cells, axis: 3))
        }
        return Tensor.concatenated(rows, axis: 2)
    }

    /// Bilinear resizing to `size`, as `interpolate(mode="bilinear")` with or without
    /// `align_corners`. Separable: two small interpolation matrices applied by matmul, so
    /// it differentiates (to any order) like any product.
    public func resizedBilinear(size: (Int, Int), alignCorners: Bool = false) -> Tensor {
        tensorCheck(rank == 4 && size.0 > 0 && size.1 > 0,
                    "[resizedBilinear] input \(shapeText(shape)) should be [N, C, H, W] and the size positive")
        let rows = Self.interpolationMatrix(from: shape[2], to: size.0, alignCorners: alignCorners, dtype: dtype, device: device)
        let columns = Self.interpolationMatrix(from: shape[3], to: size.1, alignCorners: alignCorners, dtype: dtype, device: device)
        return rows.matmul(matmul(columns.transposed()))
    }

    /// `[out, in]` weights of 1-D linear interpolation with PyTorch's source-index rule.
    static func interpolationMatrix(from input: Int, to output: Int, alignCorners: Bool, dtype: DType,
                                    device: Device) -> Tensor {
        var m = [Double](repeating: 0, count: output * input)
        for o in 0..<output {
            var source: Double
            if alignCorners {
                source = output > 1 ? Double(o) * Double(input - 1) / Double(output - 1) : 0
            } else {
                source = (Double(o) + 0.5) * Double(input) / Double(output) - 0.5
                if source < 0 { source = 0 }
            }
            let i0 = Swift.min(Int(source), input - 1), i1 = Swift.min(i0 + 1, input - 1)
            let t = source - Double(i0)
            m[o * input + i0] += 1 - t
            m[o * input + i1] += t
        }
        return Tensor(m, shape: [output, input]).cast(to: dtype).moved(to: device)
    }

    /// Nearest-neighbour upsampling by integer factors (`Upsample(scale_factor:, mode="nearest")`).
    public func upsampledNearest(scale: (Int, Int)) -> Tensor {
        tensorCheck(rank == 4 && scale.0 > 0 && scale.1 > 0, "[upsample] input \(shapeText(shape)) should be [N, C, H, W], scale positive")
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        return unsqueezed(axis: 3).unsqueezed(axis: 5).expanded(to: [n, c, h, scale.0, w, scale.1])
            .reshaped(to: [n, c, h * scale.0, w * scale.1])
    }
}

/// Averages each of an `outputSize × outputSize` grid of regions. Shape: `[N, C, H, W] -> [N, C, s, s]`.
public final class AdaptiveAvgPool2d: Module {
    /// The output's height and width.
    public let outputSize: (Int, Int)
    /// Pools to `outputSize × outputSize`.
    public init(outputSize: Int) { self.outputSize = (outputSize, outputSize) }
    public override func forward(_ x: Tensor) -> Tensor { x.adaptiveAvgPool2d(outputSize: outputSize) }
}

/// Enlarges by an integer factor, nearest or bilinear. Shape: `[N, C, H, W] -> [N, C, H·s, W·s]`.
public final class Upsample: Module {
    /// How new pixels are computed.
    public enum Mode: Sendable {
        /// Each output pixel copies the nearest input pixel.
        case nearest
        /// Bilinear interpolation (`align_corners` as PyTorch).
        case bilinear(alignCorners: Bool)
    }
    /// The factor in both directions.
    public let scale: Int
    /// How new pixels are computed.
    public let mode: Mode
    /// Upsampling by `scaleFactor`.
    public init(scaleFactor: Int, mode: Mode = .nearest) {
        tensorCheck(scaleFactor > 0, "[Upsample] scale factor must be positive, got \(scaleFactor)")
        scale = scaleFactor
        self.mode = mode
    }
    public override func forward(_ x: Tensor) -> Tensor {
        switch mode {
        case .nearest: return x.upsampledNearest(scale: (scale, scale))
        case .bilinear(let corners):
            tensorCheck(x.rank == 4, "[Upsample] input \(shapeText(x.shape)) should be [N, C, H, W]")
            return x.resizedBilinear(size: (x.shape[2] * scale, x.shape[3] * scale), alignCorners: corners)
        }
    }
}

/// Takes the maximum of each of an `outputSize × outputSize` grid of regions. Shape: `[N, C, H, W] -> [N, C, s, s]`.
public final class AdaptiveMaxPool2d: Module {
    /// The output's height and width.
    public let outputSize: (Int, Int)
    /// Pools to `outputSize × outputSize`.
    public init(outputSize: Int) { self.outputSize = (outputSize, outputSize) }
    public override func forward(_ x: Tensor) -> Tensor { x.adaptiveMaxPool2d(outputSize: outputSize) }
}

/// Zeroes whole channels with probability `p` in training (`Dropout2d`). Shape: `[N, C, H, W]` unchanged.
public final class Dropout2d: Module {
    /// The probability of zeroing a channel.
    public let p: Double
    let generator: RandomGenerator?
    /// Channel dropout with probability `p`, masks from `generator` (the global stream when nil).
    public init(p: Double = 0.5, generator: RandomGenerator? = nil) {
        tensorCheck(p >= 0 && p < 1, "[Dropout2d] probability \(p) outside [0, 1)")
        self.p = p
        self.generator = generator
    }
    public override func forward(_ x: Tensor) -> Tensor {
        tensorCheck(x.rank == 4, "[Dropout2d] input \(shapeText(x.shape)) should be [N, C, H, W]")
        return dropout(x, p: p, training: isTraining, maskShape: [x.shape[0], x.shape[1], 1, 1], generator: generator)
    }
}

/// Normalises each sample's channel over its spatial positions (`InstanceNorm2d`, affine optional).
/// Shape: `[N, C, H, W]` unchanged.
public final class InstanceNorm2d: Module {
    /// Int: Channels `C`.
    public let featureCount: Int
    /// Double: Added to the variance for stability.
    public let epsilon: Double
    /// Parameter?: Per-channel scale (nil when not affine).
    public let weight: Parameter?
    /// Parameter?: Per-channel shift (nil when not affine).
    public let bias: Parameter?
    /// Instance norm over `featureCount` channels, without affine parameters unless asked (PyTorch's default).
    public init(featureCount: Int, epsilon: Double = 1e-5, affine: Bool = false) {
        self.featureCount = featureCount
        self.epsilon = epsilon
        weight = affine ? Parameter(Tensor.ones([featureCount])) : nil
        bias = affine ? Parameter(Tensor.zeros([featureCount])) : nil
    }
    public override func forward(_ x: Tensor) -> Tensor {
        tensorCheck(x.rank == 4 && x.shape[1] == featureCount, "[InstanceNorm2d] input \(shapeText(x.shape)) should be [N, \(featureCount), H, W]")
        var y = x.reshaped(to: [x.shape[0], x.shape[1], -1]).layerNormalized(epsilon: epsilon).reshaped(to: x.shape)
        if let weight { y = y * weight.value.reshaped(to: [1, featureCount, 1, 1]) }
        if let bias { y = y + bias.value.reshaped(to: [1, featureCount, 1, 1]) }
        return y
    }
}

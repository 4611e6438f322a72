import NN
import TensorCore

extension Tensor {
    /// Average over each of `outputSize` adaptive windows, as `adaptive_avg_pool2d`
    /// (window `[⌊i H / out⌋, ⌈(i + 1) H / out⌉)`). Built from slices and means, so it differentiates.
    public func adaptiveAvgPool2d(outputSize: (Int, Int)) -> Tensor {
        tensorCheck(rank == 4 && outputSize.0 > 0 && outputSize.1 > 0,
                    "[adaptiveAvgPool2d] input \(shapeText(shape)) should be [N, C, H, W] and the output size positive")
        let (h, w) = (shape[2], shape[3])
        if outputSize == (1, 1) { return mean(axes: [2, 3], keepDims: true) }
        var rows: [Tensor] = []
        for i in 0..<outputSize.0 {
            let y0 = i * h / outputSize.0, y1 = ((i + 1) * h + outputSize.0 - 1) / outputSize.0
            var cells: [Tensor] = []
            for j in 0..<outputSize.1 {
                let x0 = j * w / outputSize.1, x1 = ((j + 1) * w + outputSize.1 - 1) / outputSize.1
                cells.append(self[.all, .all, y0..<y1, x0..<x1].mean(axes: [2, 3], keepDims: true))
            }
            rows.append(Tensor.concatenated(cells, axis: 3))
        }
        return Tensor.concatenated(rows, axis: 2)
    }

    /// Nearest-neighbour upsampling by integer factors (`Upsample(scale_factor:, mode="nearest")`).
    public func upsampledNearest(scale: (Int, Int)) -> Tensor {
        tensorCheck(rank == 4 && scale.0 > 0 && scale.1 > 0, "[upsample] input \(shapeText(shape)) should be [N, C, H, W], scale positive")
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        return unsqueezed(axis: 3).unsqueezed(axis: 5).expanded(to: [n, c, h, scale.0, w, scale.1])
            .reshaped(to: [n, c, h * scale.0, w * scale.1])
    }
}

public final class AdaptiveAvgPool2d: Module {
    public let outputSize: (Int, Int)
    public init(outputSize: Int) { self.outputSize = (outputSize, outputSize) }
    public override func forward(_ x: Tensor) -> Tensor { x.adaptiveAvgPool2d(outputSize: outputSize) }
}

public final class Upsample: Module {
    public let scale: Int
    public init(scaleFactor: Int) { scale = scaleFactor }
    public override func forward(_ x: Tensor) -> Tensor { x.upsampledNearest(scale: (scale, scale)) }
}

/// Zeroes whole channels with probability `p` in training (`Dropout2d`).
public final class Dropout2d: Module {
    public let p: Double
    let generator: RandomGenerator?
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
public final class InstanceNorm2d: Module {
    public let featureCount: Int, epsilon: Double
    public let weight: Parameter?, bias: Parameter?
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

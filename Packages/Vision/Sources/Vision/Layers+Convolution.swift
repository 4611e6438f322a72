import NN
import TensorCore

/// 2-D convolution over NCHW with PyTorch's parameter names, layout and initialisation
/// (uniform on ±1/√fanIn for weight and bias, fanIn = in/groups · k · k).
///
/// Shape: `[N, inputChannels, H, W] -> [N, outputChannels, Ho, Wo]`; weight `[out, in / groups, k, k]`.
public final class Conv2d: Module {
    /// `[outputChannels, inputChannels / groups, k, k]`.
    public let weight: Parameter
    /// `[outputChannels]` (nil without bias).
    public let bias: Parameter?
    /// Step of the window (rows, columns).
    public let stride: (Int, Int)
    /// Zeros added around the input (explicit, or `same`).
    public let padding: ConvolutionPadding
    /// Spacing of the kernel's taps (rows, columns).
    public let dilation: (Int, Int)
    /// Channel groups convolved separately (`inputChannels` for depthwise).
    public let groups: Int

    /// A convolution with a square `kernelSize`, initialised like PyTorch's from `generator` (the global stream when nil).
    public init(inputChannels: Int, outputChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                dilation: Int = 1, groups: Int = 1, bias: Bool = true, generator: RandomGenerator? = nil) {
        tensorCheck(inputChannels > 0 && outputChannels > 0 && kernelSize > 0,
                    "[Conv2d] channels and kernel size must be positive")
        tensorCheck(inputChannels % groups == 0 && outputChannels % groups == 0,
                    "[Conv2d] \(groups) groups do not divide \(inputChannels) -> \(outputChannels) channels")
        let fanIn = inputChannels / groups * kernelSize * kernelSize
        let bound = 1 / Double(fanIn).squareRoot()
        weight = Parameter(Tensor.rand([outputChannels, inputChannels / groups, kernelSize, kernelSize],
                                       low: -bound, high: bound, generator: generator))
        self.bias = bias ? Parameter(Tensor.rand([outputChannels], low: -bound, high: bound, generator: generator)) : nil
        self.stride = (stride, stride)
        self.padding = .explicit(padding, padding)
        self.dilation = (dilation, dilation)
        self.groups = groups
    }

    public override func forward(_ x: Tensor) -> Tensor {
        x.conv2d(weight: weight.value, bias: bias?.value, stride: stride, padding: padding, dilation: dilation, groups: groups)
    }
}

/// 1-D convolution over `[N, C, L]`. Shape: `[N, inputChannels, L] -> [N, outputChannels, (L + 2p - d(k - 1) - 1) / s + 1]`.
public final class Conv1d: Module {
    /// `[outputChannels, inputChannels / groups, k]`.
    public let weight: Parameter
    /// `[outputChannels]` (nil without bias).
    public let bias: Parameter?
    /// Int: Step of the window.
    public let stride: Int
    /// Int: Zeros added at both ends.
    public let padding: Int
    /// Int: Spacing of the kernel's taps.
    public let dilation: Int
    /// Int: Channel groups convolved separately.
    public let groups: Int

    /// A 1-D convolution initialised like PyTorch's from `generator` (the global stream when nil).
    public init(inputChannels: Int, outputChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                dilation: Int = 1, groups: Int = 1, bias: Bool = true, generator: RandomGenerator? = nil) {
        let fanIn = inputChannels / groups * kernelSize
        let bound = 1 / Double(fanIn).squareRoot()
        weight = Parameter(Tensor.rand([outputChannels, inputChannels / groups, kernelSize], low: -bound, high: bound, generator: generator))
        self.bias = bias ? Parameter(Tensor.rand([outputChannels], low: -bound, high: bound, generator: generator)) : nil
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
    }

    public override func forward(_ x: Tensor) -> Tensor {
        x.conv1d(weight: weight.value, bias: bias?.value, stride: stride, padding: padding, dilation: dilation, groups: groups)
    }
}

/// Window, stride (default: the window) and padding of a pooling layer, square in 2-D.
public class PoolingLayer: Module {
    /// Int: The window's side.
    public let kernelSize: Int
    /// Int: Step of the window.
    public let stride: Int
    /// Int: Padding at each border (ignored by the max, counted as zeros by the average).
    public let padding: Int
    /// A pooling window of `kernelSize`, stepping by `stride` (default the window).
    public init(kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
    }
}

/// 2-D max pooling. Shape: `[N, C, H, W] -> [N, C, (H + 2p - k) / s + 1, (W + 2p - k) / s + 1]`.
public final class MaxPool2d: PoolingLayer {
    public override func forward(_ x: Tensor) -> Tensor { x.maxPool2d(kernelSize: kernelSize, stride: stride, padding: padding) }
}

/// 2-D average pooling (padding counted, as PyTorch's default). Shape: as `MaxPool2d`.
public final class AvgPool2d: PoolingLayer {
    public override func forward(_ x: Tensor) -> Tensor { x.avgPool2d(kernelSize: kernelSize, stride: stride, padding: padding) }
}

/// Batch normalisation per channel of NCHW inputs, with running statistics as PyTorch.
/// Shape: `[N, C, H, W]` unchanged.
public final class BatchNorm2d: Module {
    /// Int: Channels `C`.
    public let featureCount: Int
    /// Double: Added to the variance for stability.
    public let epsilon: Double
    /// Double: Weight of the batch in the running estimates.
    public let momentum: Double
    /// Parameter: Per-channel scale.
    public let weight: Parameter
    /// Parameter: Per-channel shift.
    public let bias: Parameter
    /// Buffer: Running mean per channel.
    public let runningMean: Buffer
    /// Buffer: Running unbiased variance per channel.
    public let runningVariance: Buffer

    /// Batch norm over `featureCount` channels with PyTorch's defaults.
    public init(featureCount: Int, epsilon: Double = 1e-5, momentum: Double = 0.1) {
        self.featureCount = featureCount
        self.epsilon = epsilon
        self.momentum = momentum
        weight = Parameter(Tensor.ones([featureCount]))
        bias = Parameter(Tensor.zeros([featureCount]))
        runningMean = Buffer(Tensor.zeros([featureCount]))
        runningVariance = Buffer(Tensor.ones([featureCount]))
    }

    public override func forward(_ x: Tensor) -> Tensor {
        tensorCheck(x.rank == 4 && x.shape[1] == featureCount,
                    "[BatchNorm2d] input \(shapeText(x.shape)) should be [N, \(featureCount), H, W]")
        if isTraining {
            let count = x.shape[0] * x.shape[2] * x.shape[3]
            tensorCheck(count > 1, "[BatchNorm2d] needs more than one value per channel in training")
            // One pass for the statistics serves the output and the running estimates.
            let (y, mean, variance) = batchNormTraining(x, weight: weight.value, bias: bias.value, epsilon: epsilon)
            withoutGradients {
                let unbiased = variance * (Double(count) / Double(count - 1))
                runningMean.value = runningMean.value * (1 - momentum) + mean * momentum
                runningVariance.value = runningVariance.value * (1 - momentum) + unbiased * momentum
            }
            return y
        }
        return batchNorm(x, runningMean: runningMean.value, runningVariance: runningVariance.value,
                         weight: weight.value, bias: bias.value, training: false, epsilon: epsilon)
    }
}

/// Max pooling over `[N, C, L]`. Shape: `[N, C, L] -> [N, C, (L + 2p - k) / s + 1]`.
public final class MaxPool1d: PoolingLayer {
    public override func forward(_ x: Tensor) -> Tensor { x.maxPool1d(kernelSize: kernelSize, stride: stride, padding: padding) }
}

/// Average pooling over `[N, C, L]`. Shape: as `MaxPool1d`.
public final class AvgPool1d: PoolingLayer {
    public override func forward(_ x: Tensor) -> Tensor { x.avgPool1d(kernelSize: kernelSize, stride: stride, padding: padding) }
}

/// 2-D transposed convolution ("deconvolution") with PyTorch's names, weight layout
/// `[in, out / groups, k, k]` and initialisation (uniform on ±1/√fanIn, fanIn = out/groups · k · k,
/// as PyTorch computes it from that layout).
///
/// Shape: `[N, inputChannels, H, W] -> [N, outputChannels, (H - 1)·stride - 2·padding + dilation·(k - 1) + outputPadding + 1, ...]`.
public final class ConvTranspose2d: Module {
    /// `[inputChannels, outputChannels / groups, k, k]`.
    public let weight: Parameter
    /// `[outputChannels]` (nil without bias).
    public let bias: Parameter?
    /// Upsampling step (rows, columns).
    public let stride: (Int, Int)
    /// Rows and columns removed from each border of the full output.
    public let padding: (Int, Int)
    /// Rows and columns added at the bottom and right (to reach an exact size).
    public let outputPadding: (Int, Int)
    /// Spacing of the kernel's taps.
    public let dilation: (Int, Int)
    /// Channel groups.
    public let groups: Int

    /// A transposed convolution initialised like PyTorch's from `generator` (the global stream when nil).
    public init(inputChannels: Int, outputChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                outputPadding: Int = 0, dilation: Int = 1, groups: Int = 1, bias: Bool = true,
                generator: RandomGenerator? = nil) {
        tensorCheck(inputChannels > 0 && outputChannels > 0 && kernelSize > 0,
                    "[ConvTranspose2d] channels and kernel size must be positive")
        tensorCheck(inputChannels % groups == 0 && outputChannels % groups == 0,
                    "[ConvTranspose2d] \(groups) groups do not divide \(inputChannels) -> \(outputChannels) channels")
        let fanIn = outputChannels / groups * kernelSize * kernelSize
        let bound = 1 / Double(fanIn).squareRoot()
        weight = Parameter(Tensor.rand([inputChannels, outputChannels / groups, kernelSize, kernelSize],
                                       low: -bound, high: bound, generator: generator))
        self.bias = bias ? Parameter(Tensor.rand([outputChannels], low: -bound, high: bound, generator: generator)) : nil
        self.stride = (stride, stride)
        self.padding = (padding, padding)
        self.outputPadding = (outputPadding, outputPadding)
        self.dilation = (dilation, dilation)
        self.groups = groups
    }

    public override func forward(_ x: Tensor) -> Tensor {
        x.convTranspose2d(weight: weight.value, bias: bias?.value, stride: stride, padding: padding,
                          outputPadding: outputPadding, dilation: dilation, groups: groups)
    }
}

/// Spectral normalisation (Miyato et al. 2018), as `torch.nn.utils.spectral_norm`: the
/// wrapped layer's weight is divided by its largest singular value, estimated by power
/// iteration on the weight reshaped to `[rows, -1]` with a persistent vector `u`.
/// Wraps `Linear`, `Conv2d` and `ConvTranspose2d`; the trained parameter stays the layer's
/// own `weight` (named `module.weight` here). Shape: the wrapped layer's.
public final class SpectralNorm: Module {
    /// The wrapped layer.
    public let module: Module
    /// The persistent left singular vector estimate.
    public let u: Buffer
    /// Power iterations per forward pass in training.
    public let powerIterations: Int
    /// Guards the normalisations of `u` and `v`.
    public let epsilon: Double

    /// The wrapped layer's weight (computed, so reflection names it once, as `module.weight`).
    var weight: Parameter { Self.weight(of: module)! }

    static func weight(of module: Module) -> Parameter? {
        switch module {
        case let m as Linear: return m.weight
        case let m as Conv2d: return m.weight
        case let m as ConvTranspose2d: return m.weight
        default: return nil
        }
    }

    /// Spectral normalisation of `module`'s weight.
    public init(_ module: Module, powerIterations: Int = 1, epsilon: Double = 1e-12, generator: RandomGenerator? = nil) {
        tensorCheck(powerIterations > 0, "[SpectralNorm] powerIterations must be positive, got \(powerIterations)")
        guard let weight = Self.weight(of: module) else {
            tensorFailure("[SpectralNorm] wraps Linear, Conv2d or ConvTranspose2d, got \(type(of: module))")
        }
        self.module = module
        self.powerIterations = powerIterations
        self.epsilon = epsilon
        // ConvTranspose2d's rows are its output channels (PyTorch uses dim 1 there).
        let rows = module is ConvTranspose2d ? weight.shape[1] : weight.shape[0]
        let start = Tensor.randn([rows], dtype: weight.dtype, generator: generator)
        u = Buffer(start / (start.squared().sum().sqrt() + epsilon))
    }

    /// The weight as a matrix `[rows, -1]` with rows the output channels.
    func matrix(_ w: Tensor) -> Tensor {
        module is ConvTranspose2d ? w.transposed(0, 1).reshaped(to: [w.shape[1], -1]) : w.reshaped(to: [w.shape[0], -1])
    }

    /// The current estimate of the largest singular value; in training mode, one more round
    /// of power iteration first (updating `u`), as PyTorch.
    public func sigma() -> Tensor {
        let w = weight.value
        let m = matrix(w)
        var v = Tensor.zeros([m.shape[1]], dtype: w.dtype, device: w.device)
        withoutGradients {
            var uu = u.value
            for _ in 0..<(isTraining ? powerIterations : 0) {
                v = m.transposed().matmul(uu)
                v = v / (v.squared().sum().sqrt() + epsilon)
                uu = m.matmul(v)
                uu = uu / (uu.squared().sum().sqrt() + epsilon)
            }
            if !isTraining {
                v = m.transposed().matmul(uu)
                v = v / (v.squared().sum().sqrt() + epsilon)
            }
            u.value = uu
        }
        // σ = uᵀ W v, differentiable in W with u and v held fixed (as PyTorch).
        return u.value.dot(m.matmul(v))
    }

    public override func forward(_ x: Tensor) -> Tensor {
        let normalized = weight.value / sigma()
        switch module {
        case let m as Linear:
            return x.linear(weight: normalized, bias: m.bias?.value)
        case let m as Conv2d:
            return x.conv2d(weight: normalized, bias: m.bias?.value, stride: m.stride, padding: m.padding, dilation: m.dilation,
                            groups: m.groups)
        case let m as ConvTranspose2d:
            return x.convTranspose2d(weight: normalized, bias: m.bias?.value, stride: m.stride, padding: m.padding,
                                     outputPadding: m.outputPadding, dilation: m.dilation, groups: m.groups)
        default:
            tensorFailure("[SpectralNorm] unsupported layer \(type(of: module))")
        }
    }
}

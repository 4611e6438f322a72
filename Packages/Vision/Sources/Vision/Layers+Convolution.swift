import NN
import TensorCore

/// 2-D convolution over NCHW with PyTorch's parameter names, layout and initialisation
/// (uniform on ±1/√fanIn for weight and bias, fanIn = in/groups · k · k).
///
/// Shape: `[N, inputChannels, H, W] -> [N, outputChannels, Ho, Wo]`; weight `[out, in / groups, k, k]`.
public final class Conv2d: Module {
    public let weight: Parameter
    public let bias: Parameter?
    public let stride: (Int, Int)
    public let padding: ConvolutionPadding
    public let dilation: (Int, Int)
    public let groups: Int

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

/// 1-D convolution over `[N, C, L]`.
public final class Conv1d: Module {
    public let weight: Parameter
    public let bias: Parameter?
    public let stride: Int, padding: Int, dilation: Int, groups: Int

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

public final class MaxPool2d: Module {
    public let kernelSize: Int, stride: Int, padding: Int
    public init(kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
    }
    public override func forward(_ x: Tensor) -> Tensor { x.maxPool2d(kernelSize: kernelSize, stride: stride, padding: padding) }
}

public final class AvgPool2d: Module {
    public let kernelSize: Int, stride: Int, padding: Int
    public init(kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
    }
    public override func forward(_ x: Tensor) -> Tensor { x.avgPool2d(kernelSize: kernelSize, stride: stride, padding: padding) }
}

/// Batch normalisation per channel of NCHW inputs, with running statistics as PyTorch.
public final class BatchNorm2d: Module {
    public let featureCount: Int, epsilon: Double, momentum: Double
    public let weight: Parameter, bias: Parameter
    public let runningMean: Buffer, runningVariance: Buffer

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
            withoutGradients {
                let mean = x.mean(axes: [0, 2, 3])
                let variance = x.variance(axes: [0, 2, 3], correction: 1)
                runningMean.value = runningMean.value * (1 - momentum) + mean * momentum
                runningVariance.value = runningVariance.value * (1 - momentum) + variance * momentum
            }
        }
        return batchNorm(x, runningMean: isTraining ? nil : runningMean.value, runningVariance: isTraining ? nil : runningVariance.value,
                         weight: weight.value, bias: bias.value, training: isTraining, epsilon: epsilon)
    }
}

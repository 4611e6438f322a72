import NN
import TensorCore

/// ResNet's basic block (He et al. 2016): two 3×3 convolutions with batch norm and a
/// shortcut (1×1 convolution when the shape changes). Names follow torchvision.
public final class BasicBlock: Module {
    /// Output channels per `channels` (1: the block keeps its width).
    public static let expansion = 1
    /// Conv2d: First 3×3 convolution (with the block's stride).
    public let conv1: Conv2d
    /// BatchNorm2d: Its batch norm.
    public let bn1: BatchNorm2d
    /// Conv2d: Second 3×3 convolution.
    public let conv2: Conv2d
    /// BatchNorm2d: Its batch norm.
    public let bn2: BatchNorm2d
    /// 1×1 convolution and batch norm on the shortcut when the shape changes.
    public let downsample: Sequential?

    /// A block from `inputChannels` to `channels`, downsampling by `stride`.
    public init(inputChannels: Int, channels: Int, stride: Int = 1, generator: RandomGenerator? = nil) {
        conv1 = Conv2d(inputChannels: inputChannels, outputChannels: channels, kernelSize: 3, stride: stride, padding: 1,
                       bias: false, generator: generator)
        bn1 = BatchNorm2d(featureCount: channels)
        conv2 = Conv2d(inputChannels: channels, outputChannels: channels, kernelSize: 3, padding: 1, bias: false, generator: generator)
        bn2 = BatchNorm2d(featureCount: channels)
        downsample = stride != 1 || inputChannels != channels
            ? Sequential(Conv2d(inputChannels: inputChannels, outputChannels: channels, kernelSize: 1, stride: stride, bias: false,
                                generator: generator), BatchNorm2d(featureCount: channels))
            : nil
    }

    public override func forward(_ x: Tensor) -> Tensor {
        let y = bn2(conv2(bn1(conv1(x)).relu()))
        return (y + (downsample.map { $0(x) } ?? x)).relu()
    }
}

/// ResNet's bottleneck block: 1×1 reduce, 3×3, 1×1 expand (×4), with a shortcut.
public final class Bottleneck: Module {
    /// Output channels per `channels` (the final 1×1 expands by 4).
    public static let expansion = 4
    /// Conv2d: 1×1 reduction.
    public let conv1: Conv2d
    /// BatchNorm2d: Its batch norm.
    public let bn1: BatchNorm2d
    /// Conv2d: 3×3 convolution (with the block's stride).
    public let conv2: Conv2d
    /// BatchNorm2d: Its batch norm.
    public let bn2: BatchNorm2d
    /// Conv2d: 1×1 expansion.
    public let conv3: Conv2d
    /// BatchNorm2d: Its batch norm.
    public let bn3: BatchNorm2d
    /// 1×1 convolution and batch norm on the shortcut when the shape changes.
    public let downsample: Sequential?

    /// A bottleneck from `inputChannels` to `4 × channels`, downsampling by `stride`.
    public init(inputChannels: Int, channels: Int, stride: Int = 1, generator: RandomGenerator? = nil) {
        let out = channels * Bottleneck.expansion
        conv1 = Conv2d(inputChannels: inputChannels, outputChannels: channels, kernelSize: 1, bias: false, generator: generator)
        bn1 = BatchNorm2d(featureCount: channels)
        conv2 = Conv2d(inputChannels: channels, outputChannels: channels, kernelSize: 3, stride: stride, padding: 1, bias: false,
                       generator: generator)
        bn2 = BatchNorm2d(featureCount: channels)
        conv3 = Conv2d(inputChannels: channels, outputChannels: out, kernelSize: 1, bias: false, generator: generator)
        bn3 = BatchNorm2d(featureCount: out)
        downsample = stride != 1 || inputChannels != out
            ? Sequential(Conv2d(inputChannels: inputChannels, outputChannels: out, kernelSize: 1, stride: stride, bias: false,
                                generator: generator), BatchNorm2d(featureCount: out))
            : nil
    }

    public override func forward(_ x: Tensor) -> Tensor {
        let y = bn3(conv3(bn2(conv2(bn1(conv1(x)).relu())).relu()))
        return (y + (downsample.map { $0(x) } ?? x)).relu()
    }
}

/// Residual networks: `ResNet.cifar(depth:)` (6n + 2 layers, 16/32/64 channels: ResNet-20,
/// -56) and `ResNet.imagenet(layers:)` (ResNet-18 `[2, 2, 2, 2]`, -34 `[3, 4, 6, 3]`, and with
/// bottlenecks -50 `[3, 4, 6, 3]`). `residual: false` removes every shortcut: the plain
/// network of the same depth, for the depth-versus-residual experiment.
public final class ResNet: Module {
    /// The first convolution (and, for ImageNet, pooling).
    public let stem: Sequential
    /// The stages of blocks, in order.
    public let stages: [Sequential]
    /// The classifier after global average pooling.
    public let fc: Linear

    init(stem: Sequential, stages: [Sequential], features: Int, classCount: Int, generator: RandomGenerator?) {
        self.stem = stem
        self.stages = stages
        fc = Linear(inputSize: features, outputSize: classCount, generator: generator)
    }

    public override var namedChildren: [(String, Module)] {
        [("stem", stem)] + stages.enumerated().map { ("layer\($0.offset + 1)", $0.element) } + [("fc", fc)]
    }

    public override func forward(_ x: Tensor) -> Tensor {
        var h = stem(x)
        for stage in stages { h = stage(h) }
        return fc(h.adaptiveAvgPool2d(outputSize: (1, 1)).flattened(startAxis: 1))
    }

    /// CIFAR-style ResNet of depth 6n + 2 (20, 32, 44, 56, 110).
    public static func cifar(depth: Int, inputChannels: Int = 3, classCount: Int = 10, residual: Bool = true,
                             generator: RandomGenerator? = nil) -> ResNet {
        tensorCheck(depth >= 8 && (depth - 2) % 6 == 0, "[ResNet.cifar] depth must be 6n + 2, got \(depth)")
        let n = (depth - 2) / 6
        let stem = Sequential(Conv2d(inputChannels: inputChannels, outputChannels: 16, kernelSize: 3, padding: 1, bias: false,
                                     generator: generator), BatchNorm2d(featureCount: 16), ReLU())
        var channels = 16
        var stages: [Sequential] = []
        for (index, width) in [16, 32, 64].enumerated() {
            var blocks: [Module] = []
            for b in 0..<n {
                let stride = b == 0 && index > 0 ? 2 : 1
                blocks.append(residual
                    ? BasicBlock(inputChannels: channels, channels: width, stride: stride, generator: generator)
                    : PlainBlock(inputChannels: channels, channels: width, stride: stride, generator: generator))
                channels = width
            }
            stages.append(Sequential(blocks))
        }
        return ResNet(stem: stem, stages: stages, features: 64, classCount: classCount, generator: generator)
    }

    /// ImageNet-style ResNet: `layers` blocks per stage, basic or bottleneck blocks.
    public static func imagenet(layers: [Int], bottleneck: Bool = false, inputChannels: Int = 3, classCount: Int = 1000,
                                generator: RandomGenerator? = nil) -> ResNet {
        tensorCheck(layers.count == 4, "[ResNet.imagenet] needs four stage sizes, got \(layers)")
        let stem = Sequential(Conv2d(inputChannels: inputChannels, outputChannels: 64, kernelSize: 7, stride: 2, padding: 3,
                                     bias: false, generator: generator),
                              BatchNorm2d(featureCount: 64), ReLU(), MaxPool2d(kernelSize: 3, stride: 2, padding: 1))
        var channels = 64
        var stages: [Sequential] = []
        for (index, width) in [64, 128, 256, 512].enumerated() {
            var blocks: [Module] = []
            for b in 0..<layers[index] {
                let stride = b == 0 && index > 0 ? 2 : 1
                if bottleneck {
                    blocks.append(Bottleneck(inputChannels: channels, channels: width, stride: stride, generator: generator))
                    channels = width * Bottleneck.expansion
                } else {
                    blocks.append(BasicBlock(inputChannels: channels, channels: width, stride: stride, generator: generator))
                    channels = width
                }
            }
            stages.append(Sequential(blocks))
        }
        return ResNet(stem: stem, stages: stages, features: channels, classCount: classCount, generator: generator)
    }

    /// torchvision's ResNet-18.
    public static func resnet18(classCount: Int = 1000) -> ResNet { imagenet(layers: [2, 2, 2, 2], classCount: classCount) }
    /// torchvision's ResNet-34.
    public static func resnet34(classCount: Int = 1000) -> ResNet { imagenet(layers: [3, 4, 6, 3], classCount: classCount) }
}

/// A basic block without its shortcut: conv-bn-relu twice (the "plain" network).
public final class PlainBlock: Module {
    /// Conv2d: First 3×3 convolution (with the block's stride).
    public let conv1: Conv2d
    /// BatchNorm2d: Its batch norm.
    public let bn1: BatchNorm2d
    /// Conv2d: Second 3×3 convolution.
    public let conv2: Conv2d
    /// BatchNorm2d: Its batch norm.
    public let bn2: BatchNorm2d

    /// A plain block from `inputChannels` to `channels`, downsampling by `stride`.
    public init(inputChannels: Int, channels: Int, stride: Int = 1, generator: RandomGenerator? = nil) {
        conv1 = Conv2d(inputChannels: inputChannels, outputChannels: channels, kernelSize: 3, stride: stride, padding: 1,
                       bias: false, generator: generator)
        bn1 = BatchNorm2d(featureCount: channels)
        conv2 = Conv2d(inputChannels: channels, outputChannels: channels, kernelSize: 3, padding: 1, bias: false, generator: generator)
        bn2 = BatchNorm2d(featureCount: channels)
    }

    public override func forward(_ x: Tensor) -> Tensor { bn2(conv2(bn1(conv1(x)).relu())).relu() }
}

/// A depthwise-separable block (MobileNet): 3×3 depthwise convolution, then 1×1 pointwise,
/// each with batch norm and ReLU.
public final class DepthwiseSeparableBlock: Module {
    /// Conv2d: 3×3 convolution of each channel alone.
    public let depthwise: Conv2d
    /// BatchNorm2d: Its batch norm.
    public let bn1: BatchNorm2d
    /// Conv2d: 1×1 convolution mixing channels.
    public let pointwise: Conv2d
    /// BatchNorm2d: Its batch norm.
    public let bn2: BatchNorm2d

    /// A depthwise-separable block, downsampling by `stride`.
    public init(inputChannels: Int, outputChannels: Int, stride: Int = 1, generator: RandomGenerator? = nil) {
        depthwise = Conv2d(inputChannels: inputChannels, outputChannels: inputChannels, kernelSize: 3, stride: stride, padding: 1,
                           groups: inputChannels, bias: false, generator: generator)
        bn1 = BatchNorm2d(featureCount: inputChannels)
        pointwise = Conv2d(inputChannels: inputChannels, outputChannels: outputChannels, kernelSize: 1, bias: false, generator: generator)
        bn2 = BatchNorm2d(featureCount: outputChannels)
    }

    public override func forward(_ x: Tensor) -> Tensor { bn2(pointwise(bn1(depthwise(x)).relu())).relu() }
}

/// A small VGG-style network: blocks of two 3×3 convolutions and a max pool, then a classifier.
public final class SmallVGG: Module {
    /// Sequential: Convolution blocks.
    public let features: Sequential
    /// Sequential: Flatten and linear layers.
    public let classifier: Sequential

    /// A VGG-style network of one block per width for `imageSize` images.
    public init(inputChannels: Int = 1, imageSize: Int = 28, widths: [Int] = [32, 64], classCount: Int = 10,
                generator: RandomGenerator? = nil) {
        var layers: [Module] = []
        var channels = inputChannels, size = imageSize
        for width in widths {
            layers += [Conv2d(inputChannels: channels, outputChannels: width, kernelSize: 3, padding: 1, generator: generator), ReLU(),
                       Conv2d(inputChannels: width, outputChannels: width, kernelSize: 3, padding: 1, generator: generator), ReLU(),
                       MaxPool2d(kernelSize: 2)]
            channels = width
            size /= 2
        }
        features = Sequential(layers)
        classifier = Sequential(Flatten(), Linear(inputSize: channels * size * size, outputSize: 128, generator: generator), ReLU(),
                                Dropout(p: 0.5), Linear(inputSize: 128, outputSize: classCount, generator: generator))
    }

    public override func forward(_ x: Tensor) -> Tensor { classifier(features(x)) }
}

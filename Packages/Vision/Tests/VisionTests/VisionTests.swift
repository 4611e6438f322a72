import NN
import Testing
import TensorCore
import TensorCoreTesting
@testable import Vision

@Suite("Vision layers and models")
struct VisionTests {
    @Test func conv2dLayerHasPyTorchNamesShapesAndInit() {
        let conv = Conv2d(inputChannels: 3, outputChannels: 8, kernelSize: 3, stride: 2, padding: 1)
        #expect(conv.weight.shape == [8, 3, 3, 3])
        #expect(conv.namedParameters().map(\.0) == ["weight", "bias"])
        let bound = Float(1 / (27.0).squareRoot())
        #expect(conv.weight.value.abs().max().item() <= bound)
        #expect(conv(Tensor.zeros([2, 3, 9, 9])).shape == [2, 8, 5, 5])
    }

    @Test func leNetNamesAndShapes() {
        let model = LeNet5()
        #expect(model(Tensor.zeros([4, 784])).shape == [4, 10])
        #expect(model.namedParameters().map(\.0).prefix(2) == ["features.0.weight", "features.0.bias"])
        #expect(model.parameterCount == 61_706)
    }

    @Test func batchNorm2dMatchesTheFunctionalFormAndTracksStatistics() {
        let bn = BatchNorm2d(featureCount: 3)
        let x = Tensor.randn([4, 3, 5, 5], generator: RandomGenerator(seed: 3)) * 2 + 1
        let y = bn(x)
        expectClose(y.mean(axes: [0, 2, 3]), Tensor.zeros([3]), tolerance: Tolerance(absolute: 1e-5, relative: 0))
        expectClose(bn.runningMean.value, x.mean(axes: [0, 2, 3]) * 0.1)
        bn.eval()
        #expect(bn(x).shape == [4, 3, 5, 5])
    }

    @Test func leNetLearnsASyntheticTask() {
        // Class = which quadrant is bright: a conv net separates it quickly.
        let g = RandomGenerator(seed: 4)
        var images: [Float] = [], labels: [Int64] = []
        for i in 0..<64 {
            let q = i % 4
            labels.append(Int64(q))
            for y in 0..<28 { for x in 0..<28 { images.append((y < 14) == (q < 2) && (x < 14) == (q % 2 == 0) ? 1 : 0) } }
        }
        let x = Tensor(images, shape: [64, 1, 28, 28]) + Tensor.randn([64, 1, 28, 28], standardDeviation: 0.1, generator: g)
        let y = Tensor(labels)
        let model = LeNet5(classCount: 4, generator: g)
        var losses: [Float] = []
        for _ in 0..<20 {
            let loss = crossEntropy(logits: model(x), targets: y)
            for p in model.parameters() { p.grad = nil }
            loss.backward()
            withoutGradients { for p in model.parameters() { p.value = p.value - p.grad! * 0.1 } }
            losses.append(loss.item())
        }
        #expect(losses.last! < losses.first! * 0.3, "loss \(losses.first!) -> \(losses.last!)")
    }
}

@Suite("Adversarial examples")
struct AdversarialTests {
    /// A small linear classifier on two pixels: its input gradient is known exactly.
    final class TwoPixel: Module {
        let layer = Linear(inputSize: 2, outputSize: 2)
        override func forward(_ x: Tensor) -> Tensor { layer(x) }
    }

    @Test func fgsmStepsAlongTheSignOfTheLossGradientAndStaysInRange() {
        let model = TwoPixel()
        model.layer.weight.value = Tensor([1, 0, 0, 1], shape: [2, 2])
        model.layer.bias!.value = Tensor([0, 0])
        let x = Tensor([0.9, 0.1, 0.5, 0.45], shape: [2, 2])
        let y = Tensor([Int64(0), 0])
        let adversarial = Adversarial.fgsm(model: model, images: x, labels: y, epsilon: 0.2)
        // Raising the loss for class 0 means lowering pixel 0 and raising pixel 1.
        expectClose(adversarial, [0.7, 0.3, 0.3, 0.65], tolerance: Tolerance(absolute: 1e-6, relative: 0))
        #expect(Adversarial.accuracy(model: model, images: x, labels: y) == 1)
        #expect(Adversarial.accuracy(model: model, images: adversarial, labels: y) == 0.5)
        let far = Adversarial.fgsm(model: model, images: x, labels: y, epsilon: 5)
        #expect(far.min().item() >= 0 && far.max().item() <= 1)
    }

    @Test func pgdStaysInTheBallAndIsAtLeastAsStrongAsFGSM() {
        let model = TwoPixel()
        model.layer.weight.value = Tensor([1, -0.5, 0.3, 1], shape: [2, 2])
        // A fixed bias: a random one can move the decision boundary out of the unit square,
        // where no ε-step crosses it and FGSM cannot succeed.
        model.layer.bias!.value = Tensor([0, 0])
        let g = RandomGenerator(seed: 8)
        let x = Tensor.rand([200, 2], generator: g)
        let y = model(x).argmax(axis: 1)
        let eps = 0.15
        let fgsm = Adversarial.fgsm(model: model, images: x, labels: y, epsilon: eps)
        let pgd = Adversarial.pgd(model: model, images: x, labels: y, epsilon: eps, stepSize: 0.05, steps: 10, generator: g)
        #expect((pgd - x).abs().max().item() <= Float(eps) + 1e-6)
        #expect(pgd.min().item() >= 0 && pgd.max().item() <= 1)
        let fgsmAccuracy = Adversarial.accuracy(model: model, images: fgsm, labels: y)
        let pgdAccuracy = Adversarial.accuracy(model: model, images: pgd, labels: y)
        #expect(fgsmAccuracy < 1)
        #expect(pgdAccuracy <= fgsmAccuracy + 0.02)
    }
}

@Suite("Model families")
struct ModelFamilyTests {
    @Test func resnetsHaveTheRightSizesAndShapes() {
        let r20 = ResNet.cifar(depth: 20, inputChannels: 1)
        // ResNet-20 for 3-channel CIFAR has 272,474 parameters; one input channel saves 288.
        #expect(r20.parameterCount == 272_474 - 432 + 144)
        #expect(r20(Tensor.zeros([2, 1, 28, 28])).shape == [2, 10])
        #expect(r20.namedParameters().map(\.0).contains("layer2.0.downsample.0.weight"))
        let plain = ResNet.cifar(depth: 20, inputChannels: 1, residual: false)
        #expect(plain.eval()(Tensor.zeros([1, 1, 28, 28])).shape == [1, 10])
        // torchvision's ResNet-18 has 11,689,512 parameters.
        #expect(ResNet.resnet18().parameterCount == 11_689_512)
        #expect(ResNet.imagenet(layers: [1, 1, 1, 1], bottleneck: true, classCount: 5).eval()(Tensor.zeros([1, 3, 32, 32])).shape == [1, 5])
    }

    @Test func smallBlocksAndVGG() {
        let block = DepthwiseSeparableBlock(inputChannels: 8, outputChannels: 16, stride: 2)
        #expect(block(Tensor.zeros([2, 8, 10, 10])).shape == [2, 16, 5, 5])
        #expect(block.depthwise.weight.shape == [8, 1, 3, 3])
        #expect(SmallVGG()(Tensor.zeros([2, 1, 28, 28])).shape == [2, 10])
    }
}

@Suite("U-Net")
struct UNetTests {
    @Test func unetKeepsSpatialSizeAndUsesTheTimeEmbedding() {
        let g = RandomGenerator(seed: 6)
        let net = UNet(inputChannels: 1, outputChannels: 2, widths: [8, 16], timeEmbeddingSize: 4, generator: g)
        let x = Tensor.randn([2, 1, 8, 8], generator: g)
        let t1 = Tensor.randn([2, 4], generator: g), t2 = Tensor.randn([2, 4], generator: g)
        let y1 = net(x, time: t1), y2 = net(x, time: t2)
        #expect(y1.shape == [2, 2, 8, 8])
        #expect((y1 - y2).abs().max().item() > 1e-4, "the time embedding should change the output")
        y1.sum().backward()
        #expect(net.down[0].timeProjection!.weight.grad != nil)
        #expect(net.namedParameters().map(\.0).contains("middle.conv1.weight"))
    }
}

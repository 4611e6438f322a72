import Testing
import NN
import TensorCore
import TensorCoreTesting
import CUDABackend
@testable import Vision

/// Vision's layers, models and attacks on other devices: nothing they make may land on the
/// CPU, and the numbers are the CPU's.
@Suite("Vision on other devices")
struct DeviceTests {
    /// TensorCoreTesting's `emulated:0` (CPU kernels under another label), and `cuda:0` (the
    /// CUDA backend's kernels, on a GPU or the CUDA emulator) where either exists.
    static let devices: [Device] = {
        EmulatedDevice.register()
        return [EmulatedDevice.device] + [CUDABackend.deviceForTesting()].compactMap { $0 }
    }()

    final class Zoo: Module {
        let lenet: LeNet5
        let resnet: ResNet
        let up: ConvTranspose2d
        let spectral: SpectralNorm
        let norm = InstanceNorm2d(featureCount: 2, affine: true)
        let drop = Dropout2d(p: 0.5, generator: RandomGenerator(seed: 6))
        let bilinear = Upsample(scaleFactor: 2, mode: .bilinear(alignCorners: false))
        let nearest = Upsample(scaleFactor: 2)
        let adaptiveMax = AdaptiveMaxPool2d(outputSize: 3)
        let adaptiveAverage = AdaptiveAvgPool2d(outputSize: 2)
        let pool1d = MaxPool1d(kernelSize: 2), average1d = AvgPool1d(kernelSize: 3, stride: 2)

        init(_ g: RandomGenerator) {
            lenet = LeNet5(classCount: 10, generator: g)
            resnet = ResNet.cifar(depth: 8, inputChannels: 1, classCount: 10, generator: g)
            up = ConvTranspose2d(inputChannels: 10, outputChannels: 2, kernelSize: 3, stride: 2, padding: 1, outputPadding: 1, generator: g)
            spectral = SpectralNorm(Conv2d(inputChannels: 2, outputChannels: 2, kernelSize: 3, padding: 1, generator: g),
                                    generator: RandomGenerator(seed: 5))
        }

        override func forward(_ x: Tensor) -> Tensor {
            let logits = lenet(x) + resnet(x)                                    // [N, 10]
            let grid = up(logits.reshaped(to: [x.shape[0], 10, 1, 1]))           // [N, 2, 2, 2]
            var y = drop(norm(spectral(nearest(bilinear(grid)))))                 // [N, 2, 8, 8]
            y = adaptiveMax(y).sum(axes: [2, 3]) + adaptiveAverage(y).sum(axes: [2, 3])
            let sequence = x.reshaped(to: [x.shape[0], 28, 28])
            return y.sum(axes: [1]) + pool1d(sequence).mean(axes: [1, 2]) + average1d(sequence).mean(axes: [1, 2])
        }
    }

    @Test(arguments: DeviceTests.devices)
    func modelsTrainOnTheDeviceAsOnTheCPU(on target: Device) {
        let images = Tensor.rand([2, 1, 28, 28], generator: RandomGenerator(seed: 1))
        func run(_ device: Device) -> [Tensor] {
            let zoo = Zoo(RandomGenerator(seed: 2))
            zoo.move(to: device)
            let y = zoo(images.moved(to: device))
            y.sum().backward()
            return [y, zoo.lenet.parameters()[0].grad!, zoo.resnet.parameters()[0].grad!, zoo.up.weight.grad!,
                    zoo.spectral.parameters()[0].grad!]
        }
        let cpu = run(.cpu), device = run(target)
        for (a, b) in zip(cpu, device) {
            #expect(b.device == target)
            expectClose(b.moved(to: .cpu), a, tolerance: Tolerance(absolute: 1e-4, relative: 1e-4))
        }
    }

    @Test(arguments: DeviceTests.devices)
    func attacksStayOnTheDevice(on target: Device) {
        let model = LeNet5(classCount: 4, generator: RandomGenerator(seed: 3))
        model.move(to: target)
        let x = Tensor.rand([3, 1, 28, 28], generator: RandomGenerator(seed: 4)).moved(to: target)
        let y = Tensor([Int64(0), 1, 2]).moved(to: target)
        let fgsm = Adversarial.fgsm(model: model, images: x, labels: y, epsilon: 0.1)
        let pgd = Adversarial.pgd(model: model, images: x, labels: y, epsilon: 0.1, stepSize: 0.02, steps: 2,
                                  generator: RandomGenerator(seed: 5))
        #expect(fgsm.device == target && pgd.device == target)
        #expect((pgd - x).abs().max().item() <= 0.1 + 1e-6)
        _ = Adversarial.accuracy(model: model, images: pgd, labels: y)
        let loss = Adversarial.adversarialLoss(model: model, images: x, labels: y, epsilon: 0.1, stepSize: 0.05, steps: 1)
        #expect(loss.device == target)
    }

    /// Three LeNet-5 training steps (cross-entropy, backward, plain SGD) on the device: the
    /// losses and the trained weights are the CPU's within float32 tolerance.
    @Test(arguments: DeviceTests.devices)
    func leNetTrainingStepsMatchTheCPU(on target: Device) {
        let images = Tensor.rand([4, 1, 28, 28], generator: RandomGenerator(seed: 6)), labels = Tensor([Int64(3), 1, 0, 7])
        func train(_ device: Device) -> [Tensor] {
            let model = LeNet5(classCount: 10, generator: RandomGenerator(seed: 7))
            model.move(to: device)
            let (x, y) = (images.moved(to: device), labels.moved(to: device))
            var losses: [Tensor] = []
            for _ in 0..<3 {
                for p in model.parameters() { p.grad = nil }
                let loss = crossEntropy(logits: model(x), targets: y)
                loss.backward()
                for p in model.parameters() { p.value = p.value - p.grad! * 0.1 }
                losses.append(loss)
            }
            return losses + model.parameters().map(\.value)
        }
        let cpu = train(.cpu), device = train(target)
        for (a, b) in zip(cpu, device) {
            #expect(b.device == target)
            expectClose(b.moved(to: .cpu), a, tolerance: Tolerance(absolute: 1e-5, relative: 1e-4))
        }
    }
}

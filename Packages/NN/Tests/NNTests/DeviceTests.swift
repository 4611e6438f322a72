import Testing
import TensorCore
import TensorCoreTesting
@testable import NN
import CUDABackend

/// Layers and losses on devices other than the CPU: TensorCoreTesting's `emulated:0` (CPU
/// kernels under another device's label: every tensor made must be on the device) and
/// `cuda:0` (the CUDA backend's own kernels, on a GPU or the CUDA emulator): the numbers must
/// be the CPU's. A CPU-made mask or constant stops the op on either.
@Suite("NN on other devices")
struct DeviceTests {
    static let devices: [Device] = {
        EmulatedDevice.register()
        return [EmulatedDevice.device] + [CUDABackend.deviceForTesting()].compactMap { $0 }
    }()

    final class Net: Module {
        let embedding: Embedding
        let linear: Linear
        let norm = LayerNorm(8)
        let rms = RMSNorm([8])
        let batchNorm = BatchNorm1d(featureCount: 8)
        let groupNorm = GroupNorm(groupCount: 2, channelCount: 8)
        let bilinear: Bilinear
        let activations = Sequential(GELU(), SiLU(), LeakyReLU(negativeSlope: 0.1), ELU(), Softplus(), Tanh())
        let dropout: Dropout
        let alphaDropout: AlphaDropout

        init(_ g: RandomGenerator) {
            embedding = Embedding(count: 10, dimension: 6, paddingIndex: 0, generator: g)
            linear = Linear(inputSize: 6, outputSize: 8, generator: g)
            bilinear = Bilinear(inputSize1: 8, inputSize2: 8, outputSize: 5, generator: g)
            dropout = Dropout(p: 0.3, generator: RandomGenerator(seed: 7))
            alphaDropout = AlphaDropout(p: 0.2, generator: RandomGenerator(seed: 8))
        }

        override func forward(_ tokens: Tensor) -> Tensor {
            var x = linear(embedding(tokens))
            x = groupNorm(batchNorm(rms(norm(x))))
            x = alphaDropout(dropout(activations(x)))
            return bilinear(x, x)
        }
    }

    /// Runs `body` on the CPU and on `target` and compares what it returns.
    func agree(on target: Device, _ body: (Device) -> [Tensor], sourceLocation: SourceLocation = #_sourceLocation) {
        let cpu = body(.cpu), device = body(target)
        #expect(cpu.count == device.count)
        for (i, (a, b)) in zip(cpu, device).enumerated() {
            #expect(b.device == target, "result \(i) is on \(b.device)", sourceLocation: sourceLocation)
            expectClose(b.moved(to: .cpu), a, tolerance: Tolerance(absolute: 1e-5, relative: 1e-5), sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: DeviceTests.devices)
    func layersTrainOnTheDevice(on device: Device) {
        agree(on: device) { device in
            let model = Net(RandomGenerator(seed: 3))
            model.move(to: device)
            let tokens = Tensor([Int64(1), 0, 4, 9, 2, 2, 7, 5]).moved(to: device)
            let y = model(tokens)
            (y * y).sum().backward()
            model.eval()
            let evaluated = model(tokens)
            return [y, evaluated, model.linear.weight.grad!, model.embedding.weight.grad!, model.batchNorm.runningMean!.value,
                    model.bilinear.weight.grad!]
        }
    }

    @Test(arguments: DeviceTests.devices)
    func lossesKeepTheirConstantsOnTheDevice(on device: Device) {
        let g = RandomGenerator(seed: 4)
        let logits = Tensor.randn([6, 4], generator: g), targets = Tensor([Int64(0), 3, -100, 1, 2, 3])
        let probabilities = Tensor.rand([6, 4], low: 0.05, high: 0.95, generator: g)
        let weights = Tensor([0.5, 1, 2, 1.5])
        let other = Tensor.randn([6, 4], generator: g)
        let signs = Tensor([1.0, -1, 1, 1, -1, -1])
        agree(on: device) { d in
            let x = logits.moved(to: d).requiringGrad()
            let (t, p, w, o, s) = (targets.moved(to: d), probabilities.moved(to: d), weights.moved(to: d), other.moved(to: d), signs.moved(to: d))
            let tClamped = t.clamped(min: 0)
            let losses = [
                crossEntropy(logits: x, targets: t, classWeights: w, ignoreIndex: -100, labelSmoothing: 0.1),
                crossEntropy(logits: x, targets: tClamped),
                crossEntropy(logits: x, targets: p.softmax(axis: 1), labelSmoothing: 0.2),
                nllLoss(logProbabilities: x.logSoftmax(axis: 1), targets: t, classWeights: w, ignoreIndex: -100),
                meanSquaredError(predictions: x, targets: o), l1Loss(predictions: x, targets: o, reduction: .sum),
                smoothL1Loss(predictions: x, targets: o, beta: 0.5), huberLoss(predictions: x, targets: o, delta: 0.7),
                binaryCrossEntropy(probabilities: x.sigmoid(), targets: p, weights: w),
                binaryCrossEntropyWithLogits(logits: x, targets: p, positiveWeight: w),
                klDivergence(logProbabilities: x.logSoftmax(axis: 1), targets: p.softmax(axis: 1)),
                multiMarginLoss(logits: x, targets: tClamped), cosineEmbeddingLoss(x, o, targets: s, margin: 0.1),
            ]
            var total = losses[0]
            for l in losses.dropFirst() { total = total + l }
            total.backward()
            return losses + [x.grad!]
        }
    }

    @Test(arguments: DeviceTests.devices)
    func functionalFormsAndInitialisersOnTheDevice(on device: Device) {
        agree(on: device) { d in
            let x = Tensor.randn([4, 6], generator: RandomGenerator(seed: 5)).moved(to: d)
            let dropped = dropout(Tensor.ones([1000], device: d), p: 0.5, training: true, generator: RandomGenerator(seed: 1))
            return [x.gelu(), x.softmax(axis: 1), dropped.mean(), Tensor.oneHot(Tensor([Int64(1), 3]).moved(to: d), classCount: 4)]
        }
    }

    /// A state dict read on the CPU loads into a model on the device without moving it back.
    @Test(arguments: DeviceTests.devices)
    func stateDictsLoadOntoTheModelsDevice(on device: Device) throws {
        let source = Net(RandomGenerator(seed: 8)), target = Net(RandomGenerator(seed: 9))
        target.move(to: device)
        try target.loadStateDict(source.stateDict())
        for (name, p) in target.namedParameters() { #expect(p.value.device == device, "\(name)") }
        #expect(target.batchNorm.runningMean!.value.device == device)
        #expect(target.device == device && source.device == .cpu)
        expectClose(target.linear.weight.value.moved(to: .cpu), source.linear.weight.value)
    }
}

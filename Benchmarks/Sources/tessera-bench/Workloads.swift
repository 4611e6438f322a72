import CheckpointHDF5
import Foundation
import NN
import Optim
import TensorCore
import Vision

/// The workloads, named as in peers/torch_bench.py.
func allWorkloads() -> [Workload] {
    var list: [Workload] = []
    let g = RandomGenerator(seed: 1)

    for n in [256, 1024, 2048] {
        list.append(Workload(name: "gemm_\(n)", unit: "GFLOP/s", workPerStep: 2 * pow3(n) / 1e9) {
            let a = Tensor.randn([n, n], generator: g), b = Tensor.randn([n, n], generator: g)
            return { _ = a.matmul(b) }
        })
    }

    let big = 16 * 1024 * 1024
    list.append(Workload(name: "add_16M", unit: "GB/s", workPerStep: Double(3 * 4 * big) / 1e9) {
        let a = Tensor.randn([big], generator: g), b = Tensor.randn([big], generator: g)
        return { _ = a + b }
    })
    list.append(Workload(name: "muladd_16M", unit: "Gelem/s", workPerStep: Double(big) / 1e9) {
        let a = Tensor.randn([big], generator: g), b = Tensor.randn([big], generator: g), c = Tensor.randn([big], generator: g)
        return { _ = a * b + c }
    })
    list.append(Workload(name: "softmax_4096x1024", unit: "Gelem/s", workPerStep: Double(4096 * 1024) / 1e9) {
        let x = Tensor.randn([4096, 1024], generator: g)
        return { _ = x.softmax(axis: -1) }
    })
    list.append(Workload(name: "sum_axis1_4096x1024", unit: "GB/s", workPerStep: Double(4096 * 1024 * 4) / 1e9) {
        let x = Tensor.randn([4096, 1024], generator: g)
        return { _ = x.sum(axes: [1]) }
    })
    list.append(Workload(name: "sum_axis0_4096x1024", unit: "GB/s", workPerStep: Double(4096 * 1024 * 4) / 1e9) {
        let x = Tensor.randn([4096, 1024], generator: g)
        return { _ = x.sum(axes: [0]) }
    })
    list.append(Workload(name: "tiny_add", unit: "Mop/s", workPerStep: 1e-6) {
        let a = Tensor([1, 2, 3, 4]), b = Tensor([5, 6, 7, 8])
        return { _ = a + b }
    })
    list.append(Workload(name: "tiny_autograd_step", unit: "Kstep/s", workPerStep: 1e-3) {
        let x = Tensor([0.1, 0.2, 0.3, 0.4]).requiringGrad()
        let w = Tensor([1, -1, 0.5, 2]), b = Tensor([0.1, 0.1, 0.1, 0.1])
        return {
            let y = ((x * w + b).tanh() * x).sum()
            y.backward()
            x.grad = nil
        }
    })
    list.append(Workload(name: "mlp3_fwd_bwd_b128", unit: "Ksample/s", workPerStep: 128e-3) {
        let x = Tensor.randn([128, 784], generator: g)
        let w1 = Parameter(Tensor.randn([784, 512], standardDeviation: 0.03, generator: g))
        let w2 = Parameter(Tensor.randn([512, 256], standardDeviation: 0.05, generator: g))
        let w3 = Parameter(Tensor.randn([256, 10], standardDeviation: 0.06, generator: g))
        return {
            let y = x.matmul(w1.value).relu().matmul(w2.value).relu().matmul(w3.value)
            y.sum().backward()
            w1.grad = nil; w2.grad = nil; w3.grad = nil
        }
    })
    list.append(Workload(name: "mlp_train_step_b128", unit: "Ksample/s", workPerStep: 128e-3) {
        let x = Tensor.randn([128, 784], generator: g)
        let y = Tensor.randint(0, 10, shape: [128], generator: g)
        let model = Sequential(Linear(inputSize: 784, outputSize: 512, generator: g), ReLU(),
                               Linear(inputSize: 512, outputSize: 256, generator: g), ReLU(),
                               Linear(inputSize: 256, outputSize: 10, generator: g))
        let sgd = SGD(parameters: model.parameters(), learningRate: 0.01, momentum: 0.9)
        return {
            let loss = crossEntropy(logits: model(x), targets: y)
            sgd.zeroGradients()
            loss.backward()
            sgd.step()
        }
    })
    list.append(Workload(name: "adam_update_10M", unit: "Gparam/s", workPerStep: 10e6 / 1e9) {
        let p = Parameter(Tensor.randn([10_000_000], generator: g))
        p.grad = Tensor.randn([10_000_000], generator: g)
        let adam = Adam(parameters: [p], learningRate: 1e-3)
        return { adam.step() }
    })
    list.append(Workload(name: "lenet_train_step_b64", unit: "Ksample/s", workPerStep: 64e-3) {
        let x = Tensor.rand([64, 1, 28, 28], generator: g)
        let y = Tensor.randint(0, 10, shape: [64], generator: g)
        let model = LeNet5(generator: g)
        let adam = Adam(parameters: model.parameters(), learningRate: 1e-3)
        return {
            let loss = crossEntropy(logits: model(x), targets: y)
            adam.zeroGradients()
            loss.backward()
            adam.step()
        }
    })
    list.append(Workload(name: "conv2d_fwd_bwd_lenet_b64", unit: "GFLOP/s", workPerStep: 3 * 2 * 64 * 16 * 10 * 10 * 6 * 25 / 1e9) {
        // LeNet's second convolution: 6 -> 16 channels, 5×5, on 14×14 (output 10×10).
        let x = Tensor.randn([64, 6, 14, 14], generator: g).requiringGrad()
        let w = Tensor.randn([16, 6, 5, 5], standardDeviation: 0.1, generator: g).requiringGrad()
        return {
            x.conv2d(weight: w).sum().backward()
            x.grad = nil
            w.grad = nil
        }
    })
    list.append(Workload(name: "resnet20_train_step_b32", unit: "Ksample/s", workPerStep: 32e-3) {
        let x = Tensor.rand([32, 3, 32, 32], generator: g)
        let y = Tensor.randint(0, 10, shape: [32], generator: g)
        let model = ResNet.cifar(depth: 20, generator: g)
        let sgd = SGD(parameters: model.parameters(), learningRate: 0.1, momentum: 0.9, weightDecay: 5e-4)
        return {
            let loss = crossEntropy(logits: model(x), targets: y)
            sgd.zeroGradients()
            loss.backward()
            sgd.step()
        }
    })
    // The other convolution shapes of ResNet/MobileNet (issue 18): ResNet-20's stride-2 and
    // wider stages, a bottleneck's 1×1 and a MobileNet depthwise 3×3. Forward and both
    // gradients; the peer runs the same shapes.
    for c in convolutionShapes {
        list.append(Workload(name: "conv2d_fwd_bwd_\(c.name)", unit: "GFLOP/s", workPerStep: c.gflopPerStep) {
            let x = Tensor.randn([c.n, c.c, c.h, c.h], generator: g).requiringGrad()
            let w = Tensor.randn([c.o, c.c / c.groups, c.k, c.k], standardDeviation: 0.1, generator: g).requiringGrad()
            return {
                x.conv2d(weight: w, stride: (c.stride, c.stride), padding: .explicit(c.k / 2, c.k / 2), groups: c.groups).sum().backward()
                x.grad = nil
                w.grad = nil
            }
        })
    }
    list.append(Workload(name: "conv2d_fwd_bwd_resnet20_b32", unit: "GFLOP/s", workPerStep: 3 * 2 * 32 * 16 * 16 * 9 * 32 * 32 / 1e9) {
        let x = Tensor.randn([32, 16, 32, 32], generator: g).requiringGrad()
        let w = Tensor.randn([16, 16, 3, 3], standardDeviation: 0.1, generator: g).requiringGrad()
        return {
            x.conv2d(weight: w, padding: 1).sum().backward()
            x.grad = nil
            w.grad = nil
        }
    })

    // 100M float32 parameters (400 MB) in ten tensors, saved durably (fsync) and loaded back.
    let checkpointDirectory = ProcessInfo.processInfo.environment["TESSERA_BENCH_DIR"] ?? NSTemporaryDirectory()
    let checkpointPath = checkpointDirectory + "/tessera-bench-100M.h5"
    let state: () -> [String: Tensor] = {
        (0..<10).reduce(into: [String: Tensor]()) { d, i in d["layer\(i).weight"] = Tensor.randn([1000, 10_000], generator: g) }
    }
    list.append(Workload(name: "checkpoint_save_100M", unit: "GB/s", workPerStep: 0.4) {
        let model = state()
        return { try! CheckpointFile.save(Checkpoint(model: model), to: checkpointPath, checksums: false) }
    })
    list.append(Workload(name: "checkpoint_load_100M", unit: "GB/s", workPerStep: 0.4) {
        try! CheckpointFile.save(Checkpoint(model: state()), to: checkpointPath, checksums: false)
        return { _ = try! CheckpointFile.load(from: checkpointPath) }
    })
    list += sequenceWorkloads(g)
    list += generativeWorkloads(g)
    list += numericsWorkloads(g)
    return list
}

func pow3(_ n: Int) -> Double { Double(n) * Double(n) * Double(n) }

/// A convolution workload's shape: `[n, c, h, h]` by `[o, c / groups, k, k]`, padding `k / 2`.
struct ConvolutionShape {
    var name: String
    var n, c, h, o, k, stride, groups: Int
    var gflopPerStep: Double {
        let out = (h + 2 * (k / 2) - k) / stride + 1
        return 3 * 2 * Double(n * o * out * out * (c / groups) * k * k) / 1e9
    }
}

/// Kept in step with `conv_shapes` in peers/torch_bench.py.
let convolutionShapes = [
    ConvolutionShape(name: "resnet20_s2_b32", n: 32, c: 16, h: 32, o: 32, k: 3, stride: 2, groups: 1),
    ConvolutionShape(name: "resnet20_c32_b32", n: 32, c: 32, h: 16, o: 32, k: 3, stride: 1, groups: 1),
    ConvolutionShape(name: "resnet20_c64_b32", n: 32, c: 64, h: 8, o: 64, k: 3, stride: 1, groups: 1),
    ConvolutionShape(name: "pointwise_b32", n: 32, c: 64, h: 16, o: 128, k: 1, stride: 1, groups: 1),
    ConvolutionShape(name: "depthwise_b32", n: 32, c: 64, h: 32, o: 64, k: 3, stride: 1, groups: 64),
]

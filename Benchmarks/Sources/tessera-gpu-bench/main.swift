import CUDABackend
import NN
import Optim
import TensorCore
import Vision
#if canImport(Glibc)
import Glibc
#endif

/// GPU workloads, one JSON line each, named as in peers/torch_gpu_bench.py:
/// {"workload": ..., "impl": "tessera", "rate": ..., "unit": ..., "seconds_per_step": ..., "device": ...}
/// Built for a GPU machine without Swift: see CI/gpu-bundle.
let usage = "usage: tessera-gpu-bench [--workload NAME[,NAME...]] [--budget SECONDS] [--samples K] [--list]"

struct GPUWorkload {
    var name: String
    var unit: String
    var workPerStep: Double
    var makeStep: (CUDABackend) -> () -> Void
}

func pow3(_ n: Int) -> Double { Double(n) * Double(n) * Double(n) }

func workloads() -> [GPUWorkload] {
    var list: [GPUWorkload] = []
    let g = RandomGenerator(seed: 1)
    for n in [4096, 8192] {
        for (label, dtype, tf32) in [("f32", DType.float32, false), ("tf32", .float32, true), ("bf16", .bfloat16, false)] {
            list.append(GPUWorkload(name: "gemm_\(label)_\(n)", unit: "TFLOP/s", workPerStep: 2 * pow3(n) / 1e12) { gpu in
                let a = Tensor.randn([n, n], device: gpu.device, generator: g).cast(to: dtype)
                let b = Tensor.randn([n, n], device: gpu.device, generator: g).cast(to: dtype)
                return { gpu.allowTF32 = tf32; _ = a.matmul(b) }
            })
        }
    }
    let big = 64 * 1024 * 1024
    list.append(GPUWorkload(name: "add_64M", unit: "GB/s", workPerStep: Double(3 * 4 * big) / 1e9) { gpu in
        let a = Tensor.randn([big], device: gpu.device, generator: g), b = Tensor.randn([big], device: gpu.device, generator: g)
        return { _ = a + b }
    })
    list.append(GPUWorkload(name: "softmax_8192x4096", unit: "GB/s", workPerStep: Double(2 * 4 * 8192 * 4096) / 1e9) { gpu in
        let x = Tensor.randn([8192, 4096], device: gpu.device, generator: g)
        return { _ = x.softmax(axis: -1) }
    })
    list.append(GPUWorkload(name: "mlp_train_step_b512", unit: "Ksample/s", workPerStep: 512e-3) { gpu in
        let x = Tensor.randn([512, 784], device: gpu.device, generator: g)
        let y = Tensor.randint(0, 10, shape: [512], generator: g).moved(to: gpu.device)
        let model = Sequential(Linear(inputSize: 784, outputSize: 512, generator: g), ReLU(),
                               Linear(inputSize: 512, outputSize: 256, generator: g), ReLU(),
                               Linear(inputSize: 256, outputSize: 10, generator: g))
        model.move(to: gpu.device)
        let sgd = SGD(parameters: model.parameters(), learningRate: 0.01, momentum: 0.9)
        return {
            let loss = crossEntropy(logits: model(x), targets: y)
            sgd.zeroGradients()
            loss.backward()
            sgd.step()
        }
    })
    list.append(GPUWorkload(name: "lenet_train_step_b256", unit: "Ksample/s", workPerStep: 256e-3) { gpu in
        let x = Tensor.rand([256, 1, 28, 28], device: gpu.device, generator: g)
        let y = Tensor.randint(0, 10, shape: [256], generator: g).moved(to: gpu.device)
        let model = LeNet5(generator: g)
        model.move(to: gpu.device)
        let adam = Adam(parameters: model.parameters(), learningRate: 1e-3)
        return {
            let loss = crossEntropy(logits: model(x), targets: y)
            adam.zeroGradients()
            loss.backward()
            adam.step()
        }
    })
    return list
}

/// Median seconds per step over `samples` timed loops of about `budget` seconds each, after a
/// warm-up (which also compiles and caches the kernels); the device is synchronised around
/// every timed loop.
func measure(_ step: () -> Void, gpu: CUDABackend, samples: Int, budget: Double) -> Double {
    let clock = ContinuousClock()
    func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
    step(); gpu.synchronize()
    var iterations = 1, elapsed = 0.0
    while true {
        let start = clock.now
        for _ in 0..<iterations { step() }
        gpu.synchronize()
        elapsed = seconds(clock.now - start)
        if elapsed > budget / 4 || iterations > 1 << 20 { break }
        iterations *= 2
    }
    let perSample = max(1, Int(Double(iterations) * budget / max(elapsed, 1e-9)))
    var times: [Double] = []
    for _ in 0..<samples {
        let start = clock.now
        for _ in 0..<perSample { step() }
        gpu.synchronize()
        times.append(seconds(clock.now - start) / Double(perSample))
    }
    return times.sorted()[times.count / 2]
}

var selected: Set<String>?
var budget = 0.5, samples = 5
var arguments = Array(CommandLine.arguments.dropFirst())
func fail(_ message: String) -> Never { fputs("tessera-gpu-bench: \(message)\n\(usage)\n", stderr); exit(2) }
while !arguments.isEmpty {
    let option = arguments.removeFirst()
    func value() -> String { guard !arguments.isEmpty else { fail("\(option) needs a value") }; return arguments.removeFirst() }
    switch option {
    case "--workload": selected = Set(value().split(separator: ",").map(String.init))
    case "--budget": guard let b = Double(value()), b > 0 else { fail("--budget needs a positive number") }; budget = b
    case "--samples": guard let s = Int(value()), s > 0 else { fail("--samples needs a positive integer") }; samples = s
    case "--list": for w in workloads() { print(w.name) }; exit(0)
    case "--help", "-h": print(usage); exit(0)
    default: fail("unknown option \(option)")
    }
}

let availability = CUDABackend.register()
guard availability.isAvailable, let gpu = try? CUDABackend.device(0) else {
    fputs("tessera-gpu-bench: \(availability)\n", stderr)
    exit(1)
}
let chosen = workloads().filter { selected?.contains($0.name) ?? true }
if let selected, chosen.count != selected.count { fail("unknown workload in \(selected.sorted()); --list shows them") }
for workload in chosen {
    let step = workload.makeStep(gpu)
    let seconds = measure(step, gpu: gpu, samples: samples, budget: budget)
    gpu.allowTF32 = false
    print("{\"workload\": \"\(workload.name)\", \"impl\": \"tessera\", \"rate\": \(workload.workPerStep / seconds), \"unit\": \"\(workload.unit)\", \"seconds_per_step\": \(seconds), \"device\": \"\(gpu.name)\"}")
    fflush(stdout)
}

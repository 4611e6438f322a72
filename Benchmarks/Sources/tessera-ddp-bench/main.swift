// Data-parallel training steps across the ranks mpirun started (or one process alone), for
// Benchmarks/compare-distributed: `mpirun -np N tessera-ddp-bench [--rounds R] [--workload NAME]`.
// Each rank trains on its own batch (weak scaling: the world does N times the work per step);
// rank 0 prints one JSON line per workload and round: the world's samples per second, the
// all-reduce seconds per step and the fraction of them hidden behind backward.
import DistributedTraining
import Foundation
import NN
import Optim
import TensorCore
import Vision

let arguments = CommandLine.arguments
func option(_ name: String) -> String? {
    arguments.firstIndex(of: name).flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }
}
let rounds = Int(option("--rounds") ?? "3") ?? 3
// --no-sync: the same steps without gradient synchronisation (what the ranks' computation
// alone costs when they share the machine).
let synchronizes = !arguments.contains("--no-sync")
let only = option("--workload")?.split(separator: ",").map(String.init)
if let threads = option("--threads").flatMap(Int.init) { CPUThreads.count = threads }

let group = try MPIProcessGroup.world()

struct Workload {
    let name: String
    let batch: Int
    let steps: Int
    let make: (RandomGenerator) -> (Module, Tensor, Tensor)
}

let workloads = [
    Workload(name: "mlp_train_step_b128", batch: 128, steps: 100) { g in
        let model = Sequential(Linear(inputSize: 784, outputSize: 512, generator: g), ReLU(),
                               Linear(inputSize: 512, outputSize: 256, generator: g), ReLU(),
                               Linear(inputSize: 256, outputSize: 10, generator: g))
        return (model, Tensor.randn([128, 784], generator: g), Tensor.randint(0, 10, shape: [128], generator: g))
    },
    Workload(name: "resnet20_train_step_b32", batch: 32, steps: 6) { g in
        (ResNet.cifar(depth: 20, generator: g), Tensor.rand([32, 3, 32, 32], generator: g),
         Tensor.randint(0, 10, shape: [32], generator: g))
    },
]

// --allreduce-only N: the all-reduce of N float32 elements alone, timed.
if let count = option("--allreduce-only").flatMap(Int.init) {
    let t = Tensor.randn([count])
    for _ in 0..<5 { _ = try group.allReduce(t) }
    for _ in 0..<rounds {
        try group.barrier()
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<50 { _ = try group.allReduce(t) }
        let ms = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6 / 50
        if group.isMainProcess { print(String(format: #"{"name": "allreduce_%d", "ms": %.4f, "GB_per_s": %.3f}"#, count, ms, Double(count * 4) / ms / 1e6)) }
    }
    group.finalize()
    exit(0)
}

for workload in workloads where only?.contains(workload.name) ?? true {
    // Each rank its own data; the same weights everywhere (DistributedDataParallel copies rank 0's).
    let (model, x, y) = workload.make(RandomGenerator(seed: 1 + UInt64(group.rank)))
    let ddp = try DistributedDataParallel(model, group: group)
    let sgd = SGD(parameters: model.parameters(), learningRate: 0.01, momentum: 0.9)
    func step() throws {
        try ddp.prepareForward()
        let loss = crossEntropy(logits: ddp(x), targets: y)
        sgd.zeroGradients()
        if synchronizes {
            loss.backward()
            try ddp.finishGradientSynchronization()
        } else {
            ddp.withoutGradientSynchronization { loss.backward() }
        }
        sgd.step()
    }
    for _ in 0..<max(2, workload.steps / 5) { try step() }
    for _ in 0..<rounds {
        try group.barrier()
        let (communication, exposed) = (ddp.communicationSeconds, ddp.exposedSeconds)
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<workload.steps { try step() }
        try group.barrier()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let allReduce = (ddp.communicationSeconds - communication) / Double(workload.steps)
        let waited = (ddp.exposedSeconds - exposed) / Double(workload.steps)
        if group.isMainProcess {
            let rate = Double(workload.batch * workload.steps * group.worldSize) / seconds / 1000
            print(String(format: #"{"name": "%@", "world_size": %d, "unit": "Ksample/s", "rate": %.4f, "allreduce_ms_per_step": %.4f, "exposed_ms_per_step": %.4f, "hidden_fraction": %.4f}"#,
                         workload.name, group.worldSize, rate, allReduce * 1e3, waited * 1e3,
                         allReduce > 0 ? max(0, 1 - waited / allReduce) : 0))
            fflush(stdout)
        }
    }
}
group.finalize()

// The ranks' side of DistributedTrainingTests: started under `mpirun -np N`, each rank runs
// one scenario and writes what it measured to OUT/rank<r>.json; the tests read the reports
// and assert. `distributed-checks SCENARIO OUT [options]`.
import DistributedTraining
import Foundation
import NN
import Optim
import TensorCore
import Training

let arguments = CommandLine.arguments
guard arguments.count >= 3 else {
    FileHandle.standardError.write("usage: distributed-checks collectives|equivalence|trainer|fail|stall|mismatch OUT [options]\n".data(using: .utf8)!)
    exit(2)
}
let scenario = arguments[1], out = arguments[2]
let options = Array(arguments.dropFirst(3))
func option(_ name: String) -> String? {
    options.firstIndex(of: name).flatMap { $0 + 1 < options.count ? options[$0 + 1] : nil }
}

func write(_ report: [String: Any], rank: Int) {
    let data = try! JSONSerialization.data(withJSONObject: report, options: [.sortedKeys])
    try! FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
    try! data.write(to: URL(fileURLWithPath: "\(out)/rank\(rank).json"))
}

/// The values rank `rank` contributes at element `i` (small integers: exact in every dtype).
func contribution(_ rank: Int, _ i: Int, _ dtype: DType) -> Double {
    dtype == .bool ? Double((i + rank) % 3 == 0 ? 1 : 0) : Double((i * 7 + rank * 5) % 23) - (dtype == .uint8 ? 0 : 11)
}

func tensor(_ values: [Double], _ dtype: DType) -> Tensor {
    Tensor(values, shape: [values.count]).cast(to: dtype)
}

func collectives(_ group: ProcessGroup) throws -> [String: Any] {
    let world = group.worldSize, rank = group.rank
    var checks = 0
    var failures: [String] = []
    func check(_ name: String, _ got: [Double], _ want: [Double]) {
        checks += 1
        if got.count != want.count || zip(got, want).contains(where: { abs($0 - $1) > 1e-6 * max(1, abs($1)) }) {
            failures.append("\(name): got \(got.prefix(6)) want \(want.prefix(6))")
        }
    }
    for dtype in DType.allCases {
        for size in [1, 7, 1000, 100_003] {
            let mine = (0..<size).map { contribution(rank, $0, dtype) }
            let all = (0..<world).map { r in (0..<size).map { contribution(r, $0, dtype) } }
            for op in ReduceOperation.allCases {
                if op == .average && !dtype.isFloatingPoint { continue }
                let want: [Double] = (0..<size).map { i in
                    let column = all.map { $0[i] }
                    switch op {
                    case .sum: return dtype == .bool ? (column.contains(1) ? 1 : 0) : column.reduce(0, +)
                    case .average: return column.reduce(0, +) / Double(world)
                    case .max: return column.max()!
                    case .min: return column.min()!
                    }
                }
                let result = try group.allReduce(tensor(mine, dtype), op)
                check("allReduce \(op) \(dtype) \(size) dtype", [Double(result.dtype == dtype ? 1 : 0)], [1])
                // The exact answer rounded to the dtype (an average of three in float16).
                let rounded = tensor(want, dtype).cast(to: .float64).scalars(as: Double.self)
                check("allReduce \(op) \(dtype) \(size)", result.cast(to: .float64).scalars(as: Double.self), rounded)
            }
            let pending = group.allReduceAsync(tensor(mine, dtype), .max)
            let root = world - 1
            let broadcast = try group.broadcast(tensor(mine, dtype), from: root)
            check("broadcast \(dtype) \(size)", broadcast.cast(to: .float64).scalars(as: Double.self), all[root])
            check("allReduceAsync \(dtype) \(size)", try pending.wait().cast(to: .float64).scalars(as: Double.self),
                  (0..<size).map { i in all.map { $0[i] }.max()! })
            let gathered = try group.allGather(tensor(mine, dtype))
            check("allGather \(dtype) \(size) count", [Double(gathered.count)], [Double(world)])
            for r in 0..<world { check("allGather \(dtype) \(size) rank \(r)", gathered[r].cast(to: .float64).scalars(as: Double.self), all[r]) }
            if dtype != .bool {
                let block = size
                let whole = (0..<(world * block)).map { contribution(rank, $0, dtype) }
                let scattered = try group.reduceScatter(tensor(whole, dtype), .sum)
                let want = (0..<block).map { i in (0..<world).map { contribution($0, rank * block + i, dtype) }.reduce(0, +) }
                check("reduceScatter \(dtype) \(size)", scattered.cast(to: .float64).scalars(as: Double.self), want)
            }
        }
    }
    try group.barrier()
    checks += 1
    return ["checks": checks, "failures": failures]
}

/// Synthetic classification data, the same on every rank: 10 features, 4 classes.
func data(count: Int) -> (Tensor, Tensor) {
    let generator = RandomGenerator(seed: 11)
    let x = Tensor.randn([count, 10], generator: generator)
    let w = Tensor.randn([10, 4], generator: generator)
    let labels = x.matmul(w).argmax(axis: 1)
    return (x, labels)
}

func model(seed: UInt64, hidden: Int = 32) -> MLP {
    MLP(MLPConfiguration(inputSize: 10, hiddenSizes: [hidden], outputSize: 4), generator: RandomGenerator(seed: seed))
}

func flat(_ module: Module) -> [Double] {
    module.parameters().flatMap { $0.value.cast(to: .float64).scalars(as: Double.self) }
}

/// 20 SGD (momentum) and 20 Adam steps of a global batch of 64: each of the world's ranks
/// takes its 64 / world rows through DistributedDataParallel; every rank also trains a
/// plain copy on all 64 rows (the one-process reference). With `--accumulate`, each rank's
/// share goes in two halves, the first inside withoutGradientSynchronization.
func equivalence(_ group: ProcessGroup, accumulate: Bool) throws -> [String: Any] {
    let (x, y) = data(count: 64 * 40)
    let world = group.worldSize, rank = group.rank
    let bucketBytes = Int(option("--bucket-bytes") ?? "") ?? (25 << 20)
    var report: [String: Any] = [:]
    for optimizerName in ["sgd", "adam"] {
        // Ranks start from different weights: DDP copies rank 0's.
        let distributed = model(seed: 100 + UInt64(rank)), reference = model(seed: 100)
        let ddp = try DistributedDataParallel(distributed, group: group, bucketCapacityBytes: bucketBytes)
        func makeOptimizer(_ parameters: [Parameter]) -> Optimizer {
            optimizerName == "sgd" ? SGD(parameters: parameters, learningRate: 0.05, momentum: 0.9)
                : Adam(parameters: parameters, learningRate: 0.01)
        }
        let zero = options.contains("--zero")
            ? ZeroRedundancyOptimizer(distributed.parameters(), group: group, makeOptimizer: makeOptimizer) : nil
        let optimizer: Optimizer = zero ?? makeOptimizer(distributed.parameters())
        let referenceOptimizer = makeOptimizer(reference.parameters())
        let offset = optimizerName == "sgd" ? 0 : 20
        for step in 0..<20 {
            let start = (offset + step) * 64
            let rows = Array(stride(from: start + rank, to: start + 64, by: world))
            optimizer.zeroGradients()
            let parts = accumulate ? [Array(rows.prefix(rows.count / 2)), Array(rows.dropFirst(rows.count / 2))] : [rows]
            for (k, part) in parts.enumerated() {
                let index = Tensor(part.map(Int64.init), shape: [part.count])
                let loss = crossEntropy(logits: ddp(x.indexSelect(axis: 0, indices: index)), targets: y.indexSelect(axis: 0, indices: index))
                    * (Double(part.count) / Double(rows.count))
                if k < parts.count - 1 { ddp.withoutGradientSynchronization { loss.backward() } } else { loss.backward() }
            }
            try ddp.finishGradientSynchronization()
            optimizer.step()
            referenceOptimizer.zeroGradients()
            let all = Tensor((start..<(start + 64)).map(Int64.init), shape: [64])
            crossEntropy(logits: reference(x.indexSelect(axis: 0, indices: all)), targets: y.indexSelect(axis: 0, indices: all)).backward()
            referenceOptimizer.step()
        }
        let mine = flat(distributed), want = flat(reference)
        let gathered = try group.allGather(Tensor(mine, shape: [mine.count]))
        let identical = gathered.allSatisfy { $0.scalars(as: Double.self) == mine }
        var figures: [String: Any] = [:]
        if let zero {
            // The shards gathered onto rank 0 are the unsharded optimizer's state; a fresh
            // sharded optimizer loading that state gathers back to it.
            func difference(_ a: OptimizerStateDict, _ b: OptimizerStateDict) -> Double {
                guard Set(a.tensors.keys) == Set(b.tensors.keys), Set(a.scalars.keys) == Set(b.scalars.keys) else { return .infinity }
                let tensors = a.tensors.keys.map { key in
                    zip(a.tensors[key]!.cast(to: .float64).scalars(as: Double.self), b.tensors[key]!.cast(to: .float64).scalars(as: Double.self))
                        .map { abs($0 - $1) }.max() ?? 0
                }
                return max(tensors.max() ?? 0, a.scalars.keys.map { abs(a.scalars[$0]! - b.scalars[$0]!) }.max() ?? 0)
            }
            try zero.consolidateState(onto: 0)
            let whole = referenceOptimizer.stateDict()
            let reloaded = ZeroRedundancyOptimizer(model(seed: 100).parameters(), group: group, makeOptimizer: makeOptimizer)
            try reloaded.load(stateDict: whole)
            try reloaded.consolidateState(onto: 0)
            if rank == 0 {
                figures["state_difference"] = difference(zero.stateDict(), whole)
                figures["reloaded_state_difference"] = difference(reloaded.stateDict(), whole)
            }
            figures["local_fraction"] = Double(zero.localParameterCount) / Double(mine.count)
        }
        report[optimizerName] = figures.merging([
            "max_difference": zip(mine, want).map { abs($0 - $1) }.max() ?? 0,
            "max_parameter": want.map(abs).max() ?? 0,
            "ranks_identical": identical,
            "buckets": ddp.bucketCount,
        ] as [String: Any]) { $1 }
    }
    return report
}

/// A trunk and three heads: each rank uses head `a` or `b` by step, `spare` never.
final class Branching: Module {
    let trunk: Linear, a: Linear, b: Linear, spare: Linear

    init(seed: UInt64) {
        let g = RandomGenerator(seed: seed)
        trunk = Linear(inputSize: 10, outputSize: 16, generator: g)
        a = Linear(inputSize: 16, outputSize: 4, generator: g)
        b = Linear(inputSize: 16, outputSize: 4, generator: g)
        spare = Linear(inputSize: 16, outputSize: 4, generator: g)
    }

    func callAsFunction(_ x: Tensor, usesB: Bool) -> Tensor {
        let h = trunk(x).relu()
        return usesB ? b(h) : a(h)
    }
}

/// findUnusedParameters: 10 SGD steps where rank r uses head b at steps s with
/// (s + r) % 3 == 0, against one process averaging both ranks' losses; `spare` keeps no
/// gradient anywhere. Without findUnusedParameters the first step throws.
func unused(_ group: ProcessGroup) throws -> [String: Any] {
    let (x, y) = data(count: 64 * 10)
    let world = group.worldSize, rank = group.rank
    let distributed = Branching(seed: 9), reference = Branching(seed: 9)
    var report: [String: Any] = [:]
    do {
        let strict = try DistributedDataParallel(Branching(seed: 9), group: group)
        crossEntropy(logits: (strict.module as! Branching)(x, usesB: false), targets: y).backward()
        try strict.finishGradientSynchronization()
        report["strict_error"] = "none"
    } catch {
        report["strict_error"] = "\(error)"
    }
    let ddp = try DistributedDataParallel(distributed, group: group, findUnusedParameters: true)
    let optimizer = SGD(parameters: distributed.parameters(), learningRate: 0.1)
    let referenceOptimizer = SGD(parameters: reference.parameters(), learningRate: 0.1)
    var spareUntouched = true
    for step in 0..<10 {
        func rows(_ r: Int) -> Tensor {
            Tensor(stride(from: step * 64 + r, to: step * 64 + 64, by: world).map(Int64.init), shape: [64 / world])
        }
        optimizer.zeroGradients()
        crossEntropy(logits: distributed(x.indexSelect(axis: 0, indices: rows(rank)), usesB: (step + rank) % 3 == 0),
                     targets: y.indexSelect(axis: 0, indices: rows(rank))).backward()
        try ddp.finishGradientSynchronization()
        spareUntouched = spareUntouched && distributed.spare.parameters().allSatisfy { $0.grad == nil }
        optimizer.step()
        referenceOptimizer.zeroGradients()
        var total: Tensor?
        for r in 0..<world {
            let loss = crossEntropy(logits: reference(x.indexSelect(axis: 0, indices: rows(r)), usesB: (step + r) % 3 == 0),
                                    targets: y.indexSelect(axis: 0, indices: rows(r))) * (1 / Double(world))
            total = total.map { $0 + loss } ?? loss
        }
        total!.backward()
        referenceOptimizer.step()
    }
    report["max_difference"] = zip(flat(distributed), flat(reference)).map { abs($0 - $1) }.max() ?? 1
    report["spare_without_gradient"] = spareUntouched
    return report
}

/// A Trainer run over DistributedSampler shards (batch 64 / world per rank): writes results
/// (rank 0), checkpoints each epoch, resumes when asked; reports the parameters.
func trainer(_ group: ProcessGroup) throws -> [String: Any] {
    let (x, y) = data(count: 512)
    let epochs = Int(option("--epochs") ?? "2")!
    let directory = option("--checkpoints")
    let m = model(seed: 5)
    let ddp = try DistributedDataParallel(m, group: group)
    let accumulation = Int(option("--accumulate") ?? "1")!
    let loader = DataLoader(TensorDataset(inputs: x, targets: y), batchSize: 64 / group.worldSize / accumulation,
                            sampler: DistributedSampler(rank: group.rank, worldSize: group.worldSize, seed: 3))
    let evaluation = DataLoader(TensorDataset(inputs: x, targets: y), batchSize: 100,
                                sampler: DistributedSampler(rank: group.rank, worldSize: group.worldSize, shuffle: false,
                                                            equalShards: false))
    let configuration = TrainerConfiguration(epochs: epochs, accumulationSteps: accumulation, outputDirectory: "\(out)/run",
                                             checkpointDirectory: directory,
                                             checkpointEverySteps: option("--every-steps").flatMap { Int($0) }, keepLastCheckpoints: 10,
                                             resume: options.contains("--resume"), showsProgress: false)
    let makeOptimizer = { (parameters: [Parameter]) -> Optimizer in SGD(parameters: parameters, learningRate: 0.1, momentum: 0.9) }
    let optimizer: Optimizer = options.contains("--zero")
        ? ZeroRedundancyOptimizer(m.parameters(), group: group, makeOptimizer: makeOptimizer) : makeOptimizer(m.parameters())
    let t = Trainer(model: m, optimizer: optimizer, configuration: configuration)
    t.distribution = ddp
    t.log = { _ in }
    let history = try t.fit(loader, evaluating: evaluation)
    return ["parameters": flat(m), "epochs": history.epochs.count,
            "validation_loss": history.epochs.last?["validation_loss"] ?? -1,
            "train_loss": history.epochs.last?["train_loss"] ?? -1]
}

let group: MPIProcessGroup
do {
    group = try MPIProcessGroup.world()
} catch {
    FileHandle.standardError.write("distributed-checks: \(error)\n".data(using: .utf8)!)
    exit(1)
}
if let timeout = option("--timeout").flatMap(Double.init) { group.timeout = timeout }
do {
    var report: [String: Any] = ["rank": group.rank, "world_size": group.worldSize]
    switch scenario {
    case "collectives":
        report.merge(try collectives(group)) { $1 }
    case "equivalence":
        report.merge(try equivalence(group, accumulate: options.contains("--accumulate"))) { $1 }
    case "nccl":
        // The NCCL process group over the stand-in library: its calls, then the collectives
        // and data-parallel training through it.
        let nccl = try FakeNCCL.group(group)
        let setup = FakeNCCL.log
        report["setup_calls"] = setup
        report.merge(try collectives(nccl)) { $1 }
        report["equivalence"] = try equivalence(nccl, accumulate: false)
        report["calls"] = Array(FakeNCCL.log.dropFirst(setup.count).prefix(400))
        report["call_count"] = FakeNCCL.log.count
    case "buffers":
        // BatchNorm's running statistics follow each rank's own batches until prepareForward
        // sends rank 0's.
        let g = RandomGenerator(seed: 4)
        let m = Sequential(Linear(inputSize: 10, outputSize: 8, generator: g), BatchNorm1d(featureCount: 8), ReLU(),
                           Linear(inputSize: 8, outputSize: 4, generator: g))
        let ddp = try DistributedDataParallel(m, group: group)
        let (x, y) = data(count: 64)
        let mine = x.indexSelect(axis: 0, indices: Tensor((0..<32).map { Int64($0 + 32 * group.rank) }, shape: [32]))
        func runningMeans() throws -> [[Double]] {
            try group.allGather(m.namedBuffers().first { $0.0.hasSuffix("runningMean") || $0.0.hasSuffix("running_mean") }!.1.value).map { $0.scalars(as: Double.self) }
        }
        crossEntropy(logits: ddp(mine), targets: y[0..<32]).backward()
        let diverged = try runningMeans()
        try ddp.prepareForward()
        let synchronised = try runningMeans()
        report["diverged"] = diverged[0] != diverged[1]
        report["synchronised"] = synchronised[0] == synchronised[1]
    case "unused":
        report.merge(try unused(group)) { $1 }
    case "trainer":
        report.merge(try trainer(group)) { $1 }
    case "fail":
        // Rank 1 dies (SIGKILL, no chance to clean up) in the middle of training; the others
        // are waiting in a collective when it does.
        let m = model(seed: 1)
        let ddp = try DistributedDataParallel(m, group: group)
        let (x, y) = data(count: 64)
        for step in 0..<1000 {
            if group.rank == 1 && step == 3 { kill(getpid(), SIGKILL) }
            crossEntropy(logits: ddp(x), targets: y).backward()
            try ddp.finishGradientSynchronization()
            m.parameters().forEach { $0.grad = nil }
        }
    case "stall":
        // Rank 1 stops calling collectives (alive, but elsewhere): rank 0's times out.
        if group.rank == 1 { sleep(UInt32(option("--sleep") ?? "60")!) } else { _ = try group.sum([1]) }
    case "mismatch":
        _ = try DistributedDataParallel(model(seed: 1, hidden: group.rank == 1 ? 16 : 32), group: group)
    default:
        FileHandle.standardError.write("distributed-checks: unknown scenario \(scenario)\n".data(using: .utf8)!)
        exit(2)
    }
    write(report, rank: group.rank)
    group.finalize()
} catch {
    // An error on one rank ends the job: the launcher stops the others and names this rank.
    FileHandle.standardError.write("distributed-checks: rank \(group.rank): \(error)\n".data(using: .utf8)!)
    MPIProcessGroup.abort(code: 3)
}

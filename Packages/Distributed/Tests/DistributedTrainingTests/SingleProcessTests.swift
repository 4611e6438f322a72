import NN
import Optim
import TensorCore
import TensorCoreTesting
import Testing
import Training
@testable import DistributedTraining

@Suite("One process: the single group, the sampler, DistributedDataParallel in a world of one")
struct SingleProcessTests {
    @Test func singleGroupCollectivesReturnTheirInput() throws {
        let group = SingleProcessGroup()
        let x = Tensor([1.5, -2, 3], shape: [3])
        for op in ReduceOperation.allCases { expectClose(try group.allReduce(x, op), x) }
        let half = x.cast(to: .float16)
        #expect(try group.allReduce(half, .average).dtype == .float16)
        expectClose(try group.broadcast(x, from: 0), x)
        let gathered = try group.allGather(x)
        #expect(gathered.count == 1)
        expectClose(gathered[0], x)
        expectClose(try group.reduceScatter(x.reshaped(to: [3, 1]), .sum), x.reshaped(to: [3, 1]))
        #expect(try group.sum([1, 2]) == [1, 2])
        #expect(throws: DistributedError.self) { try group.broadcast(x, from: 1) }
        try group.barrier()
    }

    /// Every index once per epoch across the ranks when the world divides the dataset; with
    /// padding every rank gets ceil(n / world) indices, the extra ones repeating the order's
    /// start (PyTorch's rule); drop-last leaves the tail out; evaluation shards partition.
    @Test func samplerShardsCoverTheDataset() {
        for world in [1, 2, 3, 4] {
            for n in [12, 13, 1, 0] {
                for epoch in 0..<3 {
                    let shards = (0..<world).map { DistributedSampler(rank: $0, worldSize: world, seed: 7).indices(count: n, epoch: epoch) }
                    let expected = n == 0 ? 0 : (n + world - 1) / world
                    #expect(shards.allSatisfy { $0.count == expected }, "world \(world) n \(n)")
                    let all = shards.flatMap { $0 }
                    #expect(Set(all) == Set(0..<n))
                    if n % world == 0 { #expect(all.sorted() == Array(0..<n)) }
                    let dropped = (0..<world).map {
                        DistributedSampler(rank: $0, worldSize: world, seed: 7, dropLast: true).indices(count: n, epoch: epoch)
                    }
                    #expect(dropped.allSatisfy { $0.count == n / world })
                    #expect(Set(dropped.flatMap { $0 }).count == n / world * world)
                    let evaluation = (0..<world).map {
                        DistributedSampler(rank: $0, worldSize: world, shuffle: false, equalShards: false).indices(count: n, epoch: epoch)
                    }
                    #expect(evaluation.flatMap { $0 }.sorted() == Array(0..<n))
                }
            }
        }
        // Unshuffled: positions rank, rank + world, ... of 0..<n, padded from the start.
        #expect(DistributedSampler(rank: 1, worldSize: 4, shuffle: false).indices(count: 10, epoch: 0) == [1, 5, 9])
        #expect(DistributedSampler(rank: 3, worldSize: 4, shuffle: false).indices(count: 10, epoch: 0) == [3, 7, 1])
        // A new permutation per epoch, the same on every rank for one epoch.
        let a = DistributedSampler(rank: 0, worldSize: 1, seed: 7)
        #expect(a.indices(count: 50, epoch: 0) != a.indices(count: 50, epoch: 1))
        #expect(a.indices(count: 50, epoch: 2) == DistributedSampler(rank: 0, worldSize: 1, seed: 7).indices(count: 50, epoch: 2))
    }

    /// In a world of one, DistributedDataParallel changes nothing: no buckets, no hooks, the
    /// same gradients as plain backward.
    @Test func worldOfOneLeavesGradientsAlone() throws {
        let model = MLP(MLPConfiguration(inputSize: 4, hiddenSizes: [8], outputSize: 3), generator: RandomGenerator(seed: 1))
        let ddp = try DistributedDataParallel(model, group: SingleProcessGroup())
        #expect(ddp.bucketCount == 0)
        let x = Tensor.randn([5, 4], generator: RandomGenerator(seed: 2))
        let y = Tensor([0, 1, 2, 0, 1].map(Int64.init), shape: [5])
        try ddp.prepareForward()
        crossEntropy(logits: ddp(x), targets: y).backward()
        try ddp.finishGradientSynchronization()
        let grads = model.parameters().map { $0.grad! }
        model.parameters().forEach { $0.grad = nil }
        crossEntropy(logits: model(x), targets: y).backward()
        for (g, p) in zip(grads, model.parameters()) { expectClose(g, p.grad!) }
        #expect(try ddp.sumAcrossRanks([2.5]) == [2.5])
    }
}

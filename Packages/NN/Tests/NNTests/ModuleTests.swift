import Testing
import TensorCore
import TensorCoreTesting
@testable import NN

final class TwoLayer: Module {
    let encoder = Sequential(Linear(inputSize: 4, outputSize: 8), ReLU(), Linear(inputSize: 8, outputSize: 2))
    let norm = LayerNorm(2)
    let heads: [Linear] = [Linear(inputSize: 2, outputSize: 1), Linear(inputSize: 2, outputSize: 1, bias: false)]
    override func forward(_ x: Tensor) -> Tensor { heads[0](norm(encoder(x))) }
}

@Suite("Module: naming, state dicts, modes")
struct ModuleTests {
    @Test func parametersAreNamedByPathLikePyTorch() {
        let names = TwoLayer().namedParameters().map(\.0)
        #expect(names == ["encoder.0.weight", "encoder.0.bias", "encoder.2.weight", "encoder.2.bias",
                          "norm.weight", "norm.bias", "heads.0.weight", "heads.0.bias", "heads.1.weight"])
        #expect(TwoLayer().parameterCount == 4 * 8 + 8 + 8 * 2 + 2 + 2 + 2 + 2 + 1 + 2)
    }

    @Test func stateDictRoundTripsAndLoadReportsEveryProblem() throws {
        let a = TwoLayer(), b = TwoLayer()
        try b.loadStateDict(a.stateDict())
        let x = Tensor.randn([3, 4])
        expectClose(b(x), a(x))
        var bad = a.stateDict()
        bad["encoder.0.weight"] = Tensor.zeros([2, 2])
        bad["extra"] = Tensor.zeros([1])
        bad.removeValue(forKey: "norm.bias")
        #expect(throws: StateDictError.mismatch(missing: ["norm.bias"], unexpected: ["extra"],
                                                shapeMismatches: ["encoder.0.weight: expected [8, 4], got [2, 2]"])) {
            try b.loadStateDict(bad)
        }
        // Nothing was loaded by the failed call.
        expectClose(b(x), a(x))
        var partial = a.stateDict()
        partial.removeValue(forKey: "norm.bias")
        try b.loadStateDict(partial, strict: false)
    }

    @Test func trainEvalAndFreezeReachEveryModule() {
        let m = TwoLayer()
        m.eval()
        #expect(m.namedModules().allSatisfy { !$0.1.isTraining })
        m.train()
        #expect(m.encoder.layers[1].isTraining)
        m.encoder.freeze()
        #expect(m.parameterCount == 2 + 2 + 2 + 1 + 2)
        let loss = m(Tensor.randn([2, 4])).sum()
        loss.backward()
        #expect((m.encoder.layers[0] as! Linear).weight.grad == nil)
        #expect(m.norm.weight!.grad != nil)
    }

    @Test func summaryListsLayersWithShapesAndCounts() {
        let text = TwoLayer().summary(input: Tensor.zeros([5, 4]))
        #expect(text.contains("encoder.0  Linear"))
        #expect(text.contains("[5, 8]"))
        #expect(text.contains("total parameters: 67"))
    }

    @Test func sharedParametersAppearOnce() {
        let layer = Linear(inputSize: 2, outputSize: 2)
        let tied = Sequential(layer, ReLU(), layer)
        #expect(tied.parameters().count == 2)
    }
}

@Suite("Data loading")
struct DataTests {
    let dataset = TensorDataset(inputs: Tensor.arange(0, 20).reshaped(to: [10, 2]), targets: Tensor.arange(10, dtype: .int64))

    @Test func batchesCoverTheDatasetWithDropLast() {
        let loader = DataLoader(dataset, batchSize: 4)
        let batches = Array(loader.batches())
        #expect(batches.map { $0.input.shape[0] } == [4, 4, 2])
        #expect(batches[2].target.scalars(as: Int64.self) == [8, 9])
        let dropping = DataLoader(dataset, batchSize: 4, dropLast: true)
        #expect(dropping.batchCount == 2)
        #expect(Array(dropping.batches()).count == 2)
    }

    @Test func shuffleIsSeededPerEpochAndAPermutation() {
        let loader = DataLoader(dataset, batchSize: 3, sampler: RandomSampler(seed: 42))
        let e0 = loader.batches(epoch: 0).flatMap { $0.target.scalars(as: Int64.self) }
        let again = loader.batches(epoch: 0).flatMap { $0.target.scalars(as: Int64.self) }
        let e1 = loader.batches(epoch: 1).flatMap { $0.target.scalars(as: Int64.self) }
        #expect(e0 == again)
        #expect(e0 != e1)
        #expect(e0.sorted() == Array(0..<10))
    }

    @Test func stackingCollationMatchesGatheredBatches() {
        let stacked = DataLoader(stacking: dataset, batchSize: 4, sampler: RandomSampler(seed: 1))
        let gathered = DataLoader(dataset, batchSize: 4, sampler: RandomSampler(seed: 1), prefetch: false)
        for (a, b) in zip(stacked.batches(), gathered.batches()) {
            #expect(a.input.allEqual(b.input))
            #expect(a.target.allEqual(b.target))
        }
    }

    @Test func splitsAndWeightedSampling() {
        let parts = randomSplit(dataset, lengths: [7, 3], seed: 9)
        #expect(parts.map(\.count) == [7, 3])
        #expect(Set(parts[0].indices).isDisjoint(with: parts[1].indices))
        let sampler = WeightedRandomSampler(weights: [0, 0, 1, 0, 0, 0, 0, 0, 0, 3], sampleCount: 4000, seed: 2)
        let drawn = sampler.indices(count: 10, epoch: 0)
        #expect(Set(drawn) == [2, 9])
        let nines = Double(drawn.filter { $0 == 9 }.count) / 4000
        #expect(Swift.abs(nines - 0.75) < 0.03)
    }
}

import Dispatch
import TensorCore

/// An indexable collection of examples, as `torch.utils.data.Dataset`.
public protocol Dataset {
    /// What one example is (`LabeledExample` for supervised data).
    associatedtype Example
    /// Examples in the dataset.
    var count: Int { get }
    /// The example at `index` (0 ..< count).
    subscript(index: Int) -> Example { get }
}

/// An example of inputs and targets.
public struct LabeledExample {
    /// The model's input.
    public var input: Tensor
    /// What the model should produce (class indices, values).
    public var target: Tensor
    /// An example of `input` and `target`.
    public init(input: Tensor, target: Tensor) { self.input = input; self.target = target }
}

/// Examples are slices along axis 0 of an input tensor and a target tensor.
public struct TensorDataset: Dataset {
    /// Every example's input, stacked along axis 0.
    public let inputs: Tensor
    /// Every example's target, stacked along axis 0.
    public let targets: Tensor

    /// A dataset of `inputs[i]`, `targets[i]`; both must have the same length along axis 0.
    public init(inputs: Tensor, targets: Tensor) {
        tensorCheck(inputs.rank >= 1 && targets.rank >= 1 && inputs.shape[0] == targets.shape[0],
                    "[TensorDataset] inputs \(shapeText(inputs.shape)) and targets \(shapeText(targets.shape)) differ in length")
        self.inputs = inputs
        self.targets = targets
    }

    /// Examples in the dataset.
    public var count: Int { inputs.shape[0] }

    /// The example at `index`.
    public subscript(index: Int) -> LabeledExample {
        LabeledExample(input: inputs[index], target: targets[index])
    }

    /// A whole batch by one gather per tensor (what the loader uses instead of stacking).
    public func batch(_ indices: [Int]) -> LabeledExample {
        let index = Tensor(indices.map(Int64.init))
        return LabeledExample(input: inputs.indexSelect(axis: 0, indices: index),
                              target: targets.indexSelect(axis: 0, indices: index))
    }
}

/// The examples of `base` at `indices`.
public struct Subset<Base: Dataset>: Dataset {
    /// The dataset the examples come from.
    public let base: Base
    /// The indices into `base`, in order.
    public let indices: [Int]

    /// The examples of `base` at `indices` (each must be in range).
    public init(_ base: Base, indices: [Int]) {
        for i in indices { tensorCheck(i >= 0 && i < base.count, "[Subset] index \(i) outside 0..<\(base.count)") }
        self.base = base
        self.indices = indices
    }

    /// Examples in the subset.
    public var count: Int { indices.count }
    /// The example at position `index` of the subset.
    public subscript(index: Int) -> Base.Example { base[indices[index]] }
}

/// Splits a dataset into disjoint random subsets of the given lengths (seeded).
public func randomSplit<D: Dataset>(_ dataset: D, lengths: [Int], seed: UInt64) -> [Subset<D>] {
    tensorCheck(lengths.reduce(0, +) == dataset.count && lengths.allSatisfy { $0 >= 0 },
                "[randomSplit] lengths \(lengths) do not add up to the dataset's \(dataset.count) examples")
    let order = permutation(dataset.count, seed: seed)
    var start = 0
    return lengths.map { length in
        defer { start += length }
        return Subset(dataset, indices: Array(order[start..<(start + length)]))
    }
}

/// A seeded random permutation of 0..<n (Fisher–Yates on Philox numbers).
public func permutation(_ n: Int, seed: UInt64) -> [Int] {
    guard n > 1 else { return Array(0..<n) }
    let draws = Tensor.rand([n], dtype: .float64, generator: RandomGenerator(seed: seed)).scalars(as: Double.self)
    var order = Array(0..<n)
    for i in stride(from: n - 1, to: 0, by: -1) {
        let j = Swift.min(i, Int(draws[i] * Double(i + 1)))
        order.swapAt(i, j)
    }
    return order
}

/// Which indices an epoch visits, in which order.
public protocol Sampler {
    /// The indices for epoch `epoch` (epochs reshuffle deterministically).
    func indices(count: Int, epoch: Int) -> [Int]
}

/// Indices in order, every epoch.
public struct SequentialSampler: Sampler {
    /// A sequential sampler.
    public init() {}
    /// `0..<count`.
    public func indices(count: Int, epoch: Int) -> [Int] { Array(0..<count) }
}

/// A new permutation every epoch, from `seed` and the epoch number.
public struct RandomSampler: Sampler {
    /// The seed the permutations derive from.
    public let seed: UInt64
    /// A sampler whose permutations follow from `seed`.
    public init(seed: UInt64) { self.seed = seed }
    /// A permutation of `0..<count` for `epoch`.
    public func indices(count: Int, epoch: Int) -> [Int] {
        permutation(count, seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(epoch))
    }
}

/// Draws `sampleCount` indices with probability proportional to `weights` (with replacement).
public struct WeightedRandomSampler: Sampler {
    /// Relative probability of each index.
    public let weights: [Double]
    /// Indices drawn per epoch.
    public let sampleCount: Int
    /// The seed the draws derive from.
    public let seed: UInt64

    /// Draws `sampleCount` indices by `weights` (non-negative, not all zero).
    public init(weights: [Double], sampleCount: Int, seed: UInt64) {
        tensorCheck(!weights.isEmpty && weights.allSatisfy { $0 >= 0 } && weights.contains { $0 > 0 },
                    "[WeightedRandomSampler] weights must be non-negative with a positive one")
        self.weights = weights
        self.sampleCount = sampleCount
        self.seed = seed
    }

    /// `sampleCount` indices drawn for `epoch`.
    public func indices(count: Int, epoch: Int) -> [Int] {
        tensorCheck(count == weights.count, "[WeightedRandomSampler] \(weights.count) weights for \(count) examples")
        var cumulative: [Double] = []
        var total = 0.0
        for w in weights { total += w; cumulative.append(total) }
        let draws = Tensor.rand([sampleCount], dtype: .float64,
                                generator: RandomGenerator(seed: seed &+ UInt64(epoch))).scalars(as: Double.self)
        return draws.map { u in
            let target = u * total
            var lo = 0, hi = cumulative.count - 1
            while lo < hi { let mid = (lo + hi) / 2; if cumulative[mid] > target { hi = mid } else { lo = mid + 1 } }
            return lo
        }
    }
}

/// Batches of a dataset: sampling order, batch size, drop-last, collation, and background
/// preparation of the next batch while the current one is used.
///
/// ```swift
/// let loader = DataLoader(dataset, batchSize: 128, sampler: RandomSampler(seed: 0))
/// for batch in loader.batches(epoch: e) { ... batch.input, batch.target ... }
/// ```
public struct DataLoader<D: Dataset> {
    /// The examples batched.
    public let dataset: D
    /// Examples per batch (the last may be smaller unless `dropLast`).
    public let batchSize: Int
    /// Whether a last, smaller batch is left out.
    public let dropLast: Bool
    /// The order of examples each epoch.
    public let sampler: any Sampler
    /// Whether the next batch is collated on a background queue.
    public let prefetch: Bool
    let collate: ([Int]) -> D.Example

    /// A loader of `dataset` in batches of `batchSize`, ordered by `sampler`.
    public init(_ dataset: D, batchSize: Int, sampler: any Sampler = SequentialSampler(), dropLast: Bool = false,
                prefetch: Bool = true, collate: @escaping (D, [Int]) -> D.Example) {
        tensorCheck(batchSize > 0, "[DataLoader] batch size must be positive, got \(batchSize)")
        self.dataset = dataset
        self.batchSize = batchSize
        self.sampler = sampler
        self.dropLast = dropLast
        self.prefetch = prefetch
        self.collate = { [dataset] in collate(dataset, $0) }
    }

    /// Number of batches per epoch.
    public var batchCount: Int {
        let n = sampler.indices(count: dataset.count, epoch: 0).count
        // Not (n + batchSize - 1) / batchSize: that overflows for a batch size near Int.max.
        return dropLast ? n / batchSize : n / batchSize + (n % batchSize == 0 ? 0 : 1)
    }

    /// The batches of one epoch, in the sampler's order for that epoch.
    public func batches(epoch: Int = 0) -> BatchSequence<D> {
        let order = sampler.indices(count: dataset.count, epoch: epoch)
        var groups: [[Int]] = []
        var start = 0
        while start < order.count {
            let end = start + Swift.min(order.count - start, batchSize)   // no overflow near Int.max
            if end - start == batchSize || !dropLast { groups.append(Array(order[start..<end])) }
            start = end
        }
        return BatchSequence(groups: groups, collate: collate, prefetch: prefetch)
    }
}

extension DataLoader where D == TensorDataset {
    /// Batches gathered straight from the tensors.
    public init(_ dataset: TensorDataset, batchSize: Int, sampler: any Sampler = SequentialSampler(),
                dropLast: Bool = false, prefetch: Bool = true) {
        self.init(dataset, batchSize: batchSize, sampler: sampler, dropLast: dropLast, prefetch: prefetch) { d, indices in
            d.batch(indices)
        }
    }
}

extension DataLoader where D.Example == LabeledExample {
    /// Collation by stacking each example's input and target.
    public init(stacking dataset: D, batchSize: Int, sampler: any Sampler = SequentialSampler(),
                dropLast: Bool = false, prefetch: Bool = true) {
        self.init(dataset, batchSize: batchSize, sampler: sampler, dropLast: dropLast, prefetch: prefetch) { d, indices in
            let examples = indices.map { d[$0] }
            return LabeledExample(input: Tensor.stacked(examples.map(\.input)), target: Tensor.stacked(examples.map(\.target)))
        }
    }
}

/// One epoch's batches. With prefetch, batch k+1 is collated on a background queue while
/// batch k is in use.
public struct BatchSequence<D: Dataset>: Sequence {
    let groups: [[Int]]
    let collate: ([Int]) -> D.Example
    let prefetch: Bool

    /// Batches in the epoch.
    public var count: Int { groups.count }

    /// An iterator over the epoch's batches.
    public func makeIterator() -> Iterator { Iterator(groups: groups, collate: collate, prefetch: prefetch) }

    /// Yields collated batches in order, prefetching the next when asked to.
    public final class Iterator: IteratorProtocol {
        let groups: [[Int]]
        let collate: ([Int]) -> D.Example
        let prefetch: Bool
        var position = 0
        var pending: (DispatchGroup, Box)?
        final class Box { var value: D.Example? }

        init(groups: [[Int]], collate: @escaping ([Int]) -> D.Example, prefetch: Bool) {
            self.groups = groups
            self.collate = collate
            self.prefetch = prefetch
        }

        private func start(_ index: Int) {
            guard prefetch, index < groups.count else { pending = nil; return }
            let group = DispatchGroup(), box = Box()
            let indices = groups[index], collate = self.collate
            DispatchQueue.global().async(group: group) { box.value = withoutGradients { collate(indices) } }
            pending = (group, box)
        }

        public func next() -> D.Example? {
            guard position < groups.count else { return nil }
            defer { position += 1 }
            let value: D.Example
            if let (group, box) = pending {
                group.wait()
                value = box.value!
            } else {
                value = withoutGradients { collate(groups[position]) }
            }
            start(position + 1)
            return value
        }
    }
}

import NN
import TensorCore

/// Each rank's share of a dataset, as PyTorch's `DistributedSampler`: one order for every
/// rank (the same permutation from `seed` and the epoch when shuffling), cut into `worldSize`
/// interleaved shards (rank r takes positions r, r + worldSize, ...). Every rank gets as many
/// indices, so every rank takes as many steps: the order is padded with its own first indices
/// to a multiple of `worldSize`, or with `dropLast` its tail is left out.
///
/// ```swift
/// let sampler = DistributedSampler(rank: group.rank, worldSize: group.worldSize, seed: 0)
/// let loader = DataLoader(train, batchSize: 32, sampler: sampler)   // 32 per rank
/// ```
public struct DistributedSampler: Sampler {
    /// This rank.
    public let rank: Int
    /// The number of ranks.
    public let worldSize: Int
    /// Whether each epoch visits a new permutation.
    public let shuffle: Bool
    /// The seed the permutations derive from (the same on every rank).
    public let seed: UInt64
    /// Whether the tail that does not fill a whole round is left out (else padded).
    public let dropLast: Bool
    /// Whether shards are made equal (padding or dropping); false gives every index to exactly
    /// one rank, shards differing by at most one (evaluation, where ranks take no steps together).
    public let equalShards: Bool

    /// Rank `rank`'s shard in a world of `worldSize`.
    public init(rank: Int, worldSize: Int, shuffle: Bool = true, seed: UInt64 = 0, dropLast: Bool = false,
                equalShards: Bool = true) {
        tensorCheck(worldSize > 0 && (0..<worldSize).contains(rank),
                    "[DistributedSampler] rank \(rank) is not in a world of \(worldSize)")
        self.rank = rank
        self.worldSize = worldSize
        self.shuffle = shuffle
        self.seed = seed
        self.dropLast = dropLast
        self.equalShards = equalShards
    }

    /// This rank's indices of `0..<count` for `epoch`.
    public func indices(count: Int, epoch: Int) -> [Int] {
        var order = shuffle ? RandomSampler(seed: seed).indices(count: count, epoch: epoch) : Array(0..<count)
        if equalShards {
            if dropLast {
                order.removeLast(count % worldSize)
            } else if count > 0 {
                let total = (count + worldSize - 1) / worldSize * worldSize
                var k = 0
                while order.count < total {
                    order.append(order[k % count])
                    k += 1
                }
            }
        }
        return Swift.stride(from: rank, to: order.count, by: worldSize).map { order[$0] }
    }
}

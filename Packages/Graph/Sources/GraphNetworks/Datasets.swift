import TensorCore

/// Graphs to learn on: Zachary's karate club, stochastic block models, and cycles against
/// trees for graph classification.
public enum GraphDatasets {
    /// Zachary's karate club (1977): 34 members, 78 friendships, split between the instructor
    /// (node 0, "Mr. Hi": label 0) and the administrator (node 33, "Officer": label 1) — the
    /// graph and clubs as NetworkX's `karate_club_graph`. Features are the identity (one-hot
    /// node ids), as in Kipf & Welling's demo.
    public static func karateClub() -> Graph {
        let pairs: [(Int, Int)] = [
            (0, 1), (0, 2), (0, 3), (0, 4), (0, 5), (0, 6), (0, 7), (0, 8), (0, 10), (0, 11), (0, 12), (0, 13), (0, 17), (0, 19),
            (0, 21), (0, 31), (1, 2), (1, 3), (1, 7), (1, 13), (1, 17), (1, 19), (1, 21), (1, 30), (2, 3), (2, 7), (2, 8), (2, 9),
            (2, 13), (2, 27), (2, 28), (2, 32), (3, 7), (3, 12), (3, 13), (4, 6), (4, 10), (5, 6), (5, 10), (5, 16), (6, 16),
            (8, 30), (8, 32), (8, 33), (9, 33), (13, 33), (14, 32), (14, 33), (15, 32), (15, 33), (18, 32), (18, 33), (19, 33),
            (20, 32), (20, 33), (22, 32), (22, 33), (23, 25), (23, 27), (23, 29), (23, 32), (23, 33), (24, 25), (24, 27),
            (24, 31), (25, 31), (26, 29), (26, 33), (27, 33), (28, 31), (28, 33), (29, 32), (29, 33), (30, 32), (30, 33),
            (31, 32), (31, 33), (32, 33),
        ]
        let clubs: [Int64] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1, 0, 0, 1, 0, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
        return Graph.undirected(nodeCount: 34, pairs: pairs, features: Tensor.eye(34), labels: Tensor(clubs, shape: [34]))
    }

    /// A stochastic block model: `blocks` communities of `blockSize` nodes, each pair joined
    /// with probability `inside` within a community and `across` between; node features are
    /// the community's one-hot code scaled by `signal` plus standard normal noise in
    /// `featureSize` dimensions (so features alone classify poorly and the edges carry the
    /// rest); labels are the communities.
    public static func stochasticBlockModel(blocks: Int = 4, blockSize: Int = 100, inside: Double = 0.15, across: Double = 0.01,
                                            featureSize: Int = 16, signal: Double = 0.5, seed: UInt64 = 0) -> Graph {
        tensorCheck(blocks >= 2 && blockSize >= 1 && featureSize >= blocks && (0...1).contains(inside) && (0...1).contains(across),
                    "[GraphDatasets.stochasticBlockModel] blocks \(blocks), size \(blockSize), features \(featureSize), probabilities \(inside), \(across)")
        var random = UniformStream(seed: seed)
        let n = blocks * blockSize
        var pairs: [(Int, Int)] = []
        for i in 0..<n {
            for j in (i + 1)..<Swift.max(i + 1, n) where random.nextDouble() < (i / blockSize == j / blockSize ? inside : across) {
                pairs.append((i, j))
            }
        }
        let labels = (0..<n).map { Int64($0 / blockSize) }
        let noise = Tensor.randn([n, featureSize], generator: RandomGenerator(seed: seed &+ 1))
        var code = [Float](repeating: 0, count: n * featureSize)
        for i in 0..<n { code[i * featureSize + Int(labels[i])] = Float(signal) }
        return Graph.undirected(nodeCount: n, pairs: pairs, features: noise + Tensor(code, shape: [n, featureSize]),
                                labels: Tensor(labels, shape: [n]))
    }

    /// `count` graphs, half cycles and half random trees (label 0 and 1), of 6…`maxNodes`
    /// nodes, with constant node features: only the structure tells them apart.
    public static func cyclesAndTrees(count: Int, maxNodes: Int = 16, seed: UInt64 = 0) -> [Graph] {
        tensorCheck(count > 0 && maxNodes >= 6, "[GraphDatasets.cyclesAndTrees] count \(count) and maxNodes \(maxNodes) (≥ 6)")
        var random = UniformStream(seed: seed)
        return (0..<count).map { k in
            let n = 6 + random.below(maxNodes - 5)
            let pairs: [(Int, Int)] = k % 2 == 0
                ? (0..<n).map { ($0, ($0 + 1) % n) }
                : (1..<n).map { ($0, random.below($0)) }  // each node joins an earlier one: a tree
            return Graph.undirected(nodeCount: n, pairs: pairs, features: Tensor.ones([n, 1]), labels: Tensor([Int64(k % 2)], shape: [1]))
        }
    }
}

/// Uniform draws on [0, 1) from a TensorCore generator, taken 4,096 at a time.
struct UniformStream {
    let generator: RandomGenerator
    var buffer: [Double] = []
    var position = 0

    init(seed: UInt64) { generator = RandomGenerator(seed: seed) }

    mutating func nextDouble() -> Double {
        if position == buffer.count {
            buffer = Tensor.rand([4096], dtype: .float64, generator: generator).scalars(as: Double.self)
            position = 0
        }
        defer { position += 1 }
        return buffer[position]
    }

    /// An integer uniform on 0..<n.
    mutating func below(_ n: Int) -> Int { Swift.min(n - 1, Int(nextDouble() * Double(n))) }
}

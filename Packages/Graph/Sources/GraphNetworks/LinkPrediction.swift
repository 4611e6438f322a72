import NN
import Optim
import TensorCore

/// Edge-level learning: predicting held-out edges from node embeddings (Kipf & Welling's graph
/// auto-encoder scoring, `σ(z_u · z_v)`), trained against sampled non-edges.
public enum LinkPrediction {
    /// A split of an undirected graph's edges: the graph without the held-out ones, the
    /// held-out pairs, and as many node pairs that are not edges.
    public struct Split {
        /// The graph the encoder sees (held-out edges removed in both directions).
        public var training: Graph
        /// Held-out edges, each pair once.
        public var positives: [(Int, Int)]
        /// Node pairs that are not edges, as many as `positives`.
        public var negatives: [(Int, Int)]
    }

    /// Holds out `fraction` of `graph`'s undirected edges (each stored in both directions),
    /// chosen with `seed`.
    public static func split(_ graph: Graph, fraction: Double = 0.1, seed: UInt64 = 0) -> Split {
        tensorCheck(fraction > 0 && fraction < 1, "[LinkPrediction.split] fraction \(fraction) must be in (0, 1)")
        let s = graph.sources.scalars(as: Int64.self).map(Int.init), t = graph.targets.scalars(as: Int64.self).map(Int.init)
        var random = UniformStream(seed: seed)
        let pairs = Array(Set(zip(s, t).filter { $0 < $1 }.map { Pair($0.0, $0.1) })).sorted { ($0.a, $0.b) < ($1.a, $1.b) }
        var shuffled = pairs
        for i in stride(from: shuffled.count - 1, to: 0, by: -1) { shuffled.swapAt(i, random.below(i + 1)) }
        let held = Swift.max(1, Int(Double(pairs.count) * fraction))
        let positives = Array(shuffled.prefix(held)), kept = Array(shuffled.dropFirst(held))
        let edges = Set(pairs)
        var negatives: [Pair] = []
        while negatives.count < held {
            let u = random.below(graph.nodeCount), v = random.below(graph.nodeCount)
            let p = Pair(Swift.min(u, v), Swift.max(u, v))
            if u != v && !edges.contains(p) { negatives.append(p) }
        }
        let training = Graph.undirected(nodeCount: graph.nodeCount, pairs: kept.map { ($0.a, $0.b) }, features: graph.features,
                                        labels: graph.labels)
        return Split(training: training, positives: positives.map { ($0.a, $0.b) }, negatives: negatives.map { ($0.a, $0.b) })
    }

    struct Pair: Hashable {
        let a: Int, b: Int
        init(_ a: Int, _ b: Int) { self.a = a; self.b = b }
    }

    /// Scores `z_u · z_v` of pairs, `[pairs]`.
    public static func scores(_ embeddings: Tensor, _ pairs: [(Int, Int)]) -> Tensor {
        let u = Tensor(pairs.map { Int64($0.0) }, shape: [pairs.count]), v = Tensor(pairs.map { Int64($0.1) }, shape: [pairs.count])
        return (embeddings.indexSelect(axis: 0, indices: u) * embeddings.indexSelect(axis: 0, indices: v)).sum(axis: 1)
    }

    /// Trains `encoder` (its logits as embeddings) on the training graph's edges against as many
    /// random non-edges each epoch (binary cross-entropy on the scores); returns the losses.
    @discardableResult
    public static func fit(_ encoder: NodeClassifier, on split: Split, epochs: Int = 200, learningRate: Double = 0.01,
                           seed: UInt64 = 0) -> [Double] {
        let graph = split.training
        let s = graph.sources.scalars(as: Int64.self).map(Int.init), t = graph.targets.scalars(as: Int64.self).map(Int.init)
        let positives = zip(s, t).filter { $0 < $1 }
        tensorCheck(!positives.isEmpty && epochs > 0, "[LinkPrediction.fit] needs training edges and epochs")
        let optimizer = Adam(parameters: encoder.parameters(), learningRate: learningRate)
        var random = UniformStream(seed: seed &+ 17)
        encoder.train()
        defer { encoder.eval() }
        return (0..<epochs).map { _ in
            let negatives = positives.map { _ in (random.below(graph.nodeCount), random.below(graph.nodeCount)) }
            let z = encoder(graph).logits
            let logits = Tensor.concatenated([scores(z, positives), scores(z, negatives)], axis: 0)
            let labels = Tensor((0..<(2 * positives.count)).map { Float($0 < positives.count ? 1 : 0) }, shape: [2 * positives.count])
            let loss = binaryCrossEntropyWithLogits(logits: logits, targets: labels)
            optimizer.zeroGradients()
            loss.backward()
            optimizer.step()
            return loss.item(as: Double.self)
        }
    }

    /// The area under the ROC curve of the held-out edges' scores against the non-edges'
    /// (the probability a random edge outscores a random non-edge; ties count half).
    public static func auc(_ encoder: NodeClassifier, on split: Split) -> Double {
        encoder.eval()
        let z = withoutGradients { encoder(split.training).logits }
        let p = scores(z, split.positives).scalars(as: Float.self), n = scores(z, split.negatives).scalars(as: Float.self)
        var wins = 0.0
        for a in p { for b in n { wins += a > b ? 1 : a == b ? 0.5 : 0 } }
        return wins / Double(p.count * n.count)
    }
}

import TensorCore

/// A graph (or a batch of disjoint graphs) as PyTorch Geometric's `Data`: `nodeCount` nodes
/// with features `[nodeCount, F]`, directed edges `edges` int64 `[2, E]` (row 0 the sources,
/// row 1 the targets; an undirected graph stores both directions), optional labels per node
/// or per graph, and for a batch the graph each node belongs to.
public struct Graph {
    /// Nodes.
    public let nodeCount: Int
    /// Edges `[2, E]`: sources, then targets.
    public let edges: Tensor
    /// Node features `[nodeCount, F]`.
    public var features: Tensor
    /// Labels (int64): per node `[nodeCount]`, or per graph `[graphCount]`.
    public var labels: Tensor?
    /// The graph of each node (int64 `[nodeCount]`, all 0 for a single graph).
    public let graphIndex: Tensor
    /// Graphs in the batch.
    public let graphCount: Int
    /// The edges with one self-loop per node (what GCN and GAT propagate over), made once.
    private let looped: (sources: Tensor, targets: Tensor)

    /// A single graph.
    public init(nodeCount: Int, edges: Tensor, features: Tensor, labels: Tensor? = nil) {
        self.init(nodeCount: nodeCount, edges: edges, features: features, labels: labels,
                  graphIndex: Tensor.zeros([nodeCount], dtype: .int64), graphCount: 1)
    }

    init(nodeCount: Int, edges: Tensor, features: Tensor, labels: Tensor?, graphIndex: Tensor, graphCount: Int) {
        tensorCheck(edges.rank == 2 && edges.shape[0] == 2 && (edges.dtype == .int64 || edges.shape[1] == 0),
                    "[Graph] edges \(shapeText(edges.shape)) (\(edges.dtype)) should be int64 [2, E]")
        tensorCheck(features.rank == 2 && features.shape[0] == nodeCount,
                    "[Graph] features \(shapeText(features.shape)) should be [\(nodeCount), F]")
        let e = edges.cast(to: .int64).scalars(as: Int64.self)
        tensorCheck(e.allSatisfy { $0 >= 0 && $0 < Int64(nodeCount) }, "[Graph] edge endpoints must be in 0..<\(nodeCount)")
        let count = e.count / 2, s = Array(e[..<count]), t = Array(e[count...])
        let kept = s.indices.filter { s[$0] != t[$0] }, loops = (0..<nodeCount).map(Int64.init)
        looped = (Tensor(kept.map { s[$0] } + loops, shape: [kept.count + nodeCount]),
                  Tensor(kept.map { t[$0] } + loops, shape: [kept.count + nodeCount]))
        self.nodeCount = nodeCount
        self.edges = edges.cast(to: .int64)
        self.features = features
        self.labels = labels
        self.graphIndex = graphIndex
        self.graphCount = graphCount
    }

    /// An undirected graph from its edge list (each pair once; both directions are stored).
    public static func undirected(nodeCount: Int, pairs: [(Int, Int)], features: Tensor, labels: Tensor? = nil) -> Graph {
        let sources = pairs.flatMap { [Int64($0.0), Int64($0.1)] }, targets = pairs.flatMap { [Int64($0.1), Int64($0.0)] }
        return Graph(nodeCount: nodeCount, edges: Tensor(sources + targets, shape: [2, sources.count]), features: features, labels: labels)
    }

    /// Edge sources `[E]`.
    public var sources: Tensor { edges.narrowed(axis: 0, start: 0, length: 1).reshaped(to: [-1]) }
    /// Edge targets `[E]`.
    public var targets: Tensor { edges.narrowed(axis: 0, start: 1, length: 1).reshaped(to: [-1]) }
    /// Edges.
    public var edgeCount: Int { edges.shape[1] }

    /// The edges with a self-loop on every node added (existing self-loops dropped first, as
    /// PyTorch Geometric's `add_remaining_self_loops` keeps one per node).
    public func edgesWithSelfLoops() -> (sources: Tensor, targets: Tensor) { looped }

    /// Disjoint graphs as one (PyTorch Geometric's `Batch.from_data_list`): node indices
    /// offset, features concatenated, per-graph labels stacked.
    public static func batch(_ graphs: [Graph]) -> Graph {
        tensorCheck(!graphs.isEmpty, "[Graph.batch] needs at least one graph")
        var offset: Int64 = 0, edges: [Tensor] = [], index: [Int64] = []
        for (g, graph) in graphs.enumerated() {
            edges.append(graph.edges + Tensor.full(graph.edges.shape, value: Double(offset), dtype: .int64))
            index += Array(repeating: Int64(g), count: graph.nodeCount)
            offset += Int64(graph.nodeCount)
        }
        let labels = graphs.allSatisfy { $0.labels != nil } ? Tensor.concatenated(graphs.map { $0.labels!.reshaped(to: [-1]) }, axis: 0) : nil
        return Graph(nodeCount: Int(offset), edges: Tensor.concatenated(edges, axis: 1),
                     features: Tensor.concatenated(graphs.map(\.features), axis: 0), labels: labels,
                     graphIndex: Tensor(index, shape: [index.count]), graphCount: graphs.count)
    }
}

/// Readouts of a batch of graphs: one row per graph from its nodes' rows.
public enum GlobalPooling: String, Codable, Sendable, CaseIterable {
    /// The sum of the nodes.
    case sum
    /// Their mean.
    case mean
    /// Their per-feature maximum.
    case max

    /// `[graphCount, F]` from node rows `h [nodeCount, F]`.
    public func callAsFunction(_ h: Tensor, in graph: Graph) -> Tensor {
        switch self {
        case .sum: return h.segmentSum(graph.graphIndex, count: graph.graphCount)
        case .mean: return h.segmentMean(graph.graphIndex, count: graph.graphCount)
        case .max: return h.segmentMax(graph.graphIndex, count: graph.graphCount)
        }
    }
}

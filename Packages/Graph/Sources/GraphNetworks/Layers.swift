import NN
import TensorCore

/// Messages `x[source]` of every edge summed, or otherwise reduced, at its target.
enum MessagePassing {
    static func aggregate(_ messages: Tensor, at targets: Tensor, nodeCount: Int, _ reduce: SAGEConv.Aggregator) -> Tensor {
        switch reduce {
        case .mean: return messages.segmentMean(targets, count: nodeCount)
        case .max: return messages.segmentMax(targets, count: nodeCount)
        case .sum: return messages.segmentSum(targets, count: nodeCount)
        }
    }
}

/// Kipf & Welling's graph convolution (PyTorch Geometric's `GCNConv`):
/// `X' = D̂^{-1/2} Â D̂^{-1/2} X Θ + b` with `Â = A + I` (self-loops added) and `D̂` its in-degrees.
public final class GCNConv: Module {
    /// `Θ` and `b` (`[out, in]`, `[out]`).
    public let linear: Linear

    /// A layer from `inputSize` to `outputSize` features.
    public init(inputSize: Int, outputSize: Int, generator: RandomGenerator? = nil) {
        linear = Linear(inputSize: inputSize, outputSize: outputSize, generator: generator)
        super.init()
    }

    /// `[nodeCount, outputSize]` from `x [nodeCount, inputSize]`.
    public func callAsFunction(_ x: Tensor, _ graph: Graph) -> Tensor {
        tensorCheck(x.rank == 2 && x.shape[0] == graph.nodeCount, "[GCNConv] x \(shapeText(x.shape)) should be [\(graph.nodeCount), F]")
        let (sources, targets) = graph.edgesWithSelfLoops()
        let degree = Tensor.ones([sources.shape[0]], dtype: x.dtype).segmentSum(targets, count: graph.nodeCount)
        let inverseRoot = degree.rsqrt()
        let norm = inverseRoot.indexSelect(axis: 0, indices: sources) * inverseRoot.indexSelect(axis: 0, indices: targets)
        let h = x.matmul(linear.weight.value.transposed())
        let messages = h.indexSelect(axis: 0, indices: sources) * norm.reshaped(to: [-1, 1])
        let out = messages.segmentSum(targets, count: graph.nodeCount)
        return linear.bias.map { out + $0.value } ?? out
    }

    /// Graph layers need the graph: call `layer(x, graph)`.
    public override func forward(_ x: Tensor) -> Tensor { fatalError("[GCNConv] call it with the graph: layer(x, graph)") }
}

/// GraphSAGE (Hamilton et al. 2017; PyTorch Geometric's `SAGEConv`):
/// `x'_i = W₁ agg_{j→i} x_j + W₂ x_i` (W₁ with a bias), the aggregator the mean or maximum of the
/// in-neighbours (0 for a node without any).
public final class SAGEConv: Module {
    /// How neighbours are combined.
    public enum Aggregator: String, Codable, Sendable, CaseIterable {
        /// Their mean.
        case mean
        /// Their per-feature maximum.
        case max
        /// Their sum.
        case sum
    }

    /// `W₁` (with bias) on the aggregate.
    public let neighbours: Linear
    /// `W₂` (no bias) on the node itself.
    public let root: Linear
    /// The aggregator.
    public let aggregator: Aggregator

    /// A layer from `inputSize` to `outputSize` features.
    public init(inputSize: Int, outputSize: Int, aggregator: Aggregator = .mean, generator: RandomGenerator? = nil) {
        neighbours = Linear(inputSize: inputSize, outputSize: outputSize, generator: generator)
        root = Linear(inputSize: inputSize, outputSize: outputSize, bias: false, generator: generator)
        self.aggregator = aggregator
        super.init()
    }

    /// `[nodeCount, outputSize]`.
    public func callAsFunction(_ x: Tensor, _ graph: Graph) -> Tensor {
        tensorCheck(x.rank == 2 && x.shape[0] == graph.nodeCount, "[SAGEConv] x \(shapeText(x.shape)) should be [\(graph.nodeCount), F]")
        let aggregated = MessagePassing.aggregate(x.indexSelect(axis: 0, indices: graph.sources), at: graph.targets,
                                                  nodeCount: graph.nodeCount, aggregator)
        return neighbours(aggregated) + root(x)
    }

    /// Graph layers need the graph: call `layer(x, graph)`.
    public override func forward(_ x: Tensor) -> Tensor { fatalError("[SAGEConv] call it with the graph: layer(x, graph)") }
}

/// Graph attention (Veličković et al. 2018; PyTorch Geometric's `GATConv`): per head,
/// `α_ij = softmax_{j→i}(LeakyReLU_{0.2}(aₛ·W x_j + a_d·W x_i))` over i's in-edges and a
/// self-loop, dropout on α while training, `x'_i = Σ_j α_ij W x_j`; heads concatenated (or
/// averaged), plus a bias.
public final class GATConv: Module {
    /// `W` for all heads `[heads · out, in]` (no bias).
    public let linear: Linear
    /// `aₛ` per head `[heads, out]`.
    public let sourceAttention: Parameter
    /// `a_d` per head `[heads, out]`.
    public let targetAttention: Parameter
    /// Added to the output.
    public let bias: Parameter
    /// Attention heads.
    public let heads: Int
    /// Features per head.
    public let outputSize: Int
    /// Concatenate the heads (else average them).
    public let concatenate: Bool
    /// Dropout probability on the attention coefficients while training.
    public let dropout: Double
    let dropoutLayer: Dropout

    /// A layer from `inputSize` features to `heads · outputSize` (concatenated) or `outputSize`.
    public init(inputSize: Int, outputSize: Int, heads: Int = 1, concatenate: Bool = true, dropout: Double = 0,
                generator: RandomGenerator? = nil) {
        tensorCheck(heads > 0 && outputSize > 0 && dropout >= 0 && dropout < 1,
                    "[GATConv] heads \(heads), output size \(outputSize) and dropout \(dropout) out of range")
        linear = Linear(inputSize: inputSize, outputSize: heads * outputSize, bias: false, generator: generator)
        let bound = (6.0 / Double(1 + outputSize)).squareRoot()
        sourceAttention = Parameter(Tensor.rand([heads, outputSize], low: -bound, high: bound, generator: generator))
        targetAttention = Parameter(Tensor.rand([heads, outputSize], low: -bound, high: bound, generator: generator))
        bias = Parameter(Tensor.zeros([concatenate ? heads * outputSize : outputSize]))
        self.heads = heads
        self.outputSize = outputSize
        self.concatenate = concatenate
        self.dropout = dropout
        dropoutLayer = Dropout(p: dropout, generator: generator)
        super.init()
    }

    /// `[nodeCount, heads · outputSize]` (or `[nodeCount, outputSize]` averaged).
    public func callAsFunction(_ x: Tensor, _ graph: Graph) -> Tensor {
        tensorCheck(x.rank == 2 && x.shape[0] == graph.nodeCount, "[GATConv] x \(shapeText(x.shape)) should be [\(graph.nodeCount), F]")
        let n = graph.nodeCount, (sources, targets) = graph.edgesWithSelfLoops()
        let h = linear(x).reshaped(to: [n, heads, outputSize])
        let scoreSource = (h * sourceAttention.value).sum(axis: 2), scoreTarget = (h * targetAttention.value).sum(axis: 2)
        let logits = (scoreSource.indexSelect(axis: 0, indices: sources) + scoreTarget.indexSelect(axis: 0, indices: targets))
            .leakyRelu(negativeSlope: 0.2)
        var alpha = logits.segmentSoftmax(targets, count: n)
        if dropout > 0 { alpha = dropoutLayer(alpha) }
        let messages = h.indexSelect(axis: 0, indices: sources) * alpha.unsqueezed(axis: 2)
        let out = messages.segmentSum(targets, count: n)
        return (concatenate ? out.reshaped(to: [n, heads * outputSize]) : out.mean(axis: 1)) + bias.value
    }

    /// Graph layers need the graph: call `layer(x, graph)`.
    public override func forward(_ x: Tensor) -> Tensor { fatalError("[GATConv] call it with the graph: layer(x, graph)") }
}

/// The graph isomorphism network layer (Xu et al. 2019; PyTorch Geometric's `GINConv`):
/// `x'_i = MLP((1 + ε) x_i + Σ_{j→i} x_j)`.
public final class GINConv: Module {
    /// The MLP applied after the sum.
    public let network: Module
    /// ε (fixed).
    public let epsilon: Double

    /// A layer around `network`.
    public init(_ network: Module, epsilon: Double = 0) {
        self.network = network
        self.epsilon = epsilon
        super.init()
    }

    /// `network((1 + ε) x + Σ neighbours)`.
    public func callAsFunction(_ x: Tensor, _ graph: Graph) -> Tensor {
        tensorCheck(x.rank == 2 && x.shape[0] == graph.nodeCount, "[GINConv] x \(shapeText(x.shape)) should be [\(graph.nodeCount), F]")
        let neighbours = x.indexSelect(axis: 0, indices: graph.sources).segmentSum(graph.targets, count: graph.nodeCount)
        return network(x * (1 + epsilon) + neighbours)
    }

    /// Graph layers need the graph: call `layer(x, graph)`.
    public override func forward(_ x: Tensor) -> Tensor { fatalError("[GINConv] call it with the graph: layer(x, graph)") }
}

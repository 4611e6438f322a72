import NN
import Optim
import TensorCore

/// The layer kinds `NodeClassifier` is built of.
public enum GraphLayerKind: String, Codable, Sendable, CaseIterable {
    /// `GCNConv`.
    case gcn
    /// `SAGEConv` (mean).
    case sage
    /// `GATConv`.
    case gat
}

/// Two graph layers for node classification, as the papers' citation-network models: GCN
/// (hidden 16, ReLU, dropout 0.5; Kipf & Welling), GraphSAGE (hidden 32, mean, ReLU, dropout
/// 0.5) or GAT (8 heads of 8, ELU, dropout 0.6 on attention, one output head; Veličković et
/// al.), each with dropout on the input features and between the layers. Returns class logits
/// per node.
public final class NodeClassifier: Module {
    /// The layer kind.
    public let kind: GraphLayerKind
    let first: Module
    let second: Module
    let dropout: Dropout

    /// A classifier of `inputSize` features into `classes`.
    public init(kind: GraphLayerKind, inputSize: Int, classes: Int, hidden: Int? = nil, generator: RandomGenerator? = nil) {
        self.kind = kind
        switch kind {
        case .gcn:
            let h = hidden ?? 16
            first = GCNConv(inputSize: inputSize, outputSize: h, generator: generator)
            second = GCNConv(inputSize: h, outputSize: classes, generator: generator)
            dropout = Dropout(p: 0.5, generator: generator)
        case .sage:
            let h = hidden ?? 32
            first = SAGEConv(inputSize: inputSize, outputSize: h, generator: generator)
            second = SAGEConv(inputSize: h, outputSize: classes, generator: generator)
            dropout = Dropout(p: 0.5, generator: generator)
        case .gat:
            let h = hidden ?? 8
            first = GATConv(inputSize: inputSize, outputSize: h, heads: 8, dropout: 0.6, generator: generator)
            second = GATConv(inputSize: 8 * h, outputSize: classes, heads: 1, concatenate: false, dropout: 0.6, generator: generator)
            dropout = Dropout(p: 0.6, generator: generator)
        }
        super.init()
    }

    func layer(_ m: Module, _ x: Tensor, _ graph: Graph) -> Tensor {
        switch m {
        case let l as GCNConv: return l(x, graph)
        case let l as SAGEConv: return l(x, graph)
        case let l as GATConv: return l(x, graph)
        default: fatalError("[NodeClassifier] unknown layer \(type(of: m))")
        }
    }

    /// The node embeddings after the first layer (for pictures) and the logits.
    public func callAsFunction(_ graph: Graph) -> (hidden: Tensor, logits: Tensor) {
        // Dropout on the input features too, as the papers' code and PyTorch Geometric's examples.
        let x = dropout(graph.features)
        let h1 = layer(first, x, graph)
        let h = kind == .gat ? h1.elu() : h1.relu()
        return (h, layer(second, dropout(h), graph))
    }

    /// Graph models need the graph: call `model(graph)`.
    public override func forward(_ x: Tensor) -> Tensor { fatalError("[NodeClassifier] call it with the graph: model(graph)") }
}

/// A GIN graph classifier: `layers` GIN layers (two-layer ReLU MLPs of `hidden` units), the
/// sum of each layer's node features pooled per graph (the paper's jumping readout), then a
/// linear layer to the classes.
public final class GraphClassifier: Module {
    let convolutions: [GINConv]
    let readout: Linear
    /// How nodes are pooled.
    public let pooling: GlobalPooling

    /// A classifier of graphs with `inputSize` node features into `classes`.
    public init(inputSize: Int, classes: Int, hidden: Int = 32, layers: Int = 3, pooling: GlobalPooling = .sum,
                generator: RandomGenerator? = nil) {
        tensorCheck(layers >= 1 && hidden >= 1, "[GraphClassifier] layers \(layers) and hidden \(hidden) must be positive")
        convolutions = (0..<layers).map { l in
            GINConv(Sequential([Linear(inputSize: l == 0 ? inputSize : hidden, outputSize: hidden, generator: generator), ReLU(),
                                Linear(inputSize: hidden, outputSize: hidden, generator: generator), ReLU()]))
        }
        readout = Linear(inputSize: hidden * layers, outputSize: classes, generator: generator)
        self.pooling = pooling
        super.init()
    }

    /// Logits `[graphCount, classes]` of a (batched) graph.
    public func callAsFunction(_ graph: Graph) -> Tensor {
        var h = graph.features, pooled: [Tensor] = []
        for conv in convolutions {
            h = conv(h, graph)
            pooled.append(pooling(h, in: graph))
        }
        return readout(Tensor.concatenated(pooled, axis: 1))
    }

    /// Graph models need the graph: call `model(graph)`.
    public override func forward(_ x: Tensor) -> Tensor { fatalError("[GraphClassifier] call it with the graph: model(graph)") }
}

/// Full-batch node classification and minibatch graph classification with Adam.
public enum GraphTraining {
    /// Trains on the labelled nodes `trainNodes` (cross-entropy, Adam with L2 weight decay);
    /// returns the loss per epoch.
    @discardableResult
    public static func fit(_ model: NodeClassifier, on graph: Graph, trainNodes: [Int], epochs: Int = 200, learningRate: Double = 0.01,
                           weightDecay: Double = 5e-4) -> [Double] {
        guard let labels = graph.labels else { fatalError("[GraphTraining.fit] the graph has no labels") }
        tensorCheck(!trainNodes.isEmpty && epochs > 0, "[GraphTraining.fit] needs labelled nodes and epochs")
        let index = Tensor(trainNodes.map(Int64.init), shape: [trainNodes.count])
        let target = labels.indexSelect(axis: 0, indices: index)
        let optimizer = Adam(parameters: model.parameters(), learningRate: learningRate, weightDecay: weightDecay)
        model.train()
        defer { model.eval() }
        return (0..<epochs).map { _ in
            let loss = crossEntropy(logits: model(graph).logits.indexSelect(axis: 0, indices: index), targets: target)
            optimizer.zeroGradients()
            loss.backward()
            optimizer.step()
            return loss.item(as: Double.self)
        }
    }

    /// The fraction of `nodes` whose most likely class is their label (evaluation mode).
    public static func accuracy(_ model: NodeClassifier, on graph: Graph, nodes: [Int]) -> Double {
        guard let labels = graph.labels, !nodes.isEmpty else { return .nan }
        model.eval()
        let predicted = withoutGradients { model(graph).logits.argmax(axis: 1).scalars(as: Int64.self) }
        let truth = labels.scalars(as: Int64.self)
        return Double(nodes.filter { predicted[$0] == truth[$0] }.count) / Double(nodes.count)
    }

    /// Trains a graph classifier on `graphs` in shuffled minibatches of `batchSize` graphs.
    @discardableResult
    public static func fit(_ model: GraphClassifier, graphs: [Graph], epochs: Int = 50, batchSize: Int = 32,
                           learningRate: Double = 0.01, seed: UInt64 = 0) -> [Double] {
        tensorCheck(!graphs.isEmpty && graphs.allSatisfy { $0.labels?.elementCount == 1 } && epochs > 0 && batchSize > 0,
                    "[GraphTraining.fit] needs graphs with one label each, epochs and a batch size")
        let optimizer = Adam(parameters: model.parameters(), learningRate: learningRate)
        let sampler = RandomSampler(seed: seed)
        model.train()
        defer { model.eval() }
        return (0..<epochs).map { epoch in
            let order = sampler.indices(count: graphs.count, epoch: epoch)
            var total = 0.0, batches = 0
            for start in stride(from: 0, to: graphs.count, by: batchSize) {
                let batch = Graph.batch(order[start..<Swift.min(start + batchSize, graphs.count)].map { graphs[$0] })
                let loss = crossEntropy(logits: model(batch), targets: batch.labels!)
                optimizer.zeroGradients()
                loss.backward()
                optimizer.step()
                total += loss.item(as: Double.self); batches += 1
            }
            return total / Double(batches)
        }
    }

    /// The fraction of `graphs` classified as labelled.
    public static func accuracy(_ model: GraphClassifier, graphs: [Graph]) -> Double {
        model.eval()
        let batch = Graph.batch(graphs)
        let predicted = withoutGradients { model(batch).argmax(axis: 1).scalars(as: Int64.self) }
        return Double(zip(predicted, batch.labels!.scalars(as: Int64.self)).filter { $0 == $1 }.count) / Double(graphs.count)
    }
}

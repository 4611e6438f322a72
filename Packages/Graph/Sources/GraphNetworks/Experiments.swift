import TensorCore

/// The experiments `tessera train gcn|gat|sage|gin` runs: a dataset, its split, a model and
/// its training, with the figures they report.
public enum GraphExperiments {
    /// Datasets for node classification.
    public enum NodeDataset: String, CaseIterable, Sendable {
        /// Zachary's karate club, one labelled member per club (0 and 33); the other 32 tested.
        case karate
        /// A 4-block stochastic block model of 400 nodes (p 0.15 inside and 0.01 across unless
        /// given, weak features), 20 labelled nodes per block; the other 320 tested.
        case sbm
    }

    /// What a node-classification run measured.
    public struct NodeReport {
        /// Accuracy on the unlabelled nodes.
        public var testAccuracy: Double
        /// Accuracy on the labelled ones.
        public var trainAccuracy: Double
        /// The training loss per epoch.
        public var losses: [Double]
        /// The first layer's node embeddings projected on their two principal components, with the labels.
        public var embedding: (points: [[Double]], labels: [Int])
        /// Labelled and tested nodes.
        public var trainNodes: [Int], testNodes: [Int]
    }

    /// The graph and its split for `dataset` (the SBM drawn with `seed`, edge probabilities
    /// `inside` and `across` its blocks).
    public static func split(_ dataset: NodeDataset, seed: UInt64, inside: Double = 0.15,
                             across: Double = 0.01) -> (graph: Graph, train: [Int], test: [Int], classes: Int) {
        switch dataset {
        case .karate:
            return (GraphDatasets.karateClub(), [0, 33], Array(1..<33), 2)
        case .sbm:
            let graph = GraphDatasets.stochasticBlockModel(inside: inside, across: across, seed: seed)
            let train = (0..<4).flatMap { b in (0..<20).map { b * 100 + $0 } }
            return (graph, train, (0..<400).filter { $0 % 100 >= 20 }, 4)
        }
    }

    /// Trains a `kind` node classifier on `dataset` for `epochs` epochs (Adam, `learningRate`,
    /// `weightDecay`) from `seed`; `inside` and `across` are the SBM's edge probabilities.
    public static func nodeClassification(_ kind: GraphLayerKind, on dataset: NodeDataset, epochs: Int = 200,
                                          learningRate: Double = 0.01, weightDecay: Double = 5e-4, inside: Double = 0.15,
                                          across: Double = 0.01, seed: UInt64 = 0) -> NodeReport {
        let (graph, train, test, classes) = split(dataset, seed: seed, inside: inside, across: across)
        let model = NodeClassifier(kind: kind, inputSize: graph.features.shape[1], classes: classes, generator: RandomGenerator(seed: seed))
        let losses = GraphTraining.fit(model, on: graph, trainNodes: train, epochs: epochs, learningRate: learningRate, weightDecay: weightDecay)
        let hidden = withoutGradients { model(graph).hidden }
        return NodeReport(testAccuracy: GraphTraining.accuracy(model, on: graph, nodes: test),
                          trainAccuracy: GraphTraining.accuracy(model, on: graph, nodes: train), losses: losses,
                          embedding: (principalComponents(hidden), graph.labels!.scalars(as: Int64.self).map(Int.init)),
                          trainNodes: train, testNodes: test)
    }

    /// Link prediction on `dataset`: 10 % of the edges held out, a two-layer GCN encoder (hidden
    /// 32, 16-dimensional embeddings) trained on the rest; the held-out edges' AUC against as
    /// many non-edges, and the final loss.
    public static func linkPrediction(on dataset: NodeDataset, epochs: Int = 200, learningRate: Double = 0.01,
                                      inside: Double = 0.15, across: Double = 0.01, seed: UInt64 = 0) -> (auc: Double, losses: [Double]) {
        let graph = split(dataset, seed: seed, inside: inside, across: across).graph
        let edges = LinkPrediction.split(graph, fraction: 0.1, seed: seed)
        let encoder = NodeClassifier(kind: .gcn, inputSize: graph.features.shape[1], classes: 16, hidden: 32, generator: RandomGenerator(seed: seed))
        let losses = LinkPrediction.fit(encoder, on: edges, epochs: epochs, learningRate: learningRate, seed: seed)
        return (LinkPrediction.auc(encoder, on: edges), losses)
    }

    /// What a graph-classification run measured.
    public struct GraphReport {
        /// Accuracy on held-out graphs.
        public var testAccuracy: Double
        /// Accuracy on the training graphs.
        public var trainAccuracy: Double
        /// The mean training loss per epoch.
        public var losses: [Double]
    }

    /// GIN on cycles against trees: 400 training graphs, 200 held out (6–16 nodes each).
    public static func cyclesAgainstTrees(epochs: Int = 30, learningRate: Double = 0.01, seed: UInt64 = 0) -> GraphReport {
        let train = GraphDatasets.cyclesAndTrees(count: 400, seed: seed), test = GraphDatasets.cyclesAndTrees(count: 200, seed: seed &+ 1000)
        let model = GraphClassifier(inputSize: 1, classes: 2, generator: RandomGenerator(seed: seed))
        let losses = GraphTraining.fit(model, graphs: train, epochs: epochs, learningRate: learningRate, seed: seed)
        return GraphReport(testAccuracy: GraphTraining.accuracy(model, graphs: test), trainAccuracy: GraphTraining.accuracy(model, graphs: train),
                           losses: losses)
    }

    /// Rows of `h [n, d]` projected on their first two principal components (by the SVD of
    /// the centred rows).
    public static func principalComponents(_ h: Tensor) -> [[Double]] {
        let x = h.cast(to: .float64)
        let centred = x - x.mean(axis: 0, keepDims: true)
        guard centred.shape[1] >= 2 else { return centred.scalars(as: Double.self).map { [$0, 0] } }
        let (_, _, vt) = Linalg.svd(centred)
        let projected = centred.matmul(vt.narrowed(axis: 0, start: 0, length: 2).transposed()).scalars(as: Double.self)
        return (0..<x.shape[0]).map { [projected[2 * $0], projected[2 * $0 + 1]] }
    }
}

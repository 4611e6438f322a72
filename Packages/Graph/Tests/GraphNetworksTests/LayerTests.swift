import Foundation
import NN
import TensorCore
import TensorCoreTesting
import Testing
@testable import GraphNetworks

/// PyTorch's dense-adjacency outputs (Fixtures/generate_graph_fixtures.py).
enum GraphFixtures {
    static let json: [String: Any] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/graph_layers.json")
        return try! JSONSerialization.jsonObject(with: try! Data(contentsOf: url)) as! [String: Any]
    }()

    static func tensor(_ value: Any) -> Tensor {
        let d = value as! [String: Any]
        return Tensor((d["data"] as! [NSNumber]).map(\.doubleValue), shape: d["shape"] as! [Int])
    }

    static func tensor(_ layer: String, _ field: String) -> Tensor { tensor((json[layer] as! [String: Any])[field]!) }

    static var graph: Graph {
        let pairs = (json["edges"] as! [[NSNumber]]).map { ($0[0].int64Value, $0[1].int64Value) }
        return Graph(nodeCount: 5, edges: Tensor(pairs.map(\.0) + pairs.map(\.1), shape: [2, pairs.count]), features: tensor(json["x"]!))
    }
}

@Suite("Graph layers match PyTorch's dense formulas")
struct LayerTests {
    let tolerance = Tolerance(absolute: 1e-10, relative: 1e-10)

    @Test func gcn() {
        let g = GraphFixtures.graph, layer = GCNConv(inputSize: 3, outputSize: 4)
        layer.linear.weight.value = GraphFixtures.tensor("gcn", "weight")
        layer.linear.bias!.value = GraphFixtures.tensor("gcn", "bias")
        expectClose(layer(g.features, g), GraphFixtures.tensor("gcn", "output"), tolerance: tolerance)
    }

    @Test(arguments: [SAGEConv.Aggregator.mean, .max])
    func sage(_ aggregator: SAGEConv.Aggregator) {
        let g = GraphFixtures.graph, layer = SAGEConv(inputSize: 3, outputSize: 4, aggregator: aggregator)
        layer.neighbours.weight.value = GraphFixtures.tensor("sage", "neighbours_weight")
        layer.neighbours.bias!.value = GraphFixtures.tensor("sage", "neighbours_bias")
        layer.root.weight.value = GraphFixtures.tensor("sage", "root_weight")
        expectClose(layer(g.features, g), GraphFixtures.tensor("sage", aggregator == .mean ? "mean_output" : "max_output"), tolerance: tolerance)
    }

    @Test(arguments: [true, false])
    func gat(_ concatenate: Bool) {
        let g = GraphFixtures.graph, layer = GATConv(inputSize: 3, outputSize: 4, heads: 2, concatenate: concatenate)
        layer.linear.weight.value = GraphFixtures.tensor("gat", "weight")
        layer.sourceAttention.value = GraphFixtures.tensor("gat", "source_attention")
        layer.targetAttention.value = GraphFixtures.tensor("gat", "target_attention")
        let bias = GraphFixtures.tensor("gat", "bias")
        layer.bias.value = concatenate ? bias : bias.narrowed(axis: 0, start: 0, length: 4)
        expectClose(layer(g.features, g), GraphFixtures.tensor("gat", concatenate ? "concat_output" : "mean_output"), tolerance: tolerance)
    }

    @Test func gin() {
        let g = GraphFixtures.graph, linear = Linear(inputSize: 3, outputSize: 4)
        linear.weight.value = GraphFixtures.tensor("gin", "weight")
        linear.bias!.value = GraphFixtures.tensor("gin", "bias")
        expectClose(GINConv(linear, epsilon: 0.25)(g.features, g), GraphFixtures.tensor("gin", "output"), tolerance: tolerance)
    }

    @Test func layerGradientsMatchCentralDifferences() {
        let g = GraphFixtures.graph, gcn = GCNConv(inputSize: 3, outputSize: 4), gat = GATConv(inputSize: 3, outputSize: 2, heads: 2)
        gcn.linear.weight.value = GraphFixtures.tensor("gcn", "weight")
        gcn.linear.bias!.value = GraphFixtures.tensor("gcn", "bias")
        GradientCheck.check([g.features], "GCN input") { gcn($0[0], g).tanh() }
        GradientCheck.checkParameters(gcn.parameters(), "GCN parameters") { gcn(g.features, g).tanh().sum() }
        gat.linear.weight.value = GraphFixtures.tensor("gat", "weight").narrowed(axis: 0, start: 0, length: 4)
        gat.sourceAttention.value = GraphFixtures.tensor("gat", "source_attention").narrowed(axis: 1, start: 0, length: 2)
        gat.targetAttention.value = GraphFixtures.tensor("gat", "target_attention").narrowed(axis: 1, start: 0, length: 2)
        gat.bias.value = Tensor.zeros([4], dtype: .float64)
        GradientCheck.check([g.features], "GAT input") { gat($0[0], g).tanh() }
        GradientCheck.checkParameters(gat.parameters(), "GAT parameters") { (gat(g.features, g).tanh() * Tensor.arange(0, 20).reshaped(to: [5, 4]).cast(to: .float64)).sum() }
    }

    @Test func batchesAndPooling() {
        let a = Graph.undirected(nodeCount: 2, pairs: [(0, 1)], features: Tensor([1, 2, 3, 4] as [Float], shape: [2, 2]), labels: Tensor([Int64(0)]))
        let b = Graph.undirected(nodeCount: 3, pairs: [(0, 2)], features: Tensor([5, 6, 7, 8, 9, -1] as [Float], shape: [3, 2]), labels: Tensor([Int64(1)]))
        let batch = Graph.batch([a, b])
        #expect(batch.nodeCount == 5 && batch.graphCount == 2 && batch.graphIndex.scalars(as: Int64.self) == [0, 0, 1, 1, 1])
        #expect(batch.edges.scalars(as: Int64.self) == [0, 1, 2, 4, 1, 0, 4, 2])
        #expect(GlobalPooling.sum(batch.features, in: batch).scalars(as: Float.self) == [4, 6, 21, 13])
        #expect(GlobalPooling.mean(batch.features, in: batch).scalars(as: Float.self) == [2, 3, 7, Float(13) / 3])
        #expect(GlobalPooling.max(batch.features, in: batch).scalars(as: Float.self) == [3, 4, 9, 8])
        #expect(batch.labels?.scalars(as: Int64.self) == [0, 1])
    }
}

@Suite("Graph networks learn")
struct GraphLearningTests {
    /// Kipf & Welling's demo: one labelled member per club (0 and 33), GCN on identity features.
    @Test func gcnSplitsTheKarateClub() {
        let karate = GraphDatasets.karateClub()
        #expect(karate.nodeCount == 34 && karate.edgeCount == 156)
        let model = NodeClassifier(kind: .gcn, inputSize: 34, classes: 2, generator: RandomGenerator(seed: 0))
        GraphTraining.fit(model, on: karate, trainNodes: [0, 33], epochs: 100)
        let accuracy = GraphTraining.accuracy(model, on: karate, nodes: Array(1..<33))
        #expect(accuracy >= 0.8, "\(accuracy)")
    }

    /// Held-out SBM edges outscore non-edges (within-block pairs are 15 times likelier to be
    /// edges, so community-aware embeddings get an AUC near 0.8), and the split is sound.
    @Test func linkPredictionRanksHeldOutEdges() {
        let graph = GraphDatasets.stochasticBlockModel(seed: 4)
        let split = LinkPrediction.split(graph, fraction: 0.1, seed: 4)
        #expect(split.training.edgeCount + 2 * split.positives.count == graph.edgeCount && split.negatives.count == split.positives.count)
        let edges = Set(zip(graph.sources.scalars(as: Int64.self), graph.targets.scalars(as: Int64.self)).map { "\($0)-\($1)" })
        #expect(split.negatives.allSatisfy { !edges.contains("\($0.0)-\($0.1)") && $0.0 != $0.1 })
        let encoder = NodeClassifier(kind: .gcn, inputSize: 16, classes: 16, hidden: 32, generator: RandomGenerator(seed: 5))
        let before = LinkPrediction.auc(encoder, on: split)
        LinkPrediction.fit(encoder, on: split, epochs: 100)
        let after = LinkPrediction.auc(encoder, on: split)
        #expect(after > 0.7 && after > before, "AUC \(before) -> \(after)")
    }

    @Test func ginTellsCyclesFromTrees() {
        let graphs = GraphDatasets.cyclesAndTrees(count: 120, seed: 1), test = GraphDatasets.cyclesAndTrees(count: 60, seed: 2)
        let model = GraphClassifier(inputSize: 1, classes: 2, hidden: 16, layers: 2, generator: RandomGenerator(seed: 3))
        GraphTraining.fit(model, graphs: graphs, epochs: 15, batchSize: 20)
        #expect(GraphTraining.accuracy(model, graphs: test) >= 0.9)
    }
}

import Foundation
import NN
import TensorCore
import TensorCoreTesting
import Testing
@testable import Baselines

/// scikit-learn's fits (Fixtures/generate_sklearn_fixtures.py); numbers are strings, exact
/// through any JSON parser.
enum SklearnFixtures {
    static let json: [String: Any] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/sklearn_fixtures.json")
        return try! JSONSerialization.jsonObject(with: try! Data(contentsOf: url)) as! [String: Any]
    }()

    static func tensor(_ path: String...) -> Tensor {
        var node: Any = json
        for key in path { node = (node as! [String: Any])[key]! }
        let d = node as! [String: Any]
        return Tensor((d["data"] as! [String]).map { Double($0)! }, shape: d["shape"] as! [Int])
    }
}

@Suite("Classic baselines match scikit-learn")
struct BaselineTests {
    let tight = Tolerance(absolute: 1e-6, relative: 1e-6)

    @Test(arguments: ["0", "1", "100"])
    func ridgeAndLinearRegressionOnDiabetes(_ alpha: String) throws {
        let x = SklearnFixtures.tensor("diabetes", "x"), y = SklearnFixtures.tensor("diabetes", "y")
        let model = try LinearModel(fitting: x, y, alpha: Double(alpha)!)
        expectClose(model.coefficients, SklearnFixtures.tensor("diabetes", "alpha_\(alpha)", "coef"), tolerance: tight)
        expectClose(model.intercept, SklearnFixtures.tensor("diabetes", "alpha_\(alpha)", "intercept"), tolerance: tight)
        let r2 = ((SklearnFixtures.json["diabetes"] as! [String: Any])["alpha_\(alpha)"] as! [String: Any])["r2"] as! NSNumber
        #expect(Swift.abs(model.score(x, y) - r2.doubleValue) < 1e-9)
    }

    @Test func multiOutputRidgeOnLinnerud() throws {
        let model = try LinearModel(fitting: SklearnFixtures.tensor("linnerud", "x"), SklearnFixtures.tensor("linnerud", "y"), alpha: 10)
        expectClose(model.coefficients, SklearnFixtures.tensor("linnerud", "coef"), tolerance: tight)
        expectClose(model.intercept, SklearnFixtures.tensor("linnerud", "intercept"), tolerance: tight)
    }

    @Test func standardScaler() {
        let scaler = StandardScaler(fitting: SklearnFixtures.tensor("diabetes", "x"))
        expectClose(scaler.mean, SklearnFixtures.tensor("diabetes", "scaler", "mean"), tolerance: tight)
        expectClose(scaler.scale, SklearnFixtures.tensor("diabetes", "scaler", "scale"), tolerance: tight)
        let z = scaler.transform(SklearnFixtures.tensor("diabetes", "x"))
        #expect(z.mean(axis: 0).abs().max().item(as: Double.self) < 1e-12)
        #expect(StandardScaler(fitting: Tensor([1, 1, 1, 1] as [Double], shape: [2, 2])).scale.scalars(as: Double.self) == [1, 1])
    }

    /// Multinomial (iris, 3 classes) and binary (breast cancer) logistic regression at C = 1.
    @Test(arguments: ["iris", "breast_cancer"])
    func logisticRegression(_ name: String) {
        let x = SklearnFixtures.tensor(name, "x"), y = SklearnFixtures.tensor(name, "y")
        let classes = name == "iris" ? 3 : 2
        let model = LinearClassifier.logistic(fitting: x, labels: y, classes: classes)
        expectClose(model.weights, SklearnFixtures.tensor(name, "coef"), tolerance: Tolerance(absolute: 1e-5, relative: 1e-5))
        expectClose(model.bias, SklearnFixtures.tensor(name, "intercept"), tolerance: Tolerance(absolute: 1e-5, relative: 1e-5))
    }

    @Test(arguments: ["iris", "breast_cancer"])
    func kNearestNeighboursPredictAsScikitLearns(_ name: String) {
        let x = SklearnFixtures.tensor(name, "x"), y = SklearnFixtures.tensor(name, "y"), n = x.shape[0]
        let even = Tensor(stride(from: 0, to: n, by: 2).map(Int64.init)), odd = Tensor(stride(from: 1, to: n, by: 2).map(Int64.init))
        let knn = KNearestNeighbors(k: 5, fitting: x.indexSelect(axis: 0, indices: even), labels: y.indexSelect(axis: 0, indices: even))
        let predicted = knn.predict(x.indexSelect(axis: 0, indices: odd))
        #expect(predicted.scalars(as: Int64.self) == SklearnFixtures.tensor(name, "knn5_odd_predictions").scalars(as: Double.self).map { Int64($0) })
        let chosen = KNearestNeighbors.selectK([1, 3, 5, 7], x: x, labels: y, folds: 5)
        #expect(chosen.accuracies.count == 4 && chosen.accuracies.allSatisfy { $0 > 0.85 } && [1, 3, 5, 7].contains(chosen.k))
    }

    @Test func kFoldSplitsCoverEveryIndexOnce() {
        let folds = KFold(count: 11, folds: 3, shuffleSeed: 4)
        #expect(folds.splits.map(\.test.count) == [4, 4, 3])
        #expect(folds.splits.flatMap(\.test).sorted() == Array(0..<11))
        #expect(folds.splits.allSatisfy { Set($0.train).isDisjoint(with: $0.test) && $0.train.count + $0.test.count == 11 })
        #expect(KFold(count: 4, folds: 2).splits.map(\.test) == [[0, 1], [2, 3]])
        let cv = folds.crossValidate { train, test in Double(test.count) }
        #expect(cv.folds == [4, 4, 3] && Swift.abs(cv.mean - 11.0 / 3) < 1e-12)
    }

    /// The hinge against a hand computation, and a linear SVM separating two blobs.
    @Test func linearSVM() {
        let s = Tensor([2, 1, 0, 0.5, 0.2, 3] as [Double], shape: [2, 3]), y = Tensor([0, 1] as [Int64])
        // Row 0: max(0, 1 + 1 − 2) = 0; row 1: max(0, 1 + 3 − 0.2) = 3.8.
        #expect(Swift.abs(LinearClassifier.hingeLoss(scores: s, labels: y).item(as: Double.self) - 1.9) < 1e-12)
        let g = RandomGenerator(seed: 1)
        let x = Tensor.concatenated([Tensor.randn([100, 2], generator: g) + 3, Tensor.randn([100, 2], generator: g) - 3], axis: 0)
        let labels = Tensor((0..<200).map { Int64($0 < 100 ? 0 : 1) })
        let svm = LinearClassifier.svm(fitting: x, labels: labels, classes: 2, epochs: 30, batchSize: 20, learningRate: 0.05)
        #expect(accuracy(svm.predict(x), labels) > 0.98)
    }
}

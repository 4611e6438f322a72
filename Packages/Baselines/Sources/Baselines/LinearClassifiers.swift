import NN
import Optim
import TensorCore

/// Linear classifiers of `x [n, d]` into `classes` (int labels), with scores `x Wᵀ + b`.
public struct LinearClassifier {
    /// The objective a classifier minimises.
    public enum Loss: Sendable, Equatable {
        /// The multiclass hinge of Crammer & Singer, `max(0, 1 + max_{j≠y} s_j − s_y)`, plus
        /// `λ/2 ‖W‖²`: a linear SVM.
        case hinge(lambda: Double)
        /// Cross-entropy (multinomial logistic regression; for two classes the binary logistic
        /// model with one weight vector) summed over examples and weighted by C, plus `½‖W‖²`:
        /// scikit-learn's `LogisticRegression(C:)` objective.
        case logistic(c: Double)
    }

    /// Weights `[classes, d]` (`[1, d]` for binary logistic regression), float64.
    public private(set) var weights: Tensor
    /// Biases `[classes]` (`[1]`), float64.
    public private(set) var bias: Tensor
    /// The objective.
    public let loss: Loss
    /// Classes.
    public let classes: Int

    /// Scores `[n, classes]` (`[n, 1]` for binary logistic regression).
    public func scores(_ x: Tensor) -> Tensor { x.cast(to: weights.dtype).linear(weight: weights, bias: bias) }

    /// The most likely class of each row, int64 `[n]`.
    public func predict(_ x: Tensor) -> Tensor {
        let s = scores(x)
        return s.shape[1] == 1 ? (s.squeezed(axis: 1) .> 0).cast(to: .int64) : s.argmax(axis: 1)
    }

    /// A linear SVM trained by Adam on minibatches of the hinge objective (`epochs` passes,
    /// `batchSize` rows, rate `learningRate`, float32).
    public static func svm(fitting x: Tensor, labels y: Tensor, classes: Int, lambda: Double = 1e-4, epochs: Int = 10,
                           batchSize: Int = 128, learningRate: Double = 1e-3, seed: UInt64 = 0) -> LinearClassifier {
        check(x, y, classes)
        let w = Parameter(Tensor.zeros([classes, x.shape[1]])), b = Parameter(Tensor.zeros([classes]))
        let optimizer = Adam(parameters: [w, b], learningRate: learningRate)
        let sampler = RandomSampler(seed: seed), n = x.shape[0], xs = x.cast(to: .float32), labels = y.cast(to: .int64)
        for epoch in 0..<epochs {
            let order = sampler.indices(count: n, epoch: epoch)
            for start in stride(from: 0, to: n, by: batchSize) {
                let rows = Tensor(order[start..<Swift.min(start + batchSize, n)].map(Int64.init), shape: [Swift.min(batchSize, n - start)])
                let loss = hingeLoss(scores: xs.indexSelect(axis: 0, indices: rows).linear(weight: w.value, bias: b.value),
                                     labels: labels.indexSelect(axis: 0, indices: rows)) + lambda / 2 * w.value.squared().sum()
                optimizer.zeroGradients()
                loss.backward()
                optimizer.step()
            }
        }
        return LinearClassifier(weights: w.value.cast(to: .float64), bias: b.value.cast(to: .float64), loss: .hinge(lambda: lambda), classes: classes)
    }

    /// Crammer & Singer's multiclass hinge, the mean over rows of `max(0, 1 + max_{j≠y} s_j − s_y)`.
    public static func hingeLoss(scores: Tensor, labels: Tensor) -> Tensor {
        let k = scores.shape[1], index = labels.cast(to: .int64).reshaped(to: [-1, 1])
        let correct = scores.gather(axis: 1, index: index)
        let others = Tensor.ones(scores.shape, dtype: scores.dtype)
            .scatterAdding(axis: 1, index: index, source: Tensor.full([scores.shape[0], 1], value: -1, dtype: scores.dtype))
        // The true class's own margin is 1 − 1 · 1 = 0 after masking, which also provides the max(0, ·).
        let margins = (scores - correct + 1) * others
        tensorCheck(k >= 2, "[hingeLoss] needs at least two classes")
        return margins.max(axis: 1).mean()
    }

    /// Logistic regression (multinomial, or binary for two classes) minimising scikit-learn's
    /// `C · Σ cross-entropy + ½‖W‖²` (the bias unpenalised) by full-batch L-BFGS in float64,
    /// to a gradient below `tolerance`.
    public static func logistic(fitting x: Tensor, labels y: Tensor, classes: Int, c: Double = 1, maxIterations: Int = 500,
                                tolerance: Double = 1e-10) -> LinearClassifier {
        check(x, y, classes)
        tensorCheck(c > 0 && c.isFinite, "[LinearClassifier.logistic] C \(c) must be positive")
        let rows = classes == 2 ? 1 : classes
        let w = Parameter(Tensor.zeros([rows, x.shape[1]], dtype: .float64)), b = Parameter(Tensor.zeros([rows], dtype: .float64))
        let xd = x.cast(to: .float64), labels = y.cast(to: .int64), n = Double(x.shape[0])
        let optimizer = LBFGS(parameters: [w, b], maxIterations: maxIterations, toleranceGrad: tolerance, toleranceChange: 0,
                              lineSearch: .strongWolfe)
        optimizer.step {
            let s = xd.linear(weight: w.value, bias: b.value)
            let data = rows == 1
                ? binaryCrossEntropyWithLogits(logits: s.squeezed(axis: 1), targets: labels.cast(to: .float64))
                : crossEntropy(logits: s, targets: labels)
            // Divided by C·n so L-BFGS's tolerances see a mean-sized objective; same minimiser.
            let loss = data + 0.5 * w.value.squared().sum() / (c * n)
            loss.backward()
            return loss.item(as: Double.self)
        }
        return LinearClassifier(weights: w.value, bias: b.value, loss: .logistic(c: c), classes: classes)
    }

    static func check(_ x: Tensor, _ y: Tensor, _ classes: Int) {
        tensorCheck(x.rank == 2 && y.shape == [x.shape[0]] && classes >= 2 && x.shape[0] > 0,
                    "[LinearClassifier] x \(shapeText(x.shape)) should be [n, d], labels \(shapeText(y.shape)) [n], classes ≥ 2 (got \(classes))")
        let values = y.cast(to: .int64).scalars(as: Int64.self)
        tensorCheck(values.allSatisfy { $0 >= 0 && $0 < Int64(classes) }, "[LinearClassifier] labels must be in 0..<\(classes)")
    }
}

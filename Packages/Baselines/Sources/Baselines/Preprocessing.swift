import NN
import TensorCore

/// Feature standardisation, as scikit-learn's `StandardScaler`: each column centred on its
/// mean and divided by its population standard deviation (a constant column is only centred).
public struct StandardScaler {
    /// Column means `[d]`.
    public let mean: Tensor
    /// Column scales `[d]` (the standard deviation, 1 where it is 0).
    public let scale: Tensor

    /// The scaler of the columns of `x [n, d]`.
    public init(fitting x: Tensor) {
        tensorCheck(x.rank == 2 && x.shape[0] > 0, "[StandardScaler] x \(shapeText(x.shape)) should be [n, features] with n > 0")
        mean = x.mean(axis: 0)
        let std = x.variance(axes: [0], correction: 0).sqrt()
        scale = std + (std .== 0).cast(to: std.dtype)
    }

    /// `(x − mean) / scale`.
    public func transform(_ x: Tensor) -> Tensor {
        tensorCheck(x.rank == 2 && x.shape[1] == mean.shape[0], "[StandardScaler] x \(shapeText(x.shape)) should have \(mean.shape[0]) columns")
        return (x - mean.cast(to: x.dtype)) / scale.cast(to: x.dtype)
    }
}

/// K-fold cross-validation splits, as scikit-learn's `KFold`: the indices 0..<n (shuffled with
/// `seed`, or in order) cut into `folds` consecutive parts whose sizes differ by at most one
/// (the first `n % folds` one larger); fold i tests on part i and trains on the others.
public struct KFold {
    /// `(train, test)` index lists, one pair per fold.
    public let splits: [(train: [Int], test: [Int])]

    /// Splits of `n` examples into `folds` folds.
    public init(count n: Int, folds: Int, shuffleSeed: UInt64? = nil) {
        tensorCheck(folds >= 2 && folds <= n, "[KFold] needs 2 ≤ folds ≤ examples, got \(folds) folds of \(n)")
        let order = shuffleSeed.map { permutation(n, seed: $0) } ?? Array(0..<n)
        var start = 0, splits: [(train: [Int], test: [Int])] = []
        for f in 0..<folds {
            let size = n / folds + (f < n % folds ? 1 : 0)
            let test = Array(order[start..<(start + size)])
            splits.append((Array(order[..<start]) + Array(order[(start + size)...]), test))
            start += size
        }
        self.splits = splits
    }

    /// The mean over folds of `score(trainIndices, testIndices)`, and each fold's score.
    public func crossValidate(_ score: ([Int], [Int]) throws -> Double) rethrows -> (mean: Double, folds: [Double]) {
        let scores = try splits.map { try score($0.train, $0.test) }
        return (scores.reduce(0, +) / Double(scores.count), scores)
    }

    /// Subsets of `dataset` for each fold: `(train, test)`.
    public func subsets<D: Dataset>(of dataset: D) -> [(train: Subset<D>, test: Subset<D>)] {
        splits.map { (Subset(dataset, indices: $0.train), Subset(dataset, indices: $0.test)) }
    }
}

/// Accuracy of predicted labels against the truth.
public func accuracy(_ predicted: Tensor, _ labels: Tensor) -> Double {
    tensorCheck(predicted.shape == labels.shape, "[accuracy] predictions \(shapeText(predicted.shape)) and labels \(shapeText(labels.shape)) differ")
    return (predicted.cast(to: .int64) .== labels.cast(to: .int64)).cast(to: .float64).mean().item(as: Double.self)
}

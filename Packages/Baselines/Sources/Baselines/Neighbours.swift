import NN
import TensorCore

/// k-nearest-neighbour classification, as scikit-learn's `KNeighborsClassifier` (Euclidean
/// distance, uniform votes, ties going to the smallest label): distances to every stored
/// example in batches, `‖q‖² − 2 q·x + ‖x‖²` through one matrix product per batch.
public struct KNearestNeighbors {
    /// Neighbours that vote.
    public let k: Int
    /// The stored examples `[n, d]` (float32).
    public let examples: Tensor
    /// Their labels.
    public let labels: [Int64]
    /// Classes (labels are 0..<classes).
    public let classes: Int
    private let squaredNorms: Tensor

    /// A classifier that remembers `x [n, d]` and its int labels `[n]`.
    public init(k: Int, fitting x: Tensor, labels y: Tensor) {
        tensorCheck(x.rank == 2 && y.shape == [x.shape[0]] && k >= 1 && k <= x.shape[0],
                    "[KNearestNeighbors] x \(shapeText(x.shape)), labels \(shapeText(y.shape)) and k \(k) do not fit")
        self.k = k
        examples = x.cast(to: .float32).contiguous()
        labels = y.cast(to: .int64).scalars(as: Int64.self)
        classes = Int(labels.max() ?? 0) + 1
        squaredNorms = examples.squared().sum(axis: 1)
    }

    /// The `k` nearest stored examples of each query, nearest first: `[m][k]` indices.
    public func neighbours(of queries: Tensor, count: Int? = nil, batchSize: Int = 500) -> [[Int]] {
        let kk = count ?? k, n = examples.shape[0]
        tensorCheck(queries.rank == 2 && queries.shape[1] == examples.shape[1] && kk >= 1 && kk <= n,
                    "[KNearestNeighbors] queries \(shapeText(queries.shape)) should be [m, \(examples.shape[1])]")
        var result: [[Int]] = []
        let q = queries.cast(to: .float32)
        for start in stride(from: 0, to: q.shape[0], by: batchSize) {
            let b = q.narrowed(axis: 0, start: start, length: Swift.min(batchSize, q.shape[0] - start))
            // The query's own norm does not change its ranking.
            let d = (squaredNorms.unsqueezed(axis: 0) - 2 * b.matmul(examples.transposed())).scalars(as: Float.self)
            d.withUnsafeBufferPointer { p in
                for row in 0..<b.shape[0] {
                    let base = p.baseAddress! + row * n
                    // A sorted window of the kk best, by insertion (kk is small).
                    var best: [(Float, Int)] = []
                    best.reserveCapacity(kk + 1)
                    for j in 0..<n {
                        let v = base[j]
                        if best.count == kk, v >= best[kk - 1].0 { continue }
                        var i = best.count
                        best.append((v, j))
                        while i > 0 && (best[i - 1].0 > v || (best[i - 1].0 == v && best[i - 1].1 > j)) { best[i] = best[i - 1]; i -= 1 }
                        best[i] = (v, j)
                        if best.count > kk { best.removeLast() }
                    }
                    result.append(best.map(\.1))
                }
            }
        }
        return result
    }

    /// The majority label of each query's `k` neighbours (ties: the smallest label), int64 `[m]`.
    public func predict(_ queries: Tensor, batchSize: Int = 500) -> Tensor {
        let votes = neighbours(of: queries, batchSize: batchSize).map { near -> Int64 in
            var counts = [Int](repeating: 0, count: classes)
            for j in near { counts[Int(labels[j])] += 1 }
            return Int64(counts.indices.max { counts[$0] < counts[$1] || (counts[$0] == counts[$1] && $0 > $1) }!)
        }
        return Tensor(votes, shape: [votes.count])
    }

    /// k chosen from `candidates` by `folds`-fold cross-validated accuracy on `(x, y)` (ties:
    /// the smallest k); returns it with each candidate's mean accuracy.
    public static func selectK(_ candidates: [Int], x: Tensor, labels y: Tensor, folds: Int = 5,
                               seed: UInt64 = 0) -> (k: Int, accuracies: [Double]) {
        tensorCheck(!candidates.isEmpty, "[KNearestNeighbors.selectK] needs candidate values of k")
        let split = KFold(count: x.shape[0], folds: folds, shuffleSeed: seed), largest = candidates.max()!
        var sums = [Double](repeating: 0, count: candidates.count)
        for (train, test) in split.splits {
            let rows = { (i: [Int]) in Tensor(i.map(Int64.init), shape: [i.count]) }
            let model = KNearestNeighbors(k: largest, fitting: x.indexSelect(axis: 0, indices: rows(train)),
                                          labels: y.indexSelect(axis: 0, indices: rows(train)))
            // One neighbour search serves every k: the nearest `largest`, in order.
            let near = model.neighbours(of: x.indexSelect(axis: 0, indices: rows(test)))
            let truth = y.indexSelect(axis: 0, indices: rows(test)).cast(to: .int64).scalars(as: Int64.self)
            for (c, k) in candidates.enumerated() {
                var correct = 0
                for (i, list) in near.enumerated() {
                    var counts = [Int](repeating: 0, count: model.classes)
                    for j in list.prefix(k) { counts[Int(model.labels[j])] += 1 }
                    let vote = counts.indices.max { counts[$0] < counts[$1] || (counts[$0] == counts[$1] && $0 > $1) }!
                    if Int64(vote) == truth[i] { correct += 1 }
                }
                sums[c] += Double(correct) / Double(near.count)
            }
        }
        let means = sums.map { $0 / Double(split.splits.count) }
        let best = means.indices.max { means[$0] < means[$1] || (means[$0] == means[$1] && candidates[$0] > candidates[$1]) }!
        return (candidates[best], means)
    }
}

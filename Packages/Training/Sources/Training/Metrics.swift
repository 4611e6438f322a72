#if canImport(Glibc)
import Glibc
#endif
import TensorCore

/// Evaluation metrics, as scikit-learn and torchmetrics define them. Inputs are tensors on any
/// device (read back once); results are plain numbers.
public enum Metrics {
    /// The fraction of rows of `scores [n, classes]` whose highest score is the int64 target.
    public static func accuracy(scores: Tensor, targets: Tensor) -> Double {
        topKAccuracy(scores: scores, targets: targets, k: 1)
    }

    /// The fraction of rows whose target is among the `k` highest scores (ties broken by index).
    public static func topKAccuracy(scores: Tensor, targets: Tensor, k: Int) -> Double {
        let (n, c, s) = rows(scores, targets, "topKAccuracy")
        tensorCheck(k >= 1 && k <= c, "[topKAccuracy] k \(k) must be in 1...\(c)")
        let t = targets.scalars(as: Int64.self)
        var hits = 0
        for i in 0..<n {
            let target = Int(t[i]), value = s[i * c + target]
            // Classes ranked above the target: higher scores, or equal scores at a lower index.
            var above = 0
            for j in 0..<c where s[i * c + j] > value || (s[i * c + j] == value && j < target) { above += 1 }
            if above < k { hits += 1 }
        }
        return Double(hits) / Double(Swift.max(n, 1))
    }

    /// `matrix[true][predicted]` counts for int64 `predictions [n]` and `targets [n]`.
    public static func confusionMatrix(predictions: Tensor, targets: Tensor, classCount: Int) -> [[Int]] {
        tensorCheck(predictions.shape == targets.shape && predictions.rank == 1,
                    "[confusionMatrix] predictions \(shapeText(predictions.shape)) and targets \(shapeText(targets.shape)) should be one [n]")
        var matrix = [[Int]](repeating: [Int](repeating: 0, count: classCount), count: classCount)
        for (p, t) in zip(predictions.scalars(as: Int64.self), targets.scalars(as: Int64.self)) {
            tensorCheck(p >= 0 && p < classCount && t >= 0 && t < classCount,
                        "[confusionMatrix] class \(Swift.max(p, t)) is outside 0..<\(classCount)")
            matrix[Int(t)][Int(p)] += 1
        }
        return matrix
    }

    /// Precision, recall and F1 of each class, and their unweighted (macro) means; a class
    /// never predicted (or never present) scores 0 there, as scikit-learn's `zero_division=0`.
    public struct ClassReport: Equatable, Sendable {
        /// Per class, in class order.
        public var precision: [Double], recall: [Double], f1: [Double]
        /// Unweighted means over the classes.
        public var macroPrecision: Double, macroRecall: Double, macroF1: Double
    }

    /// Precision, recall and F1 from a confusion matrix `m[true][predicted]`.
    public static func classReport(confusion m: [[Int]]) -> ClassReport {
        let c = m.count
        var precision = [Double](repeating: 0, count: c), recall = precision, f1 = precision
        for k in 0..<c {
            let truePositive = Double(m[k][k])
            let predicted = Double((0..<c).reduce(0) { $0 + m[$1][k] }), actual = Double(m[k].reduce(0, +))
            precision[k] = predicted > 0 ? truePositive / predicted : 0
            recall[k] = actual > 0 ? truePositive / actual : 0
            f1[k] = precision[k] + recall[k] > 0 ? 2 * precision[k] * recall[k] / (precision[k] + recall[k]) : 0
        }
        func mean(_ v: [Double]) -> Double { v.reduce(0, +) / Double(Swift.max(c, 1)) }
        return ClassReport(precision: precision, recall: recall, f1: f1,
                           macroPrecision: mean(precision), macroRecall: mean(recall), macroF1: mean(f1))
    }

    /// The ROC curve of binary `labels` (0/1) ranked by `scores`: false and true positive
    /// rates at each distinct threshold, from (0, 0) to (1, 1), as scikit-learn's `roc_curve`
    /// with `drop_intermediate=False`.
    public static func rocCurve(scores: [Double], labels: [Int]) -> (falsePositiveRate: [Double], truePositiveRate: [Double], thresholds: [Double]) {
        precondition(scores.count == labels.count, "[rocCurve] \(scores.count) scores for \(labels.count) labels")
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        let positives = Double(labels.filter { $0 == 1 }.count), negatives = Double(labels.count) - positives
        var fpr = [0.0], tpr = [0.0], thresholds = [Double.infinity]
        var tp = 0.0, fp = 0.0
        for (rank, i) in order.enumerated() {
            if labels[i] == 1 { tp += 1 } else { fp += 1 }
            // One point per distinct score: ties move together.
            if rank + 1 < order.count && scores[order[rank + 1]] == scores[i] { continue }
            fpr.append(negatives > 0 ? fp / negatives : 0)
            tpr.append(positives > 0 ? tp / positives : 0)
            thresholds.append(scores[i])
        }
        return (fpr, tpr, thresholds)
    }

    /// The area under the ROC curve (trapezoids; ties count half, as the Mann-Whitney statistic).
    public static func rocAUC(scores: [Double], labels: [Int]) -> Double {
        let curve = rocCurve(scores: scores, labels: labels)
        var area = 0.0
        for i in 1..<curve.falsePositiveRate.count {
            area += (curve.falsePositiveRate[i] - curve.falsePositiveRate[i - 1])
                * (curve.truePositiveRate[i] + curve.truePositiveRate[i - 1]) / 2
        }
        return area
    }

    /// `exp(mean negative log-likelihood in nats)`.
    public static func perplexity(meanLoss: Double) -> Double { exp(meanLoss) }

    /// Expected calibration error with `bins` equal-width confidence bins: the sample-weighted
    /// mean of |accuracy − confidence| per bin, confidence being the top probability of each
    /// row of `probabilities [n, classes]` (torchmetrics' `l1` norm).
    public static func expectedCalibrationError(probabilities: Tensor, targets: Tensor, bins: Int = 15) -> Double {
        let (n, c, p) = rows(probabilities, targets, "expectedCalibrationError")
        let t = targets.scalars(as: Int64.self)
        var count = [Int](repeating: 0, count: bins), correct = [Double](repeating: 0, count: bins)
        var confidence = [Double](repeating: 0, count: bins)
        for i in 0..<n {
            var best = 0
            for j in 1..<c where p[i * c + j] > p[i * c + best] { best = j }
            let top = p[i * c + best]
            // Bins are (lo, hi]: a confidence of exactly 0 goes to the first.
            let bin = Swift.min(Swift.max(Int((top * Double(bins)).rounded(.up)) - 1, 0), bins - 1)
            count[bin] += 1
            confidence[bin] += top
            if best == Int(t[i]) { correct[bin] += 1 }
        }
        var error = 0.0
        for b in 0..<bins where count[b] > 0 {
            error += Swift.abs(correct[b] - confidence[b]) / Double(n)
        }
        return error
    }

    private static func rows(_ scores: Tensor, _ targets: Tensor, _ op: String) -> (Int, Int, [Double]) {
        tensorCheck(scores.rank == 2 && targets.rank == 1 && targets.shape[0] == scores.shape[0] && targets.dtype == .int64,
                    "[\(op)] scores \(shapeText(scores.shape)) and int64 targets \(shapeText(targets.shape)) should be [n, classes] and [n]")
        return (scores.shape[0], scores.shape[1], scores.scalars(as: Double.self))
    }
}

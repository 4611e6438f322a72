import Testing
import TensorCore
@testable import Training

/// Known answers, worked by hand and matching scikit-learn / torchmetrics on the same inputs.
@Suite("Metrics")
struct MetricsTests {
    let scores = Tensor([0.1, 0.7, 0.2,
                         0.5, 0.3, 0.2,
                         0.2, 0.2, 0.6,
                         0.3, 0.4, 0.3], shape: [4, 3])
    let targets = Tensor([Int64(1), 1, 2, 0])

    @Test func accuracyAndTopK() {
        #expect(Metrics.accuracy(scores: scores, targets: targets) == 0.5)             // rows 0 and 2
        #expect(Metrics.topKAccuracy(scores: scores, targets: targets, k: 2) == 1.0)   // row 1: 0.3 second; row 3: 0.3 at index 0 ties 0.3 at 2, ranks above it
        #expect(Metrics.topKAccuracy(scores: scores, targets: targets, k: 3) == 1.0)
    }

    @Test func confusionMatrixAndClassReport() {
        // sklearn: confusion_matrix([1,1,2,0,2,0], [1,0,2,1,1,0]) and precision_recall_fscore_support.
        let m = Metrics.confusionMatrix(predictions: Tensor([Int64(1), 0, 2, 1, 1, 0]), targets: Tensor([Int64(1), 1, 2, 0, 2, 0]),
                                        classCount: 3)
        #expect(m == [[1, 1, 0], [1, 1, 0], [0, 1, 1]])
        let report = Metrics.classReport(confusion: m)
        #expect(report.precision == [0.5, 1.0 / 3, 1.0])
        #expect(report.recall == [0.5, 0.5, 0.5])
        #expect(Swift.abs(report.f1[1] - 0.4) < 1e-12 && Swift.abs(report.f1[2] - 2.0 / 3) < 1e-12)
        #expect(Swift.abs(report.macroF1 - (0.5 + 0.4 + 2.0 / 3) / 3) < 1e-12)
    }

    @Test func rocCurveAndAUC() {
        // scikit-learn's documented example: roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.75.
        #expect(Metrics.rocAUC(scores: [0.1, 0.4, 0.35, 0.8], labels: [0, 0, 1, 1]) == 0.75)
        let curve = Metrics.rocCurve(scores: [0.1, 0.4, 0.35, 0.8], labels: [0, 0, 1, 1])
        #expect(curve.falsePositiveRate == [0, 0, 0.5, 0.5, 1])
        #expect(curve.truePositiveRate == [0, 0.5, 0.5, 1, 1])
        // Ties count half: one positive and one negative at the same score.
        #expect(Metrics.rocAUC(scores: [0.5, 0.5], labels: [0, 1]) == 0.5)
    }

    @Test func calibrationErrorAndPerplexity() {
        // Confidences 0.65 (right), 0.45 (wrong), 0.55 (right), 0.35 (right), mid-bin with 10 bins,
        // each alone in its bin: (|1-0.65| + |0-0.45| + |1-0.55| + |1-0.35|) / 4 = 0.475.
        let probabilities = Tensor([0.15, 0.65, 0.2,  0.45, 0.3, 0.25,  0.2, 0.25, 0.55,  0.32, 0.35, 0.33], shape: [4, 3])
        let ece = Metrics.expectedCalibrationError(probabilities: probabilities, targets: Tensor([Int64(1), 1, 2, 1]), bins: 10)
        #expect(Swift.abs(ece - 0.475) < 1e-6)
        // Two in one bin: confidences 0.65 and 0.62 both right, with 5 bins: |2 - 1.27| / 2.
        let shared = Tensor([0.65, 0.35, 0.38, 0.62], shape: [2, 2])
        #expect(Swift.abs(Metrics.expectedCalibrationError(probabilities: shared, targets: Tensor([Int64(0), 1]), bins: 5) - 0.365) < 1e-6)
        #expect(Swift.abs(Metrics.perplexity(meanLoss: 2.0.squareRoot()) - 4.113250378782928) < 1e-12)
    }
}

import Testing
import TensorCore
import TensorCoreTesting
@testable import NN

@Suite("Losses match PyTorch and have correct gradients")
struct LossTests {
    let logits = Fixtures.tensor("ce_inputs", "logits")
    let targets = Fixtures.ints("ce_inputs", "targets")
    let weights = Fixtures.tensor("ce_inputs", "weights")
    let probabilities = Fixtures.tensor("ce_inputs", "probs")
    let tight = Tolerance(absolute: 1e-10, relative: 1e-9)

    @Test func crossEntropyVariants() {
        expectClose(crossEntropy(logits: logits, targets: targets), Fixtures.tensor("ce_mean"), tolerance: tight, "mean")
        expectClose(crossEntropy(logits: logits, targets: targets, reduction: .none), Fixtures.tensor("ce_none"), tolerance: tight, "none")
        expectClose(crossEntropy(logits: logits, targets: targets, classWeights: weights), Fixtures.tensor("ce_weighted"), tolerance: tight, "weighted")
        let ignored = Tensor([Int64(0), -100, 1, 1, -100])
        expectClose(crossEntropy(logits: logits, targets: ignored, ignoreIndex: -100), Fixtures.tensor("ce_ignore"), tolerance: tight, "ignore")
        expectClose(crossEntropy(logits: logits, targets: targets, labelSmoothing: 0.1), Fixtures.tensor("ce_smooth"), tolerance: tight, "smooth")
        expectClose(crossEntropy(logits: logits, targets: targets, classWeights: weights, labelSmoothing: 0.2),
                    Fixtures.tensor("ce_smooth_weighted"), tolerance: tight, "smooth weighted")
        expectClose(crossEntropy(logits: logits, targets: probabilities), Fixtures.tensor("ce_probs"), tolerance: tight, "probabilities")
        expectClose(crossEntropy(logits: logits, targets: probabilities, labelSmoothing: 0.1),
                    Fixtures.tensor("ce_probs_smooth"), tolerance: tight, "probabilities smooth")
        expectClose(nllLoss(logProbabilities: logits.logSoftmax(axis: 1), targets: targets, classWeights: weights),
                    Fixtures.tensor("nll"), tolerance: tight, "nll")
    }

    @Test func regressionAndBinaryLosses() {
        let p = Fixtures.tensor("reg_inputs", "p"), q = Fixtures.tensor("reg_inputs", "q")
        let t = Fixtures.tensor("bin_inputs", "t")
        expectClose(meanSquaredError(predictions: p, targets: q), Fixtures.tensor("mse"), tolerance: tight, "mse")
        expectClose(l1Loss(predictions: p, targets: q, reduction: .sum), Fixtures.tensor("l1"), tolerance: tight, "l1")
        expectClose(smoothL1Loss(predictions: p, targets: q, beta: 0.5), Fixtures.tensor("smooth_l1"), tolerance: tight, "smooth l1")
        expectClose(huberLoss(predictions: p, targets: q, delta: 0.7), Fixtures.tensor("huber"), tolerance: tight, "huber")
        expectClose(binaryCrossEntropy(probabilities: p.sigmoid(), targets: t), Fixtures.tensor("bce"), tolerance: tight, "bce")
        expectClose(binaryCrossEntropyWithLogits(logits: p * 10, targets: t), Fixtures.tensor("bce_logits"), tolerance: tight, "bce logits")
        expectClose(binaryCrossEntropyWithLogits(logits: p, targets: t, positiveWeight: Tensor([1.0, 2.0, 0.5, 3.0] as [Double], shape: [4])),
                    Fixtures.tensor("bce_logits_pos"), tolerance: tight, "bce logits positive weight")
        expectClose(klDivergence(logProbabilities: q.logSoftmax(axis: 1), targets: p.softmax(axis: 1)), Fixtures.tensor("kl"), tolerance: tight, "kl")
        expectClose(multiMarginLoss(logits: logits, targets: targets), Fixtures.tensor("margin"), tolerance: tight, "multi margin")
        expectClose(cosineEmbeddingLoss(p, q, targets: Tensor([Int64(1), -1, 1]), margin: 0.1), Fixtures.tensor("cosine"), tolerance: tight, "cosine")
    }

    @Test func lossGradientsMatchCentralDifferences() {
        GradientCheck.check([logits], "crossEntropy smoothed weighted") {
            crossEntropy(logits: $0[0], targets: targets, classWeights: weights, labelSmoothing: 0.1)
        }
        GradientCheck.check([logits], "crossEntropy probabilities") { crossEntropy(logits: $0[0], targets: probabilities) }
        let p = Fixtures.tensor("reg_inputs", "p"), t = Fixtures.tensor("bin_inputs", "t")
        GradientCheck.check([p], "bce with logits") { binaryCrossEntropyWithLogits(logits: $0[0], targets: t) }
        GradientCheck.check([p], "huber") { huberLoss(predictions: $0[0], targets: t, delta: 0.7) }
        GradientCheck.check([logits], "multi margin") { multiMarginLoss(logits: $0[0], targets: targets) }
    }

    @Test func binaryCrossEntropyWithLogitsIsStableForHugeLogits() {
        let loss = binaryCrossEntropyWithLogits(logits: Tensor([1000, -1000], shape: [2]), targets: Tensor([0, 1], shape: [2]))
        #expect(Swift.abs(loss.item() - 1000) < 1e-3)
    }
}

import NN
import TensorCore

/// Adversarial examples for classifiers whose inputs live in [0, 1] (Goodfellow et al. 2015,
/// Madry et al. 2018). The model is evaluated as given (put it in eval mode first).
public enum Adversarial {
    /// Gradient of the cross-entropy with respect to the input.
    static func inputGradient(_ model: Module, _ x: Tensor, _ labels: Tensor) -> Tensor {
        let input = x.detached().requiringGrad()
        let loss = withGradients(enabled: true) { crossEntropy(logits: model(input), targets: labels) }
        return gradients(of: [loss], withRespectTo: [input])[0]
    }

    /// Fast gradient sign method: `clamp(x + ε · sign(∇ₓ loss), 0, 1)`.
    public static func fgsm(model: Module, images: Tensor, labels: Tensor, epsilon: Double) -> Tensor {
        tensorCheck(epsilon >= 0, "[fgsm] epsilon must be non-negative, got \(epsilon)")
        guard epsilon > 0 else { return images }
        let g = inputGradient(model, images, labels)
        return withoutGradients { (images + g.sign() * epsilon).clamped(min: 0, max: 1) }
    }

    /// Projected gradient descent in the L∞ ball of radius ε: `steps` signed steps of
    /// `stepSize`, each projected back onto the ball and [0, 1], from a random start if asked.
    public static func pgd(model: Module, images: Tensor, labels: Tensor, epsilon: Double, stepSize: Double,
                           steps: Int, randomStart: Bool = true, generator: RandomGenerator? = nil) -> Tensor {
        tensorCheck(epsilon >= 0 && stepSize > 0 && steps > 0, "[pgd] needs epsilon >= 0, stepSize > 0, steps > 0")
        guard epsilon > 0 else { return images }
        let lower = (images - epsilon).clamped(min: 0), upper = (images + epsilon).clamped(max: 1)
        var x = images
        if randomStart {
            x = (images + Tensor.rand(images.shape, low: -epsilon, high: epsilon, dtype: images.dtype, device: images.device,
                                         generator: generator))
                .clamped(min: 0, max: 1)
        }
        for _ in 0..<steps {
            let g = inputGradient(model, x, labels)
            x = withoutGradients { (x + g.sign() * stepSize).maximum(lower).minimum(upper) }
        }
        return x
    }

    /// Fraction of `images` classified as `labels`, in batches.
    public static func accuracy(model: Module, images: Tensor, labels: Tensor, batchSize: Int = 500) -> Double {
        withoutGradients {
            var correct = 0
            var start = 0
            while start < images.shape[0] {
                let n = Swift.min(batchSize, images.shape[0] - start)
                let logits = model(images.narrowed(axis: 0, start: start, length: n))
                let hits = logits.argmax(axis: 1) .== labels.narrowed(axis: 0, start: start, length: n)
                correct += Int(hits.cast(to: .int64).sum().item(as: Int64.self))
                start += n
            }
            return Double(correct) / Double(Swift.max(images.shape[0], 1))
        }
    }

    /// The loss on PGD examples of a batch, for adversarial training (Madry et al.): the model
    /// is switched to eval while the attack runs and back to training for the returned loss.
    public static func adversarialLoss(model: Module, images: Tensor, labels: Tensor, epsilon: Double,
                                       stepSize: Double, steps: Int, generator: RandomGenerator? = nil) -> Tensor {
        model.eval()
        let adversarial = pgd(model: model, images: images, labels: labels, epsilon: epsilon, stepSize: stepSize,
                              steps: steps, generator: generator)
        model.train()
        return crossEntropy(logits: model(adversarial), targets: labels)
    }
}

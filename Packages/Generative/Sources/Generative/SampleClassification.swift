import Foundation
import NN
import Optim
import TensorCore
import Training
import Vision

/// What a classifier trained on real images says of generated ones: the GAN papers' check
/// that samples look like the classes and cover them all. A sample is confident when the
/// classifier's largest probability reaches `threshold`; `histogram` counts the predicted
/// classes; for a conditional model `conditionedAccuracy` is the fraction predicted as the
/// class it was conditioned on.
public struct SampleClassification: Equatable, Sendable {
    /// The predicted class of each sample.
    public let predictions: [Int]
    /// The largest softmax probability of each sample.
    public let confidences: [Double]
    /// Samples predicted as each class.
    public let histogram: [Int]
    /// The probability a confident prediction reaches.
    public let threshold: Double
    /// Fraction predicted as the conditioning class (nil when unconditional).
    public let conditionedAccuracy: Double?

    /// Classifies `images` `[N, C, H, W]` with `classifier` (logits; evaluation mode, no
    /// recording; it returns to the mode it was in) in batches of 500.
    public init(classifier: Module, images: Tensor, conditionedOn labels: Tensor? = nil, threshold: Double = 0.9) {
        tensorCheck(images.rank == 4 && images.shape[0] > 0, "[SampleClassification] images \(shapeText(images.shape)) should be [N, C, H, W]")
        tensorCheck(labels.map { $0.shape == [images.shape[0]] } ?? true,
                    "[SampleClassification] labels \(shapeText(labels?.shape ?? [])) should be [\(images.shape[0])]")
        let wasTraining = classifier.isTraining
        classifier.eval()
        defer { classifier.train(wasTraining) }
        var predictions: [Int] = [], confidences: [Double] = [], classes = 1
        withoutGradients {
            for start in stride(from: 0, to: images.shape[0], by: 500) {
                let batch = images.narrowed(axis: 0, start: start, length: Swift.min(500, images.shape[0] - start))
                let probabilities = classifier(batch).softmax(axis: 1)
                classes = probabilities.shape[1]
                predictions += probabilities.argmax(axis: 1).scalars(as: Int64.self).map { Int($0) }
                confidences += probabilities.max(axis: 1).cast(to: .float64).scalars(as: Double.self)
            }
        }
        var histogram = [Int](repeating: 0, count: classes)
        for p in predictions { histogram[p] += 1 }
        self.predictions = predictions
        self.confidences = confidences
        self.histogram = histogram
        self.threshold = threshold
        conditionedAccuracy = labels.map { labels in
            let wanted = labels.scalars(as: Int64.self)
            return Double(zip(predictions, wanted).filter { Int64($0) == $1 }.count) / Double(predictions.count)
        }
    }

    /// Fraction of samples predicted with probability ≥ `threshold`.
    public var confidentFraction: Double {
        Double(confidences.filter { $0 >= threshold }.count) / Double(Swift.max(confidences.count, 1))
    }

    /// Fraction of samples predicted as each of `classCount` classes.
    public func classFractions(classCount: Int) -> [Double] {
        (0..<classCount).map { Double($0 < histogram.count ? histogram[$0] : 0) / Double(Swift.max(predictions.count, 1)) }
    }

    /// `classifier_confident_fraction`, `class_fraction_<k>` for every class, their min and max,
    /// and `conditioned_class_accuracy`.
    public var figures: [String: Double] {
        let fractions = classFractions(classCount: histogram.count)
        var figures = ["classifier_confident_fraction": confidentFraction, "class_fraction_min": fractions.min() ?? 0,
                       "class_fraction_max": fractions.max() ?? 0, "classified_samples": Double(predictions.count)]
        for (k, f) in fractions.enumerated() { figures["class_fraction_\(k)"] = f }
        if let conditionedAccuracy { figures["conditioned_class_accuracy"] = conditionedAccuracy }
        return figures
    }

    /// One line for the log: the confident fraction and the histogram.
    public var summary: String {
        var text = String(format: "classifier on %d samples: %.1f%% with confidence ≥ %.2f; classes ", predictions.count,
                          100 * confidentFraction, threshold)
        text += classFractions(classCount: histogram.count).enumerated()
            .map { String(format: "%d: %.1f%%", $0.offset, 100 * $0.element) }.joined(separator: ", ")
        if let conditionedAccuracy { text += String(format: "; %.1f%% of the conditioned class", 100 * conditionedAccuracy) }
        return text
    }

    /// A LeNet-5 trained on real images (SGD with momentum 0.9, learning rate 0.05, cosine
    /// schedule, batch 64) and its test accuracy: the judge of generated digits.
    public static func trainLeNet(train: TensorDataset, test: TensorDataset, epochs: Int = 3, seed: UInt64 = 0,
                                  log: @escaping (String) -> Void = { print($0) }) throws -> (classifier: LeNet5, testAccuracy: Double) {
        let classifier = LeNet5(generator: RandomGenerator(seed: seed))
        let optimizer = SGD(parameters: classifier.parameters(), learningRate: 0.05, momentum: 0.9)
        let loader = DataLoader(train, batchSize: 64, sampler: RandomSampler(seed: seed))
        let trainer = Trainer(model: classifier, optimizer: optimizer,
                              schedule: CosineAnnealingSchedule(optimizer, maxSteps: epochs * loader.batchCount),
                              configuration: TrainerConfiguration(epochs: epochs, scheduleStepsPerBatch: true))
        trainer.log = log
        try trainer.fit(loader)
        let accuracy = trainer.evaluate(DataLoader(test, batchSize: 500, prefetch: false)).accuracy ?? 0
        return (classifier, accuracy)
    }
}

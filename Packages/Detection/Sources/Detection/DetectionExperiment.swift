import Foundation
import NN
import Optim
import TensorCore
import Training
import Vision

/// The homework's detection experiment: a `GridDetector` trained on generated shapes through
/// the `Trainer` (AdamW under a cosine schedule) and scored by mAP@0.5 on held-out generated
/// images after every epoch.
public enum DetectionExperiment {
    /// How the experiment runs; `Codable` for results.json.
    public struct Configuration: Codable, Equatable, Sendable {
        /// The network.
        public var detector = GridDetectorConfiguration()
        /// Generated training images (seed `seed`) and held-out test images (seed `seed + 10⁶`).
        public var trainImages = 4000, testImages = 500
        /// Passes over the training images.
        public var epochs = 10
        /// Images per step.
        public var batchSize = 32
        /// AdamW's peak rate (cosine-annealed to 0).
        public var learningRate = 3e-3
        /// AdamW's decoupled weight decay.
        public var weightDecay = 1e-4
        /// Weight of the GIoU box loss against the objectness and class terms.
        public var boxWeight = 2.0
        /// Initialisation, data and shuffling seed.
        public var seed: UInt64 = 0
        /// The defaults.
        public init() {}
    }

    /// What a run produced.
    public struct Result {
        /// The trained detector.
        public var model: GridDetector
        /// The held-out images and their truth.
        public var test: ShapesDataset
        /// The detector's detections on them.
        public var detections: [ImageDetections]
        /// Per-epoch `train_loss` and `test_map`.
        public var history: TrainingHistory
        /// `test_map` (mAP@0.5), `test_map_50_95` (COCO's mean over IoU 0.5–0.95),
        /// `test_ap_<class>`, `seconds` and the trainer's figures.
        public var final: [String: Double]
    }

    /// Trains and evaluates as `configuration` says.
    public static func run(_ c: Configuration, log: @escaping (String) -> Void = { print($0) }) throws -> Result {
        tensorCheck(c.trainImages > 0 && c.testImages > 0 && c.epochs > 0 && c.batchSize > 0,
                    "[DetectionExperiment] images (\(c.trainImages), \(c.testImages)), epochs \(c.epochs) and batch size \(c.batchSize) must be positive")
        let started = Date()
        let size = c.detector.imageSize
        let train = ShapesDataset(count: c.trainImages, imageSize: size, seed: c.seed)
        let test = ShapesDataset(count: c.testImages, imageSize: size, seed: c.seed &+ 1_000_000)
        let model = GridDetector(c.detector, generator: RandomGenerator(seed: c.seed))
        let batchesPerEpoch = (c.trainImages + c.batchSize - 1) / c.batchSize
        let optimizer = AdamW(parameters: model.parameters(), learningRate: c.learningRate, weightDecay: c.weightDecay)
        let trainer = Trainer(model: model, optimizer: optimizer,
                              schedule: CosineAnnealingSchedule(optimizer, maxSteps: c.epochs * batchesPerEpoch),
                              configuration: TrainerConfiguration(epochs: c.epochs, gradientClipNorm: 10, showsProgress: false))
        trainer.log = log
        // In chunks of 250 images: the whole test set at once would hold every activation.
        func detectTest() -> [ImageDetections] {
            stride(from: 0, to: test.count, by: 250).flatMap { start in
                model.detect(test.images.narrowed(axis: 0, start: start, length: Swift.min(250, test.count - start)))
            }
        }
        try trainer.fit(batchesPerEpoch: batchesPerEpoch, batches: { epoch -> [[Int]] in
            let order = permutation(c.trainImages, seed: c.seed &+ UInt64(epoch))
            return stride(from: 0, to: order.count, by: c.batchSize).map { Array(order[$0..<Swift.min($0 + c.batchSize, order.count)]) }
        }, step: { indices in
            let images = train.images.indexSelect(axis: 0, indices: Tensor(indices.map(Int64.init)))
            let output = model(images)
            let loss = model.loss(output, model.targets(indices.map { train.targets[$0] }), boxWeight: c.boxWeight)
            return TrainingStepOutput(loss: loss.total, count: indices.count)
        }, evaluate: {
            ["test_map": AveragePrecision.evaluate(detections: detectTest(), groundTruth: test.targets, classes: c.detector.classes).mean]
        })

        let detections = detectTest()
        let ap = AveragePrecision.evaluate(detections: detections, groundTruth: test.targets, classes: c.detector.classes)
        var final = trainer.finalFigures()
        final["test_map"] = ap.mean
        // COCO's stricter summary: the mean over IoU thresholds 0.50, 0.55, …, 0.95.
        final["test_map_50_95"] = (0..<10).map {
            AveragePrecision.evaluate(detections: detections, groundTruth: test.targets, classes: c.detector.classes,
                                      iouThreshold: 0.5 + 0.05 * Double($0)).mean
        }.reduce(0, +) / 10
        for (k, value) in ap.perClass.enumerated() {
            final["test_ap_\(k < ShapesDataset.classNames.count ? ShapesDataset.classNames[k] : String(k))"] = value
        }
        final["seconds"] = Date().timeIntervalSince(started)
        final["parameters"] = Double(model.parameterCount)
        return Result(model: model, test: test, detections: detections, history: trainer.history, final: final)
    }
}

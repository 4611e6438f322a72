import CheckpointHDF5
import Detection
import Foundation
import TensorCore
import Training

/// `tessera train detector`: the Detection library's single-shot grid detector on generated
/// shapes, scored by mAP@0.5 on held-out generated images.
public struct DetectionCommand {
    static let spec = CommandSpec(
        usage: "tessera train detector [options]",
        summary: """
        Generates 64×64 images of 1-5 circles, squares and triangles of 8-24 pixels with their
        boxes (seeded; the test images from another seed), trains a YOLO-style grid detector (a
        four-block CNN to an 8×8 grid, per cell objectness, box and class; GIoU box loss) with
        AdamW under a cosine schedule, and scores it by VOC mAP@0.5 after every epoch. Writes
        results.json (final.test_map, test_map_50_95, test_ap_circle, test_ap_square,
        test_ap_triangle), metrics.csv,
        curves.svg, detections.png (test images with the boxes scoring 30 % or more, their classes
        and scores; the true boxes in white) and model.h5 to --out.
        """,
        options: [
            OptionSpec("epochs", "N", "passes over the training images (default 10)"),
            OptionSpec("batch-size", "B", "images per step (default 32)"),
            OptionSpec("lr", "X", "AdamW peak learning rate (default 0.003)"),
            OptionSpec("train-images", "N", "generated training images (default 4000)"),
            OptionSpec("test-images", "N", "generated held-out images (default 500)"),
        ] + OptionSpec.runOptions(out: "runs/detector-shapes", data: false))
    public static var usage: String { spec.help }

    public var configuration = DetectionExperiment.Configuration()
    public var options: RunOptions
    var arguments: [String]

    public init(arguments: [String]) throws {
        self.arguments = arguments
        let args = try Self.spec.parse(arguments)
        _ = try args.onlyPositional(from: ["detector"], usage: "tessera train")
        configuration.epochs = try args.value("epochs", default: 10, where: { $0 >= 1 && $0 <= 10_000 }, expected: "an integer in 1...10000")
        configuration.batchSize = try args.value("batch-size", default: 32, where: { $0 >= 1 && $0 <= 4096 }, expected: "an integer in 1...4096")
        configuration.learningRate = try args.value("lr", default: 3e-3, where: { $0 > 0 && $0.isFinite }, expected: "a positive number")
        configuration.trainImages = try args.value("train-images", default: 4000, where: { $0 >= 1 && $0 <= 200_000 }, expected: "an integer in 1...200000")
        configuration.testImages = try args.value("test-images", default: 500, where: { $0 >= 1 && $0 <= 100_000 }, expected: "an integer in 1...100000")
        options = try RunOptions(args)
        configuration.seed = options.seed
        try options.refuseCheckpoints("the detector trains in minutes and is not checkpointed")
    }

    public func run(print output: (String) -> Void = { Swift.print($0) }) throws {
        try withoutActuallyEscaping(output) { try detect(print: $0) }
    }

    func detect(print output: @escaping (String) -> Void) throws {
        let out = try options.prepare(defaultOut: "runs/detector-shapes")
        output("training a grid detector on \(configuration.trainImages) generated shapes images, testing on \(configuration.testImages)")
        let result = try DetectionExperiment.run(configuration, log: output)
        let recorded: [String: JSONValue] = ["command": .string("tessera " + (["train"] + arguments).joined(separator: " ")),
                                             "model": "detector", "dataset": "shapes",
                                             "classes": .array(ShapesDataset.classNames.map { .string($0) })]
        try RunRecord.write(history: result.history, configuration: recorded, settings: configuration, final: result.final, model: result.model,
                            epoch: configuration.epochs, metadata: ["kind": .string("grid-detector"), "dataset": .string("shapes")],
                            to: out, print: output)
        let shown = Swift.min(16, result.test.count)
        try saveDetectionGrid(result.test.images.narrowed(axis: 0, start: 0, length: shown), detections: Array(result.detections.prefix(shown)),
                              truth: Array(result.test.targets.prefix(shown)), classNames: ShapesDataset.classNames, to: out + "/detections.png")
        output("wrote \(out)/results.json and \(out)/detections.png")
    }
}

import CheckpointHDF5
import Datasets
import Foundation
import Generative
import TensorCore
import Vision

/// `tessera sample vae --checkpoint FILE --out FILE.png`: images from a VAE saved by
/// `tessera train vae`: samples from the prior (of one class for a conditional model) or, with
/// `--interpolate`, decodings along lines between the latent means of pairs of test images.
public struct GenerativeSampleCommand {
    static let spec = CommandSpec(
        usage: "tessera sample vae --checkpoint FILE --out FILE.png [options]",
        summary: """
        Draws images from a VAE saved by `tessera train vae` as a PNG grid: --count samples from
        the prior (all of class --class for a conditional model, else classes in turn), or with
        --interpolate, 8 rows decoding the straight line between the latent means of two test images.
        """,
        options: [
            OptionSpec("checkpoint", "FILE", "model.h5 written by `tessera train vae` (required)"),
            OptionSpec("out", "FILE", "the PNG grid to write (required)"),
            OptionSpec("count", "N", "samples to draw (default 64)"),
            OptionSpec("class", "C", "the class of every sample (conditional models)"),
            OptionSpec("interpolate", nil, "interpolate between pairs of test images instead (needs the dataset)"),
            OptionSpec("steps", "S", "images per interpolation row (default 10)"),
            OptionSpec("seed", "S", "sampling seed (default 0)"),
            .data,
        ])
    public static var usage: String { spec.help }

    public var checkpoint: String
    public var out: String
    public var count = 64
    public var classIndex: Int?
    public var interpolate = false
    public var steps = 10
    public var seed: UInt64 = 0
    public var dataRoot: String?

    public init(arguments: [String]) throws {
        let args = try Self.spec.parse(arguments)
        guard args.positional == ["vae"] else { throw UsageError("expected a model: tessera sample vae --checkpoint FILE --out FILE.png") }
        guard let checkpoint = args.values["checkpoint"] else { throw UsageError("--checkpoint FILE is required") }
        guard let out = args.values["out"] else { throw UsageError("--out FILE.png is required") }
        guard out.hasSuffix(".png") else { throw UsageError("--out \(out): write a .png grid") }
        self.checkpoint = checkpoint
        self.out = out
        count = try args.value("count", default: 64, where: { $0 > 0 && $0 <= 10_000 }, expected: "an integer in 1...10000")
        if args.values["class"] != nil {
            classIndex = try args.value("class", default: 0, where: { $0 >= 0 }, expected: "a class index")
        }
        interpolate = args.flag("interpolate")
        steps = try args.value("steps", default: 10, where: { $0 >= 2 && $0 <= 100 }, expected: "an integer in 2...100")
        seed = try args.value("seed", default: UInt64(0))
        dataRoot = args.values["data"]
        let folder = (out as NSString).deletingLastPathComponent
        if !folder.isEmpty { try CommandChecks.prepareDirectory(folder, option: "out") }
    }

    /// Writes the grid and returns the images `[N, C, H, W]`.
    @discardableResult
    public func run(print output: (String) -> Void = { Swift.print($0) }) throws -> Tensor {
        let model = try VAE.load(from: checkpoint)
        model.eval()
        let classes = model.configuration.classCount
        if let classIndex {
            guard let classes else { throw UsageError("--class: \(checkpoint) holds an unconditional VAE") }
            guard classIndex < classes else { throw UsageError("--class \(classIndex) is outside the model's 0..<\(classes)") }
        }
        let generator = RandomGenerator(seed: seed)
        let images: Tensor
        if interpolate {
            guard case .string(let dataset)? = try CheckpointFile.attributes(of: checkpoint)["meta.dataset"] else {
                throw UsageError("--interpolate: \(checkpoint) does not record its dataset")
            }
            let test = try ImageDatasets.mnistLike(dataset, split: .test, root: dataRoot ?? DatasetLocation.defaultRoot())
            let pairs = test.inputs.narrowed(axis: 0, start: 0, length: 16).reshaped(to: [16] + model.configuration.imageShape)
            let labels = classes == nil ? nil : test.targets.narrowed(axis: 0, start: 0, length: 16)
            images = withoutGradients {
                Tensor.concatenated((0..<8).map { i in
                    model.interpolate(pairs.narrowed(axis: 0, start: 2 * i, length: 1), pairs.narrowed(axis: 0, start: 2 * i + 1, length: 1),
                                      steps: steps, labels: labels?.narrowed(axis: 0, start: 2 * i, length: 1))
                }, axis: 0)
            }
            try saveImageGrid(images, to: out, columns: steps)
        } else {
            let labels = classes.map { k in Tensor((0..<count).map { Int64(classIndex ?? ($0 % k)) }) }
            images = withoutGradients { model.sample(count: count, labels: labels, generator: generator) }
            try saveImageGrid(images, to: out)
        }
        output("\(out): \(images.shape[0]) images from \(checkpoint)")
        return images
    }
}

import CheckpointHDF5
import Datasets
import Foundation
import Generative
import TensorCore
import Vision

/// `tessera sample vae|gan|dcgan|wgan-gp --checkpoint FILE --out FILE.png|FILE.h5`: samples from
/// a generative model saved by `tessera train`: from the prior (of one class for a conditional
/// model) or, for a VAE with `--interpolate`, decodings along lines between the latent means of
/// pairs of test images; a PNG grid (a scatter plot over the data for 2-D points) or the raw
/// samples as HDF5.
public struct GenerativeSampleCommand {
    static let spec = CommandSpec(
        usage: "tessera sample vae|gan|dcgan|wgan-gp|ddpm|score|flow --checkpoint FILE --out FILE.png|FILE.h5 [options]",
        summary: """
        Draws --count samples from a model saved by `tessera train` (all of class --class for a
        conditional model, else classes in turn) as a PNG grid, or for 2-D toys a scatter plot
        over the data's density; with a .h5 --out, the raw samples: /samples [N, C, H, W] float32
        in [0, 1] (points: [N, 2]) and /labels int64 for a conditional model. A VAE with
        --interpolate draws 8 rows decoding the straight line between the latent means of two
        test images.
        """,
        options: [
            OptionSpec("checkpoint", "FILE", "model.h5 written by `tessera train MODEL` (required)"),
            OptionSpec("out", "FILE", "the PNG picture or the HDF5 file of samples to write (required)"),
            OptionSpec("count", "N", "samples to draw (default 64)"),
            OptionSpec("class", "C", "the class of every sample (conditional models)"),
            OptionSpec("interpolate", nil, "VAE: interpolate between pairs of test images instead (needs the dataset)"),
            OptionSpec("steps", "S", "VAE: images per interpolation row (default 10); ddpm: DDIM steps (default 50)"),
            OptionSpec("guidance", "W", "ddpm: classifier-free guidance weight (default 2 for a conditional model; 1: none)"),
            OptionSpec("eta", "E", "ddpm: DDIM's η (default 0, deterministic; 1 with --steps equal to the model's timesteps is DDPM)"),
            OptionSpec("seed", "S", "sampling seed (default 0)"),
            .data,
        ])
    public static var usage: String { spec.help }

    /// vae, or a GAN (gan, dcgan, wgan-gp: one kind of file).
    public var model: String
    public var checkpoint: String
    public var out: String
    public var count = 64
    public var classIndex: Int?
    public var interpolate = false
    public var steps = 10
    /// Classifier-free guidance weight (ddpm; nil: 2 for a conditional model, else 1).
    public var guidance: Double?
    /// DDIM's η (ddpm).
    public var eta = 0.0
    public var seed: UInt64 = 0
    public var dataRoot: String?

    public init(arguments: [String]) throws {
        let args = try Self.spec.parse(arguments)
        guard args.positional.count == 1, let model = args.positional.first, ["vae", "gan", "dcgan", "wgan-gp", "ddpm", "score", "flow"].contains(model) else {
            throw UsageError("expected a model: tessera sample vae|gan|dcgan|wgan-gp|ddpm|score|flow --checkpoint FILE --out FILE.png")
        }
        self.model = model
        guard let checkpoint = args.values["checkpoint"] else { throw UsageError("--checkpoint FILE is required") }
        guard let out = args.values["out"] else { throw UsageError("--out FILE.png is required") }
        guard out.hasSuffix(".png") || out.hasSuffix(".h5") else { throw UsageError("--out \(out): write a .png picture or .h5 samples") }
        self.checkpoint = checkpoint
        self.out = out
        count = try args.value("count", default: 64, where: { $0 > 0 && $0 <= 10_000 }, expected: "an integer in 1...10000")
        if args.values["class"] != nil {
            classIndex = try args.value("class", default: 0, where: { $0 >= 0 }, expected: "a class index")
        }
        interpolate = args.flag("interpolate")
        if interpolate && model != "vae" { throw UsageError("--interpolate: only a VAE has a latent space to interpolate in") }
        if interpolate && out.hasSuffix(".h5") { throw UsageError("--interpolate writes a .png grid, not \(out)") }
        if model == "ddpm" {
            steps = try args.value("steps", default: 50, where: { $0 >= 1 && $0 <= 100_000 }, expected: "an integer in 1...100000")
            if args.values["guidance"] != nil {
                guidance = try args.value("guidance", default: 1.0, where: { $0 >= 0 && $0 <= 100 }, expected: "a number in 0...100")
            }
            eta = try args.value("eta", default: 0.0, where: { $0 >= 0 && $0 <= 10 }, expected: "a number in 0...10")
        } else {
            steps = try args.value("steps", default: 10, where: { $0 >= 2 && $0 <= 100 }, expected: "an integer in 2...100")
            if args.values["guidance"] != nil || args.values["eta"] != nil { throw UsageError("--guidance and --eta apply to ddpm only") }
        }
        seed = try args.value("seed", default: UInt64(0))
        dataRoot = args.values["data"]
        let folder = (out as NSString).deletingLastPathComponent
        if !folder.isEmpty { try CommandChecks.prepareDirectory(folder, option: "out") }
    }

    /// Writes the picture or file and returns the samples (`[N, C, H, W]` images or `[N, D]` points).
    @discardableResult
    public func run(print output: (String) -> Void = { Swift.print($0) }) throws -> Tensor {
        let drawn: (samples: Tensor, labels: Tensor?, dataShape: [Int])
        if model == "vae" {
            if interpolate { return try interpolateVAE(print: output) }
            let vae = try VAE.load(from: checkpoint)
            vae.eval()
            let labels = try conditioning(vae.configuration.classCount, "VAE")
            drawn = (withoutGradients { vae.sample(count: count, labels: labels, generator: RandomGenerator(seed: seed)) },
                     labels, vae.configuration.imageShape)
        } else if model == "score" || model == "flow" {
            if classIndex != nil { throw UsageError("--class: a \(model) model of 2-D points has no classes") }
            let generator = RandomGenerator(seed: seed)
            let points: Tensor
            if model == "score" {
                let score = try ScoreModel.load(from: checkpoint)
                points = score.sample(count: count, generator: generator)
            } else {
                let flow = try RealNVP.load(from: checkpoint)
                points = withoutGradients { flow.sample(count: count, generator: generator) }
            }
            drawn = (points, nil, [points.shape[1]])
        } else if model == "ddpm" {
            let diffusion = try Diffusion.load(from: checkpoint)
            let classes = diffusion.configuration.classCount
            let labels = try conditioning(classes, "diffusion model")
            let weight = guidance ?? (classes != nil && diffusion.configuration.conditionDropout > 0 ? 2 : 1)
            guard steps <= diffusion.configuration.timesteps else {
                throw UsageError("--steps \(steps) is more than the model's \(diffusion.configuration.timesteps) timesteps")
            }
            if weight != 1 && classes == nil { throw UsageError("--guidance \(weight): \(checkpoint) holds an unconditional diffusion model") }
            if weight != 1 && diffusion.configuration.conditionDropout == 0 {
                throw UsageError("--guidance \(weight): \(checkpoint) was trained without dropping the class, so it has no unconditional model")
            }
            let generator = RandomGenerator(seed: seed)
            var batches: [Tensor] = []
            for start in stride(from: 0, to: count, by: 100) {
                let n = Swift.min(100, count - start)
                batches.append(diffusion.sampleDDIM(count: n, steps: steps, eta: eta, labels: labels?.narrowed(axis: 0, start: start, length: n),
                                                    guidance: weight, generator: generator))
            }
            drawn = (Tensor.concatenated(batches, axis: 0), labels, diffusion.configuration.imageShape)
        } else {
            let gan = try GAN.load(from: checkpoint)
            let labels = try conditioning(gan.configuration.classCount, "GAN")
            drawn = (gan.sample(count: count, labels: labels, generator: RandomGenerator(seed: seed)), labels, gan.configuration.dataShape)
        }
        try write(drawn.samples, labels: drawn.labels, isImage: drawn.dataShape.count == 3)
        output("\(out): \(drawn.samples.shape[0]) samples from \(checkpoint)")
        return drawn.samples
    }

    /// The labels of `count` samples (`--class`, else classes in turn) for a model of `classes`
    /// classes; nil for an unconditional one (where `--class` is a usage error).
    func conditioning(_ classes: Int?, _ kind: String) throws -> Tensor? {
        if let classIndex {
            guard let classes else { throw UsageError("--class: \(checkpoint) holds an unconditional \(kind)") }
            guard classIndex < classes else { throw UsageError("--class \(classIndex) is outside the \(kind)'s classes 0..<\(classes)") }
        }
        return classes.map { k in Tensor((0..<count).map { Int64(classIndex ?? ($0 % k)) }) }
    }

    /// The samples as `out` asks: HDF5 arrays, an image grid, or a scatter plot of 2-D points
    /// over the toy the model was trained on (recorded in the file).
    func write(_ samples: Tensor, labels: Tensor?, isImage: Bool) throws {
        if out.hasSuffix(".h5") {
            var arrays = ["samples": samples.cast(to: .float32)]
            if let labels { arrays["labels"] = labels.cast(to: .int64) }
            try CheckpointFile.saveArrays(arrays, attributes: ["checkpoint": .string(checkpoint), "seed": .number(Double(seed))], to: out)
        } else if isImage {
            try saveImageGrid(samples, to: out, columns: classIndex == nil && labels != nil ? 10 : 8)
        } else {
            guard samples.shape[1] == 2 else { throw UsageError("--out \(out): \(samples.shape[1])-D points are drawn only as .h5") }
            var reference = samples
            if case .string(let name)? = try CheckpointFile.attributes(of: checkpoint)["meta.dataset"], let toy = ToyDistribution(rawValue: name) {
                reference = toy.sample(20_000, generator: RandomGenerator(seed: seed &+ 1)).points
            }
            try saveScatterPlot(samples: samples, over: reference, to: out)
        }
    }

    /// Interpolations of a VAE between pairs of test images, as a grid.
    func interpolateVAE(print output: (String) -> Void) throws -> Tensor {
        let model = try VAE.load(from: checkpoint)
        model.eval()
        let classes = model.configuration.classCount
        guard case .string(let dataset)? = try CheckpointFile.attributes(of: checkpoint)["meta.dataset"] else {
            throw UsageError("--interpolate: \(checkpoint) does not record its dataset")
        }
        let test = try ImageDatasets.mnistLike(dataset, split: .test, root: dataRoot ?? DatasetLocation.defaultRoot())
        let pairs = test.inputs.narrowed(axis: 0, start: 0, length: 16).reshaped(to: [16] + model.configuration.imageShape)
        let labels = classes == nil ? nil : test.targets.narrowed(axis: 0, start: 0, length: 16)
        let images = withoutGradients {
            Tensor.concatenated((0..<8).map { i in
                model.interpolate(pairs.narrowed(axis: 0, start: 2 * i, length: 1), pairs.narrowed(axis: 0, start: 2 * i + 1, length: 1),
                                  steps: steps, labels: labels?.narrowed(axis: 0, start: 2 * i, length: 1))
            }, axis: 0)
        }
        try saveImageGrid(images, to: out, columns: steps)
        output("\(out): \(images.shape[0]) images from \(checkpoint)")
        return images
    }
}

import CheckpointHDF5
import Foundation
import NN
import TensorCore
import Training

/// A saved generative model that cannot be used as asked.
public enum GenerativeModelError: Error, CustomStringConvertible, Equatable {
    /// The file holds no model saved by a generative training run (the attribute is missing).
    case notAGenerativeModel(path: String, missing: String)
    /// The file holds another kind of model.
    case wrongModel(path: String, expected: String, found: String)
    /// The recorded configuration does not decode, or the weights do not fit it.
    case mismatch(path: String, reason: String)

    public var description: String {
        switch self {
        case let .notAGenerativeModel(path, missing):
            return "\(path) is not a model saved by a `tessera train` generative run (no '\(missing)' attribute)"
        case let .wrongModel(path, expected, found):
            return "\(path) holds a \(found) model, not a \(expected)"
        case let .mismatch(path, reason):
            return "\(path) does not rebuild its model: \(reason)"
        }
    }
}

/// Creates a training run's output folder (and its parents) before any work, as a typed error.
func createOutputDirectory(_ path: String) throws {
    do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
    catch { throw TrainingError.cannotWrite(path: path, reason: "\(error)") }
}

/// Reads a model saved by a generative training run: its `kind` attribute must be `kind`, its
/// `config` must decode as `Configuration` and the weights must fit what `build` makes of it.
func loadGenerativeModel<Configuration: Decodable, Model: Module>(from path: String, kind: String,
                                                                   build: (Configuration) -> Model) throws -> Model {
    let saved = try CheckpointFile.load(from: path)
    guard case .string(let found)? = saved.metadata["kind"] else { throw GenerativeModelError.notAGenerativeModel(path: path, missing: "kind") }
    guard found == kind else { throw GenerativeModelError.wrongModel(path: path, expected: kind, found: found) }
    guard case .string(let text)? = saved.metadata["config"] else { throw GenerativeModelError.notAGenerativeModel(path: path, missing: "config") }
    let configuration: Configuration
    do { configuration = try JSONDecoder().decode(Configuration.self, from: Data(text.utf8)) } catch {
        throw GenerativeModelError.mismatch(path: path, reason: "configuration does not decode (\(error))")
    }
    let model = build(configuration)
    do { try model.loadStateDict(saved.model) } catch {
        throw GenerativeModelError.mismatch(path: path, reason: "weights do not fit the configuration (\(error))")
    }
    return model
}

extension VAE {
    /// The VAE saved at `path` by `VAETraining` (its `kind` and `config` attributes, then the
    /// weights); typed errors name what does not fit.
    public static func load(from path: String) throws -> VAE {
        try loadGenerativeModel(from: path, kind: "vae") { VAE($0) }
    }
}

extension GAN {
    /// The GAN saved at `path` by `GANTraining`; typed errors name what does not fit.
    public static func load(from path: String) throws -> GAN {
        try loadGenerativeModel(from: path, kind: "gan") { GAN($0) }
    }
}

extension ScoreModel {
    /// The score model saved at `path` by `tessera train score`; typed errors name what does not fit.
    public static func load(from path: String) throws -> ScoreModel {
        try loadGenerativeModel(from: path, kind: "score") { ScoreModel($0) }
    }
}

extension RealNVP {
    /// The flow saved at `path` by `tessera train flow`; typed errors name what does not fit.
    public static func load(from path: String) throws -> RealNVP {
        try loadGenerativeModel(from: path, kind: "flow") { RealNVP($0) }
    }
}

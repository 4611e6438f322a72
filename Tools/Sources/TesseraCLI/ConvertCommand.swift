import CheckpointHDF5
import Foundation
import Safetensors
import TensorCore

/// `tessera convert IN OUT`: a model's weights between HDF5 checkpoints and safetensors.
public struct ConvertCommand {
    static let spec = CommandSpec(
        usage: "tessera convert IN OUT",
        summary: """
        Converts a model's state dict between Tessera's HDF5 checkpoints (.h5) and safetensors
        (.safetensors), by the files' extensions. Metadata travels as strings; optimizer state
        stays behind (safetensors holds tensors only).
        """,
        options: [])
    public static var usage: String { spec.help }

    enum Format { case hdf5, safetensors }
    let input: String, output: String
    let from: Format, to: Format

    public init(arguments: [String]) throws {
        let args = try Self.spec.parse(arguments)
        guard args.positional.count == 2 else { throw UsageError("expected IN and OUT, got \(args.positional.count) paths") }
        func format(_ path: String) throws -> Format {
            if path.hasSuffix(".h5") { return .hdf5 }
            if path.hasSuffix(".safetensors") { return .safetensors }
            throw UsageError("'\(path)' is neither .h5 nor .safetensors")
        }
        input = args.positional[0]
        output = args.positional[1]
        from = try format(input)
        to = try format(output)
    }

    public func run(print output: (String) -> Void = { Swift.print($0) }) throws {
        let tensors: [String: Tensor]
        var metadata: [String: String] = [:]
        switch from {
        case .hdf5:
            let checkpoint = try CheckpointFile.load(from: input)
            tensors = checkpoint.model
            for (key, value) in checkpoint.metadata { metadata[key] = value.description }
        case .safetensors:
            (tensors, metadata) = try Safetensors.read(from: input)
        }
        switch to {
        case .hdf5: try CheckpointFile.save(Checkpoint(model: tensors, metadata: metadata.mapValues { .string($0) }), to: self.output)
        case .safetensors: try Safetensors.write(tensors, metadata: metadata, to: self.output)
        }
        output("\(input) -> \(self.output): \(tensors.count) tensors, \(metadata.count) metadata entries")
    }
}

import CheckpointHDF5
import TensorCore

/// `tessera inspect FILE.h5`: the tree of a checkpoint with shapes, dtypes, sizes and metadata.
public struct InspectCommand {
    static let spec = CommandSpec(
        usage: "tessera inspect FILE.h5 [--verify]",
        summary: """
        Prints the checkpoint's metadata and the tree of stored tensors (shape, dtype, size)
        without reading tensor data; --verify also reads everything back as a resume would
        (the whole file's CRC-32, every tensor's checksum) and fails on any damage.
        """,
        options: [OptionSpec("verify", nil, "load every tensor and check every checksum (exit 1 when damaged)")])
    public static var usage: String { spec.help }

    public let path: String
    /// Whether to load the whole checkpoint (CRC and tensor checksums) after listing it.
    public let verify: Bool

    public init(arguments: [String]) throws {
        let args = try Self.spec.parse(arguments)
        guard args.positional.count == 1 else { throw UsageError("expected one checkpoint file") }
        path = args.positional[0]
        verify = args.flag("verify")
    }

    public func run(print output: (String) -> Void = { Swift.print($0) }) throws {
        let attributes = try CheckpointFile.attributes(of: path)
        let entries = try CheckpointFile.contents(of: path)
        output(path)
        for (key, value) in attributes.sorted(by: { $0.key < $1.key }) where key != "meta.history" {
            output("  @\(key) = \(value)")
        }
        for section in ["model", "optimizer"] {
            let items = entries.filter { $0.section == section }
            guard !items.isEmpty else { continue }
            let total = items.reduce(0) { $0 + $1.byteCount }
            output("\(section)/  (\(items.count) tensors, \(byteText(total)))")
            var previous: [Substring] = []
            for entry in items {
                let parts = entry.name.split(separator: ".")
                var shared = 0
                while shared < min(previous.count, parts.count - 1) && previous[shared] == parts[shared] { shared += 1 }
                for level in shared..<(parts.count - 1) {
                    output(String(repeating: "  ", count: level + 1) + parts[level] + "/")
                }
                output(String(repeating: "  ", count: parts.count) + "\(parts.last!)  \(entry.shape) \(entry.dtype)  \(byteText(entry.byteCount))")
                previous = Array(parts.dropLast())
            }
        }
        if verify {
            let loaded = try CheckpointFile.load(from: path)
            output("verified: \(loaded.model.count + loaded.optimizerTensors.count) tensors read, file and tensor checksums match")
        }
    }

    func byteText(_ bytes: Int) -> String {
        if bytes >= 1 << 20 { return "\((Double(bytes) / Double(1 << 20) * 10).rounded() / 10) MiB" }
        if bytes >= 1 << 10 { return "\((Double(bytes) / 1024 * 10).rounded() / 10) KiB" }
        return "\(bytes) B"
    }
}

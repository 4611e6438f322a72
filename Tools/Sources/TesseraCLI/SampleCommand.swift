import CheckpointHDF5
import Foundation
import NN
import SequenceModels
import TensorCore

/// `tessera sample gpt|char-rnn --checkpoint FILE --prompt TEXT`: continues text with a
/// model saved by `tessera train gpt|char-rnn`.
public struct SampleCommand {
    static let spec = CommandSpec(
        usage: "tessera sample gpt|char-rnn --checkpoint FILE [options]",
        summary: "Continues a prompt with a character-level model saved by `tessera train gpt|char-rnn`.",
        options: [
            OptionSpec("checkpoint", "FILE", "model.h5 written by training (required)"),
            OptionSpec("prompt", "TEXT", "text to continue (default: a newline); its characters must be in the vocabulary"),
            OptionSpec("tokens", "N", "characters to generate (default 500)"),
            OptionSpec("temperature", "T", "softmax temperature (default 0.8)"),
            OptionSpec("top-k", "K", "sample among the K most likely characters"),
            OptionSpec("top-p", "P", "sample among the most likely characters holding probability P"),
            OptionSpec("greedy", nil, "always take the most likely character"),
            OptionSpec("seed", "S", "sampling seed (default 0)"),
            .device,
        ])
    public static var usage: String { spec.help }

    public var model: String
    public var checkpoint: String
    public var prompt = "\n"
    public var tokens = 500
    public var sampling: Sampling
    public var seed: UInt64 = 0
    public var device = "cpu"

    public init(arguments: [String]) throws {
        guard let model = arguments.first, ["gpt", "char-rnn"].contains(model) else {
            if arguments.contains("--help") { throw HelpRequested(text: Self.usage) }
            throw UsageError("expected a model: tessera sample gpt|char-rnn|vae --checkpoint FILE")
        }
        self.model = model
        let args = try Self.spec.parse(Array(arguments.dropFirst()))
        guard args.positional.isEmpty else { throw UsageError("unexpected argument '\(args.positional[0])'") }
        guard let checkpoint = args.values["checkpoint"] else { throw UsageError("--checkpoint FILE is required") }
        self.checkpoint = checkpoint
        prompt = args.values["prompt"] ?? prompt
        guard !prompt.isEmpty else { throw UsageError("--prompt is empty") }
        tokens = try args.value("tokens", default: 500, where: { $0 > 0 }, expected: "a positive integer")
        let temperature = try args.value("temperature", default: 0.8, where: { $0 > 0 && $0.isFinite }, expected: "a positive number")
        var topK: Int? = nil, topP: Double? = nil
        if args.values["top-k"] != nil { topK = try args.value("top-k", default: 1, where: { $0 > 0 }, expected: "a positive integer") }
        if args.values["top-p"] != nil {
            topP = try args.value("top-p", default: 1.0, where: { $0 > 0 && $0 <= 1 }, expected: "a number in (0, 1]")
        }
        sampling = Sampling(temperature: temperature, topK: topK, topP: topP, greedy: args.flag("greedy"))
        seed = try args.value("seed", default: UInt64(0))
        device = args.values["device"] ?? device
        _ = try DeviceOption.parse(device)
    }

    /// Returns the prompt followed by the generated text.
    @discardableResult
    public func run(print output: (String) -> Void = { Swift.print($0) }) throws -> String {
        let saved = try CheckpointFile.load(from: checkpoint)
        func text(_ key: String) throws -> String {
            guard case .string(let s)? = saved.metadata[key] else {
                throw SampleError.notALanguageModel(path: checkpoint, missing: key)
            }
            return s
        }
        func number(_ key: String) throws -> Int {
            guard case .number(let v)? = saved.metadata[key] else { throw SampleError.notALanguageModel(path: checkpoint, missing: key) }
            return Int(v)
        }
        let kind = try text("kind")
        guard kind == model else { throw SampleError.wrongModel(path: checkpoint, expected: model, found: kind) }
        let tokenizer = try JSONDecoder().decode(CharacterTokenizer.self, from: Data(try text("tokenizer").utf8))
        let ids = try tokenizer.encode(prompt)
        let generator = RandomGenerator(seed: seed)
        let target = try DeviceOption.resolve(device)
        func configuration<C: Decodable>(_ type: C.Type) throws -> C {
            do { return try JSONDecoder().decode(C.self, from: Data(try text("config").utf8)) } catch let error as SampleError {
                throw error
            } catch {
                throw SampleError.notALanguageModel(path: checkpoint, missing: "a readable config (\(error))")
            }
        }
        let result: [Int]
        if model == "gpt" {
            let gpt = GPT(try configuration(GPTConfiguration.self))
            try gpt.loadStateDict(saved.model)
            gpt.move(to: target)
            result = gpt.generate(prompt: ids, count: tokens, sampling: sampling, generator: generator)
        } else {
            let config: CharRNNConfiguration
            if saved.metadata["config"] != nil {
                config = try configuration(CharRNNConfiguration.self)
            } else {
                // Checkpoints written before CharRNNConfiguration recorded the shape as attributes.
                guard let cell = RecurrentCellKind(rawValue: try text("cell")) else {
                    throw SampleError.notALanguageModel(path: checkpoint, missing: "cell")
                }
                config = CharRNNConfiguration(vocabularySize: tokenizer.vocabularySize, embeddingSize: try number("embedding"),
                                              hiddenSize: try number("hidden"), layers: try number("layers"), cell: cell)
            }
            let network = CharRNN(config)
            try network.loadStateDict(saved.model)
            network.move(to: target)
            result = network.generate(prompt: ids, count: tokens, sampling: sampling, generator: generator)
        }
        let generated = try tokenizer.decode(result)
        output(generated)
        return generated
    }
}

/// A checkpoint that `tessera sample` cannot use.
public enum SampleError: Error, CustomStringConvertible {
    case notALanguageModel(path: String, missing: String)
    case wrongModel(path: String, expected: String, found: String)

    public var description: String {
        switch self {
        case let .notALanguageModel(path, missing):
            return "\(path) is not a language-model checkpoint from `tessera train gpt|char-rnn` (no '\(missing)' attribute)"
        case let .wrongModel(path, expected, found):
            return "\(path) holds a \(found) model, not \(expected); run `tessera sample \(found) --checkpoint \(path)`"
        }
    }
}

import Foundation
import Synchronization

/// One reader under fuzzing: what an input goes through, the seeds its corpus starts from and
/// how a mutation keeps the format's lengths and checksums valid.
///
/// `run` must return for every input: it throws the reader's typed error for a bad one, and
/// stops the process (`fuzzCheck`) when a value the reader accepted breaks a property the
/// reader promises (a round trip, a range) — libFuzzer keeps either kind of crash as an input.
public struct FuzzTarget: Sendable {
    /// The name `tessera-fuzz` and `Fuzz/Corpus/<name>` use.
    public let name: String
    /// What it reads, for `tessera-fuzz list`.
    public let summary: String
    /// Which structure-aware mutation applies.
    public let structure: Structure
    /// Valid inputs made with the project's own writers (the committed corpus's `seed-*` files).
    public let seeds: @Sendable () throws -> [[UInt8]]
    let body: @Sendable ([UInt8]) throws -> Void

    /// Runs one input: returns when the reader accepted it, throws its error when it refused it.
    public func run(_ input: [UInt8]) throws { try body(input) }

    /// Whether the input was accepted (the reader's error swallowed: refusing is a pass).
    @discardableResult
    public func accepts(_ input: [UInt8]) -> Bool { (try? body(input)) != nil }
}

/// The formats whose mutations need help to reach the parser.
public enum Structure: Sendable {
    /// Bytes as they are.
    case plain
    /// Gzip or plain: a gzip input is usually inflated, mutated and deflated again (a mutated
    /// compressed stream almost never inflates).
    case gzip
    /// PNG: chunk CRCs recomputed after a mutation, and the image data often inflated, mutated
    /// and deflated again so the filters and scanlines are reached.
    case pngChunks
    /// A Tessera checkpoint: the envelope's length and CRC-32 recomputed so HDF5 sees the change.
    case checkpointEnvelope
}

/// Stops the process with `message` when a decoded value breaks a promised property: the fuzzer
/// records the input as a crash, the replay test fails.
public func fuzzCheck(_ condition: Bool, _ message: @autoclosure () -> String, file: StaticString = #fileID, line: UInt = #line) {
    if !condition { fatalError("[fuzz property] \(message())", file: file, line: line) }
}

/// Every target, in the order `tessera-fuzz list` prints them.
public enum FuzzTargets {
    /// All targets; each has a corpus folder `Fuzz/Corpus/<name>`.
    public static let all: [FuzzTarget] = [
        idx, png, checkpointLoad, checkpointListing, safetensors, digitsCSV, sentimentCSV, text, tokenizer, seriesCSV, ucrSeries,
    ]

    /// The target called `name`, if any.
    public static func named(_ name: String) -> FuzzTarget? { all.first { $0.name == name } }
}

/// Files for readers that take a path (HDF5 opens files only). Each use gets its own name (the
/// process id and a counter): targets run side by side in the replay tests.
enum ScratchFile {
    static let directory: String = {
        FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
    }()
    static let counter = Atomic<Int>(0)

    /// A fresh path ending in `suffix`.
    static func path(suffix: String) -> String {
        "\(directory)/tessera-fuzz-\(getpid())-\(counter.add(1, ordering: .relaxed).newValue)\(suffix)"
    }

    /// Runs `body` with the path of a file holding `bytes`, removed afterwards.
    static func with<R>(_ bytes: [UInt8], suffix: String, _ body: (String) throws -> R) throws -> R {
        let path = path(suffix: suffix)
        defer { try? FileManager.default.removeItem(atPath: path) }
        // A failed write would make every input look refused: stop instead of fuzzing nothing.
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
            fatalError("[fuzz] cannot write the scratch file \(path)")
        }
        return try body(path)
    }

    /// The bytes `writer` produces at a fresh path (the file removed).
    static func produced(suffix: String, by writer: (String) throws -> Void) throws -> [UInt8] {
        let path = path(suffix: suffix)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try writer(path)
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }
}

import Foundation
import Testing
import TensorCore
import TensorCoreTesting
@testable import CheckpointHDF5

func temporaryPath(_ name: String) -> String {
    let directory = NSTemporaryDirectory() + "tessera-ckpt-\(UInt64.random(in: 0..<UInt64.max))"
    try! FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    return "\(directory)/\(name)"
}

func sampleCheckpoint() -> Checkpoint {
    let g = RandomGenerator(seed: 1)
    var model: [String: Tensor] = [
        "encoder.0.weight": Tensor.randn([8, 4], generator: g),
        "encoder.0.bias": Tensor.randn([8], generator: g),
        "head.weight": Tensor.randn([3, 8], dtype: .float64, generator: g),
        "norm.running_mean": Tensor.randn([8], generator: g).cast(to: .float16),
        "embedding.weight": Tensor.randn([5, 2], generator: g).cast(to: .bfloat16),
        "counts": Tensor([Int32(1), -2, 3]),
        "steps": Tensor(scalar: Int64(1) << 40),
        "mask": Tensor.randn([6], generator: g) .> 0,
        "bytes": Tensor([UInt8(0), 255, 17]),
        "empty": Tensor.zeros([0, 3]),
        "scalar": Tensor(scalar: Float(2.5)),
    ]
    model["nan"] = Tensor([Float.nan, .infinity, -.infinity, -0.0])
    return Checkpoint(model: model,
                      optimizerTensors: ["state.0.exp_avg": Tensor.randn([8, 4], generator: g)],
                      optimizerScalars: ["state.0.step": 7, "groups.0.lr": 0.001],
                      step: 1234, epoch: 3, random: (seed: UInt64.max - 5, offset: 987_654_321_012),
                      metadata: ["dataset": .string("fashion-mnist"), "lr": .number(0.05)])
}

/// Bit patterns, so NaNs and -0 compare exactly.
func bits(_ t: Tensor) -> [UInt8] {
    let c = t.contiguous()
    let count = c.elementCount * c.dtype.byteSize
    return c.withOperand { o in
        Array(UnsafeRawBufferPointer(start: o.storage.pointer + o.layout.offset * c.dtype.byteSize, count: count))
    }
}

@Suite("Checkpoint files", .serialized)
struct CheckpointTests {
    @Test func everyDtypeRoundTripsBitExactly() throws {
        let path = temporaryPath("a.h5")
        let original = sampleCheckpoint()
        try CheckpointFile.save(original, to: path)
        let loaded = try CheckpointFile.load(from: path)
        #expect(Set(loaded.model.keys) == Set(original.model.keys))
        for (name, tensor) in original.model {
            let back = try #require(loaded.model[name])
            #expect(back.dtype == tensor.dtype, "\(name)")
            #expect(back.shape == tensor.shape, "\(name)")
            #expect(bits(back) == bits(tensor), "\(name)")
        }
        #expect(bits(loaded.optimizerTensors["state.0.exp_avg"]!) == bits(original.optimizerTensors["state.0.exp_avg"]!))
        #expect(loaded.optimizerScalars == original.optimizerScalars)
        #expect(loaded.step == 1234 && loaded.epoch == 3)
        #expect(loaded.random?.seed == UInt64.max - 5 && loaded.random?.offset == 987_654_321_012)
        #expect(loaded.metadata == original.metadata)
    }

    @Test func contentsAndLazyReadsDoNotLoadEverything() throws {
        let path = temporaryPath("b.h5")
        try CheckpointFile.save(sampleCheckpoint(), to: path, checksums: false)
        let entries = try CheckpointFile.contents(of: path)
        let weight = try #require(entries.first { $0.name == "encoder.0.weight" })
        #expect(weight.shape == [8, 4] && weight.dtype == .float32 && weight.section == "model")
        #expect(entries.contains { $0.section == "optimizer" && $0.name == "state.0.exp_avg" })
        let head = try CheckpointFile.readTensor(named: "head.weight", from: path)
        #expect(head.shape == [3, 8] && head.dtype == .float64)
        #expect(throws: CheckpointError.missingEntry(path: path, name: "nope")) {
            try CheckpointFile.readTensor(named: "nope", from: path)
        }
        let attributes = try CheckpointFile.attributes(of: path)
        #expect(attributes["tessera_format"] == .number(1))
        #expect(attributes["meta.dataset"] == .string("fashion-mnist"))
    }

    @Test func badFilesGiveTypedErrors() throws {
        let missing = temporaryPath("missing.h5")
        #expect(throws: CheckpointError.missingFile(missing)) { try CheckpointFile.load(from: missing) }
        let text = temporaryPath("text.h5")
        try "not hdf5 at all".write(toFile: text, atomically: true, encoding: .utf8)
        #expect(throws: CheckpointError.notHDF5(text)) { try CheckpointFile.load(from: text) }
        let good = temporaryPath("good.h5")
        try CheckpointFile.save(sampleCheckpoint(), to: good)
        let data = try Data(contentsOf: URL(fileURLWithPath: good))
        let truncated = temporaryPath("truncated.h5")
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: truncated))
        #expect(throws: CheckpointError.self) { try CheckpointFile.load(from: truncated) }
        // libFuzzer: a file cut between the magic and the end of the header trapped reading the
        // length field; both reading paths must refuse it.
        for cut in [16, 20, 27, 511] {
            let short = temporaryPath("cut-\(cut).h5")
            try data.prefix(cut).write(to: URL(fileURLWithPath: short))
            #expect(throws: CheckpointError.corrupt(path: short, reason: "truncated inside the 512-byte header (\(cut) bytes)")) {
                try CheckpointFile.load(from: short)
            }
            #expect(throws: CheckpointError.self) { try CheckpointFile.contents(of: short) }
        }
    }

    @Test(.enabled(if: interopPythonPath != nil, "needs python3 with h5py"))
    func foreignHDF5FilesAreRecognised() throws {
        let python = try #require(interopPythonPath)
        let path = temporaryPath("foreign.h5")
        try runPython(python, "import h5py, numpy as np\nwith h5py.File('\(path)', 'w') as f: f['x'] = np.arange(3)")
        #expect(throws: CheckpointError.foreign(path: path, reason: "an HDF5 file without Tessera's header")) {
            try CheckpointFile.load(from: path)
        }
    }

    @Test func checksumsCatchFlippedDataBytes() throws {
        let path = temporaryPath("c.h5")
        let big = Tensor.randn([256, 256], generator: RandomGenerator(seed: 2))
        try CheckpointFile.save(Checkpoint(model: ["w": big]), to: path)
        var data = try Data(contentsOf: URL(fileURLWithPath: path))
        // Find the tensor's bytes in the file and flip one in the middle.
        let needle = Data(bits(big).prefix(64))
        let range = try #require(data.range(of: needle))
        data[range.lowerBound + 1000] ^= 0x40
        try data.write(to: URL(fileURLWithPath: path))
        #expect(throws: CheckpointError.corrupt(path: path, reason: "file checksum mismatch")) {
            try CheckpointFile.load(from: path)
        }
        // Reading the tensor alone skips the file checksum; the tensor's own checksum catches it.
        #expect(throws: CheckpointError.corrupt(path: path, reason: "w: data unreadable or checksum mismatch")) {
            try CheckpointFile.readTensor(named: "w", from: path)
        }
    }

    /// The fuzzing's 109 traps: a header-length field of 2^64 - 1 overflowed in the error
    /// message. Loading and listing now name the damage.
    @Test func aHugeHeaderLengthIsCorruptionNotATrap() throws {
        let path = temporaryPath("length.h5")
        try CheckpointFile.save(sampleCheckpoint(), to: path)
        var data = try Data(contentsOf: URL(fileURLWithPath: path))
        let lengthField = Array("TESSERA-CKPT\u{0}\u{0}\u{0}\u{1}".utf8).count
        for k in 0..<8 { data[lengthField + k] = 0xFF }
        try data.write(to: URL(fileURLWithPath: path))
        #expect(throws: CheckpointError.self) { try CheckpointFile.load(from: path) }
        #expect(throws: CheckpointError.self) { try CheckpointFile.contents(of: path) }
        do { _ = try CheckpointFile.load(from: path) } catch let error as CheckpointError {
            #expect(error.description.contains("header says 18446744073709551615 after the 512-byte header"), "\(error)")
        }
    }

    /// A save killed mid-write leaves a temporary file; the next save into the folder removes
    /// it when its process is gone, and keeps one whose process is alive (a save in flight).
    @Test func orphanTemporariesAreRemovedByTheNextSave() throws {
        let directory = temporaryPath("orphans")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let dead = "\(directory)/.step-000000001.h5.tmp-2147483647-12345"   // above any pid_max
        let alive = "\(directory)/.step-000000001.h5.tmp-\(getpid())-678"
        for path in [dead, alive] { _ = FileManager.default.createFile(atPath: path, contents: Data("partial".utf8)) }
        try CheckpointFile.save(sampleCheckpoint(), inDirectory: directory, keepLast: 3)
        #expect(!FileManager.default.fileExists(atPath: dead))
        #expect(FileManager.default.fileExists(atPath: alive))
        #expect(CheckpointFile.latest(inDirectory: directory) != nil)
    }

    @Test func fuzzedFilesLoadValidatedOrThrow() throws {
        let path = temporaryPath("fuzz-source.h5")
        try CheckpointFile.save(sampleCheckpoint(), to: path)
        let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let expected = sampleCheckpoint().model.mapValues(\.shape)
        var generator = SplitMix(seed: 42)
        let mutated = temporaryPath("fuzz.h5")
        var loaded = 0, rejected = 0
        for _ in 0..<1000 {
            var bytes = original
            for _ in 0..<(1 + Int(generator.next() % 8)) {
                let i = Int(generator.next() % UInt64(bytes.count))
                bytes[i] = UInt8(truncatingIfNeeded: generator.next())
            }
            if generator.next() % 10 == 0 { bytes = Array(bytes.prefix(Int(generator.next() % UInt64(bytes.count)))) }
            try Data(bytes).write(to: URL(fileURLWithPath: mutated))
            do {
                let c = try CheckpointFile.load(from: mutated)
                for (name, tensor) in c.model {
                    if let shape = expected[name] { #expect(tensor.shape == shape || tensor.elementCount >= 0) }
                    #expect(tensor.elementCount == tensor.shape.reduce(1, *))
                }
                loaded += 1
            } catch is CheckpointError {
                rejected += 1
            }
        }
        #expect(loaded + rejected == 1000)
        #expect(rejected > 0)
    }

    @Test func handlesDoNotLeakOverThousandsOfCycles() throws {
        let path = temporaryPath("leak.h5")
        let c = Checkpoint(model: ["a.b": Tensor.ones([3]), "c": Tensor.zeros([2, 2])], optimizerScalars: ["x": 1])
        try CheckpointFile.save(c, to: path)
        _ = try CheckpointFile.load(from: path)
        let before = HDF5.openObjectCount
        for _ in 0..<1000 {
            try CheckpointFile.save(c, to: path)
            _ = try CheckpointFile.load(from: path)
            _ = try? CheckpointFile.load(from: path + ".missing")
            _ = try CheckpointFile.contents(of: path)
        }
        #expect(HDF5.openObjectCount == before)
    }

    @Test func keepLastRemovesOlderCheckpoints() throws {
        let directory = temporaryPath("runs")
        for step in 1...5 {
            try CheckpointFile.save(Checkpoint(model: ["w": Tensor([Float(step)])], step: step), inDirectory: directory, keepLast: 2)
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        #expect(files == ["step-000000004.h5", "step-000000005.h5"])
        let latest = try #require(CheckpointFile.latest(inDirectory: directory))
        #expect(try CheckpointFile.load(from: latest).model["w"]!.scalars == [5])
    }

    @Test(.enabled(if: interopPythonPath != nil, "needs python3 with h5py"))
    func h5pyReadsTheFilesAsPlainArrays() throws {
        let python = try #require(interopPythonPath)
        let path = temporaryPath("interop.h5")
        let c = sampleCheckpoint()
        try CheckpointFile.save(c, to: path)
        let script = """
        import h5py, numpy as np
        with h5py.File('\(path)', 'r') as f:
            w = f['model/encoder/0/weight'][()]
            assert w.shape == (8, 4) and w.dtype == np.float32, (w.shape, w.dtype)
            print(repr(float(w[1, 2])))
            h = f['model/norm/running_mean'][()]
            assert h.dtype == np.float16, h.dtype
            print(repr(float(h[0])))
            assert f['model/embedding/weight'].attrs['tessera_dtype'] == b'bfloat16'
            assert int(f.attrs['tessera_format']) == 1
        """
        let output = try runPython(python, script).split(separator: "\n").map { Double($0)! }
        #expect(Float(output[0]) == c.model["encoder.0.weight"]![1, 2].item())
        #expect(output[1] == c.model["norm.running_mean"]![0].cast(to: .float64).item(as: Double.self))
    }
}

/// A Python with h5py (Debian's python3-h5py or the peers venv), or nil to skip.
/// A python3 with h5py (the system's or the peers venv), found once; tests needing it are
/// skipped where there is none.
let interopPythonPath = interopPython()

func interopPython() -> String? {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    for candidate in ["/usr/bin/python3", root.appendingPathComponent(".venv-peers/bin/python").path]
    where FileManager.default.isExecutableFile(atPath: candidate) {
        if (try? runPython(candidate, "import h5py")) != nil { return candidate }
    }
    return nil
}

@discardableResult
func runPython(_ python: String, _ script: String) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: python)
    process.arguments = ["-c", script]
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw CocoaError(.fileReadUnknown) }
    return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}

/// A tiny seeded generator for the fuzz test.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

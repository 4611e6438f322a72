import CheckpointHDF5
import Foundation
import Safetensors
import SequenceModels
import TensorCore
import Vision

// The file formats the project writes and reads back: PNG, checkpoints, safetensors, tokenizers.

/// A tensor's elements as bytes, row-major (bitwise comparison: NaN payloads included).
func elementBytes(_ t: Tensor) -> [UInt8] {
    let c = t.contiguous()
    return c.withOperand { o in
        let size = o.dtype.byteSize
        return [UInt8](UnsafeRawBufferPointer(start: o.storage.pointer + o.layout.offset * size, count: c.elementCount * size))
    }
}

/// Small tensors of every stored dtype, for seeds.
func sampleTensors() -> [String: Tensor] {
    [
        "layer.weight": Tensor([0.5, -1.25, 3, .infinity, -0.0, 7] as [Float], shape: [2, 3]),
        "layer.bias": Tensor([1, 2] as [Double], shape: [2]),
        "counts": Tensor([Int64(-3), 4, Int64.max], shape: [3]),
        "ids": Tensor([Int32(9)], shape: []),
        "pixels": Tensor([UInt8(0), 255, 7, 8], shape: [2, 2]),
        "mask": Tensor([true, false, true], shape: [3]),
        "empty": Tensor([Float](), shape: [0, 4]),
    ]
}

extension FuzzTargets {
    /// PNG: an accepted image is `[1 or 3, H, W]` in [0, 1] and encodes back to itself.
    static let png = FuzzTarget(name: "PNG", summary: "PNG images (Vision.PNG.decode)", structure: .pngChunks, seeds: {
        let gray = Tensor((0..<12).map { Float($0) / 11 }, shape: [1, 3, 4])
        let rgb = Tensor((0..<3 * 5 * 2).map { Float($0 * 37 % 256) / 255 }, shape: [3, 5, 2])
        return [PNG.encode(gray), PNG.encode(rgb), PNG.encode(Tensor([Float](repeating: 1, count: 1), shape: [1, 1, 1]))]
    }, body: { input in
        let image = try PNG.decode(input, name: "fuzz.png")
        fuzzCheck(image.rank == 3 && (image.shape[0] == 1 || image.shape[0] == 3), "decoded shape \(image.shape)")
        let values = image.scalars(as: Float.self)
        fuzzCheck(values.allSatisfy { $0 >= 0 && $0 <= 1 }, "a value outside [0, 1]")
        if image.elementCount <= 1 << 14 {
            let again = try PNG.decode(PNG.encode(image), name: "round-trip")
            fuzzCheck(elementBytes(again) == elementBytes(image), "PNG \(image.shape) changed through encode")
        }
    })

    /// Seeds for both checkpoint targets: a model with optimizer state, and a model alone.
    static let checkpointSeeds: @Sendable () throws -> [[UInt8]] = {
        let full = Checkpoint(model: sampleTensors(), optimizerTensors: ["m.layer.weight": Tensor.zeros([2, 3])],
                              optimizerScalars: ["step": 3, "lr": 0.01], step: 3, epoch: 1, random: (seed: 7, offset: 12),
                              metadata: ["dataset": .string("digits"), "lr": .number(0.01)])
        let small = Checkpoint(model: ["w": Tensor([1, 2, 3] as [Float], shape: [3])])
        return try [full, small].map { c in try ScratchFile.produced(suffix: ".h5") { try CheckpointFile.save(c, to: $0) } }
    }

    /// `CheckpointFile.load`: the envelope checked, then everything HDF5 holds read back.
    static let checkpointLoad = FuzzTarget(name: "CheckpointLoad", summary: "checkpoint load: envelope, CRC, HDF5 (CheckpointFile.load)",
                                           structure: .checkpointEnvelope, seeds: checkpointSeeds, body: { input in
        let checkpoint = try ScratchFile.with(input, suffix: ".h5") { try CheckpointFile.load(from: $0) }
        for (name, t) in checkpoint.model {
            fuzzCheck(elementBytes(t).count == t.elementCount * t.dtype.byteSize, "\(name): data does not fill its shape")
        }
    })

    /// Listing, attributes and single-tensor reads (header and length checked, no full CRC):
    /// a listed entry reads back with the listed shape and dtype.
    static let checkpointListing = FuzzTarget(name: "CheckpointListing",
                                              summary: "checkpoint listing, attributes, one tensor (CheckpointFile.contents, attributes, readTensor)",
                                              structure: .checkpointEnvelope, seeds: checkpointSeeds, body: { input in
        try ScratchFile.with(input, suffix: ".h5") { path in
            _ = try CheckpointFile.attributes(of: path)
            for entry in try CheckpointFile.contents(of: path) {
                let t = try CheckpointFile.readTensor(named: entry.name, section: entry.section, from: path)
                fuzzCheck(t.shape == entry.shape && t.dtype == entry.dtype,
                          "\(entry.name) listed \(entry.shape) \(entry.dtype), read \(t.shape) \(t.dtype)")
            }
        }
    })

    /// Safetensors, mapped and copied: both readings agree bit for bit, and writing what was read
    /// gives it back.
    static let safetensors = FuzzTarget(name: "Safetensors", summary: "safetensors files, mapped and copied (Safetensors.read)",
                                        structure: .plain, seeds: {
        try [sampleTensors(), ["x": Tensor([Float](repeating: 0.5, count: 3), shape: [3])]].map { tensors in
            try ScratchFile.produced(suffix: ".safetensors") { try Safetensors.write(tensors, metadata: ["format": "pt"], to: $0) }
        }
    }, body: { input in
        let (mapped, copied) = try ScratchFile.with(input, suffix: ".safetensors") { path in
            (try Safetensors.read(from: path, mapped: true), try Safetensors.read(from: path, mapped: false))
        }
        fuzzCheck(mapped.metadata == copied.metadata && mapped.tensors.keys.sorted() == copied.tensors.keys.sorted(), "mapped and copied differ")
        for (name, t) in mapped.tensors {
            fuzzCheck(elementBytes(t) == elementBytes(copied.tensors[name]!) && t.shape == copied.tensors[name]!.shape,
                      "\(name): mapped and copied differ")
        }
        let rewritten = try ScratchFile.produced(suffix: ".safetensors") {
            try Safetensors.write(copied.tensors, metadata: copied.metadata, to: $0)
        }
        let reread = try ScratchFile.with(rewritten, suffix: ".safetensors") { try Safetensors.read(from: $0, mapped: false) }
        for (name, t) in copied.tensors {
            fuzzCheck(reread.tensors[name].map { elementBytes($0) == elementBytes(t) && $0.dtype == t.dtype } == true,
                      "\(name) changed through write")
        }
    })

    /// The three tokenizer files (JSON). One that loads encodes and decodes without trapping;
    /// byte-pair decode(encode(text)) is the text.
    static let tokenizer = FuzzTarget(name: "Tokenizer", summary: "tokenizer files: character, byte-pair, word (load, encode, decode)",
                                      structure: .plain, seeds: {
        let corpus = "to be or not to be, that is the question: whether 'tis nobler in the mind to suffer"
        let writers: [(String) throws -> Void] = [
            { try CharacterTokenizer(text: corpus).save(to: $0) },
            { try BytePairTokenizer.train(corpus: corpus, vocabularySize: 270).save(to: $0) },
            { try WordVocabulary(texts: [corpus, "the mind is the question"]).save(to: $0) },
        ]
        return try writers.map { w in try ScratchFile.produced(suffix: ".json", by: w) }
    }, body: { input in
        try ScratchFile.with(input, suffix: ".json") { try checkTokenizers(at: $0) }
    })
}

/// Loads the file as each tokenizer type; one that loads must encode and decode without trapping.
func checkTokenizers(at path: String) throws {
    let sample = "to be, or not: the question é🇫🇷\n"
    var loaded = 0
    if let t = try? CharacterTokenizer.load(from: path) {
        loaded += 1
        if let ids = try? t.encode(sample) { fuzzCheck(try t.decode(ids) == sample, "character decode(encode) differs") }
        _ = try? t.decode(Array(-1...t.vocabularySize))
    }
    if let t = try? BytePairTokenizer.load(from: path) {
        loaded += 1
        fuzzCheck(try t.decode(try t.encode(sample)) == sample, "byte-pair decode(encode) differs")
    }
    if let t = try? WordVocabulary.load(from: path) {
        loaded += 1
        let ids = t.encode(sample)
        fuzzCheck(ids.allSatisfy { $0 >= 0 && $0 < t.vocabularySize }, "a word id outside the vocabulary")
        _ = try t.decode(ids)
    }
    if loaded == 0 { throw TokenizerError.invalidFile(path: path, reason: "no tokenizer type reads it") }
}

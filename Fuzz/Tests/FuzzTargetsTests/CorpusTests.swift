import Foundation
import FuzzTargets
import TensorCore
import Testing
import Vision
import Zlib

/// Fuzz/Corpus, next to this package's Tests folder.
let corpusRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Corpus").path

func corpusFiles(_ target: String) -> [(name: String, bytes: [UInt8])] {
    let directory = "\(corpusRoot)/\(target)"
    let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
    return names.map { ($0, [UInt8](FileManager.default.contents(atPath: "\(directory)/\($0)") ?? Data())) }
}

/// What CI/test runs of the fuzzing: every committed input through its target (a trap ends the
/// test run), without the fuzzer's instrumentation.
@Suite struct CorpusTests {
    @Test func everyCorpusFolderHasATargetAndEveryTargetACorpus() throws {
        let folders = try FileManager.default.contentsOfDirectory(atPath: corpusRoot).sorted()
        #expect(folders == FuzzTargets.all.map(\.name).sorted())
    }

    @Test(arguments: FuzzTargets.all.map(\.name))
    func committedInputsRunAndSeedsAreAccepted(name: String) throws {
        let target = try #require(FuzzTargets.named(name))
        let files = corpusFiles(name)
        #expect(files.contains { $0.name.hasPrefix("seed-") }, "\(name) has no seed made by the project's writers")
        for file in files {
            let accepted = target.accepts(file.bytes)
            // Seeds are valid files; regression inputs once crashed and must now be refused.
            if file.name.hasPrefix("seed-") { #expect(accepted, "\(name)/\(file.name) is a seed but is refused") }
            if file.name.hasPrefix("regression-") { #expect(!accepted, "\(name)/\(file.name) is accepted") }
        }
    }

    @Test(arguments: FuzzTargets.all.map(\.name))
    func seedsMadeNowAreAccepted(name: String) throws {
        let target = try #require(FuzzTargets.named(name))
        let seeds = try target.seeds()
        #expect(!seeds.isEmpty)
        for (k, seed) in seeds.enumerated() {
            let accepted = target.accepts(seed)  // not inside #expect, which would print every byte
            #expect(accepted, "\(name) seed \(k) refused")
        }
    }

    /// The PNG repair makes a mutated chunk pass its CRC, so the fuzzer reaches what follows.
    @Test func repairedPNGPassesItsCRCs() throws {
        var png = PNG.encode(Tensor.rand([1, 3, 3], generator: RandomGenerator(seed: 2)))
        png[8 + 8 + 1] ^= 0x01  // the width's second byte: a CRC mismatch in IHDR
        #expect(throws: ImageError.corrupt("m", reason: "CRC mismatch in IHDR")) { try PNG.decode(png, name: "m") }
        Repair.pngCRCs(&png)
        do { _ = try PNG.decode(png, name: "m") } catch let error as ImageError {
            #expect(!"\(error)".contains("CRC"), "still a CRC error after repair: \(error)")
        }
    }

    /// The envelope repair gives a changed checkpoint a matching length and CRC: a byte appended
    /// (which HDF5 ignores) is refused by the envelope, and accepted once repaired.
    @Test func repairedCheckpointPassesItsEnvelope() throws {
        let target = try #require(FuzzTargets.named("CheckpointLoad"))
        var file = try #require(try target.seeds().last)
        file.append(0)
        #expect(throws: (any Error).self) { try target.run(file) }
        Repair.checkpointEnvelope(&file)
        try target.run(file)
    }

    /// Structure-aware mutation of a gzip input changes what is inside and stays gzip.
    @Test func gzipMutationMutatesTheInflatedBytes() throws {
        let target = try #require(FuzzTargets.named("IDX"))
        let seed = try #require(try target.seeds().first { Zlib.isGzip($0) })
        let mutated = target.mutate(seed, maxSize: 4096, seed: 1) { bytes, _ in bytes + [7] }
        #expect(Zlib.isGzip(mutated))
        #expect(try Zlib.inflate(mutated).last == 7)
    }
}

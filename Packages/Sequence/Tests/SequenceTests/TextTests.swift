import Foundation
import Testing
import TensorCore
@testable import SequenceModels

@Suite("Tokenizers and text batches")
struct TextTests {
    func temporaryPath(_ name: String) -> String {
        NSTemporaryDirectory() + "tessera-text-\(ProcessInfo.processInfo.processIdentifier)-\(name)"
    }

    @Test func characterTokenizerRoundTripsAndNamesUnknownCharacters() throws {
        let t = CharacterTokenizer(text: "to be, or not to be")
        #expect(t.vocabularySize == 8)  // " ", ",", b, e, n, o, r, t
        let ids = try t.encode("be not")
        #expect(try t.decode(ids) == "be not")
        #expect(throws: TokenizerError.unknownCharacter("Z", offset: 3)) { try t.encode("to Zebra") }
        #expect(TokenizerError.unknownCharacter("Z", offset: 3).description.contains("'Z' (U+005A) at offset 3"))
        let path = temporaryPath("chars.json")
        try t.save(to: path)
        #expect(try CharacterTokenizer.load(from: path) == t)
        try Data("{\"characters\": [\"ab\"]}".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: TokenizerError.self) { try CharacterTokenizer.load(from: path) }
    }

    @Test func bytePairEncodingLearnsFrequentPairsAndRoundTrips() throws {
        let corpus = String(repeating: "low lower lowest newer wider new ", count: 20)
        let bpe = BytePairTokenizer.train(corpus: corpus, vocabularySize: 270)
        #expect(bpe.vocabularySize == 270)
        // The first merges join the most frequent pairs: " l"/"lo"/"ow"-like pieces of the repeated words.
        let text = "lowest newer, wider é 42!"
        let ids = try bpe.encode(text)
        #expect(try bpe.decode(ids) == text)
        #expect(ids.count < Array(text.utf8).count)  // merges compress
        #expect(try bpe.encode(" low").count == 1)  // a whole frequent word becomes one token
        let path = temporaryPath("bpe.json")
        try bpe.save(to: path)
        #expect(try BytePairTokenizer.load(from: path) == bpe)
        try Data("{\"merges\": [[300, 1]]}".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: TokenizerError.self) { try BytePairTokenizer.load(from: path) }
        try Data("not json".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: TokenizerError.self) { try BytePairTokenizer.load(from: path) }
        #expect(BytePairTokenizer.chunks("Hi there,  you2").map { String(decoding: $0, as: UTF8.self) }
                == ["Hi", " there", ",", " ", " you", "2"])
    }

    @Test func wordVocabularyKeepsFrequentWordsAndMapsTheRestToUnknown() throws {
        let v = WordVocabulary(texts: ["The film, the plot.", "the END"], minimumCount: 2)
        #expect(v.words == ["<pad>", "<unk>", "the"])
        #expect(v.encode("The end") == [2, 1])
        let all = WordVocabulary(texts: ["It's good. Good!"])
        #expect(all.encode("it's good") == [all.words.firstIndex(of: "it's")!, all.words.firstIndex(of: "good")!])
        #expect(try all.decode(all.encode("good !")) == "good !")
    }

    @Test func languageModelBatchesShiftTargetsByOne() {
        let tokens = Array(0..<100)
        let batches = LanguageModelBatches(tokens: tokens, blockSize: 8, batchSize: 4)
        let (x, y) = batches.randomBatch(generator: RandomGenerator(seed: 3))
        #expect(x.shape == [4, 8] && y.shape == [4, 8])
        let xs = x.scalars(as: Int64.self), ys = y.scalars(as: Int64.self)
        #expect(zip(xs, ys).allSatisfy { $1 == $0 + 1 })
        for row in 0..<4 { #expect(xs[row * 8 + 7] == xs[row * 8] + 7) }  // contiguous blocks
        let sequential = batches.sequentialBatches()
        // Blocks start at 0, 8, ..., 88 (each needs one more token for its targets): 12 blocks, 3 batches.
        #expect(sequential.count == 3)
        #expect(sequential[0].inputs[0, 0].item(as: Int64.self) == 0)
        #expect(sequential[2].inputs[3, 0].item(as: Int64.self) == 88)
    }

    @Test func paddedBatchMasksAndLengths() {
        let b = PaddedBatch([[5, 6, 7], [8], []], paddingID: 0)
        #expect(b.tokens.scalars(as: Int64.self) == [5, 6, 7, 8, 0, 0, 0, 0, 0])
        #expect(b.mask.cast(to: .int64).scalars(as: Int64.self) == [1, 1, 1, 1, 0, 0, 0, 0, 0])
        #expect(b.lengths == [3, 1, 0])
        #expect(PaddedBatch([[1, 2, 3, 4]], maximumLength: 2).tokens.shape == [1, 2])
    }
}

import Foundation

/// Problems with tokenizer input and files, as thrown errors.
public enum TokenizerError: Error, CustomStringConvertible, Equatable {
    /// Text holds a character the vocabulary does not know.
    case unknownCharacter(Character, offset: Int)
    /// A saved tokenizer does not parse.
    case invalidFile(path: String, reason: String)
    /// An id outside the vocabulary was given to decode.
    case unknownID(Int)

    public var description: String {
        switch self {
        case let .unknownCharacter(c, offset):
            let shown = c.unicodeScalars.map { String(format: "U+%04X", $0.value) }.joined(separator: " ")
            return "character '\(c)' (\(shown)) at offset \(offset) is not in the vocabulary"
        case let .invalidFile(path, reason):
            return "tokenizer file \(path) does not parse: \(reason)"
        case let .unknownID(id):
            return "token id \(id) is outside the vocabulary"
        }
    }
}

/// Text to token ids and back.
public protocol Tokenizer {
    /// Distinct token ids.
    var vocabularySize: Int { get }
    /// The token ids of `text`.
    func encode(_ text: String) throws -> [Int]
    /// The text of `ids`.
    func decode(_ ids: [Int]) throws -> String
}

/// Reads and writes a Codable tokenizer as JSON, mapping failures to `TokenizerError`.
enum TokenizerFile {
    static func save<T: Encodable>(_ value: T, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try encoder.encode(value).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    static func load<T: Decodable>(_ type: T.Type, from path: String) throws -> T {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TokenizerError.invalidFile(path: path, reason: "cannot be read")
        }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch {
            throw TokenizerError.invalidFile(path: path, reason: "\(error)")
        }
    }
}

/// One token per character (Swift `Character`, so "é" is one token however it is encoded),
/// the vocabulary sorted, as in char-rnn and nanoGPT's Shakespeare.
public struct CharacterTokenizer: Tokenizer, Codable, Equatable {
    /// The vocabulary; a character's id is its index.
    public let characters: [Character]
    private let index: [Character: Int]

    /// A tokenizer of `characters` (distinct).
    public init(characters: [Character]) {
        self.characters = characters
        index = Dictionary(characters.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The sorted set of characters of `text`.
    public init(text: String) { self.init(characters: Set(text).sorted()) }

    /// Characters in the vocabulary.
    public var vocabularySize: Int { characters.count }

    /// The ids of `text`'s characters; throws `TokenizerError` naming a character outside the vocabulary.
    public func encode(_ text: String) throws -> [Int] {
        var ids: [Int] = []
        ids.reserveCapacity(text.count)
        for (offset, c) in text.enumerated() {
            guard let id = index[c] else { throw TokenizerError.unknownCharacter(c, offset: offset) }
            ids.append(id)
        }
        return ids
    }

    /// The text of `ids`; throws `TokenizerError` for an id outside the vocabulary.
    public func decode(_ ids: [Int]) throws -> String {
        var s = ""
        for id in ids {
            guard characters.indices.contains(id) else { throw TokenizerError.unknownID(id) }
            s.append(characters[id])
        }
        return s
    }

    enum CodingKeys: String, CodingKey { case characters }

    /// Reads the vocabulary, refusing repeated characters.
    public init(from decoder: Decoder) throws {
        let strings = try decoder.container(keyedBy: CodingKeys.self).decode([String].self, forKey: .characters)
        for s in strings where s.count != 1 {
            throw DecodingError.dataCorrupted(.init(codingPath: [CodingKeys.characters],
                                                    debugDescription: "'\(s)' is not one character"))
        }
        self.init(characters: strings.map { $0.first! })
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(characters.map { String($0) }, forKey: .characters)
    }

    /// Writes the tokenizer as JSON.
    public func save(to path: String) throws { try TokenizerFile.save(self, to: path) }
    /// Reads a tokenizer written by `save(to:)`.
    public static func load(from path: String) throws -> CharacterTokenizer { try TokenizerFile.load(Self.self, from: path) }

    public static func == (a: Self, b: Self) -> Bool { a.characters == b.characters }
}

/// Byte-level byte-pair encoding (GPT-2's scheme): text is UTF-8 bytes (256 base tokens, so
/// nothing is ever unknown), split into chunks at word boundaries (a word keeps its leading
/// space), and the most frequent adjacent pairs are merged into new tokens, in training order.
public struct BytePairTokenizer: Tokenizer, Codable, Equatable {
    /// Merge `i` makes token `256 + i` from the pair.
    public private(set) var merges: [[Int]]
    private var ranks: [Pair: Int] = [:]
    /// Bytes of every token.
    private var pieces: [[UInt8]] = []

    struct Pair: Hashable { let a: Int, b: Int }

    /// A tokenizer of learned `merges` (pairs of ids, in order); throws for an id not yet defined.
    public init(merges: [[Int]]) throws {
        self.merges = merges
        pieces = (0..<256).map { [UInt8($0)] }
        for (i, m) in merges.enumerated() {
            guard m.count == 2, m.allSatisfy({ $0 >= 0 && $0 < 256 + i }) else {
                throw TokenizerError.invalidFile(path: "", reason: "merge \(i) \(m) refers to a token not yet defined")
            }
            ranks[Pair(a: m[0], b: m[1])] = i
            pieces.append(pieces[m[0]] + pieces[m[1]])
        }
    }

    /// 256 bytes plus one id per merge.
    public var vocabularySize: Int { 256 + merges.count }

    /// Learns merges on `corpus` until the vocabulary has `vocabularySize` tokens (or no pair repeats).
    public static func train(corpus: String, vocabularySize: Int) -> BytePairTokenizer {
        precondition(vocabularySize >= 256, "[BytePairTokenizer] vocabularySize must be at least 256, got \(vocabularySize)")
        // Unique chunks with counts; merging works on these, not on the whole text.
        var counts: [[UInt8]: Int] = [:]
        for chunk in chunks(corpus) { counts[chunk, default: 0] += 1 }
        var words = counts.map { (symbols: $0.key.map(Int.init), count: $0.value) }
        var merges: [[Int]] = []
        while 256 + merges.count < vocabularySize {
            var pairCounts: [Pair: Int] = [:]
            for w in words where w.symbols.count > 1 {
                for i in 0..<(w.symbols.count - 1) { pairCounts[Pair(a: w.symbols[i], b: w.symbols[i + 1]), default: 0] += w.count }
            }
            // Most frequent; ties broken by the smaller pair so training is deterministic.
            guard let best = pairCounts.max(by: { x, y in
                x.value != y.value ? x.value < y.value : (x.key.a, x.key.b) > (y.key.a, y.key.b)
            }), best.value > 1 else { break }
            let token = 256 + merges.count
            merges.append([best.key.a, best.key.b])
            for k in words.indices where words[k].symbols.count > 1 {
                words[k].symbols = merge(words[k].symbols, best.key, into: token)
            }
        }
        return try! BytePairTokenizer(merges: merges)
    }

    private static func merge(_ symbols: [Int], _ pair: Pair, into token: Int) -> [Int] {
        var out: [Int] = []
        out.reserveCapacity(symbols.count)
        var i = 0
        while i < symbols.count {
            if i + 1 < symbols.count && symbols[i] == pair.a && symbols[i + 1] == pair.b {
                out.append(token)
                i += 2
            } else {
                out.append(symbols[i])
                i += 1
            }
        }
        return out
    }

    /// GPT-2-like pre-tokenisation: runs of letters, of digits, of other non-space
    /// characters, each with at most one leading space; other whitespace alone.
    static func chunks(_ text: String) -> [[UInt8]] {
        enum Kind { case letter, digit, other, space }
        func kind(_ c: Character) -> Kind {
            if c.isLetter { return .letter }
            if c.isNumber { return .digit }
            if c.isWhitespace { return .space }
            return .other
        }
        var result: [[UInt8]] = []
        var current = "", currentKind: Kind? = nil
        for c in text {
            let k = kind(c)
            if let ck = currentKind, ck == k, k != .space {
                current.append(c)
                continue
            }
            // A single pending space joins the word that follows it.
            if current == " ", k != .space {
                current.append(c)
                currentKind = k
                continue
            }
            if !current.isEmpty { result.append(Array(current.utf8)) }
            current = String(c)
            currentKind = k
        }
        if !current.isEmpty { result.append(Array(current.utf8)) }
        return result
    }

    /// `text`'s UTF-8 bytes merged in learned order.
    public func encode(_ text: String) throws -> [Int] {
        var ids: [Int] = []
        for chunk in Self.chunks(text) {
            var symbols = chunk.map(Int.init)
            // Apply the earliest-learned merge present until none applies.
            while symbols.count > 1 {
                var bestRank = Int.max, bestPair: Pair? = nil
                for i in 0..<(symbols.count - 1) {
                    let p = Pair(a: symbols[i], b: symbols[i + 1])
                    if let r = ranks[p], r < bestRank { bestRank = r; bestPair = p }
                }
                guard let pair = bestPair else { break }
                symbols = Self.merge(symbols, pair, into: 256 + bestRank)
            }
            ids += symbols
        }
        return ids
    }

    /// The text of `ids` (invalid UTF-8 replaced); throws for an id outside the vocabulary.
    public func decode(_ ids: [Int]) throws -> String {
        var bytes: [UInt8] = []
        for id in ids {
            guard pieces.indices.contains(id) else { throw TokenizerError.unknownID(id) }
            bytes += pieces[id]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    enum CodingKeys: String, CodingKey { case merges }

    /// Reads the merges, validating them.
    public init(from decoder: Decoder) throws {
        let merges = try decoder.container(keyedBy: CodingKeys.self).decode([[Int]].self, forKey: .merges)
        do { try self.init(merges: merges) } catch let e as TokenizerError {
            throw DecodingError.dataCorrupted(.init(codingPath: [CodingKeys.merges], debugDescription: e.description))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(merges, forKey: .merges)
    }

    /// Writes the tokenizer as JSON.
    public func save(to path: String) throws { try TokenizerFile.save(self, to: path) }
    /// Reads a tokenizer written by `save(to:)`.
    public static func load(from path: String) throws -> BytePairTokenizer { try TokenizerFile.load(Self.self, from: path) }

    public static func == (a: Self, b: Self) -> Bool { a.merges == b.merges }
}

/// Word-level vocabulary: lower-cased words and punctuation marks, the most frequent kept,
/// with `<pad>` (id 0) and `<unk>` (id 1) for everything else.
public struct WordVocabulary: Tokenizer, Codable, Equatable {
    /// The padding word (id 0).
    public static let padding = "<pad>"
    /// The word out-of-vocabulary words become (id 1).
    public static let unknown = "<unk>"
    /// The vocabulary; a word's id is its index.
    public let words: [String]
    private let index: [String: Int]

    /// Id of the padding word.
    public var paddingID: Int { 0 }
    /// Id of the unknown word.
    public var unknownID: Int { 1 }
    /// Words in the vocabulary.
    public var vocabularySize: Int { words.count }

    /// A vocabulary of `words` (padding and unknown first).
    public init(words: [String]) {
        self.words = words
        index = Dictionary(words.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Builds the vocabulary from `texts`: words seen at least `minimumCount` times, at most
    /// `maximumSize` entries including the two special tokens, most frequent first.
    public init(texts: [String], minimumCount: Int = 1, maximumSize: Int? = nil) {
        var counts: [String: Int] = [:]
        for t in texts { for w in Self.split(t) { counts[w, default: 0] += 1 } }
        var kept = counts.filter { $0.value >= minimumCount }.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            .map(\.key)
        if let maximumSize { kept = Array(kept.prefix(Swift.max(0, maximumSize - 2))) }
        self.init(words: [Self.padding, Self.unknown] + kept)
    }

    /// Lower-cased runs of letters/digits/apostrophes, and single punctuation marks.
    public static func split(_ text: String) -> [String] {
        var result: [String] = [], current = ""
        for c in text.lowercased() {
            if c.isLetter || c.isNumber || c == "'" {
                current.append(c)
            } else {
                if !current.isEmpty { result.append(current); current = "" }
                if !c.isWhitespace { result.append(String(c)) }
            }
        }
        if !current.isEmpty { result.append(current) }
        return result
    }

    /// Ids of `text`'s lower-cased words (unknown ones as `unknownID`).
    public func encode(_ text: String) -> [Int] { Self.split(text).map { index[$0] ?? unknownID } }

    /// The words of `ids` joined by spaces; throws for an id outside the vocabulary.
    public func decode(_ ids: [Int]) throws -> String {
        try ids.map { id in
            guard words.indices.contains(id) else { throw TokenizerError.unknownID(id) }
            return words[id]
        }.joined(separator: " ")
    }

    enum CodingKeys: String, CodingKey { case words }

    /// Reads the vocabulary.
    public init(from decoder: Decoder) throws {
        let words = try decoder.container(keyedBy: CodingKeys.self).decode([String].self, forKey: .words)
        guard words.count >= 2, words[0] == Self.padding, words[1] == Self.unknown else {
            throw DecodingError.dataCorrupted(.init(codingPath: [CodingKeys.words],
                                                    debugDescription: "the first words must be <pad> and <unk>"))
        }
        self.init(words: words)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(words, forKey: .words)
    }

    /// Writes the vocabulary as JSON.
    public func save(to path: String) throws { try TokenizerFile.save(self, to: path) }
    /// Reads a vocabulary written by `save(to:)`.
    public static func load(from path: String) throws -> WordVocabulary { try TokenizerFile.load(Self.self, from: path) }

    public static func == (a: Self, b: Self) -> Bool { a.words == b.words }
}

import Foundation
import NN
import TensorCore

/// An encoder-decoder with additive attention (Bahdanau et al. 2015): a GRU encodes the
/// source; at each target step a GRU cell reads the previous token and the attention
/// context over the encoder states, and a linear layer predicts the next token.
///
/// Token conventions: `paddingID` pads sources and targets (ignored by the loss), every
/// target starts with `startID` and ends with `endID`.
public final class Seq2Seq: Module {
    /// Source token embeddings.
    public let sourceEmbedding: Embedding
    /// Target token embeddings.
    public let targetEmbedding: Embedding
    /// The bidirectional GRU encoder.
    public let encoder: GRU
    /// Bahdanau attention over the encoder states.
    public let attention: AdditiveAttention
    /// One decoder step.
    public let decoder: GRUCell
    /// Target-token logits from the decoder state and context.
    public let output: Linear
    /// Int: The padding token of both vocabularies.
    public let paddingID: Int
    /// Int: The token decoding starts from.
    public let startID: Int
    /// Int: The token that ends a sequence.
    public let endID: Int

    /// A seq2seq model of the given vocabularies and widths.
    public init(sourceVocabulary: Int, targetVocabulary: Int, embedding: Int = 32, hidden: Int = 64,
                paddingID: Int = 0, startID: Int = 1, endID: Int = 2, generator: RandomGenerator? = nil) {
        sourceEmbedding = Embedding(count: sourceVocabulary, dimension: embedding, paddingIndex: paddingID, generator: generator)
        targetEmbedding = Embedding(count: targetVocabulary, dimension: embedding, paddingIndex: paddingID, generator: generator)
        encoder = GRU(inputSize: embedding, hiddenSize: hidden, batchFirst: true, generator: generator)
        attention = AdditiveAttention(querySize: hidden, keySize: hidden, hiddenSize: hidden, generator: generator)
        decoder = GRUCell(inputSize: embedding + hidden, hiddenSize: hidden, generator: generator)
        output = Linear(inputSize: 2 * hidden, outputSize: targetVocabulary, generator: generator)
        self.paddingID = paddingID
        self.startID = startID
        self.endID = endID
    }

    /// Encoder states `[B, S, H]`, their projected keys, the source mask and the final state.
    public struct Encoded {
        /// Encoder states `[B, S, H]`.
        public let states: Tensor
        /// The states projected as attention keys.
        public let keys: Tensor
        /// `[B, S]`, true at real source tokens.
        public let mask: Tensor
        /// The decoder's initial state `[B, H]`.
        public let final: Tensor

        /// Row `i` repeated `count` times (for beams).
        func repeating(row i: Int, count: Int) -> Encoded {
            func pick(_ t: Tensor) -> Tensor {
                let row = t[i].unsqueezed(axis: 0)
                return row.expanded(to: [count] + Array(row.shape.dropFirst())).contiguous()
            }
            return Encoded(states: pick(states), keys: pick(keys), mask: pick(mask), final: pick(final))
        }
    }

    /// Encodes `source [B, S]` (int, `paddingID` after each sequence).
    public func encode(_ source: Tensor) -> Encoded {
        tensorCheck(source.rank == 2 && !source.dtype.isFloatingPoint,
                    "[Seq2Seq] source should be integer [batch, length], got \(shapeText(source.shape)) \(source.dtype)")
        let mask = source .!= Double(paddingID)
        let (states, _) = encoder(sourceEmbedding(source))
        // The state at each sequence's last real token starts the decoder.
        let lengths = mask.cast(to: .int64).sum(axes: [1]).clamped(min: 1) - 1
        let index = lengths.reshaped(to: [-1, 1, 1]).expanded(to: [source.shape[0], 1, states.shape[2]])
        let final = states.gather(axis: 1, index: index).squeezed(axis: 1)
        return Encoded(states: states, keys: attention.projectKeys(states), mask: mask, final: final)
    }

    /// One decoder step: the previous tokens `[B]` and state `[B, H]` give logits `[B, V]`,
    /// the new state and the attention weights `[B, S]`.
    public func step(_ previous: Tensor, state: Tensor, encoded: Encoded) -> (logits: Tensor, state: Tensor, weights: Tensor) {
        let (context, weights) = attention(query: state, keys: encoded.states, values: encoded.states, mask: encoded.mask,
                                           projectedKeys: encoded.keys)
        let input = Tensor.concatenated([targetEmbedding(previous), context], axis: 1)
        let next = decoder(input, state)
        return (output(Tensor.concatenated([next, context], axis: 1)), next, weights)
    }

    /// Mean cross-entropy per target token with teacher forcing; `target [B, T]` starts with
    /// `startID` and is padded with `paddingID`.
    public func loss(source: Tensor, target: Tensor) -> Tensor {
        tensorCheck(target.rank == 2 && target.shape[0] == source.shape[0] && target.shape[1] >= 2,
                    "[Seq2Seq] target \(shapeText(target.shape)) should be [\(source.shape[0]), length ≥ 2]")
        let encoded = encode(source)
        var state = encoded.final
        var logits: [Tensor] = []
        for t in 0..<(target.shape[1] - 1) {
            let r = step(target[.all, t], state: state, encoded: encoded)
            state = r.state
            logits.append(r.logits)
        }
        let all = Tensor.stacked(logits, axis: 1)  // [B, T-1, V]
        let next = target[.all, 1...]
        return crossEntropy(logits: all.reshaped(to: [-1, all.shape[2]]), targets: next.reshaped(to: [-1]),
                            ignoreIndex: paddingID)
    }

    /// The most likely token at every step, until `endID` or `maxLength` tokens (without
    /// start and end tokens). `source` is one sequence `[S]`.
    public func greedyDecode(_ source: [Int], maxLength: Int) -> [Int] {
        beamSearch(source, beamWidth: 1, maxLength: maxLength).tokens
    }

    /// Beam search: keeps the `beamWidth` best partial outputs by total log-probability;
    /// a finished hypothesis is ranked by its score divided by `length^lengthPenalty`
    /// (GNMT's normalisation; 0 ranks by raw score). Returns the best tokens and their
    /// total log-probability.
    public func beamSearch(_ source: [Int], beamWidth: Int, maxLength: Int, lengthPenalty: Double = 0)
        -> (tokens: [Int], logProbability: Double) {
        tensorCheck(beamWidth > 0 && maxLength > 0, "[Seq2Seq.beamSearch] beamWidth and maxLength must be positive")
        tensorCheck(!source.isEmpty, "[Seq2Seq.beamSearch] the source is empty")
        let wasTraining = isTraining
        _ = eval()
        defer { _ = train(wasTraining) }
        let device = self.device
        return withoutGradients {
            let encodedOne = encode(Tensor(source.map(Int64.init), shape: [1, source.count]).moved(to: device))
            struct Hypothesis { var tokens: [Int]; var score: Double; var row: Int }
            var beams = [Hypothesis(tokens: [], score: 0, row: 0)]
            var state = encodedOne.final
            var finished: [(tokens: [Int], score: Double)] = []
            func normalized(_ score: Double, _ length: Int) -> Double {
                // Length counts the end token.
                lengthPenalty == 0 ? score : score / Foundation.pow(Double(Swift.max(length, 1)), lengthPenalty)
            }
            for _ in 0..<maxLength {
                let encoded = encodedOne.repeating(row: 0, count: beams.count)
                let previous = Tensor(beams.map { Int64($0.tokens.last ?? startID) }).moved(to: device)
                let rows = Tensor(beams.map { Int64($0.row) }).moved(to: device)
                let r = step(previous, state: state.indexSelect(axis: 0, indices: rows), encoded: encoded)
                let logProbabilities = r.logits.logSoftmax(axis: 1).cast(to: .float64)
                let vocabulary = logProbabilities.shape[1]
                let values = logProbabilities.scalars(as: Double.self)
                var candidates: [Hypothesis] = []
                for (b, beam) in beams.enumerated() {
                    for v in 0..<vocabulary {
                        candidates.append(Hypothesis(tokens: beam.tokens + [v], score: beam.score + values[b * vocabulary + v], row: b))
                    }
                }
                candidates.sort { $0.score > $1.score }
                var next: [Hypothesis] = []
                for c in candidates {
                    if c.tokens.last == endID {
                        finished.append((Array(c.tokens.dropLast()), c.score))
                    } else {
                        next.append(c)
                        if next.count == beamWidth { break }
                    }
                }
                state = r.state
                beams = next
                if beams.isEmpty { break }
                // Without length normalisation scores only fall: stop once a finished
                // hypothesis beats every live one.
                if lengthPenalty == 0, let best = finished.map(\.score).max(), best >= beams[0].score { break }
            }
            if finished.isEmpty { finished = beams.map { ($0.tokens, $0.score) } }
            let best = finished.max { normalized($0.score, $0.tokens.count + 1) < normalized($1.score, $1.tokens.count + 1) }!
            return (best.tokens, best.score)
        }
    }
}

/// Corpus BLEU (Papineni et al. 2002), as `nltk.translate.bleu_score.corpus_bleu` with equal
/// weights: clipped n-gram precisions summed over the corpus, their geometric mean, and the
/// brevity penalty `exp(1 - r/c)` when the candidates are shorter than the references.
/// Each candidate may have several references (the closest length counts for `r`).
public func bleu(candidates: [[String]], references: [[[String]]], maxN: Int = 4) -> Double {
    tensorCheck(candidates.count == references.count,
                "[bleu] \(candidates.count) candidates for \(references.count) reference sets")
    var matched = [Int](repeating: 0, count: maxN), total = [Int](repeating: 0, count: maxN)
    var candidateLength = 0, referenceLength = 0
    func counts(_ words: [String], _ n: Int) -> [ArraySlice<String>: Int] {
        var c: [ArraySlice<String>: Int] = [:]
        if words.count >= n { for i in 0...(words.count - n) { c[words[i..<(i + n)], default: 0] += 1 } }
        return c
    }
    for (candidate, refs) in zip(candidates, references) {
        candidateLength += candidate.count
        referenceLength += refs.map(\.count).min { abs($0 - candidate.count) != abs($1 - candidate.count)
            ? abs($0 - candidate.count) < abs($1 - candidate.count) : $0 < $1 } ?? 0
        for n in 1...maxN {
            let mine = counts(candidate, n)
            var most: [ArraySlice<String>: Int] = [:]
            for r in refs { for (gram, c) in counts(r, n) { most[gram] = Swift.max(most[gram] ?? 0, c) } }
            matched[n - 1] += mine.reduce(0) { $0 + Swift.min($1.value, most[$1.key] ?? 0) }
            total[n - 1] += Swift.max(0, candidate.count - n + 1)
        }
    }
    guard candidateLength > 0, !matched.contains(0) else { return 0 }
    let logPrecision = zip(matched, total).map { Foundation.log(Double($0) / Double($1)) }.reduce(0, +) / Double(maxN)
    let brevity = candidateLength >= referenceLength ? 1 : Foundation.exp(1 - Double(referenceLength) / Double(candidateLength))
    return brevity * Foundation.exp(logPrecision)
}

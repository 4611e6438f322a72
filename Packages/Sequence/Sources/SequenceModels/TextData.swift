import TensorCore

/// Language-model batches from one long token stream: each row is a block of `blockSize`
/// tokens at a random offset and its targets are the same block shifted by one (nanoGPT's
/// `get_batch`). Also iterates the stream in contiguous blocks for evaluation.
public struct LanguageModelBatches {
    /// The token stream.
    public let tokens: [Int32]
    /// Tokens per sequence.
    public let blockSize: Int
    /// Sequences per batch.
    public let batchSize: Int

    /// Batches of `batchSize` windows of `blockSize` tokens (the stream must be longer than a window).
    public init(tokens: [Int], blockSize: Int, batchSize: Int) {
        tensorCheck(blockSize > 0 && batchSize > 0, "[LanguageModelBatches] blockSize and batchSize must be positive")
        tensorCheck(tokens.count > blockSize,
                    "[LanguageModelBatches] \(tokens.count) tokens are too few for blocks of \(blockSize) + 1")
        self.tokens = tokens.map { Int32($0) }
        self.blockSize = blockSize
        self.batchSize = batchSize
    }

    /// A batch at random offsets: `inputs` and `targets`, both `[batchSize, blockSize]` int64.
    public func randomBatch(generator: RandomGenerator? = nil) -> (inputs: Tensor, targets: Tensor) {
        let offsets = Tensor.randint(0, tokens.count - blockSize, shape: [batchSize], generator: generator)
            .scalars(as: Int64.self).map(Int.init)
        return batch(at: offsets)
    }

    /// Rows starting at `offsets`.
    public func batch(at offsets: [Int]) -> (inputs: Tensor, targets: Tensor) {
        var x = [Int64](), y = [Int64]()
        x.reserveCapacity(offsets.count * blockSize)
        y.reserveCapacity(offsets.count * blockSize)
        for o in offsets {
            tensorCheck(o >= 0 && o + blockSize < tokens.count, "[LanguageModelBatches] offset \(o) leaves no room for a block")
            for i in 0..<blockSize {
                x.append(Int64(tokens[o + i]))
                y.append(Int64(tokens[o + i + 1]))
            }
        }
        return (Tensor(x, shape: [offsets.count, blockSize]), Tensor(y, shape: [offsets.count, blockSize]))
    }

    /// Non-overlapping blocks covering the stream in order, `batchSize` rows at a time
    /// (the last batch may be smaller), at most `limit` batches.
    public func sequentialBatches(limit: Int? = nil) -> [(inputs: Tensor, targets: Tensor)] {
        let starts = Array(stride(from: 0, to: tokens.count - blockSize, by: blockSize))
        var result: [(Tensor, Tensor)] = []
        var i = 0
        while i < starts.count && result.count < (limit ?? .max) {
            result.append(batch(at: Array(starts[i..<Swift.min(i + batchSize, starts.count)])))
            i += batchSize
        }
        return result
    }
}

/// Variable-length sequences padded into one batch for classification.
public struct PaddedBatch {
    /// `[batch, maxLength]` int64 token ids, `paddingID` after each sequence's end.
    public let tokens: Tensor
    /// `[batch, maxLength]` bool, true at real tokens.
    public let mask: Tensor
    /// Each sequence's length after truncation.
    public let lengths: [Int]

    /// Pads `sequences` (truncated to `maximumLength` when given) with `paddingID`.
    public init(_ sequences: [[Int]], paddingID: Int = 0, maximumLength: Int? = nil) {
        tensorCheck(!sequences.isEmpty, "[PaddedBatch] no sequences")
        let cut = sequences.map { s in maximumLength.map { Array(s.prefix($0)) } ?? s }
        lengths = cut.map(\.count)
        let width = Swift.max(1, lengths.max()!)
        var ids = [Int64](repeating: Int64(paddingID), count: cut.count * width)
        var keep = [Double](repeating: 0, count: cut.count * width)
        for (row, s) in cut.enumerated() {
            for (i, t) in s.enumerated() {
                ids[row * width + i] = Int64(t)
                keep[row * width + i] = 1
            }
        }
        tokens = Tensor(ids, shape: [cut.count, width])
        mask = Tensor(keep, shape: [cut.count, width]) .!= 0
    }
}

/// Batches for truncated backpropagation through time over one stream (char-rnn's scheme):
/// the stream is cut into `batchSize` parallel rows and read left to right in chunks of
/// `steps`, so chunk `k + 1` continues chunk `k` row by row and the recurrent state can be
/// carried (detached) from one chunk to the next.
public struct TruncatedBPTTBatches {
    /// `[batchSize, rowLength + 1]` token rows (one extra for the last target).
    let rows: [[Int64]]
    /// Time steps per chunk.
    public let steps: Int

    /// `batchSize` parallel streams over `tokens`, read `steps` at a time.
    public init(tokens: [Int], batchSize: Int, steps: Int) {
        let rowLength = (tokens.count - 1) / batchSize
        tensorCheck(batchSize > 0 && steps > 0 && rowLength >= 1,
                    "[TruncatedBPTTBatches] \(tokens.count) tokens cannot make \(batchSize) rows")
        rows = (0..<batchSize).map { r in tokens[(r * rowLength)...(r * rowLength + rowLength)].map(Int64.init) }
        self.steps = steps
    }

    /// Chunks per pass over the stream.
    public var count: Int { (rows[0].count - 1 + steps - 1) / steps }

    /// Chunk `k`: `inputs` and `targets` `[batchSize, ≤ steps]` int64.
    public func chunk(_ k: Int) -> (inputs: Tensor, targets: Tensor) {
        let start = k * steps, end = Swift.min(start + steps, rows[0].count - 1)
        tensorCheck(k >= 0 && start < end, "[TruncatedBPTTBatches] chunk \(k) is outside 0..<\(count)")
        let x = rows.flatMap { $0[start..<end] }, y = rows.flatMap { $0[(start + 1)...end] }
        return (Tensor(x, shape: [rows.count, end - start]), Tensor(y, shape: [rows.count, end - start]))
    }
}

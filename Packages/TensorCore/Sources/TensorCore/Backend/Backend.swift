/// Memory: allocation, copies (with strides and dtype conversion), fills, host transfers.
public protocol MemoryOps: AnyObject {
    /// The device whose memory this backend's storages hold.
    var device: Device { get }
    /// Uninitialised memory of `byteCount` bytes on `device`.
    func allocate(byteCount: Int) -> Storage
    /// Copies `source` into `destination` element by element, converting the dtype.
    /// Shapes are equal; either side may be strided.
    func copy(_ source: Operand, into destination: Operand)
    /// Sets every element of `destination` to `value` (converted to its dtype).
    func fill(_ destination: Operand, with value: Double)
    /// Copies host bytes to the start of `storage`.
    func copyFromHost(_ bytes: UnsafeRawBufferPointer, into storage: Storage)
    /// Copies the first `byteCount` bytes of `storage` to the host (waiting for pending work).
    func copyToHost(_ storage: Storage, byteCount: Int, into bytes: UnsafeMutableRawBufferPointer)
}

/// Element-wise kernels. Inputs arrive already broadcast to the output's shape (zero strides).
public protocol ElementwiseOps: AnyObject {
    /// `out = op(x)` per element (`out` may be `x`).
    func unary(_ op: UnaryOp, _ x: Operand, into out: Operand)
    /// `out = a op b` per element.
    func binary(_ op: BinaryOp, _ a: Operand, _ b: Operand, into out: Operand)
    /// `x op scalar`, or `scalar op x` when `scalarIsLeft`.
    func binary(_ op: BinaryOp, _ x: Operand, scalar: Double, scalarIsLeft: Bool, into out: Operand)
    /// `condition ? a : b` per element.
    func select(_ condition: Operand, _ a: Operand, _ b: Operand, into out: Operand)
}

/// Reductions. `out` has the input's rank with reduced axes of size 1.
public protocol ReductionOps: AnyObject {
    /// `op` over `axes` of `x`.
    func reduce(_ op: ReduceOp, _ x: Operand, axes: [Int], into out: Operand)
    /// Index (int64) of the extreme along `axis`; the first one on ties.
    func argReduce(_ op: ArgReduceOp, _ x: Operand, axis: Int, into out: Operand)
    /// Running sums along `axis` (as `torch.cumsum`).
    func cumulativeSum(_ x: Operand, axis: Int, into out: Operand)
}

/// Matrix products: `a [batch..., m, k] x b [batch..., k, n] -> out [batch..., m, n]`,
/// batch axes already broadcast to `out`'s.
public protocol LinalgOps: AnyObject {
    /// `out = a b`, or `out += a b` when `accumulate` (BLAS beta = 1: bias-initialised
    /// outputs and gradient accumulation without a separate pass).
    func matmul(_ a: Operand, _ b: Operand, into out: Operand, accumulate: Bool)
    /// `out = a b + bias` (`bias [n]` added to every row; none when nil), then ReLU when
    /// `relu`: a linear layer's epilogue, applied while the GEMM's block is still in registers
    /// where the backend can. `a [m, k]`, `b [k, n]`, `out [m, n]`.
    func linear(_ a: Operand, _ b: Operand, bias: Operand?, relu: Bool, into out: Operand)
}

extension LinalgOps {
    /// `out = a b`.
    public func matmul(_ a: Operand, _ b: Operand, into out: Operand) { matmul(a, b, into: out, accumulate: false) }
}

extension LinalgOps where Self: MemoryOps & ElementwiseOps {
    public func linear(_ a: Operand, _ b: Operand, bias: Operand?, relu: Bool, into out: Operand) {
        composedLinear(a, b, bias: bias, relu: relu, into: out)
    }

    /// The default `linear`: the bias copied into `out`, the product accumulated onto it, ReLU
    /// as a separate pass.
    public func composedLinear(_ a: Operand, _ b: Operand, bias: Operand?, relu: Bool, into out: Operand) {
        if let bias { copy(bias.with(layout: bias.layout.broadcast(to: out.shape)), into: out) }
        matmul(a, b, into: out, accumulate: bias != nil)
        if relu { unary(.relu, out, into: out) }
    }
}

/// Gathers, scatters and sorting along one axis. Indices are int64.
public protocol IndexingOps: AnyObject {
    /// `out[i][j][k] = x[i][index[i][j][k]][k]` for axis 1 (torch.gather).
    func gather(_ x: Operand, axis: Int, index: Operand, into out: Operand)
    /// `out[i][index[i][j][k]][k] += source[i][j][k]` for axis 1 (torch.scatter_add_).
    func scatterAdd(_ source: Operand, axis: Int, index: Operand, into out: Operand)
    /// `out` takes the slices `indices` (1-D) of `x` along `axis`.
    func indexSelect(_ x: Operand, axis: Int, indices: Operand, into out: Operand)
    /// Adds slice `j` of `source` to slice `indices[j]` of `out` along `axis`.
    func indexAdd(_ source: Operand, axis: Int, indices: Operand, into out: Operand)
    /// Sorts along `axis` (stable), writing values and their original indices.
    func sort(_ x: Operand, axis: Int, descending: Bool, values: Operand, indices: Operand)
}

/// Counter-based random numbers: element `i` depends only on (seed, counter, i).
public protocol RandomOps: AnyObject {
    /// Fills `out` with draws from `distribution`: element `i` from Philox at (`seed`, `counter` + i), the same on every backend.
    func fillRandom(_ out: Operand, distribution: RandomDistribution, seed: UInt64, counter: UInt64)
}

/// Fused kernels. Each has a default composed from the primitives above, so a backend
/// that lacks one is slower, never broken.
public protocol FusedOps: MemoryOps, ElementwiseOps, ReductionOps, IndexingOps {
    /// Softmax (or log-softmax) along `axis`.
    func softmax(_ x: Operand, axis: Int, log: Bool, into out: Operand)
    /// Normalises over the last axis: `(x - mean) / sqrt(var + eps)`; `out` same shape as `x`.
    func layerNorm(_ x: Operand, epsilon: Double, into out: Operand)
    /// The backward of `layerNorm`: from the input `x`, the normalised output `y` and the
    /// output gradient `g` (all the same shape), `(g - mean(g) - y·mean(g·y)) / σ` per row of
    /// the last axis, into `out`.
    func layerNormBackward(_ x: Operand, normalized y: Operand, gradient g: Operand, epsilon: Double, into out: Operand)
    /// Per-row cross-entropy of `logits [n, c]` against int64 `targets [n]`, into `out [n]`.
    func crossEntropy(logits: Operand, targets: Operand, into out: Operand)
    /// Batch normalisation with the batch's statistics over axis 1 of `x [N, C, *]`: the
    /// per-channel `mean [C]` and biased `variance [C]`, and
    /// `out = (x - mean) / sqrt(variance + epsilon) · weight + bias` (`weight`, `bias` `[C]`).
    func batchNorm(_ x: Operand, weight: Operand, bias: Operand, epsilon: Double, into out: Operand,
                   mean: Operand, variance: Operand)
    /// The backward of `batchNorm` from the output gradient `g` and the forward's `mean` and
    /// `variance`: the input gradient (shaped as `x`) and those of `weight` and `bias` (`[C]`).
    func batchNormBackward(_ x: Operand, gradient g: Operand, mean: Operand, variance: Operand, weight: Operand,
                           epsilon: Double, into inputGradient: Operand, weightGradient: Operand, biasGradient: Operand)
}

/// Everything a device needs to run Tensor operations.
public protocol Backend: MemoryOps, ElementwiseOps, ReductionOps, LinalgOps, IndexingOps,
                         RandomOps, FusedOps, OptimizerOps, ConvolutionOps, RecurrentOps, AttentionOps,
                         DecompositionOps, SpectralOps {
    /// A short name for messages ("cpu (OpenBLAS, 2 threads)").
    var name: String { get }
}

extension MemoryOps {
    /// A fresh contiguous operand on this backend.
    public func makeOperand(shape: [Int], dtype: DType) -> Operand {
        let count = shape.reduce(1, *)
        let storage = allocate(byteCount: max(count, 1) * dtype.byteSize)
        return Operand(storage: storage, layout: Layout(contiguous: shape), dtype: dtype)
    }
}

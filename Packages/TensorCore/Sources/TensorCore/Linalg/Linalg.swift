/// Linear algebra with gradients, following `torch.linalg`: every function works on the last
/// two axes and is batched over the leading ones (broadcast where two operands meet), in
/// float32 and float64, on any device (LAPACK on the host unless the backend overrides
/// `DecompositionOps`).
///
/// Failures that depend on the values (a singular matrix, one that is not positive definite)
/// are thrown as `LinalgError`, naming the function and the batch element; the spectral
/// functions (`svd`, `eigh`, `qr`, `pinv`, `lstsq`, `determinant`, `slogdet`) cannot fail on
/// finite input and return NaN where LAPACK does not converge, as PyTorch's `_ex` variants.
///
/// Gradients are first derivatives: backward passes are linear in the incoming gradient (so
/// `vjp`, `jvp` and Gauss–Newton work through every function) but treat the decomposition's
/// factors as constants, so second derivatives through a decomposition (a Hessian-vector
/// product of a loss that calls `svd`) are not exact.
///
/// ```swift
/// let a = Tensor([4, 1, 1, 3], shape: [2, 2])
/// let x = try Linalg.solve(a, Tensor([1, 2]))     // a x = b
/// let (u, s, vt) = Linalg.svd(a)
/// ```
public enum Linalg {}

/// A value-dependent failure of a `Linalg` function.
public struct LinalgError: Error, CustomStringConvertible, Equatable {
    /// What went wrong.
    public enum Reason: Equatable, Sendable {
        /// LU found an exactly zero pivot: `U[pivot, pivot] = 0` (0-based).
        case singular(pivot: Int)
        /// The leading minor of this order (1-based) is not positive definite.
        case notPositiveDefinite(order: Int)
        /// A triangular matrix with a zero on its diagonal at this row (0-based).
        case zeroDiagonal(row: Int)
    }
    /// The function, as `Linalg.solve`.
    public let operation: String
    /// Which matrix of the batch, in row-major order over the leading axes (0 when unbatched).
    public let batchIndex: Int
    /// The leading axes the batch index counts over.
    public let batchShape: [Int]
    /// What went wrong, with LAPACK's index.
    public let reason: Reason

    public var description: String {
        let which = batchShape.isEmpty ? "the matrix" : "matrix \(batchIndex) of the batch \(shapeText(batchShape))"
        switch reason {
        case .singular(let p): return "[\(operation)] \(which) is singular (U[\(p), \(p)] of its LU factorisation is zero)"
        case .notPositiveDefinite(let o):
            return "[\(operation)] \(which) is not positive definite (its leading minor of order \(o) is not)"
        case .zeroDiagonal(let r): return "[\(operation)] \(which) is singular (triangular, with a zero at [\(r), \(r)])"
        }
    }
}

extension Linalg {
    /// Stops unless `a` is a (batch of) float32/float64 matrices, square when asked.
    static func checkMatrix(_ a: Tensor, _ op: StaticString, square: Bool = false) {
        tensorCheck(a.dtype == .float32 || a.dtype == .float64,
                    "[\(op)] needs float32 or float64, got \(a.dtype) of shape \(shapeText(a.shape))")
        tensorCheck(a.rank >= 2, "[\(op)] needs a matrix [..., m, n], got shape \(shapeText(a.shape))")
        if square {
            tensorCheck(a.shape[a.rank - 1] == a.shape[a.rank - 2],
                        "[\(op)] needs square matrices, got shape \(shapeText(a.shape))")
        }
    }

    /// Stops unless `b` can be the right-hand side of `a` (dtype, device, rows).
    static func checkPair(_ a: Tensor, _ b: Tensor, _ op: StaticString) {
        tensorCheck(a.dtype == b.dtype, "[\(op)] a is \(a.dtype) and b is \(b.dtype)")
        tensorCheck(a.device == b.device, "[\(op)] a on \(a.device) and b on \(b.device)")
        tensorCheck(b.rank >= 2 && b.shape[b.rank - 2] == a.shape[a.rank - 2],
                    "[\(op)] a \(shapeText(a.shape)) and b \(shapeText(b.shape)) have different row counts")
    }

    /// Whether `b` is a (batch of) vectors for `a`, as torch.linalg.solve decides: 1-D, or one
    /// axis fewer than `a` with `a`'s leading shape.
    static func isVectorRHS(_ a: Tensor, _ b: Tensor) -> Bool {
        b.rank == 1 || (b.rank == a.rank - 1 && b.shape == Array(a.shape.dropLast()))
    }

    /// The broadcast batch shape of two operands, or a stop naming them.
    static func batchShape(_ a: Tensor, _ b: Tensor, _ op: StaticString) -> [Int] {
        guard let batch = broadcastShapes(Array(a.shape.dropLast(2)), Array(b.shape.dropLast(2))) else {
            tensorFailure("[\(op)] batch axes of a \(shapeText(a.shape)) and b \(shapeText(b.shape)) cannot be broadcast")
        }
        return batch
    }

    /// `x` broadcast to `batch + its last two axes`, contiguous, as kernels take it.
    static func kernelInput(_ x: Tensor, batch: [Int]) -> Tensor {
        let target = batch + x.shape.suffix(2)
        return (x.shape == target ? x : x.expanded(to: target)).detached().contiguous()
    }

    /// Throws the first failure in `infos` (one per batch element).
    static func throwing(_ infos: [Int32], _ op: String, batchShape: [Int], _ reason: (Int) -> LinalgError.Reason) throws {
        if let index = infos.firstIndex(where: { $0 != 0 }) {
            throw LinalgError(operation: op, batchIndex: index, batchShape: batchShape, reason: reason(Int(infos[index])))
        }
    }

    /// Several outputs of one decomposition under one autograd node: the parts are packed
    /// into one flat tensor that records `backward` (given each part's gradient, zeros for the
    /// unused ones), and returned as views of it, so that any of them leads back to `input`.
    static func recordedParts(_ op: StaticString, _ parts: [Tensor], input: Tensor,
                              _ backward: @escaping ([Tensor]) -> Tensor) -> [Tensor] {
        guard input.requiresGrad && ThreadState.current.gradientsEnabled else { return parts }
        let sizes = parts.map { $0.elementCount }, shapes = parts.map { $0.shape }
        let packed = Tensor.concatenated(parts.map { $0.reshaped(to: [-1]) }, axis: 0)
        let node = packed.recorded(op, input) { g, _ in
            var start = 0
            let grads = zip(sizes, shapes).map { size, shape -> Tensor in
                defer { start += size }
                return g.narrowed(axis: 0, start: start, length: size).reshaped(to: shape)
            }
            return [backward(grads)]
        }
        var start = 0
        return zip(sizes, shapes).map { size, shape in
            defer { start += size }
            return node.narrowed(axis: 0, start: start, length: size).reshaped(to: shape)
        }
    }

    /// Whether `g` is a constant zero (an output nobody used gets one). A zero that records
    /// gradients is not: the forward-mode trick (`jvp`) seeds backward passes with a zero
    /// that is then differentiated.
    static func isZero(_ g: Tensor) -> Bool {
        !g.requiresGrad && (g.elementCount == 0 || g.abs().max().item(as: Double.self) == 0)
    }

    /// `I_n` broadcastable against `[..., n, n]`, in `like`'s dtype and device.
    static func identity(_ n: Int, like x: Tensor) -> Tensor {
        Tensor.eye(n, dtype: x.dtype, device: x.device)
    }
}

import TensorCore

/// An all-reduce of a tensor in flight: `wait()` returns the combined tensor.
public final class PendingTensor {
    private let work: CollectiveWork
    private let finish: () -> Tensor

    init(work: CollectiveWork, finish: @escaping () -> Tensor) {
        self.work = work
        self.finish = finish
    }

    /// Whether the collective has completed.
    public var isCompleted: Bool { work.isCompleted }

    /// The combined tensor, once every rank's contribution is in.
    public func wait() throws -> Tensor {
        try work.wait()
        return finish()
    }
}

/// A contiguous tensor on `device` of `dtype` holding `tensor`'s values that no other tensor shares:
/// a buffer a collective may write into.
func wireBuffer(_ tensor: Tensor, dtype: DType, on device: Device, operation: String) -> Tensor {
    tensorCheck(tensor.device == device,
                "[\(operation)] this process group moves memory of \(device); the tensor is on \(tensor.device) (move it to \(device))")
    var buffer = Tensor.empty(tensor.shape, dtype: dtype, device: device)
    let target = buffer.uniqueOperand()
    tensor.withOperand { buffer.backend.copy($0, into: target) }
    return buffer
}

extension Operand {
    /// The address of the first element (host memory, or a device address for a GPU's storage).
    var firstElement: UnsafeMutableRawPointer { storage.pointer + layout.offset * dtype.byteSize }
}

extension Tensor {
    /// Runs `body` with this tensor's bytes (contiguous, owned by this tensor alone).
    mutating func withUniqueBytes<R>(_ body: (UnsafeMutableRawPointer) throws -> R) rethrows -> R {
        let operand = uniqueOperand()
        precondition(operand.layout.isContiguous, "[collective] wire buffers are contiguous")
        return try body(operand.firstElement)
    }
}

/// The buffer primitive that carries `operation` on `dtype`: an average is a sum divided
/// afterwards, and a sum of booleans is their maximum (a logical or).
func primitive(_ operation: ReduceOperation, on dtype: DType) -> ReduceOperation {
    operation == .average ? .sum : (dtype == .bool && operation == .sum ? .max : operation)
}

extension ProcessGroup {
    /// Starts combining `tensor` with every rank's tensor of the same shape and dtype; the
    /// result (same shape and dtype) comes from `wait()`. `.average` needs a floating-point
    /// dtype; for `bool`, `.sum` and `.max` are logical or, `.min` logical and. Half-precision
    /// tensors are combined in float32.
    public func allReduceAsync(_ tensor: Tensor, _ operation: ReduceOperation = .sum) -> PendingTensor {
        tensorCheck(operation != .average || tensor.dtype.isFloatingPoint,
                    "[allReduce] average needs a floating-point tensor, got \(tensor.dtype)")
        let wire = WireType(tensor.dtype)
        var buffer = wireBuffer(tensor, dtype: wire.dtype, on: device, operation: "allReduce")
        let storageOwner = buffer.withOperand { $0.storage }
        let work = buffer.withUniqueBytes { pointer in
            startAllReduce(pointer, count: tensor.elementCount, type: wire, primitive(operation, on: tensor.dtype), owner: storageOwner)
        }
        let dtype = tensor.dtype, worldSize = self.worldSize
        return PendingTensor(work: work) {
            let combined = operation == .average ? buffer * (1 / Double(worldSize)) : buffer
            return combined.cast(to: dtype)
        }
    }

    /// `tensor` combined with every rank's (see `allReduceAsync`), waiting for the result.
    public func allReduce(_ tensor: Tensor, _ operation: ReduceOperation = .sum) throws -> Tensor {
        try allReduceAsync(tensor, operation).wait()
    }

    /// Rank `root`'s `tensor` on every rank (each passes a tensor of the same shape and dtype).
    public func broadcast(_ tensor: Tensor, from root: Int = 0) throws -> Tensor {
        var buffer = wireBuffer(tensor, dtype: tensor.dtype, on: device, operation: "broadcast")
        try buffer.withUniqueBytes { try broadcast($0, byteCount: tensor.elementCount * tensor.dtype.byteSize, from: root) }
        return buffer
    }

    /// Every rank's `tensor` (all of one shape and dtype), in rank order.
    public func allGather(_ tensor: Tensor) throws -> [Tensor] {
        let stacked = try allGatherStacked(tensor)
        return (0..<worldSize).map { stacked[$0] }
    }

    /// Every rank's `tensor` stacked along a new first axis (`[worldSize] + shape`).
    public func allGatherStacked(_ tensor: Tensor) throws -> Tensor {
        let source = wireBuffer(tensor, dtype: tensor.dtype, on: device, operation: "allGather")
        var gathered = Tensor.empty([worldSize] + tensor.shape, dtype: tensor.dtype, device: device)
        let bytes = tensor.elementCount * tensor.dtype.byteSize
        try source.withOperand { operand in
            let pointer = UnsafeRawPointer(operand.firstElement)
            try gathered.withUniqueBytes { try allGather(pointer, into: $0, byteCount: bytes) }
        }
        return gathered
    }

    /// Combines every rank's `tensor` (first axis `worldSize × k`) and returns this rank's
    /// block of `k` rows of the result (PyTorch's `reduce_scatter_tensor`).
    public func reduceScatter(_ tensor: Tensor, _ operation: ReduceOperation = .sum) throws -> Tensor {
        tensorCheck(tensor.rank > 0 && tensor.shape[0] % worldSize == 0,
                    "[reduceScatter] the first axis of \(tensor.shape) must split into \(worldSize) equal blocks, one per rank")
        tensorCheck(operation != .average || tensor.dtype.isFloatingPoint,
                    "[reduceScatter] average needs a floating-point tensor, got \(tensor.dtype)")
        let wire = WireType(tensor.dtype)
        let source = wireBuffer(tensor, dtype: wire.dtype, on: device, operation: "reduceScatter")
        var block = Tensor.empty([tensor.shape[0] / worldSize] + tensor.shape.dropFirst(), dtype: wire.dtype, device: device)
        try source.withOperand { operand in
            let pointer = UnsafeRawPointer(operand.firstElement)
            try block.withUniqueBytes {
                try reduceScatter(pointer, into: $0, count: tensor.elementCount / worldSize, type: wire, primitive(operation, on: tensor.dtype))
            }
        }
        let combined = operation == .average ? block * (1 / Double(worldSize)) : block
        return combined.cast(to: tensor.dtype)
    }

    /// Element-wise sums of `values` over the ranks, in float64 (metrics, counts).
    public func sum(_ values: [Double]) throws -> [Double] {
        guard !values.isEmpty else { return [] }
        return try allReduce(Tensor(values, shape: [values.count]).moved(to: device), .sum).scalars(as: Double.self)
    }
}

import TensorCore

/// A value stored as an attribute: a number or a string.
public enum MetadataValue: Equatable, Sendable, CustomStringConvertible {
    /// A number (integers are stored exactly up to 2^53).
    case number(Double)
    /// A string (JSON configurations, CSV histories).
    case string(String)

    public var description: String {
        switch self {
        case .number(let v): return v.rounded() == v && Swift.abs(v) < 1e15 ? String(Int64(v)) : String(v)
        case .string(let s): return s
        }
    }
}

/// What a checkpoint holds: the model's state dict, optionally an optimizer's state, the
/// training position, the random generator state and free-form metadata.
public struct Checkpoint {
    /// Model state dict; dotted names become nested groups in the file.
    public var model: [String: Tensor]
    /// Optimizer state: tensors and numbers by key (see Optim's `OptimizerStateDict`).
    public var optimizerTensors: [String: Tensor]
    /// Optimizer numbers by key (step counts, hyper-parameters).
    public var optimizerScalars: [String: Double]
    /// Optimizer steps taken when saved (nil when not recorded).
    public var step: Int?
    /// Epochs completed when saved (nil when not recorded).
    public var epoch: Int?
    /// Philox generator state (seed, counters used).
    public var random: (seed: UInt64, offset: UInt64)?
    /// Free-form attributes (`"dataset": .string("fashion-mnist")`, `"lr": .number(0.05)`).
    public var metadata: [String: MetadataValue]

    /// A checkpoint of `model`'s state dict and, optionally, everything a resumed run needs.
    public init(model: [String: Tensor], optimizerTensors: [String: Tensor] = [:], optimizerScalars: [String: Double] = [:],
                step: Int? = nil, epoch: Int? = nil, random: (seed: UInt64, offset: UInt64)? = nil,
                metadata: [String: MetadataValue] = [:]) {
        self.model = model
        self.optimizerTensors = optimizerTensors
        self.optimizerScalars = optimizerScalars
        self.step = step
        self.epoch = epoch
        self.random = random
        self.metadata = metadata
    }
}

/// One stored tensor as listed without reading its data.
public struct CheckpointEntry: Equatable, Sendable {
    /// Dotted name under its section (`encoder.0.weight`).
    public var name: String
    /// "model" or "optimizer".
    public var section: String
    /// The tensor's shape.
    public var shape: [Int]
    /// The element type as stored.
    public var dtype: DType
    /// Bytes of tensor data (elements × element size).
    public var byteCount: Int { shape.reduce(1, *) * dtype.byteSize }
}

/// `(gradient of the output, the output) -> gradients of the inputs` (nil: no gradient).
public typealias BackwardFunction = (_ gradient: Tensor, _ output: Tensor) -> [Tensor?]

/// The autograd identity of a tensor: a leaf that accumulates `grad`, or the result of an
/// operation with its inputs and backward rule (a node of the tape).
public final class AutogradInfo {
    /// The operation that made the tensor (`matmul`, `relu`, …), for error messages and anomaly mode.
    public let operation: StaticString
    let inputs: [AutogradInfo?]
    let backward: BackwardFunction?
    /// The output without its graph, for rules that use it (exp, sigmoid, softmax, ...).
    /// Stored detached so that a node never keeps itself alive.
    var savedOutput: Tensor?
    /// The accumulated gradient of a leaf (nil before a backward pass reaches it).
    public internal(set) var grad: Tensor?
    /// Keep the gradient of a non-leaf after backward (`retainGrad()`).
    var retainsGrad = false
    /// Subscript views: the region of the input (of shape `shape`) the view selects. The
    /// engine adds the view's gradient into that region of the input's gradient instead of
    /// running `backward`, which pads it with zeros to the input's shape: splitting a tensor
    /// into k views then costs one zero-filled buffer and k region adds, not k zero-padded
    /// copies and k - 1 full-size sums (a GPT block's q, k, v split of its fused projection).
    var region: (items: [TensorIndex], shape: [Int])?
    /// Run after a backward pass has added this leaf's gradient into `grad`, in registration
    /// order (PyTorch's post-accumulate-grad hooks): data-parallel training starts a bucket's
    /// all-reduce as soon as its last gradient is final, while the rest of backward runs.
    /// Nil, not empty, when there are none: the engine checks one optional per leaf.
    var accumulationHooks: [(id: Int, hook: () -> Void)]?

    /// A leaf.
    init() {
        operation = "leaf"
        inputs = []
        backward = nil
    }

    init(operation: StaticString, inputs: [AutogradInfo?], backward: @escaping BackwardFunction) {
        self.operation = operation
        self.inputs = inputs
        self.backward = backward
    }

    /// Whether the tensor was made by the user rather than computed by a recorded operation.
    public var isLeaf: Bool { backward == nil }
}

extension Tensor {
    /// Whether this tensor tracks gradients. Setting true on a tensor that does not makes
    /// it a leaf; setting false detaches it.
    public var requiresGrad: Bool {
        get { autograd != nil }
        set {
            if newValue {
                tensorCheck(dtype.isFloatingPoint,
                            "[requiresGrad] only floating-point tensors can require gradients, got \(dtype)")
                if autograd == nil { autograd = AutogradInfo() }
            } else {
                autograd = nil
            }
        }
    }

    /// This tensor as a new leaf that requires gradients.
    public func requiringGrad() -> Tensor {
        var t = detached()
        t.requiresGrad = true
        return t
    }

    /// The gradient accumulated by `backward()` (leaves, and non-leaves that `retainGrad()`).
    public var grad: Tensor? {
        get { autograd?.grad }
        nonmutating set { autograd?.grad = newValue }
    }

    /// True for tensors that require gradients and were not made by an operation.
    public var isLeaf: Bool { autograd?.isLeaf ?? true }

    /// The operation that made this tensor ("leaf" for leaves, nil for constants).
    public var gradientOperation: StaticString? { autograd?.operation }

    /// Keeps this non-leaf's gradient in `grad` after `backward()`.
    public func retainGrad() { autograd?.retainsGrad = true }

    /// The same values with no gradient tracking (shares storage).
    public func detached() -> Tensor {
        Tensor(storage: storage, layout: layout, dtype: dtype)
    }

    // MARK: recording

    /// Whether an op on these inputs records a node.
    static func recording(_ a: Tensor) -> Bool {
        a.autograd != nil && ThreadState.current.gradientsEnabled
    }

    static func recording(_ a: Tensor, _ b: Tensor) -> Bool {
        (a.autograd != nil || b.autograd != nil) && ThreadState.current.gradientsEnabled
    }

    /// One-input form: builds no array and no node unless recording (the per-op fast path).
    @inline(__always)
    func recorded(_ operation: StaticString, _ a: Tensor, saveOutput: Bool = false,
                  _ backward: @escaping BackwardFunction) -> Tensor {
        let state = ThreadState.current
        if _slowPath(state.anomalyDetection) { Anomaly.checkForward(self, operation: operation) }
        guard a.autograd != nil && state.gradientsEnabled else { return self }
        return attached(operation, [a.autograd], saveOutput: saveOutput, backward)
    }

    /// Two-input form of `recorded`.
    @inline(__always)
    func recorded(_ operation: StaticString, _ a: Tensor, _ b: Tensor, saveOutput: Bool = false,
                  _ backward: @escaping BackwardFunction) -> Tensor {
        let state = ThreadState.current
        if _slowPath(state.anomalyDetection) { Anomaly.checkForward(self, operation: operation) }
        guard (a.autograd != nil || b.autograd != nil) && state.gradientsEnabled else { return self }
        return attached(operation, [a.autograd, b.autograd], saveOutput: saveOutput, backward)
    }

    func attached(_ operation: StaticString, _ inputs: [AutogradInfo?], saveOutput: Bool,
                  _ backward: @escaping BackwardFunction) -> Tensor {
        var result = self
        let info = AutogradInfo(operation: operation, inputs: inputs, backward: backward)
        if saveOutput { info.savedOutput = detached() }
        result.autograd = info
        return result
    }

    /// Attaches a backward rule when any input requires gradients and recording is on;
    /// checks the result for NaN/Inf in anomaly mode.
    func recorded(_ operation: StaticString, _ inputs: [Tensor], saveOutput: Bool = false,
                  _ backward: @escaping BackwardFunction) -> Tensor {
        let state = ThreadState.current
        if _slowPath(state.anomalyDetection) { Anomaly.checkForward(self, operation: operation) }
        guard state.gradientsEnabled else { return self }
        var any = false
        for input in inputs where input.autograd != nil { any = true; break }
        guard any else { return self }
        var result = self
        let info = AutogradInfo(operation: operation, inputs: inputs.map { $0.autograd }, backward: backward)
        if saveOutput { info.savedOutput = detached() }
        result.autograd = info
        return result
    }
}

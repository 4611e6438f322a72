import Synchronization

/// A trainable tensor: keeps one autograd identity while its value is replaced by
/// optimizer updates, so `grad` and optimizer state follow it.
public final class Parameter {
    private let identity = AutogradInfo()

    /// The current value; assigning keeps gradient tracking and the accumulated `grad`.
    public var value: Tensor {
        didSet { bind() }
    }

    /// A trainable parameter holding `value` (detached).
    public init(_ value: Tensor) {
        tensorCheck(value.dtype.isFloatingPoint, "[Parameter] needs a floating-point tensor, got \(value.dtype)")
        self.value = value
        bind()
    }

    /// False freezes the parameter: its value stops tracking gradients and optimizers skip it.
    public var requiresGrad = true {
        didSet { bind() }
    }

    private func bind() {
        let wanted: AutogradInfo? = requiresGrad ? identity : nil
        if value.autograd !== wanted {
            value = Tensor(storage: value.storage, layout: value.layout, dtype: value.dtype, autograd: wanted)
        }
    }

    /// The gradient accumulated by `backward()`; nil before the first backward or after zeroing.
    public var grad: Tensor? {
        get { identity.grad }
        set { identity.grad = newValue }
    }

    /// Calls `hook` after every backward pass that adds to this parameter's `grad`, once the
    /// pass's whole contribution is in (PyTorch's `register_post_accumulate_grad_hook`): the
    /// gradient is final for that pass when the hook runs, while the pass goes on for other
    /// parameters. Hooks run in registration order on the thread running backward. Remove
    /// with the returned handle.
    @discardableResult
    public func registerGradientAccumulatedHook(_ hook: @escaping (Parameter) -> Void) -> GradientHookHandle {
        let id = GradientHookHandle.nextIdentifier()
        identity.accumulationHooks = (identity.accumulationHooks ?? []) + [(id: id, hook: { [weak self] in
            if let self { hook(self) }
        })]
        return GradientHookHandle(identity: identity, id: id)
    }

    /// The value's shape.
    public var shape: [Int] { value.shape }
    /// The value's dtype.
    public var dtype: DType { value.dtype }
}

/// Removes a hook registered with `Parameter.registerGradientAccumulatedHook`.
public struct GradientHookHandle {
    private weak var identity: AutogradInfo?
    private let id: Int

    init(identity: AutogradInfo, id: Int) {
        self.identity = identity
        self.id = id
    }

    /// Stops the hook from running; removing twice does nothing.
    public func remove() {
        guard let identity, var hooks = identity.accumulationHooks else { return }
        hooks.removeAll { $0.id == id }
        identity.accumulationHooks = hooks.isEmpty ? nil : hooks
    }

    private static let counter = Atomic<Int>(0)
    static func nextIdentifier() -> Int { counter.wrappingAdd(1, ordering: .relaxed).newValue }
}

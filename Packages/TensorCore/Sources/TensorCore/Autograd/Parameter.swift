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

    /// The value's shape.
    public var shape: [Int] { value.shape }
    /// The value's dtype.
    public var dtype: DType { value.dtype }
}

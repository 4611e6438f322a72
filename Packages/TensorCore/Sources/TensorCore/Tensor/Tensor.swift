/// An n-dimensional array on a device, with optional gradient tracking.
///
/// A value type: copies share storage until one of them is mutated (copy on write).
/// Views (reshape, transpose, slices) share storage with their base.
///
/// ```swift
/// let x = Tensor([1, 2, 3, 4], shape: [2, 2])
/// let y = (x * x).sum()          // 30
/// ```
public struct Tensor {
    var storage: Storage
    var layout: Layout
    /// The element type.
    public let dtype: DType
    /// Autograd identity: nil for constants; shared by copies of a tensor that requires gradients.
    var autograd: AutogradInfo?

    
    init(storage: Storage, layout: Layout, dtype: DType, autograd: AutogradInfo? = nil) {
        self.storage = storage
        self.layout = layout
        self.dtype = dtype
        self.autograd = autograd
    }

    /// A new contiguous tensor with uninitialised contents on `device` (a registry lookup).
    init(uninitializedShape shape: [Int], dtype: DType, device: Device) {
        self.init(uninitializedShape: shape, dtype: dtype, backend: Backends.backend(for: device))
    }

    /// A new contiguous tensor with uninitialised contents made by `backend`: what ops use
    /// for their outputs, with the backend of an input (no lookup).
    init(uninitializedShape shape: [Int], dtype: DType, backend: any Backend) {
        storage = backend.allocate(byteCount: Swift.max(Tensor.byteCount(of: shape, dtype: dtype), dtype.byteSize))
        layout = Layout(contiguous: shape)
        self.dtype = dtype
        autograd = nil
    }

    /// Bytes of a contiguous tensor of `shape`. Shape arithmetic never overflows silently (nor
    /// traps without a word): a negative dimension or a byte count past `Int.max` stops with the
    /// shape and the dtype.
    @inline(__always) static func byteCount(of shape: [Int], dtype: DType) -> Int {
        var bytes = dtype.byteSize
        for d in shape {
            let (product, overflow) = bytes.multipliedReportingOverflow(by: d)
            if _slowPath(d < 0 || overflow) {
                tensorFailure("[allocate] shape \(shapeText(shape)) of \(dtype) "
                              + (d < 0 ? "has a negative dimension" : "holds more bytes than can be counted"))
            }
            bytes = product
        }
        return bytes
    }

    /// A float32 tensor from scalars in row-major order.
    public init(_ scalars: [Float], shape: [Int], device: Device = .cpu) {
        self.init(elements: scalars, shape: shape, device: device)
    }

    /// A tensor of `T`'s dtype from scalars in row-major order (Double, Int32, Int64, ...).
    /// Disfavoured so that array literals of decimals make float32 tensors, as in PyTorch.
    @_disfavoredOverload
    public init<T: TensorScalar>(_ scalars: [T], shape: [Int], device: Device = .cpu) {
        self.init(elements: scalars, shape: shape, device: device)
    }

    /// A rank-1 float32 tensor.
    public init(_ scalars: [Float], device: Device = .cpu) {
        self.init(elements: scalars, shape: [scalars.count], device: device)
    }

    /// A rank-1 tensor of `T`'s dtype.
    @_disfavoredOverload
    public init<T: TensorScalar>(_ scalars: [T], device: Device = .cpu) {
        self.init(elements: scalars, shape: [scalars.count], device: device)
    }

    /// A rank-0 (scalar) tensor.
    public init<T: TensorScalar>(scalar: T, device: Device = .cpu) {
        self.init(elements: [scalar], shape: [], device: device)
    }

    init<T: TensorScalar>(elements: [T], shape: [Int], device: Device) {
        for d in shape { tensorCheck(d >= 0, "[Tensor] negative dimension in shape \(shapeText(shape))") }
        let count = Tensor.byteCount(of: shape, dtype: T.dtype) / T.dtype.byteSize
        tensorCheck(count == elements.count,
                    "[Tensor] \(elements.count) scalars do not fill shape \(shapeText(shape)) (\(count) elements)")
        self.init(uninitializedShape: shape, dtype: T.dtype, device: device)
        let backend = self.backend
        let byteCount = count * MemoryLayout<T>.stride
        let s = storage
        elements.withUnsafeBytes { backend.copyFromHost(UnsafeRawBufferPointer(rebasing: $0[0..<byteCount]), into: s) }
    }

    // MARK: properties

    /// Lengths of the axes.
    public var shape: [Int] { layout.shape }
    /// Elements between consecutive indices of each axis.
    public var strides: [Int] { layout.strides }
    /// The number of axes.
    public var rank: Int { layout.shape.count }
    /// Number of elements.
    public var elementCount: Int { layout.elementCount }
    /// Where the data lives.
    public var device: Device { storage.device }
    /// Whether the elements lie in row-major order without gaps.
    public var isContiguous: Bool { layout.isContiguous }

    /// The backend whose kernels run this tensor's ops (its storage's).
    public var backend: any Backend { storage.backend }

    /// The kernel's view of this tensor. Internal: outside TensorCore, `withOperand` reads and
    /// `uniqueOperand()` writes, so no caller can write through storage another tensor shares.
    var operand: Operand { Operand(storage: storage, layout: layout, dtype: dtype) }

    /// Runs `body` with the kernel's view of this tensor, to pass it to a kernel as an input.
    /// Never write through it: copies and views of this tensor share its storage.
    public func withOperand<R>(_ body: (Operand) throws -> R) rethrows -> R {
        try body(operand)
    }

    /// The kernel's view of this tensor for writing its elements in place (optimizer states,
    /// a buffer a file is read into). The storage is made this tensor's own first, copied when
    /// any other tensor or view shares it, so the write changes no other value: copy on write
    /// holds for in-place kernels. Write before this tensor is next copied. Stops when the
    /// tensor records gradients (an in-place write would corrupt the graph).
    public mutating func uniqueOperand() -> Operand {
        tensorCheck(autograd == nil || !ThreadState.current.gradientsEnabled,
                    "[uniqueOperand] in-place write to a tensor that records gradients; do it inside withoutGradients")
        if !isKnownUniquelyReferenced(&storage) {
            let fresh = Tensor(uninitializedShape: shape, dtype: dtype, backend: backend)
            backend.copy(operand, into: fresh.operand)
            storage = fresh.storage
            layout = fresh.layout
        }
        return operand
    }

    /// Wraps a kernel result.
    public init(operand: Operand) {
        self.init(storage: operand.storage, layout: operand.layout, dtype: operand.dtype)
    }

    /// Two tensors that share memory (views of one another).
    public func sharesStorage(with other: Tensor) -> Bool { storage === other.storage }

    /// Whether both are the same elements: one storage seen through the same shape, strides
    /// and offset (so `f(x, x)` can take a shortcut that `f(x, y)` must not).
    public func isSameView(as other: Tensor) -> Bool {
        storage === other.storage && layout.offset == other.layout.offset && layout.shape == other.layout.shape
            && layout.strides == other.layout.strides
    }

    // MARK: reading back

    /// The elements in row-major order, converted to `T`.
    public func scalars<T: TensorScalar>(as type: T.Type) -> [T] {
        let source = (dtype == T.dtype ? self : self.cast(to: T.dtype, differentiable: false)).contiguousCPU()
        let count = source.elementCount
        return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            let offsetBytes = source.layout.offset * MemoryLayout<T>.stride
            if count > 0 {
                UnsafeMutableRawPointer(buffer.baseAddress!).copyMemory(
                    from: source.storage.pointer + offsetBytes, byteCount: count * MemoryLayout<T>.stride)
            }
            initialized = count
        }
    }

    /// The float32 elements in row-major order.
    public var scalars: [Float] { scalars(as: Float.self) }

    /// The single element of a one-element tensor.
    public func item<T: TensorScalar>(as type: T.Type = Float.self) -> T {
        tensorCheck(elementCount == 1, "[item] needs a tensor with one element, got shape \(shapeText(shape))")
        return scalars(as: T.self)[0]
    }

    /// This tensor, contiguous, in host memory (copied only when needed).
    func contiguousCPU() -> Tensor {
        let c = contiguous()
        if case .cpu = device { return c }
        return c.moved(to: .cpu)
    }
}

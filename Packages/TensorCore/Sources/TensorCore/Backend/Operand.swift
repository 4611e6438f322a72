/// A kernel's view of a tensor: storage, layout and element type, no autograd.
public struct Operand {
    /// The memory read or written.
    public var storage: Storage
    /// Where the elements sit in it.
    public var layout: Layout
    /// Their type.
    public var dtype: DType

    /// An operand of `storage` seen through `layout`.
    public init(storage: Storage, layout: Layout, dtype: DType) {
        self.storage = storage
        self.layout = layout
        self.dtype = dtype
    }

    /// The operand's shape.
    @inlinable public var shape: [Int] { layout.shape }
    /// Its number of elements.
    @inlinable public var elementCount: Int { layout.elementCount }

    /// The first element (at the layout's offset) as `T`, for kernels on host memory.
    @inlinable public func elements<T>(_ type: T.Type) -> UnsafeMutablePointer<T> {
        storage.pointer.assumingMemoryBound(to: T.self) + layout.offset
    }

    /// The same storage seen through another layout.
    public func with(layout: Layout) -> Operand { Operand(storage: storage, layout: layout, dtype: dtype) }
}

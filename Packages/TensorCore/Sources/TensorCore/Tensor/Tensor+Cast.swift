extension Tensor {
    /// The same values in another dtype. Between floating types the gradient flows back
    /// (cast to the original dtype); to or from integers it stops.
    public func cast(to type: DType) -> Tensor { cast(to: type, differentiable: true) }

    func cast(to type: DType, differentiable: Bool) -> Tensor {
        if type == dtype { return self }
        let out = Tensor(uninitializedShape: shape, dtype: type, backend: backend)
        backend.copy(operand, into: out.operand)
        guard differentiable, type.isFloatingPoint, dtype.isFloatingPoint else { return out }
        let source = dtype
        return out.recorded("cast", self) { g, _ in [g.cast(to: source)] }
    }

    /// A contiguous copy of this tensor when it is a strided view, else itself.
    public func contiguous() -> Tensor {
        if layout.isContiguous { return self }
        return copied()
    }

    /// A copy that owns fresh contiguous storage (the gradient flows through).
    public func copied() -> Tensor {
        let out = Tensor(uninitializedShape: shape, dtype: dtype, backend: backend)
        backend.copy(operand, into: out.operand)
        return out.recorded("copy", self) { g, _ in [g] }
    }

    /// This tensor on another device.
    public func moved(to target: Device) -> Tensor {
        if target == device { return self }
        // Host transfers copy from the start of a storage: give the source its own.
        let source = layout.isContiguous && layout.offset == 0 ? self : copied().detached()
        let out = Tensor(uninitializedShape: shape, dtype: dtype, device: target)
        let byteCount = elementCount * dtype.byteSize
        var host = [UInt8](repeating: 0, count: byteCount)
        host.withUnsafeMutableBytes { buffer in
            source.backend.copyToHost(source.storage, byteCount: byteCount, into: buffer)
        }
        host.withUnsafeBytes { out.backend.copyFromHost($0, into: out.storage) }
        let origin = device
        return out.recorded("moved", self) { g, _ in [g.moved(to: origin)] }
    }
}

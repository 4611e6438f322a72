import COpenBLAS
import CTesseraKernels
#if canImport(Glibc)
import Glibc
#endif

/// The CPU backend: float32 matrix products on our own GEMM (CTesseraKernels' gemm.c, where
/// the CPU has AVX2/FMA), float64 on OpenBLAS, generic strided kernels for the rest, split
/// across cores above a size threshold.
public final class CPUBackend: Backend {
    /// The CPU's backend.
    public static let shared = CPUBackend(device: .cpu)

    /// The device this backend's storages report (`cpu`, or an emulated one).
    public let device: Device
    /// The backend's name and the kernels it chose for this CPU.
    public var name: String {
        device == .cpu ? "cpu (OpenBLAS, \(CPUThreads.count) threads)" : "cpu emulating \(device) (OpenBLAS, \(CPUThreads.count) threads)"
    }

    private init(device: Device) {
        self.device = device
        CPUBackend.setBLASThreads(CPUThreads.count)
    }

    /// A CPU backend whose storages say they live on `device`: host memory and CPU kernels
    /// standing in for a GPU, so that code can be checked for device handling (moves,
    /// tensors created on the right device, mixing caught) on a machine without one.
    /// TensorCoreTesting's `EmulatedDevice.register()` installs one as `emulated:0`.
    public static func emulating(_ device: Device) -> CPUBackend { CPUBackend(device: device) }

    static func setBLASThreads(_ n: Int) {
        openblas_set_num_threads(Int32(n))
        tessera_pool_set_threads(Int32(n))
    }

    /// Host memory from the caching allocator.
    @inline(__always)
    public func allocate(byteCount: Int) -> Storage { CPUAllocator.shared.allocate(byteCount: byteCount, for: self, device: device) }

    /// Copies host bytes into `storage`.
    public func copyFromHost(_ bytes: UnsafeRawBufferPointer, into storage: Storage) {
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        storage.pointer.copyMemory(from: source, byteCount: bytes.count)
    }

    /// Copies `byteCount` bytes of `storage` to the host.
    public func copyToHost(_ storage: Storage, byteCount: Int, into bytes: UnsafeMutableRawBufferPointer) {
        guard let destination = bytes.baseAddress, byteCount > 0 else { return }
        destination.copyMemory(from: storage.pointer, byteCount: byteCount)
    }

    /// Sets every element of `destination` to `value`.
    public func fill(_ destination: Operand, with value: Double) {
        visitScalarType(destination.dtype, FillVisitor(destination: destination, value: value))
    }

    /// Copies `source` into `destination` (any strides, with dtype conversion).
    public func copy(_ source: Operand, into destination: Operand) {
        tensorCheck(source.shape == destination.shape,
                    "[copy] source \(shapeText(source.shape)) and destination \(shapeText(destination.shape)) differ")
        if source.dtype == destination.dtype {
            copySameType(source, destination)
        } else {
            visitScalarType(source.dtype, CastSourceVisitor(source: source, destination: destination))
        }
    }

    /// Same dtype: moves bytes by element width, so one loop serves every type.
    private func copySameType(_ source: Operand, _ destination: Operand) {
        switch source.dtype.byteSize {
        case 1: mapElements(source, destination, UInt8.self, UInt8.self) { $0 }
        case 2: mapElements(source, destination, UInt16.self, UInt16.self) { $0 }
        case 4: mapElements(source, destination, UInt32.self, UInt32.self) { $0 }
        default: mapElements(source, destination, UInt64.self, UInt64.self) { $0 }
        }
    }
}

// MARK: - Type dispatch

/// A generic body run for the Swift type of a dtype: the one place that switches on dtypes.
protocol ScalarVisitor {
    func visit<T: TensorScalar>(_ type: T.Type)
}

@inline(__always)
func visitScalarType<V: ScalarVisitor>(_ dtype: DType, _ visitor: V) {
    switch dtype {
    case .float32: visitor.visit(Float.self)
    case .float64: visitor.visit(Double.self)
    case .float16: visitor.visit(Float16.self)
    case .bfloat16: visitor.visit(BFloat16.self)
    case .int32: visitor.visit(Int32.self)
    case .int64: visitor.visit(Int64.self)
    case .uint8: visitor.visit(UInt8.self)
    case .bool: visitor.visit(Bool.self)
    }
}

private struct FillVisitor: ScalarVisitor {
    let destination: Operand
    let value: Double
    func visit<T: TensorScalar>(_ type: T.Type) {
        let v = T(tensorDouble: value)
        let plan = StridedPlan(shape: destination.shape, layouts: [destination.layout])
        let p = destination.storage.pointer.assumingMemoryBound(to: T.self)
        let s = plan.innerStrides[0]
        parallelChunks(count: plan.elementCount) { range in
            plan.forEachRow(in: range) { o, n in
                var q = p + o[0]
                for _ in 0..<n { q.pointee = v; q += s }
            }
        }
    }
}

private struct CastSourceVisitor: ScalarVisitor {
    let source: Operand
    let destination: Operand
    func visit<S: TensorScalar>(_ type: S.Type) {
        visitScalarType(destination.dtype, CastVisitor<S>(source: source, destination: destination))
    }
}

private struct CastVisitor<S: TensorScalar>: ScalarVisitor {
    let source: Operand
    let destination: Operand
    func visit<D: TensorScalar>(_ type: D.Type) {
        // Float <-> reduced precision directly: the common case, and exact rounding.
        if S.self == Float.self && D.self == Float16.self {
            mapElements(source, destination, Float.self, Float16.self) { Float16($0) }
        } else if S.self == Float16.self && D.self == Float.self {
            mapElements(source, destination, Float16.self, Float.self) { Float($0) }
        } else if S.self == Float.self && D.self == BFloat16.self {
            mapElements(source, destination, Float.self, BFloat16.self) { BFloat16($0) }
        } else if S.self == BFloat16.self && D.self == Float.self {
            mapElements(source, destination, BFloat16.self, Float.self) { $0.floatValue }
        } else if S.self == Bool.self && D.self == Float.self {
            mapElements(source, destination, Bool.self, Float.self) { $0 ? 1 : 0 }
        } else if S.self == Bool.self && D.self == Double.self {
            mapElements(source, destination, Bool.self, Double.self) { $0 ? 1 : 0 }
        } else if S.self == Float.self && D.self == Double.self {
            mapElements(source, destination, Float.self, Double.self) { Double($0) }
        } else if S.self == Double.self && D.self == Float.self {
            mapElements(source, destination, Double.self, Float.self) { Float($0) }
        } else {
            mapElements(source, destination, S.self, D.self) { D(tensorDouble: $0.tensorDouble) }
        }
    }
}

// MARK: - Element loops

/// `out[i] = f(x[i])` over matching shapes, any strides, split across cores.
@inline(__always)
func mapElements<T, U>(_ x: Operand, _ out: Operand, _: T.Type, _: U.Type, _ f: (T) -> U) {
    let xp = x.storage.pointer.assumingMemoryBound(to: T.self)
    let op = out.storage.pointer.assumingMemoryBound(to: U.self)
    if x.layout.isContiguous && out.layout.isContiguous && x.shape == out.shape {
        let xs = xp + x.layout.offset, os = op + out.layout.offset
        parallelChunks(count: out.elementCount) { range in
            for i in range { os[i] = f(xs[i]) }
        }
        return
    }
    let plan = StridedPlan(shape: out.shape, layouts: [x.layout, out.layout])
    let s = plan.innerStrides
    parallelChunks(count: plan.elementCount) { range in
        plan.forEachRow(in: range) { o, n in
            var a = xp + o[0], b = op + o[1]
            if s[0] == 1 && s[1] == 1 {
                for i in 0..<n { b[i] = f(a[i]) }
            } else {
                for _ in 0..<n { b.pointee = f(a.pointee); a += s[0]; b += s[1] }
            }
        }
    }
}

/// `out[i] = f(a[i], b[i])` with `a` and `b` already broadcast to `out`'s shape.
@inline(__always)
func zipElements<A, B, U>(_ a: Operand, _ b: Operand, _ out: Operand,
                          _: A.Type, _: B.Type, _: U.Type, _ f: (A, B) -> U) {
    let ap = a.storage.pointer.assumingMemoryBound(to: A.self)
    let bp = b.storage.pointer.assumingMemoryBound(to: B.self)
    let op = out.storage.pointer.assumingMemoryBound(to: U.self)
    if a.layout.isContiguous && b.layout.isContiguous && out.layout.isContiguous
        && a.shape == out.shape && b.shape == out.shape {
        let x = ap + a.layout.offset, y = bp + b.layout.offset, z = op + out.layout.offset
        parallelChunks(count: out.elementCount) { range in
            for i in range { z[i] = f(x[i], y[i]) }
        }
        return
    }
    let plan = StridedPlan(shape: out.shape, layouts: [a.layout, b.layout, out.layout])
    let s = plan.innerStrides
    parallelChunks(count: plan.elementCount) { range in
        plan.forEachRow(in: range) { o, n in
            var x = ap + o[0], y = bp + o[1], z = op + o[2]
            if s[0] == 1 && s[1] == 1 && s[2] == 1 {
                for i in 0..<n { z[i] = f(x[i], y[i]) }
            } else if s[0] == 1 && s[1] == 0 && s[2] == 1 {
                let c = y.pointee
                for i in 0..<n { z[i] = f(x[i], c) }
            } else if s[0] == 0 && s[1] == 1 && s[2] == 1 {
                let c = x.pointee
                for i in 0..<n { z[i] = f(c, y[i]) }
            } else {
                for _ in 0..<n { z.pointee = f(x.pointee, y.pointee); x += s[0]; y += s[1]; z += s[2] }
            }
        }
    }
}

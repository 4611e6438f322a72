import TensorCore

/// Kernel parameters laid out for `cuLaunchKernel`: each value copied into its own aligned
/// buffer, the launch given an array of pointers to them. The driver copies the values at
/// launch, so the buffers are freed right after.
struct KernelArguments {
    private(set) var buffers: [UnsafeMutableRawPointer] = []
    /// The byte size of each argument, in order.
    private(set) var sizes: [Int] = []

    mutating func append<T>(_ value: T) {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: MemoryLayout<T>.size, alignment: max(MemoryLayout<T>.alignment, 8))
        buffer.storeBytes(of: value, as: T.self)
        buffers.append(buffer)
        sizes.append(MemoryLayout<T>.size)
    }

    /// Raw bytes as one parameter (structs laid out by hand to match the C side).
    mutating func appendBytes(_ bytes: [UInt8], alignment: Int = 8) {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: alignment)
        bytes.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
        buffers.append(buffer)
        sizes.append(bytes.count)
    }

    /// The device address of an operand's first element (storage base + offset).
    mutating func append(_ operand: Operand) {
        append(operand.deviceAddress)
    }

    mutating func append(_ strided: StridedArgument) { appendBytes(strided.bytes) }

    func withPointers<R>(_ body: (UnsafeMutablePointer<UnsafeMutableRawPointer?>) -> R) -> R {
        var pointers: [UnsafeMutableRawPointer?] = buffers
        return pointers.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
    }

    func release() { buffers.forEach { $0.deallocate() } }
}

/// Kernel-side `struct Strided { i64 shape[8]; i64 strides[8]; int rank; }` (136 bytes).
struct StridedArgument {
    static let maxRank = 8
    var shape: [Int]
    var strides: [Int]

    init(shape: [Int], strides: [Int], op: StaticString = "cuda") {
        tensorCheck(shape.count <= Self.maxRank,
                    "[\(op)] the CUDA kernels index at most \(Self.maxRank) dimensions after merging contiguous ones; got shape \(shape)")
        self.shape = shape
        self.strides = strides
    }

    init(_ layout: Layout, op: StaticString = "cuda") { self.init(shape: layout.shape, strides: layout.strides, op: op) }

    var bytes: [UInt8] {
        var words = [Int64](repeating: 0, count: 2 * Self.maxRank + 1)
        for (d, extent) in shape.enumerated() { words[d] = Int64(extent); words[Self.maxRank + d] = Int64(strides[d]) }
        words[2 * Self.maxRank] = Int64(shape.count)  // rank in the low 4 bytes (little-endian), padding after
        return words.withUnsafeBytes { [UInt8]($0) }
    }
}

extension Operand {
    /// The device address of the element at the layout's offset.
    var deviceAddress: UInt64 {
        UInt64(UInt(bitPattern: storage.pointer)) &+ UInt64(bitPattern: Int64(layout.offset * dtype.byteSize))
    }
}

/// Shapes merged where every operand is contiguous across the boundary, so common views
/// index with few dimensions (a contiguous tensor becomes rank 1).
func coalesced(shape: [Int], strides: [[Int]]) -> (shape: [Int], strides: [[Int]]) {
    guard !shape.isEmpty else { return ([1], strides.map { _ in [1] }) }
    var outShape = [shape[0]]
    var outStrides = strides.map { [$0[0]] }
    for d in 1..<shape.count {
        let extent = shape[d]
        if extent == 1 { continue }
        let last = outShape.count - 1
        if outShape[last] == 1 {
            outShape[last] = extent
            for k in strides.indices { outStrides[k][last] = strides[k][d] }
            continue
        }
        let mergeable = strides.indices.allSatisfy { outStrides[$0][last] == strides[$0][d] * extent }
        if mergeable {
            outShape[last] *= extent
            for k in strides.indices { outStrides[k][last] = strides[k][d] }
        } else {
            outShape.append(extent)
            for k in strides.indices { outStrides[k].append(strides[k][d]) }
        }
    }
    return (outShape, outStrides)
}

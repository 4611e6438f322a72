import TensorCore

/// A compilation unit of the backend's kernels: one CUDA C source per module and dtype,
/// written once over `T`/`C`/`ACC` and specialised by a dtype prelude (no per-dtype copies).
public enum KernelModule: String, CaseIterable, Sendable {
    /// Unary, binary and scalar element-wise kernels.
    case elementwise
    /// Strided copies, fills and dtype conversion.
    case copy
    /// Reductions, arg-reductions and cumulative sums.
    case reduction
    /// Gathers, scatters, index select/add and sorting.
    case indexing
    /// Philox random fills.
    case random
    /// Softmax, layer norm, cross-entropy, optimizer updates, recurrent cells and attention.
    case fused
    /// im2col, col2im and pooling.
    case convolution

    /// Position in `allCases`.
    var index: Int {
        switch self {
        case .elementwise: return 0
        case .copy: return 1
        case .reduction: return 2
        case .indexing: return 3
        case .random: return 4
        case .fused: return 5
        case .convolution: return 6
        }
    }

    /// The dtypes this module is compiled for (`copy` is dtype-independent: nil).
    public var dtypes: [DType?] {
        switch self {
        case .copy: return [nil]
        case .elementwise, .reduction, .indexing, .random: return DType.allCases
        case .fused, .convolution: return [.float32, .float64, .float16, .bfloat16]
        }
    }

    /// The full CUDA C source of this module for `dtype`.
    public func source(for dtype: DType?) -> String {
        var parts = [KernelPrelude.common, CUDAOpCode.definitions]
        if let dtype { parts.append(KernelPrelude.types(dtype)) }
        switch self {
        case .elementwise: parts.append(ElementwiseKernels.source)
        case .copy: parts.append(CopyKernels.source)
        case .reduction: parts.append(ReductionKernels.source)
        case .indexing: parts.append(IndexingKernels.source)
        case .random: parts.append(RandomKernels.source)
        case .fused: parts += [KernelPrelude.blockReduce, FusedKernels.source]
        case .convolution: parts.append(ConvolutionKernels.source)
        }
        return parts.joined(separator: "\n")
    }

    /// A name for NVRTC's messages and the disk cache: `elementwise_float32.cu`.
    public func fileName(for dtype: DType?) -> String {
        "\(rawValue)\(dtype.map { "_\($0)" } ?? "").cu"
    }
}

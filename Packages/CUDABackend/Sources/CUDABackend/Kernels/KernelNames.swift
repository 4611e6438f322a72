/// Every `extern "C"` kernel of the backend's modules: the typed handle a launch names, what
/// the backend looks up once after loading a module, and what the compile test expects in
/// the PTX. The raw value is the C name.
enum BuiltinKernel: String, CaseIterable, Sendable {
    case fill, unary, logicalNot = "logical_not", binary, compare, binaryScalar = "binary_scalar"
    case compareScalar = "compare_scalar", select, unaryPacked = "unary_packed", binaryPacked = "binary_packed"
    case binaryScalarPacked = "binary_scalar_packed"
    case convert
    case reduceBlock = "reduce_block", reduceThread = "reduce_thread", argReduce = "arg_reduce"
    case cumulativeSum = "cumulative_sum"
    case gather, scatterAdd = "scatter_add", indexSelect = "index_select", indexAdd = "index_add", sortLines = "sort_lines"
    case fillRandom = "fill_random"
    case softmaxRows = "softmax_rows", layerNormRows = "layer_norm_rows", layerNormBackwardRows = "layer_norm_backward_rows"
    case crossEntropyRows = "cross_entropy_rows", adamUpdate = "adam_update", sgdUpdate = "sgd_update"
    case attentionSoftmaxRows = "attention_softmax_rows", attentionSoftmaxBackwardRows = "attention_softmax_backward_rows"
    case lstmCell = "lstm_cell", lstmCellBackward = "lstm_cell_backward", gruCell = "gru_cell", gruCellBackward = "gru_cell_backward"
    case im2col, col2im, maxPool2d = "max_pool2d"

    /// The module whose source defines this kernel.
    var module: KernelModule {
        switch self {
        case .fill, .unary, .logicalNot, .binary, .compare, .binaryScalar, .compareScalar, .select, .unaryPacked,
             .binaryPacked, .binaryScalarPacked: return .elementwise
        case .convert: return .copy
        case .reduceBlock, .reduceThread, .argReduce, .cumulativeSum: return .reduction
        case .gather, .scatterAdd, .indexSelect, .indexAdd, .sortLines: return .indexing
        case .fillRandom: return .random
        case .softmaxRows, .layerNormRows, .layerNormBackwardRows, .crossEntropyRows, .adamUpdate, .sgdUpdate,
             .attentionSoftmaxRows, .attentionSoftmaxBackwardRows, .lstmCell, .lstmCellBackward, .gruCell, .gruCellBackward: return .fused
        case .im2col, .col2im, .maxPool2d: return .convolution
        }
    }

    /// Position in `allCases`: the kernel's slot in a function table. A payload-free enum is
    /// stored as its case's declaration index, so this is one byte load, not the string
    /// raw value's comparison or a dictionary (a test checks it against `allCases`).
    @inline(__always) var slot: Int { Int(unsafeBitCast(self, to: UInt8.self)) }
}

enum CUDAKernelNames {
    static func names(in module: KernelModule) -> [String] {
        BuiltinKernel.allCases.filter { $0.module == module }.map(\.rawValue)
    }
}

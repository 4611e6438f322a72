/// The `extern "C"` kernels each module defines: what the backend looks up after loading a
/// module, and what the compile test expects in the PTX.
enum CUDAKernelNames {
    static func names(in module: KernelModule) -> [String] {
        switch module {
        case .elementwise: return ["fill", "unary", "logical_not", "binary", "compare", "binary_scalar", "compare_scalar", "select", "unary_packed", "binary_packed", "binary_scalar_packed"]
        case .copy: return ["convert"]
        case .reduction: return ["reduce_block", "reduce_thread", "arg_reduce", "cumulative_sum"]
        case .indexing: return ["gather", "scatter_add", "index_select", "index_add", "sort_lines"]
        case .random: return ["fill_random"]
        case .fused: return ["softmax_rows", "layer_norm_rows", "layer_norm_backward_rows", "cross_entropy_rows", "adam_update", "sgd_update"]
        case .convolution: return ["im2col", "col2im", "max_pool2d"]
        }
    }
}

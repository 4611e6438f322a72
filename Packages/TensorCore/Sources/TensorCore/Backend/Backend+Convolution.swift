/// Stride, padding, dilation and groups of a 2-D convolution (1-D is height 1).
public struct ConvolutionGeometry: Equatable, Sendable {
    /// Step of the window (rows, columns).
    public var stride: (Int, Int)
    /// Zeros added on each side (rows, columns).
    public var padding: (Int, Int)
    /// Spacing of the kernel's taps (rows, columns).
    public var dilation: (Int, Int)
    /// Channel groups convolved separately.
    public var groups: Int

    /// A geometry; PyTorch's defaults.
    public init(stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1), groups: Int = 1) {
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.stride == b.stride && a.padding == b.padding && a.dilation == b.dilation && a.groups == b.groups
    }

    /// Output extent along one axis.
    public static func outputSize(_ input: Int, kernel: Int, stride: Int, padding: Int, dilation: Int) -> Int {
        (input + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1
    }
}

/// Convolutions over NCHW operands (contiguous). The weight is `[out, in / groups, kh, kw]`.
public protocol ConvolutionOps: AnyObject {
    /// `out [N, O, Ho, Wo] = x [N, C, H, W] ⋆ weight`.
    func conv2d(_ x: Operand, weight: Operand, geometry: ConvolutionGeometry, into out: Operand)
    /// The gradient with respect to the input (a transposed convolution of `gradient`), into `out [N, C, H, W]`.
    func conv2dInputGradient(_ gradient: Operand, weight: Operand, geometry: ConvolutionGeometry, into out: Operand)
    /// The gradient with respect to the weight, into `out [O, C / groups, kh, kw]`.
    func conv2dWeightGradient(_ x: Operand, gradient: Operand, geometry: ConvolutionGeometry, into out: Operand)
    /// Max pooling: values and the flat `h * W + w` index of each maximum (int64).
    func maxPool2d(_ x: Operand, kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int),
                   into out: Operand, indices: Operand)
}

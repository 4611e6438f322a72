import TensorCore

/// `y = x Wᵀ + b`.
///
/// Shape: `[..., inputSize] -> [..., outputSize]`. Weight `[outputSize, inputSize]`,
/// initialised like PyTorch: uniform on ±1/√inputSize for weight and bias.
///
/// ```swift
/// let layer = Linear(inputSize: 784, outputSize: 10)
/// let logits = layer(images)   // [batch, 10]
/// ```
public final class Linear: Module {
    /// `[outputSize, inputSize]`.
    public let weight: Parameter
    /// `[outputSize]` (nil without bias).
    public let bias: Parameter?
    /// Input features.
    public let inputSize: Int
    /// Output features.
    public let outputSize: Int

    /// A layer from `inputSize` to `outputSize` features, initialised from `generator` (the global stream when nil).
    public init(inputSize: Int, outputSize: Int, bias: Bool = true, dtype: DType = .float32,
                generator: RandomGenerator? = nil) {
        tensorCheck(inputSize > 0 && outputSize > 0, "[Linear] sizes must be positive, got \(inputSize) -> \(outputSize)")
        self.inputSize = inputSize
        self.outputSize = outputSize
        let bound = 1 / Double(inputSize).squareRoot()
        weight = Parameter(Initializer.uniform([outputSize, inputSize], low: -bound, high: bound, dtype: dtype, generator: generator))
        self.bias = bias ? Parameter(Initializer.uniform([outputSize], low: -bound, high: bound, dtype: dtype, generator: generator)) : nil
    }

    public override func forward(_ x: Tensor) -> Tensor {
        tensorCheck(x.rank >= 1 && x.shape.last == inputSize,
                    "[Linear] input \(shapeText(x.shape)) does not end in inputSize \(inputSize)")
        return x.linear(weight: weight.value, bias: bias?.value)
    }

    /// `relu(self(x))` in one fused layer.
    public func forwardReLU(_ x: Tensor) -> Tensor {
        tensorCheck(x.rank >= 1 && x.shape.last == inputSize,
                    "[Linear] input \(shapeText(x.shape)) does not end in inputSize \(inputSize)")
        return x.linearReLU(weight: weight.value, bias: bias?.value)
    }
}

/// `y = x₁ᵀ A x₂ + b` for each output feature.
///
/// Shape: `[batch, in1], [batch, in2] -> [batch, out]`. Weight `[out, in1, in2]`.
public final class Bilinear: Module {
    /// `[out, in1, in2]`.
    public let weight: Parameter
    /// `[out]` (nil without bias).
    public let bias: Parameter?

    /// A bilinear layer initialised like PyTorch's (uniform on ±1/√in1).
    public init(inputSize1: Int, inputSize2: Int, outputSize: Int, bias: Bool = true, generator: RandomGenerator? = nil) {
        let bound = 1 / Double(inputSize1).squareRoot()
        weight = Parameter(Initializer.uniform([outputSize, inputSize1, inputSize2], low: -bound, high: bound, generator: generator))
        self.bias = bias ? Parameter(Initializer.uniform([outputSize], low: -bound, high: bound, generator: generator)) : nil
    }

    /// `x1ᵀ A x2 + b` for each output feature: `[batch, in1], [batch, in2] -> [batch, out]`.
    public func callAsFunction(_ x1: Tensor, _ x2: Tensor) -> Tensor {
        let w = weight.value
        tensorCheck(x1.rank == 2 && x2.rank == 2 && x1.shape[0] == x2.shape[0] && x1.shape[1] == w.shape[1] && x2.shape[1] == w.shape[2],
                    "[Bilinear] inputs \(shapeText(x1.shape)) and \(shapeText(x2.shape)) do not fit weight \(shapeText(w.shape))")
        // [out, B, in2] = x1 [B, in1] · W [out, in1, in2]; then sum over in2 with x2.
        let left = x1.unsqueezed(axis: 0).matmul(w)                    // [out, B, in2]
        let y = (left * x2.unsqueezed(axis: 0)).sum(axes: [2]).transposed() // [B, out]
        return bias.map { y + $0.value } ?? y
    }
}

/// A lookup table: integer indices to rows of a `[count, dimension]` weight.
///
/// Shape: `[...] (int) -> [..., dimension]`. The row at `paddingIndex` starts at zero and
/// receives no gradient, as in PyTorch.
public final class Embedding: Module {
    /// `[count, dimension]`, initialised standard normal.
    public let weight: Parameter
    /// The index whose row stays zero and receives no gradient.
    public let paddingIndex: Int?

    /// A table of `count` rows of `dimension`.
    public init(count: Int, dimension: Int, paddingIndex: Int? = nil, generator: RandomGenerator? = nil) {
        var w = Tensor.randn([count, dimension], generator: generator)
        if let p = paddingIndex {
            tensorCheck(p >= 0 && p < count, "[Embedding] padding index \(p) outside 0..<\(count)")
            w[p] = Tensor.zeros([dimension])
        }
        weight = Parameter(w)
        self.paddingIndex = paddingIndex
    }

    public override func forward(_ indices: Tensor) -> Tensor {
        tensorCheck(!indices.dtype.isFloatingPoint, "[Embedding] indices must be integers, got \(indices.dtype)")
        let flat = indices.reshaped(to: [-1])
        var rows = weight.value.indexSelect(axis: 0, indices: flat)
        if let p = paddingIndex {
            // Rows looked up at the padding index carry no gradient back to the table.
            let keep = (flat .!= Double(p)).cast(to: rows.dtype).unsqueezed(axis: 1)
            rows = rows * keep + (rows * (1 - keep)).detached()
        }
        return rows.reshaped(to: indices.shape + [weight.value.shape[1]])
    }
}

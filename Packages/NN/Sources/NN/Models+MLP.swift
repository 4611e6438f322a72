import TensorCore

/// How to build an `MLP`: `Codable`, so a checkpoint or results file records the model.
public struct MLPConfiguration: Codable, Equatable, Sendable {
    /// The activation between layers.
    public enum Activation: String, Codable, CaseIterable, Sendable {
        /// `max(x, 0)`.
        case relu
        /// Gaussian error linear unit.
        case gelu
        /// Hyperbolic tangent.
        case tanh
        /// `x · sigmoid(x)`.
        case silu
    }

    /// Input features.
    public var inputSize: Int
    /// Widths of the hidden layers, in order.
    public var hiddenSizes: [Int]
    /// Output features (classes).
    public var outputSize: Int
    /// The nonlinearity after each hidden layer.
    public var activation: Activation
    /// Dropout after each hidden activation (none at 0).
    public var dropout: Double

    /// A configuration; ReLU and no dropout unless given.
    public init(inputSize: Int, hiddenSizes: [Int], outputSize: Int, activation: Activation = .relu, dropout: Double = 0) {
        self.inputSize = inputSize
        self.hiddenSizes = hiddenSizes
        self.outputSize = outputSize
        self.activation = activation
        self.dropout = dropout
    }
}

/// A multilayer perceptron: `Linear`, activation (and dropout) per hidden width, then a final
/// `Linear` giving logits. Linear→ReLU pairs run fused (bias and ReLU in the GEMM epilogue).
///
/// Shape: `[batch, inputSize] -> [batch, outputSize]`.
///
/// ```swift
/// let mlp = MLP(MLPConfiguration(inputSize: 784, hiddenSizes: [512, 256], outputSize: 10))
/// ```
public final class MLP: Module {
    /// The shape it was built from.
    public let configuration: MLPConfiguration
    /// Linear, activation (and dropout) layers in order.
    public let layers: Sequential

    /// An MLP of `configuration`'s shape, initialised from `generator` (the global stream when nil).
    public init(_ configuration: MLPConfiguration, generator: RandomGenerator? = nil) {
        tensorCheck(configuration.inputSize > 0 && configuration.outputSize > 0 && configuration.hiddenSizes.allSatisfy { $0 > 0 },
                    "[MLP] sizes must be positive: \(configuration.inputSize), \(configuration.hiddenSizes), \(configuration.outputSize)")
        self.configuration = configuration
        var modules: [Module] = []
        var width = configuration.inputSize
        for h in configuration.hiddenSizes {
            modules.append(Linear(inputSize: width, outputSize: h, generator: generator))
            switch configuration.activation {
            case .relu: modules.append(ReLU())
            case .gelu: modules.append(GELU())
            case .tanh: modules.append(Tanh())
            case .silu: modules.append(SiLU())
            }
            if configuration.dropout > 0 { modules.append(Dropout(p: configuration.dropout, generator: generator)) }
            width = h
        }
        modules.append(Linear(inputSize: width, outputSize: configuration.outputSize, generator: generator))
        layers = Sequential(modules)
        super.init()
    }

    public override func forward(_ x: Tensor) -> Tensor { layers(x) }
}

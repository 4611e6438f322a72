import NN
import TensorCore

/// A policy for an action space: categorical logits for a discrete one, or a diagonal Gaussian
/// (a mean network and a state-independent log standard deviation) for a box.
public enum PolicyDistribution {
    /// Over a discrete action space.
    case categorical(Categorical)
    /// Over a box.
    case gaussian(DiagonalGaussian)

    /// `log π(actions)`, `[n]`: int64 indices `[n]` or float vectors `[n, d]`.
    public func logProbability(_ actions: Tensor) -> Tensor {
        switch self {
        case .categorical(let c): return c.logProbability(actions)
        case .gaussian(let g): return g.logProbability(actions)
        }
    }

    /// The entropy per row, `[n]`.
    public func entropy() -> Tensor {
        switch self {
        case .categorical(let c): return c.entropy()
        case .gaussian(let g): return g.entropy()
        }
    }

    /// One action per row.
    public func sample(_ random: inout NumPyRandom) -> [Action] {
        switch self {
        case .categorical(let c): return c.sample(&random).map { .discrete($0) }
        case .gaussian(let g): return g.sample(&random).map { .continuous($0) }
        }
    }

    /// The most likely action per row (the mean for a Gaussian): for evaluation.
    public func mode() -> [Action] {
        switch self {
        case .categorical(let c): return c.mode().map { .discrete($0) }
        case .gaussian(let g):
            let d = g.mean.shape[1], m = g.mean.scalars(as: Double.self)
            return (0..<g.mean.shape[0]).map { .continuous(Array(m[($0 * d)..<(($0 + 1) * d)])) }
        }
    }

    /// Actions as the tensor `logProbability` takes.
    public static func tensor(_ actions: [Action]) -> Tensor {
        if case .continuous(let first)? = actions.first {
            return Tensor(actions.flatMap { a -> [Float] in
                guard case .continuous(let x) = a else { fatalError("[PolicyDistribution.tensor] mixed action kinds") }
                return x.map { Float($0) }
            }, shape: [actions.count, first.count])
        }
        return Tensor(actions.map { a -> Int64 in
            guard case .discrete(let i) = a else { fatalError("[PolicyDistribution.tensor] mixed action kinds") }
            return Int64(i)
        }, shape: [actions.count])
    }
}

/// Separate actor and critic MLPs (tanh hidden layers, orthogonal initialisation with gain √2,
/// 0.01 for the policy's output and 1 for the value's, zero biases: the PPO implementation
/// details of Huang et al. 2022 / CleanRL), and for a box action space a learned log standard
/// deviation per action dimension starting at 0.
public final class ActorCritic: Module {
    /// Observations to logits (discrete) or action means (box).
    public let actor: Sequential
    /// Observations to one value each.
    public let critic: Sequential
    /// The Gaussian's log standard deviations `[1, d]` (nil for a discrete action space).
    public let logStd: Parameter?
    /// The action space the policy acts in.
    public let actionSpace: Space

    /// Networks for observations of `observationSize` entries and `actionSpace`, with hidden
    /// layers of `hidden` units.
    public init(observationSize: Int, actionSpace: Space, hidden: [Int] = [64, 64], generator: RandomGenerator? = nil) {
        tensorCheck(observationSize > 0 && !hidden.isEmpty && hidden.allSatisfy { $0 > 0 },
                    "[ActorCritic] observation size \(observationSize) and hidden sizes \(hidden) must be positive")
        let outputs: Int
        switch actionSpace {
        case .discrete(let n): outputs = n
        case .box(let low, _): outputs = low.count
        }
        func mlp(_ output: Int, gain: Double) -> Sequential {
            var layers: [Module] = [], width = observationSize
            for h in hidden {
                layers += [Self.orthogonalLinear(width, h, gain: 2.0.squareRoot(), generator), Tanh()]
                width = h
            }
            layers.append(Self.orthogonalLinear(width, output, gain: gain, generator))
            return Sequential(layers)
        }
        actor = mlp(outputs, gain: 0.01)
        critic = mlp(1, gain: 1)
        if case .box = actionSpace { logStd = Parameter(Tensor.zeros([1, outputs])) } else { logStd = nil }
        self.actionSpace = actionSpace
        super.init()
    }

    static func orthogonalLinear(_ input: Int, _ output: Int, gain: Double, _ generator: RandomGenerator?) -> Linear {
        let layer = Linear(inputSize: input, outputSize: output, generator: generator)
        layer.weight.value = Initializer.orthogonal([output, input], gain: gain, generator: generator)
        layer.bias?.value = Tensor.zeros([output])
        return layer
    }

    /// The policy at observations `[n, observationSize]`.
    public func distribution(_ observations: Tensor) -> PolicyDistribution {
        let out = actor(observations)
        if let logStd { return .gaussian(DiagonalGaussian(mean: out, logStd: logStd.value)) }
        return .categorical(Categorical(logits: out))
    }

    /// The value estimates `[n]`.
    public func value(_ observations: Tensor) -> Tensor { critic(observations).reshaped(to: [-1]) }

    /// The policy; `forward` gives the logits or means.
    public override func forward(_ x: Tensor) -> Tensor { actor(x) }
}

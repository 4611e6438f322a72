import TensorCore

/// Parameters that share hyper-parameters (PyTorch's param groups).
public struct ParameterGroup<Options> {
    /// The parameters the group's options apply to.
    public var parameters: [Parameter]
    /// The group's hyper-parameters.
    public var options: Options

    /// A group of `parameters` updated with `options`.
    public init(parameters: [Parameter], options: Options) {
        self.parameters = parameters
        self.options = options
    }
}

/// Options every optimizer has; schedules change `learningRate`.
public protocol OptimizerOptions {
    /// The group's step size.
    var learningRate: Double { get set }
}

/// An optimizer's state for checkpoints: tensors and numbers under string keys
/// (`state.3.exp_avg`, `groups.0.lr`), parameters numbered in order of the groups.
public struct OptimizerStateDict {
    /// Tensor state by key (`state.0.exp_avg`, …).
    public var tensors: [String: Tensor]
    /// Numbers by key (`state.0.step`, hyper-parameters).
    public var scalars: [String: Double]
    /// A state dict of `tensors` and `scalars`.
    public init(tensors: [String: Tensor] = [:], scalars: [String: Double] = [:]) {
        self.tensors = tensors
        self.scalars = scalars
    }
}

/// A state dict that cannot be loaded into an optimizer.
public enum OptimizerError: Error, CustomStringConvertible, Equatable {
    /// The saved state names other parameters, shapes or keys than this optimizer has.
    case stateMismatch(String)
    public var description: String {
        switch self { case .stateMismatch(let why): return "optimizer state does not fit: \(why)" }
    }
}

/// Updates parameters from their gradients.
public protocol Optimizer: AnyObject {
    /// One update of every parameter that has a gradient.
    func step()
    /// Clears gradients (set to nil, as `zero_grad(set_to_none=True)`).
    func zeroGradients()
    /// Learning rate of each group, for schedules.
    var learningRates: [Double] { get set }
    /// The optimizer's state (moments, step counts, learning rates) in PyTorch's layout.
    func stateDict() -> OptimizerStateDict
    /// Restores a state from `stateDict()`; throws `OptimizerError` when it does not fit.
    func load(stateDict: OptimizerStateDict) throws
}

extension Optimizer {
    /// The first group's learning rate; setting it sets every group's.
    public var learningRate: Double {
        get { learningRates.first ?? 0 }
        set { learningRates = learningRates.map { _ in newValue } }
    }
}

/// Shared bookkeeping: groups, per-parameter typed state, numbering for state dicts.
open class GroupedOptimizer<Options: OptimizerOptions, State> {
    /// The parameter groups, in order.
    public var groups: [ParameterGroup<Options>]
    /// Per-parameter state, created on a parameter's first update.
    public var states: [ObjectIdentifier: State] = [:]

    /// An optimizer over `groups`.
    public init(groups: [ParameterGroup<Options>]) {
        for g in groups {
            for p in g.parameters {
                tensorCheck(p.dtype.isFloatingPoint, "[Optimizer] parameters must be floating point, got \(p.dtype)")
            }
        }
        self.groups = groups
    }

    /// Every group's learning rate, in order.
    public var learningRates: [Double] {
        get { groups.map(\.options.learningRate) }
        set {
            tensorCheck(newValue.count == groups.count, "[Optimizer] \(newValue.count) learning rates for \(groups.count) groups")
            for i in groups.indices { groups[i].options.learningRate = newValue[i] }
        }
    }

    /// Clears the gradient of every parameter (as `zero_grad(set_to_none=True)`).
    public func zeroGradients() {
        for g in groups { for p in g.parameters { p.grad = nil } }
    }

    /// Every parameter with its group options and index (state-dict numbering).
    public var indexedParameters: [(index: Int, parameter: Parameter, options: Options)] {
        var result: [(Int, Parameter, Options)] = []
        for g in groups { for p in g.parameters { result.append((result.count, p, g.options)) } }
        return result
    }

    /// Calls `update` for each trainable parameter that has a gradient, without recording.
    public func forEachUpdate(_ update: (Parameter, Tensor, Options) -> Void) {
        withoutGradients {
            for g in groups {
                for p in g.parameters where p.requiresGrad {
                    guard let grad = p.grad else { continue }
                    tensorCheck(grad.shape == p.shape,
                                "[Optimizer] gradient \(shapeText(grad.shape)) does not match parameter \(shapeText(p.shape))")
                    tensorCheck(grad.device == p.value.device,
                                "[Optimizer] gradient on \(grad.device) for a parameter on \(p.value.device)")
                    update(p, grad.dtype == p.dtype ? grad : grad.cast(to: p.dtype), g.options)
                }
            }
        }
    }
}

/// A loaded state tensor as the optimizer owns it: its own storage, the parameter's dtype and
/// device (a checkpoint read on the CPU resumes a model on a GPU, as PyTorch's load does).
func stateTensor(_ t: Tensor, for p: Parameter) -> Tensor {
    t.cast(to: p.dtype).detached().moved(to: p.value.device).copied().detached()
}

/// A fresh contiguous tensor shaped like `t` for a kernel to write.
func uninitialized(like t: Tensor) -> Tensor { Tensor.empty(like: t) }

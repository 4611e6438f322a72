import NN
import Optim
import TensorCore

/// The optimizers a recipe or command can name, with PyTorch's defaults where the recipe gives
/// none. `CaseIterable`, so command lines list the choices from the type.
public enum OptimizerChoice: String, CaseIterable, Codable, Sendable {
    /// SGD with momentum 0.9.
    case sgd
    /// Adam (β 0.9, 0.999).
    case adam
    /// Adam with decoupled weight decay.
    case adamw

    /// The learning rate a run uses when none is given.
    public var defaultLearningRate: Double { self == .sgd ? 0.05 : 1e-3 }

    /// The optimizer over `parameters` (its default rate when `learningRate` is nil).
    public func make(parameters: [Parameter], learningRate: Double? = nil, weightDecay: Double = 0) -> Optimizer {
        let rate = learningRate ?? defaultLearningRate
        switch self {
        case .sgd: return SGD(parameters: parameters, learningRate: rate, momentum: 0.9, weightDecay: weightDecay)
        case .adam: return Adam(parameters: parameters, learningRate: rate, weightDecay: weightDecay)
        case .adamw: return AdamW(parameters: parameters, learningRate: rate, weightDecay: weightDecay)
        }
    }
}

/// The learning-rate schedules a recipe or command can name, stepped once per optimizer step.
public enum ScheduleChoice: String, CaseIterable, Codable, Sendable {
    /// The rate never changes.
    case constant
    /// Cosine annealing to 0 over the run.
    case cosine
    /// Linear warm-up over the first 5 % of steps (at least one), then cosine to 0.
    case warmupCosine = "warmup-cosine"
    /// Linear decay to 0 over the run (WGAN-GP's).
    case linear

    /// The schedule over `totalSteps` optimizer steps (nil: constant).
    public func make(_ optimizer: Optimizer, totalSteps: Int) -> LearningRateSchedule? {
        switch self {
        case .constant: return nil
        case .cosine: return CosineAnnealingSchedule(optimizer, maxSteps: Swift.max(totalSteps, 1))
        case .warmupCosine:
            let warmup = Swift.max(1, totalSteps / 20)
            guard totalSteps > warmup else { return CosineAnnealingSchedule(optimizer, maxSteps: Swift.max(totalSteps, 1)) }
            return warmupCosineSchedule(optimizer, warmupSteps: warmup, totalSteps: totalSteps)
        case .linear: return LinearSchedule(optimizer, startFactor: 1, endFactor: 0, totalSteps: Swift.max(totalSteps, 1))
        }
    }
}

extension CaseIterable where Self: RawRepresentable, RawValue == String {
    /// `sgd, adam or adamw`: the choices for messages and help.
    public static var choices: String {
        let names = allCases.map(\.rawValue)
        return names.count < 2 ? names.joined() : names.dropLast().joined(separator: ", ") + " or " + names.last!
    }
}

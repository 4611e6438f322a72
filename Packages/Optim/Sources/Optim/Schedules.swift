#if canImport(Glibc)
import Glibc
#endif
import TensorCore

/// Changes an optimizer's learning rates once per `step()` (per epoch, or per batch for
/// one-cycle), from closed forms of the step count as PyTorch's schedulers.
public protocol LearningRateSchedule: AnyObject {
    /// Advances one step and sets the optimizer's learning rates.
    func step()
    /// Steps taken so far (PyTorch's `last_epoch`).
    var stepCount: Int { get }
}

/// A schedule given by `rate(base, step)` for each group.
public class ClosedFormSchedule: LearningRateSchedule {
    /// The optimizer whose learning rates are set.
    public let optimizer: Optimizer
    /// Each group's learning rate when the schedule was made.
    public let baseRates: [Double]
    /// Steps taken (the position the closed form is evaluated at).
    public private(set) var stepCount = 0
    let rate: (Double, Int) -> Double

    init(_ optimizer: Optimizer, baseRates: [Double]? = nil, rate: @escaping (Double, Int) -> Double) {
        self.optimizer = optimizer
        self.baseRates = baseRates ?? optimizer.learningRates
        self.rate = rate
        apply()
    }

    func apply() { optimizer.learningRates = baseRates.map { rate($0, stepCount) } }

    /// Advances one step and sets every group's rate to the closed form there.
    public func step() {
        stepCount += 1
        apply()
    }

    /// Jumps to step `count` (resuming from a checkpoint) and sets the rates for it.
    public func restore(stepCount count: Int) {
        stepCount = count
        apply()
    }
}

/// `base · γ^⌊step / stepSize⌋`.
public final class StepSchedule: ClosedFormSchedule {
    /// Multiplies the rates by `gamma` every `stepSize` steps.
    public init(_ optimizer: Optimizer, stepSize: Int, gamma: Double = 0.1) {
        tensorCheck(stepSize > 0, "[StepSchedule] step size must be positive")
        super.init(optimizer) { base, t in base * pow(gamma, Double(t / stepSize)) }
    }
}

/// `base · γ^(milestones passed)`.
public final class MultiStepSchedule: ClosedFormSchedule {
    /// Multiplies the rates by `gamma` at each milestone.
    public init(_ optimizer: Optimizer, milestones: [Int], gamma: Double = 0.1) {
        super.init(optimizer) { base, t in base * pow(gamma, Double(milestones.filter { $0 <= t }.count)) }
    }
}

/// `base · γ^step`.
public final class ExponentialSchedule: ClosedFormSchedule {
    /// Multiplies the rates by `gamma` every step.
    public init(_ optimizer: Optimizer, gamma: Double) {
        super.init(optimizer) { base, t in base * pow(gamma, Double(t)) }
    }
}

/// `η_min + (base - η_min)(1 + cos(π t / T)) / 2`.
public final class CosineAnnealingSchedule: ClosedFormSchedule {
    /// Anneals from the base rate to `minimumRate` along a half cosine over `maxSteps`.
    public init(_ optimizer: Optimizer, maxSteps: Int, minimumRate: Double = 0) {
        tensorCheck(maxSteps > 0, "[CosineAnnealingSchedule] maxSteps must be positive")
        super.init(optimizer) { base, t in
            minimumRate + (base - minimumRate) * (1 + cos(Double.pi * Double(t) / Double(maxSteps))) / 2
        }
    }
}

/// Cosine annealing restarted after `firstPeriod` steps, each period `periodMultiplier` times longer (SGDR).
public final class CosineAnnealingWarmRestartsSchedule: ClosedFormSchedule {
    /// Cosine annealing restarted after `firstPeriod` steps, each period `periodMultiplier` times longer.
    public init(_ optimizer: Optimizer, firstPeriod: Int, periodMultiplier: Int = 1, minimumRate: Double = 0) {
        tensorCheck(firstPeriod > 0 && periodMultiplier >= 1, "[CosineAnnealingWarmRestarts] invalid periods")
        super.init(optimizer) { base, t in
            var current = t, period = firstPeriod
            while current >= period { current -= period; period *= periodMultiplier }
            return minimumRate + (base - minimumRate) * (1 + cos(Double.pi * Double(current) / Double(period))) / 2
        }
    }
}

/// Linear change of the factor from `startFactor` to `endFactor` over `totalSteps` (warm-up).
public final class LinearSchedule: ClosedFormSchedule {
    /// Scales the rates linearly from `startFactor` to `endFactor` over `totalSteps`.
    public init(_ optimizer: Optimizer, startFactor: Double = 1.0 / 3, endFactor: Double = 1, totalSteps: Int = 5) {
        tensorCheck(totalSteps > 0, "[LinearSchedule] totalSteps must be positive")
        super.init(optimizer) { base, t in
            base * (startFactor + (endFactor - startFactor) * Double(Swift.min(t, totalSteps)) / Double(totalSteps))
        }
    }
}

/// One-cycle policy (Smith): cosine from `maxRate / divFactor` up to `maxRate` over the first
/// `warmupFraction` of `totalSteps`, then down to `initial / finalDivFactor`. Step per batch.
public final class OneCycleSchedule: ClosedFormSchedule {
    /// The one-cycle policy: cosine up to `maxRate` over the warm-up fraction, then down to `maxRate / (divFactor × finalDivFactor)`.
    public init(_ optimizer: Optimizer, maxRate: Double, totalSteps: Int, warmupFraction: Double = 0.3,
                divFactor: Double = 25, finalDivFactor: Double = 1e4) {
        tensorCheck(totalSteps > 1 && warmupFraction > 0 && warmupFraction < 1, "[OneCycleSchedule] invalid steps or fraction")
        let initial = maxRate / divFactor, minimum = initial / finalDivFactor
        let warmupEnd = warmupFraction * Double(totalSteps) - 1, end = Double(totalSteps - 1)
        func anneal(_ from: Double, _ to: Double, _ fraction: Double) -> Double {
            to + (from - to) / 2 * (1 + cos(Double.pi * fraction))
        }
        super.init(optimizer) { _, t in
            let s = Double(t)
            if s <= warmupEnd { return anneal(initial, maxRate, s / warmupEnd) }
            return anneal(maxRate, minimum, (s - warmupEnd) / (end - warmupEnd))
        }
    }
}

/// Schedules one after another, as PyTorch's `SequentialLR`: `schedules[i]` runs from
/// `milestones[i - 1]` (its own step 0) until `milestones[i]`. Warm-up then cosine:
///
/// ```swift
/// let schedule = SequentialSchedule(optimizer, [
///     LinearSchedule(optimizer, startFactor: 0.01, totalSteps: 100),
///     CosineAnnealingSchedule(optimizer, maxSteps: 900)], milestones: [100])
/// ```
/// The parts are built on the same optimizer, first to last, just before: each sets the rates
/// once when made, so the base rates are the first part's.
public final class SequentialSchedule: ClosedFormSchedule {
    /// Runs `schedules` one after another, switching at `milestones` (one fewer than schedules).
    public init(_ optimizer: Optimizer, _ schedules: [ClosedFormSchedule], milestones: [Int]) {
        tensorCheck(!schedules.isEmpty && milestones.count == schedules.count - 1,
                    "[SequentialSchedule] \(schedules.count) schedules need \(Swift.max(schedules.count - 1, 0)) milestones, got \(milestones.count)")
        tensorCheck(zip(milestones, milestones.dropFirst()).allSatisfy { $0 < $1 } && (milestones.first ?? 1) > 0,
                    "[SequentialSchedule] milestones \(milestones) must be positive and increasing")
        for part in schedules {
            tensorCheck(part.optimizer === optimizer, "[SequentialSchedule] every part must schedule the same optimizer")
        }
        super.init(optimizer, baseRates: schedules[0].baseRates) { base, t in
            let i = milestones.lastIndex(where: { t >= $0 }).map { $0 + 1 } ?? 0
            return schedules[i].rate(base, t - (i > 0 ? milestones[i - 1] : 0))
        }
    }
}

/// Linear warm-up over `warmupSteps` (from `startFactor` of the base rate) then cosine
/// annealing to `minimumRate` at `totalSteps`: a `SequentialSchedule` of the two.
public func warmupCosineSchedule(_ optimizer: Optimizer, warmupSteps: Int, totalSteps: Int, startFactor: Double = 0.01,
                                 minimumRate: Double = 0) -> SequentialSchedule {
    tensorCheck(warmupSteps > 0 && totalSteps > warmupSteps,
                "[warmupCosineSchedule] warm-up \(warmupSteps) must be positive and shorter than the \(totalSteps) steps")
    return SequentialSchedule(optimizer, [
        LinearSchedule(optimizer, startFactor: startFactor, endFactor: 1, totalSteps: warmupSteps),
        CosineAnnealingSchedule(optimizer, maxSteps: totalSteps - warmupSteps, minimumRate: minimumRate),
    ], milestones: [warmupSteps])
}

/// Multiplies learning rates by `factor` when a metric stops improving for `patience` steps.
public final class ReduceOnPlateauSchedule {
    /// Whether lower (a loss) or higher (an accuracy) metrics are better.
    public enum Mode: Sendable {
        /// Lower is better.
        case minimize
        /// Higher is better.
        case maximize
    }
    /// The optimizer whose learning rates are lowered.
    public let optimizer: Optimizer
    /// Which direction counts as improvement.
    public let mode: Mode
    /// Rates are multiplied by this on a plateau.
    public let factor: Double
    /// Steps without improvement tolerated before lowering.
    public let patience: Int
    /// The relative change that counts as improvement.
    public let threshold: Double
    /// Steps after a reduction before counting again.
    public let cooldown: Int
    /// Rates are never lowered below this.
    public let minimumRate: Double
    /// The best metric seen.
    public private(set) var best: Double
    /// Steps since the metric last improved.
    public private(set) var badSteps = 0
    private var cooldownLeft = 0

    /// Lowers the rates by `factor` after `patience` steps without improvement beyond `threshold` (relative).
    public init(_ optimizer: Optimizer, mode: Mode = .minimize, factor: Double = 0.1, patience: Int = 10,
                threshold: Double = 1e-4, cooldown: Int = 0, minimumRate: Double = 0) {
        tensorCheck(factor < 1 && factor > 0, "[ReduceOnPlateauSchedule] factor must be in (0, 1)")
        self.optimizer = optimizer
        self.mode = mode
        self.factor = factor
        self.patience = patience
        self.threshold = threshold
        self.cooldown = cooldown
        self.minimumRate = minimumRate
        best = mode == .minimize ? .infinity : -.infinity
    }

    /// Reports this epoch's metric; reduces rates after `patience` epochs without a relative improvement.
    public func step(metric: Double) {
        let improved = mode == .minimize ? metric < best * (1 - threshold) : metric > best * (1 + threshold)
        if improved { best = metric; badSteps = 0 } else { badSteps += 1 }
        if cooldownLeft > 0 { cooldownLeft -= 1; badSteps = 0 }
        if badSteps > patience {
            optimizer.learningRates = optimizer.learningRates.map { old in
                let new = Swift.max(old * factor, minimumRate)
                return old - new > 1e-8 ? new : old
            }
            cooldownLeft = cooldown
            badSteps = 0
        }
    }
}

import TensorCore

/// N copies of an environment stepped together (Gymnasium's `SyncVectorEnv`): `reset(seed:)`
/// seeds copy i with `seed + i`, and a copy whose episode ended resets itself. With
/// `.nextStep` (Gymnasium 1.x's default) the step after the end resets that copy and returns
/// its first observation with reward 0, not terminated, not truncated (its action is
/// ignored); with `.sameStep` the copy resets within the step that ended the episode, which
/// returns the new episode's first observation and the ended one's last in
/// `finalObservations`.
public final class VectorEnvironment {
    /// When an ended copy resets.
    public enum AutoresetMode: Sendable {
        /// On the next step (Gymnasium 1.x's default).
        case nextStep
        /// Within the step that ended the episode.
        case sameStep
    }

    /// What one step of all copies returns.
    public struct Step {
        /// Each copy's observation.
        public var observations: [[Float]]
        /// Each copy's reward.
        public var rewards: [Double]
        /// Whether each copy's episode reached a terminal state.
        public var terminated: [Bool]
        /// Whether each copy's episode hit its step limit.
        public var truncated: [Bool]
        /// With `.sameStep`, the last observation of each episode that ended in this step.
        public var finalObservations: [[Float]?]
    }

    /// The copies.
    public let environments: [Environment]
    /// When an ended copy resets.
    public let autoresetMode: AutoresetMode
    private var pendingReset: [Bool]

    /// `count` environments made by `make` (each its own instance).
    public init(count: Int, autoresetMode: AutoresetMode = .nextStep, make: () -> Environment) {
        tensorCheck(count > 0, "[VectorEnvironment] count \(count) must be positive")
        environments = (0..<count).map { _ in make() }
        tensorCheck(Set(environments.map(ObjectIdentifier.init)).count == count,
                    "[VectorEnvironment] make() must return a new environment each time")
        self.autoresetMode = autoresetMode
        pendingReset = Array(repeating: false, count: count)
    }

    /// The number of copies.
    public var count: Int { environments.count }

    /// Resets every copy (copy i with `seed + i` when a seed is given); their observations.
    @discardableResult
    public func reset(seed: UInt64? = nil) -> [[Float]] {
        pendingReset = Array(repeating: false, count: count)
        return environments.enumerated().map { i, env in env.reset(seed: seed.map { $0 &+ UInt64(i) }) }
    }

    /// Steps copy i with `actions[i]`.
    public func step(_ actions: [Action]) -> Step {
        tensorCheck(actions.count == count, "[VectorEnvironment.step] \(actions.count) actions for \(count) environments")
        var result = Step(observations: [], rewards: [], terminated: [], truncated: [], finalObservations: [])
        for (i, env) in environments.enumerated() {
            if pendingReset[i] {
                result.observations.append(env.reset())
                result.rewards.append(0); result.terminated.append(false); result.truncated.append(false)
                result.finalObservations.append(nil)
                pendingReset[i] = false
                continue
            }
            let t = env.step(actions[i])
            result.rewards.append(t.reward); result.terminated.append(t.terminated); result.truncated.append(t.truncated)
            if t.done && autoresetMode == .sameStep {
                result.finalObservations.append(t.observation)
                result.observations.append(env.reset())
            } else {
                result.finalObservations.append(nil)
                result.observations.append(t.observation)
                pendingReset[i] = t.done
            }
        }
        return result
    }

    /// Steps every copy with discrete actions.
    public func step(_ actions: [Int]) -> Step { step(actions.map { .discrete($0) }) }

    /// Observations as a float32 tensor `[count, size]`.
    public static func tensor(_ observations: [[Float]]) -> Tensor {
        Tensor(observations.flatMap { $0 }, shape: [observations.count, observations.first?.count ?? 0])
    }
}

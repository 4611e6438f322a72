import TensorCore

/// Returns and lengths of the episodes finished so far, per environment copy.
public struct EpisodeStatistics: Sendable {
    /// Returns of the finished episodes, in the order they finished.
    public private(set) var returns: [Double] = []
    /// Their lengths in steps.
    public private(set) var lengths: [Int] = []
    private var running: [Double]
    private var steps: [Int]

    /// Statistics for `count` copies.
    public init(count: Int) {
        running = Array(repeating: 0, count: count)
        steps = Array(repeating: 0, count: count)
    }

    /// Adds one vector step's rewards; an ended episode is recorded.
    public mutating func record(rewards: [Double], ended: [Bool]) {
        for i in rewards.indices {
            running[i] += rewards[i]
            steps[i] += 1
            if ended[i] {
                returns.append(running[i]); lengths.append(steps[i])
                running[i] = 0; steps[i] = 0
            }
        }
    }

    /// The mean return of the last `count` finished episodes (nil before the first).
    public func meanReturn(last count: Int = 100) -> Double? {
        guard !returns.isEmpty else { return nil }
        let tail = returns.suffix(count)
        return tail.reduce(0, +) / Double(tail.count)
    }
}

/// A batch of on-policy experience, `[T][N]` steps of N copies flattened time-major to T·N rows.
public struct Rollout {
    /// Observations `[T·N, size]`.
    public var observations: Tensor
    /// The actions taken, as `PolicyDistribution.tensor` gives them.
    public var actions: Tensor
    /// `log π_old(a|s)` when acting, `[T·N]`.
    public var logProbabilities: Tensor
    /// `V_old(s)` when acting, `[T·N]`.
    public var values: Tensor
    /// Advantages, `[T·N]`.
    public var advantages: Tensor
    /// Value targets (advantages + values), `[T·N]`.
    public var returns: Tensor

    /// Rows `indices` of every field.
    public func rows(_ indices: [Int]) -> Rollout {
        let index = Tensor(indices.map(Int64.init), shape: [indices.count])
        return Rollout(observations: observations.indexSelect(axis: 0, indices: index), actions: actions.indexSelect(axis: 0, indices: index),
                       logProbabilities: logProbabilities.indexSelect(axis: 0, indices: index),
                       values: values.indexSelect(axis: 0, indices: index), advantages: advantages.indexSelect(axis: 0, indices: index),
                       returns: returns.indexSelect(axis: 0, indices: index))
    }
}

/// Steps vector environments with a policy and gathers rollouts: same-step autoreset, so an
/// episode cut by its time limit bootstraps from the value of its last observation.
public final class RolloutCollector {
    /// The environments.
    public let environments: VectorEnvironment
    /// Finished episodes.
    public private(set) var statistics: EpisodeStatistics
    /// Environment steps taken (all copies together).
    public private(set) var steps = 0
    var observations: [[Float]]
    var random: NumPyRandom

    /// `count` copies of `make()`, reset with `seed` (copy i with seed + i); actions drawn with
    /// a stream seeded from `seed` too.
    public init(count: Int, seed: UInt64, make: () -> Environment) {
        environments = VectorEnvironment(count: count, autoresetMode: .sameStep, make: make)
        observations = environments.reset(seed: seed)
        statistics = EpisodeStatistics(count: count)
        random = NumPyRandom(seed: seed &+ 0x9E37_79B9)
    }

    /// `length` steps of every copy under `policy`, with advantages by GAE(γ, λ).
    public func collect(_ policy: ActorCritic, length: Int, gamma: Double, lambda: Double) -> Rollout {
        let space = environments.environments[0].observationSpace
        var obs: [Tensor] = [], actions: [[Action]] = [], logp: [Tensor] = [], values: [[Double]] = []
        var rewards: [[Double]] = [], terminated: [[Bool]] = [], ended: [[Bool]] = [], finalValues: [[Double?]] = []
        withoutGradients {
            for _ in 0..<length {
                let o = space.encode(observations)
                let d = policy.distribution(o), a = d.sample(&random)
                obs.append(o); actions.append(a)
                logp.append(d.logProbability(PolicyDistribution.tensor(a)))
                values.append(policy.value(o).scalars(as: Double.self))
                let step = environments.step(a)
                let done = zip(step.terminated, step.truncated).map { $0 || $1 }
                rewards.append(step.rewards); terminated.append(step.terminated); ended.append(done)
                statistics.record(rewards: step.rewards, ended: done)
                // The value of each truncated episode's last state, for its bootstrap.
                var finals = [Double?](repeating: nil, count: done.count)
                let cut = step.truncated.indices.filter { step.truncated[$0] && !step.terminated[$0] }
                if !cut.isEmpty {
                    let v = policy.value(space.encode(cut.map { step.finalObservations[$0]! })).scalars(as: Double.self)
                    for (k, i) in cut.enumerated() { finals[i] = v[k] }
                }
                finalValues.append(finals)
                observations = step.observations
                steps += environments.count
            }
        }
        let last = withoutGradients { policy.value(space.encode(observations)).scalars(as: Double.self) }
        let nextValues = (0..<length).map { t in
            (0..<environments.count).map { i in finalValues[t][i] ?? (t + 1 < length ? values[t + 1][i] : last[i]) }
        }
        let (advantages, returns) = Advantages.generalized(rewards: rewards, values: values, nextValues: nextValues,
                                                           terminated: terminated, ended: ended, gamma: gamma, lambda: lambda)
        let flat = { (x: [[Double]]) in Tensor(x.flatMap { $0.map { Float($0) } }, shape: [x.count * (x.first?.count ?? 0)]) }
        return Rollout(observations: Tensor.concatenated(obs, axis: 0), actions: PolicyDistribution.tensor(actions.flatMap { $0 }),
                       logProbabilities: Tensor.concatenated(logp, axis: 0), values: flat(values), advantages: flat(advantages),
                       returns: flat(returns))
    }
}

import TensorCore

/// Returns and advantages of rollouts.
public enum Advantages {
    /// `G_t = r_t + γ G_{t+1}` within one episode's rewards.
    public static func discountedReturns(_ rewards: [Double], gamma: Double) -> [Double] {
        var g = 0.0
        return rewards.reversed().map { r in g = r + gamma * g; return g }.reversed()
    }

    /// Generalised advantage estimation (Schulman et al. 2016) over a rollout of `[T][N]` steps
    /// of N environments: `δ_t = r_t + γ (1 − terminated_t) V'_t − V_t`,
    /// `A_t = δ_t + γλ (1 − ended_t) A_{t+1}`, returns `A_t + V_t`. `nextValues[t]` is the value
    /// of the state step t reached — for an episode truncated at t, its last state's (so a
    /// time limit bootstraps instead of counting as a terminal state); `ended` is terminated or
    /// truncated. λ = 1 gives the n-step returns of A2C, λ = 0 the one-step TD errors.
    public static func generalized(rewards: [[Double]], values: [[Double]], nextValues: [[Double]], terminated: [[Bool]],
                                   ended: [[Bool]], gamma: Double, lambda: Double) -> (advantages: [[Double]], returns: [[Double]]) {
        let steps = rewards.count, n = rewards.first?.count ?? 0
        let rows = (rewards + values + nextValues).map(\.count) + (terminated + ended).map(\.count)
        tensorCheck([values.count, nextValues.count, terminated.count, ended.count].allSatisfy { $0 == steps } && rows.allSatisfy { $0 == n },
                    "[Advantages.generalized] values, next values, terminated and ended must be [\(steps)][\(n)] like the rewards")
        var advantages = Array(repeating: Array(repeating: 0.0, count: n), count: steps)
        var next = Array(repeating: 0.0, count: n)
        for t in stride(from: steps - 1, through: 0, by: -1) {
            for i in 0..<n {
                let delta = rewards[t][i] + gamma * (terminated[t][i] ? 0 : nextValues[t][i]) - values[t][i]
                next[i] = delta + gamma * lambda * (ended[t][i] ? 0 : next[i])
                advantages[t][i] = next[i]
            }
        }
        let returns = (0..<steps).map { t in (0..<n).map { advantages[t][$0] + values[t][$0] } }
        return (advantages, returns)
    }
}

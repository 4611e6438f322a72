import Foundation
import TensorCore

/// Action-value methods for a bandit (Sutton & Barto ch. 2): sample-average estimates with
/// ε-greedy or upper-confidence-bound (UCB1, `Q_a + c √(ln t / N_a)`) choices, ties broken
/// towards the lowest arm.
public struct BanditAgent: Sendable {
    /// How the next arm is chosen.
    public enum Rule: Sendable, Equatable {
        /// The best estimate, or with probability ε a uniformly random arm.
        case epsilonGreedy(Double)
        /// The best upper confidence bound with exploration weight c (every arm once first).
        case upperConfidenceBound(Double)
    }

    /// The rule.
    public let rule: Rule
    /// Each arm's mean reward so far.
    public private(set) var estimates: [Double]
    /// Pulls of each arm.
    public private(set) var counts: [Int]
    private var random: NumPyRandom

    /// An agent for `arms` arms with no pulls yet.
    public init(arms: Int, rule: Rule, seed: UInt64) {
        tensorCheck(arms >= 2, "[BanditAgent] needs at least 2 arms, got \(arms)")
        self.rule = rule
        estimates = Array(repeating: 0, count: arms)
        counts = Array(repeating: 0, count: arms)
        random = NumPyRandom(seed: seed)
    }

    /// The arm to pull next.
    public mutating func choose() -> Int {
        let scores: [Double]
        switch rule {
        case .epsilonGreedy(let epsilon):
            if random.nextDouble() < epsilon { return Int(random.nextUInt64() % UInt64(estimates.count)) }
            scores = estimates
        case .upperConfidenceBound(let c):
            if let untried = counts.firstIndex(of: 0) { return untried }
            let t = Double(counts.reduce(0, +))
            scores = estimates.indices.map { estimates[$0] + c * (Foundation.log(t) / Double(counts[$0])).squareRoot() }
        }
        // The first of the highest scores.
        return scores.indices.max { scores[$0] < scores[$1] || (scores[$0] == scores[$1] && $0 > $1) }!
    }

    /// Folds in the reward of a pull of `arm` (incremental sample average).
    public mutating func update(arm: Int, reward: Double) {
        counts[arm] += 1
        estimates[arm] += (reward - estimates[arm]) / Double(counts[arm])
    }

    /// One episode of `bandit`: pulls until it truncates; the rewards.
    public mutating func play(_ bandit: MultiArmedBandit, seed: UInt64? = nil) -> [Double] {
        bandit.reset(seed: seed)
        var rewards: [Double] = []
        while true {
            let arm = choose(), t = bandit.step(arm)
            update(arm: arm, reward: t.reward)
            rewards.append(t.reward)
            if t.done { return rewards }
        }
    }
}

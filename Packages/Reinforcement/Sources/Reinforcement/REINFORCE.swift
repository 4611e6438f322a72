import NN
import Optim
import TensorCore

/// REINFORCE (Williams 1992) with a learned baseline: `episodesPerUpdate` whole episodes per
/// update, returns-to-go `G_t`, advantages `G_t − V(s_t)` normalised over the batch,
/// `−mean(log π · A) + valueCoefficient · ½ mean((V − G)²)` by Adam.
public struct REINFORCE: Codable, Equatable, Sendable {
    /// Environment steps in all (the run stops after the update that passes it).
    public var totalSteps = 500_000
    /// Episodes per update.
    public var episodesPerUpdate = 8
    /// Adam's learning rate.
    public var learningRate = 1e-3
    /// Discount.
    public var gamma = 0.99
    /// Weight of the baseline's loss.
    public var valueCoefficient = 0.5
    /// Hidden layer sizes.
    public var hidden = [64, 64]

    /// The defaults.
    public init() {}

    /// Trains `policy` on `make()` (its critic as the baseline); a record after every update.
    @discardableResult
    public func train(_ policy: ActorCritic, seed: UInt64, make: () -> Environment,
                      report: (AgentRecord) -> Void = { _ in }) -> (records: [AgentRecord], statistics: EpisodeStatistics) {
        tensorCheck(totalSteps > 0 && episodesPerUpdate > 0, "[REINFORCE] totalSteps and episodesPerUpdate must be positive")
        let env = make(), space = env.observationSpace
        let optimizer = Adam(parameters: policy.parameters(), learningRate: learningRate)
        var random = NumPyRandom(seed: seed &+ 0x9E37_79B9), statistics = EpisodeStatistics(count: 1)
        var records: [AgentRecord] = [], steps = 0, first = true
        while steps < totalSteps {
            var observations: [[Float]] = [], actions: [Action] = [], returns: [Double] = []
            for _ in 0..<episodesPerUpdate {
                var o = env.reset(seed: first ? seed : nil), rewards: [Double] = []
                first = false
                while true {
                    let a = withoutGradients { policy.distribution(space.encode([o])).sample(&random)[0] }
                    let t = env.step(a)
                    observations.append(o); actions.append(a); rewards.append(t.reward)
                    statistics.record(rewards: [t.reward], ended: [t.done])
                    if t.done { break }
                    o = t.observation
                }
                returns += Advantages.discountedReturns(rewards, gamma: gamma)
                steps += rewards.count
            }
            let x = space.encode(observations), g = Tensor(returns.map { Float($0) }, shape: [returns.count])
            let values = policy.value(x)
            let advantage = withoutGradients { g - values }
            let normalized = returns.count > 1 ? (advantage - advantage.mean()) / (advantage.standardDeviation() + 1e-8) : advantage
            let policyLoss = PolicyLosses.policyGradient(logProbabilities: policy.distribution(x).logProbability(PolicyDistribution.tensor(actions)),
                                                         advantages: normalized)
            let valueLoss = PolicyLosses.valueLoss(values: values, returns: g)
            optimizer.zeroGradients()
            (policyLoss + valueCoefficient * valueLoss).backward()
            optimizer.step()
            let record = AgentRecord(steps: steps, figures: ["policy_loss": policyLoss.item(as: Double.self),
                                                             "value_loss": valueLoss.item(as: Double.self)], statistics: statistics)
            records.append(record)
            report(record)
        }
        return (records, statistics)
    }
}

import NN
import Optim
import TensorCore

/// The policy-gradient objectives, as losses to minimise (means over the batch).
public enum PolicyLosses {
    /// REINFORCE / A2C: `−mean(log π(a|s) · A)`.
    public static func policyGradient(logProbabilities: Tensor, advantages: Tensor) -> Tensor {
        -(logProbabilities * advantages).mean()
    }

    /// PPO's clipped surrogate: `mean(max(−A r, −A clip(r, 1 − ε, 1 + ε)))` with
    /// `r = exp(log π − log π_old)`.
    public static func clippedSurrogate(logProbabilities: Tensor, oldLogProbabilities: Tensor, advantages: Tensor,
                                        clip: Double) -> Tensor {
        let ratio = (logProbabilities - oldLogProbabilities).exp()
        return maximum(-advantages * ratio, -advantages * ratio.clamped(min: 1 - clip, max: 1 + clip)).mean()
    }

    /// `½ mean((V − R)²)`, or with `clip` PPO's clipped value loss
    /// `½ mean(max((V − R)², (V_old + clip(V − V_old, ±ε) − R)²))`.
    public static func valueLoss(values: Tensor, returns: Tensor, oldValues: Tensor? = nil, clip: Double? = nil) -> Tensor {
        let unclipped = (values - returns).squared()
        guard let clip, let oldValues else { return 0.5 * unclipped.mean() }
        let clipped = (oldValues + (values - oldValues).clamped(min: -clip, max: clip) - returns).squared()
        return 0.5 * maximum(unclipped, clipped).mean()
    }

    /// One-step TD targets `r + γ (1 − terminated) max/next Q`, `[n]`.
    public static func temporalDifferenceTargets(rewards: Tensor, nextValues: Tensor, terminated: Tensor, gamma: Double) -> Tensor {
        rewards + gamma * (1 - terminated) * nextValues
    }
}

/// One record of an agent's training: environment steps so far and named figures.
public struct AgentRecord: Sendable {
    /// Environment steps taken (all copies together).
    public var steps: Int
    /// Mean return of the last 100 finished episodes, losses and diagnostics.
    public var figures: [String: Double]

    /// A record of `figures` with `episodes` (finished so far) and, once there is one,
    /// `mean_return` (of the last 100) from `statistics`.
    public init(steps: Int, figures: [String: Double], statistics: EpisodeStatistics) {
        self.steps = steps
        self.figures = figures
        self.figures["episodes"] = Double(statistics.returns.count)
        if let mean = statistics.meanReturn() { self.figures["mean_return"] = mean }
    }
}

/// Proximal policy optimisation (Schulman et al. 2017) with the defaults of CleanRL's `ppo.py`
/// (Huang et al. 2022): N environments stepped for `steps` steps per update, GAE(γ, λ),
/// `epochs` passes of `minibatches` minibatches with per-minibatch advantage normalisation,
/// the clipped surrogate, a clipped value loss, an entropy bonus, global gradient-norm
/// clipping, Adam (ε 1e-5) with its rate annealed linearly to 0.
public struct PPO: Codable, Equatable, Sendable {
    /// Environment steps in all (the run takes ⌊total / (environments · steps)⌋ updates).
    public var totalSteps = 500_000
    /// Copies of the environment.
    public var environments = 4
    /// Steps of each copy per update.
    public var steps = 128
    /// Adam's learning rate (annealed linearly to 0 when `annealLearningRate`).
    public var learningRate = 2.5e-4
    /// Whether the rate falls linearly to 0 over the updates.
    public var annealLearningRate = true
    /// Discount.
    public var gamma = 0.99
    /// GAE's λ.
    public var lambda = 0.95
    /// Minibatches per epoch.
    public var minibatches = 4
    /// Passes over each rollout.
    public var epochs = 4
    /// The surrogate's (and value loss's) clipping range ε.
    public var clip = 0.2
    /// Whether the value loss is clipped as the surrogate.
    public var clipValueLoss = true
    /// Weight of the entropy bonus.
    public var entropyCoefficient = 0.01
    /// Weight of the value loss.
    public var valueCoefficient = 0.5
    /// Global gradient-norm bound.
    public var maxGradientNorm = 0.5
    /// Hidden layer sizes of both networks.
    public var hidden = [64, 64]

    /// The defaults.
    public init() {}

    /// Trains `policy` on copies of `make()`; `report` sees a record after every update.
    /// Returns every update's record and the collector (with the finished episodes).
    @discardableResult
    public func train(_ policy: ActorCritic, seed: UInt64, make: () -> Environment,
                      report: (AgentRecord) -> Void = { _ in }) -> (records: [AgentRecord], collector: RolloutCollector) {
        let batch = environments * steps, minibatch = batch / minibatches
        tensorCheck(environments > 0 && steps > 0 && minibatches > 0 && minibatch > 0 && epochs > 0 && totalSteps >= batch,
                    "[PPO] needs positive sizes and totalSteps ≥ environments · steps (\(environments) · \(steps)), got \(totalSteps)")
        let collector = RolloutCollector(count: environments, seed: seed, make: make)
        let optimizer = Adam(parameters: policy.parameters(), learningRate: learningRate, epsilon: 1e-5)
        var shuffler = NumPyRandom(seed: seed &+ 7), records: [AgentRecord] = []
        let updates = totalSteps / batch
        for update in 0..<updates {
            if annealLearningRate { optimizer.learningRates = [learningRate * (1 - Double(update) / Double(updates))] }
            let rollout = collector.collect(policy, length: steps, gamma: gamma, lambda: lambda)
            var sums = ["policy_loss": 0.0, "value_loss": 0, "entropy": 0, "approx_kl": 0, "clip_fraction": 0], count = 0.0
            for _ in 0..<epochs {
                let order = Self.permutation(batch, &shuffler)
                for start in stride(from: 0, to: batch - minibatch + 1, by: minibatch) {
                    let mb = rollout.rows(Array(order[start..<(start + minibatch)]))
                    let d = policy.distribution(mb.observations), logp = d.logProbability(mb.actions)
                    let advantages = (mb.advantages - mb.advantages.mean()) / (mb.advantages.standardDeviation() + 1e-8)
                    let policyLoss = PolicyLosses.clippedSurrogate(logProbabilities: logp, oldLogProbabilities: mb.logProbabilities,
                                                                   advantages: advantages, clip: clip)
                    let valueLoss = PolicyLosses.valueLoss(values: policy.value(mb.observations), returns: mb.returns,
                                                           oldValues: mb.values, clip: clipValueLoss ? clip : nil)
                    let entropy = d.entropy().mean()
                    let loss = policyLoss - entropyCoefficient * entropy + valueCoefficient * valueLoss
                    optimizer.zeroGradients()
                    loss.backward()
                    _ = clipGradientNorm(policy.parameters(), maxNorm: maxGradientNorm)
                    optimizer.step()
                    withoutGradients {
                        let logRatio = logp - mb.logProbabilities
                        sums["approx_kl"]! += ((logRatio.exp() - 1) - logRatio).mean().item(as: Double.self)
                        sums["clip_fraction"]! += ((logRatio.exp() - 1).abs() .> clip).cast(to: .float32).mean().item(as: Double.self)
                    }
                    sums["policy_loss"]! += policyLoss.item(as: Double.self); sums["value_loss"]! += valueLoss.item(as: Double.self)
                    sums["entropy"]! += entropy.item(as: Double.self)
                    count += 1
                }
            }
            var figures = sums.mapValues { $0 / count }
            figures["learning_rate"] = optimizer.learningRates[0]
            let record = AgentRecord(steps: collector.steps, figures: figures, statistics: collector.statistics)
            records.append(record)
            report(record)
        }
        return (records, collector)
    }

    /// A uniformly random permutation of 0..<n (Fisher–Yates on `random`).
    static func permutation(_ n: Int, _ random: inout NumPyRandom) -> [Int] {
        var order = Array(0..<n)
        for i in stride(from: n - 1, to: 0, by: -1) { order.swapAt(i, Int(random.nextUInt64() % UInt64(i + 1))) }
        return order
    }
}

/// Advantage actor-critic (Mnih et al. 2016, synchronous) with the defaults of Stable
/// Baselines3's A2C: 8 environments, 5-step rollouts, n-step returns (GAE with λ 1), one
/// RMSprop step (α 0.99, ε 1e-5) on `policyGradient + valueCoefficient · valueLoss −
/// entropyCoefficient · entropy` per rollout, gradient norm clipped to 0.5.
public struct A2C: Codable, Equatable, Sendable {
    /// Environment steps in all.
    public var totalSteps = 500_000
    /// Copies of the environment.
    public var environments = 8
    /// Steps of each copy per update.
    public var steps = 5
    /// RMSprop's learning rate.
    public var learningRate = 7e-4
    /// Discount.
    public var gamma = 0.99
    /// GAE's λ (1: n-step returns).
    public var lambda = 1.0
    /// Weight of the entropy bonus.
    public var entropyCoefficient = 0.0
    /// Weight of the value loss.
    public var valueCoefficient = 0.5
    /// Global gradient-norm bound.
    public var maxGradientNorm = 0.5
    /// Hidden layer sizes of both networks.
    public var hidden = [64, 64]

    /// The defaults.
    public init() {}

    /// Trains `policy` on copies of `make()`; a record every `reportEvery` updates.
    @discardableResult
    public func train(_ policy: ActorCritic, seed: UInt64, reportEvery: Int = 100, make: () -> Environment,
                      report: (AgentRecord) -> Void = { _ in }) -> (records: [AgentRecord], collector: RolloutCollector) {
        let batch = environments * steps
        tensorCheck(environments > 0 && steps > 0 && totalSteps >= batch && reportEvery > 0,
                    "[A2C] needs positive sizes and totalSteps ≥ environments · steps (\(environments) · \(steps)), got \(totalSteps)")
        let collector = RolloutCollector(count: environments, seed: seed, make: make)
        let optimizer = RMSprop(parameters: policy.parameters(), learningRate: learningRate, alpha: 0.99, epsilon: 1e-5)
        var records: [AgentRecord] = [], sums = ["policy_loss": 0.0, "value_loss": 0, "entropy": 0], count = 0.0
        for update in 1...(totalSteps / batch) {
            let rollout = collector.collect(policy, length: steps, gamma: gamma, lambda: lambda)
            let d = policy.distribution(rollout.observations)
            let policyLoss = PolicyLosses.policyGradient(logProbabilities: d.logProbability(rollout.actions), advantages: rollout.advantages)
            let valueLoss = PolicyLosses.valueLoss(values: policy.value(rollout.observations), returns: rollout.returns)
            let entropy = d.entropy().mean()
            let loss = policyLoss - entropyCoefficient * entropy + valueCoefficient * valueLoss
            optimizer.zeroGradients()
            loss.backward()
            _ = clipGradientNorm(policy.parameters(), maxNorm: maxGradientNorm)
            optimizer.step()
            sums["policy_loss"]! += policyLoss.item(as: Double.self); sums["value_loss"]! += valueLoss.item(as: Double.self)
            sums["entropy"]! += entropy.item(as: Double.self); count += 1
            if update % reportEvery == 0 || update == totalSteps / batch {
                let record = AgentRecord(steps: collector.steps, figures: sums.mapValues { $0 / count }, statistics: collector.statistics)
                records.append(record)
                report(record)
                sums = sums.mapValues { _ in 0 }; count = 0
            }
        }
        return (records, collector)
    }
}

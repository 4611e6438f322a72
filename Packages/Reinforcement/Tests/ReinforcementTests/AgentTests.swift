import Foundation
import NN
import TensorCore
import TensorCoreTesting
import Testing
@testable import Reinforcement

@Suite("Returns, advantages and losses against hand computation")
struct LossTests {
    @Test func discountedReturnsAndGAE() {
        #expect(Advantages.discountedReturns([1, 2, 3], gamma: 0.5) == [1 + 0.5 * (2 + 0.5 * 3), 2 + 0.5 * 3, 3])
        // One copy, three steps: step 1 terminates (no bootstrap), step 2 is truncated (bootstraps
        // from its last state's value 4, and the episode boundary stops the λ-sum).
        let (gamma, lambda) = (0.9, 0.5)
        let (a, r) = Advantages.generalized(rewards: [[1], [2], [3]], values: [[0.5], [1], [2]], nextValues: [[1], [9], [4]],
                                            terminated: [[false], [true], [false]], ended: [[false], [true], [true]],
                                            gamma: gamma, lambda: lambda)
        let a2 = 3 + gamma * 4 - 2, a1 = 2 - 1.0, a0 = (1 + gamma * 1 - 0.5) + gamma * lambda * a1
        #expect(zip(a.map { $0[0] }, [a0, a1, a2]).allSatisfy { Swift.abs($0 - $1) < 1e-12 }, "\(a)")
        #expect(zip(r.map { $0[0] }, [a0 + 0.5, a1 + 1, a2 + 2]).allSatisfy { Swift.abs($0 - $1) < 1e-12 })
    }

    @Test func policyLossesAndTargets() {
        let half: Double = Foundation.log(0.5), nine: Double = Foundation.log(0.9), quarter: Double = Foundation.log(0.25)
        let logp = Tensor([Float(half), Float(nine)]), old = Tensor([Float(quarter), Float(nine)])
        let adv = Tensor([Float(1), -2])
        // Ratios 2 and 1: the first is clipped to 1.2 for a positive advantage; the second is inside.
        let clipped = PolicyLosses.clippedSurrogate(logProbabilities: logp, oldLogProbabilities: old, advantages: adv, clip: 0.2)
        #expect(Swift.abs(clipped.item(as: Double.self) - (-1.2 + 2) / 2) < 1e-6)
        let pg = PolicyLosses.policyGradient(logProbabilities: logp, advantages: adv)
        let expectedGradientLoss: Double = -(half - 2 * nine) / 2
        #expect(Swift.abs(pg.item(as: Double.self) - expectedGradientLoss) < 1e-6)
        let v = Tensor([Float(1), 3]), ret = Tensor([Float(2), 2]), oldV = Tensor([Float(0), 3])
        #expect(Swift.abs(PolicyLosses.valueLoss(values: v, returns: ret).item(as: Double.self) - 0.5) < 1e-6)
        // Clipped: V 1 from old 0 clips to 0.2 → (0.2 − 2)² = 3.24 beats (1 − 2)² = 1; the second is unchanged (1).
        #expect(Swift.abs(PolicyLosses.valueLoss(values: v, returns: ret, oldValues: oldV, clip: 0.2).item(as: Double.self) - 0.5 * (3.24 + 1) / 2) < 1e-5)
        let y = PolicyLosses.temporalDifferenceTargets(rewards: Tensor([Float(1), 1]), nextValues: Tensor([Float(10), 10]),
                                                       terminated: Tensor([Float(0), 1]), gamma: 0.9)
        #expect(y.scalars(as: Float.self) == [10, 1])
    }

    @Test func distributions() {
        let three: Double = Foundation.log(3), p1: Double = Foundation.log(0.75), p0: Double = Foundation.log(0.25)
        let c = Categorical(logits: Tensor([Float(0), Float(three)], shape: [1, 2]))
        #expect(Swift.abs(c.logProbability(Tensor([Int64(1)])).item(as: Double.self) - p1) < 1e-6)
        let categoricalEntropy: Double = -(0.25 * p0 + 0.75 * p1)
        #expect(Swift.abs(c.entropy().item(as: Double.self) - categoricalEntropy) < 1e-6)
        var random = NumPyRandom(seed: 1)
        let draws = c.sample(&random) + (0..<999).flatMap { _ in c.sample(&random) }
        #expect(Swift.abs(Double(draws.filter { $0 == 1 }.count) / 1000 - 0.75) < 0.05)
        let two: Double = Foundation.log(2), twoPi: Double = Foundation.log(2 * Double.pi)
        let g = DiagonalGaussian(mean: Tensor([Float(1), -1], shape: [1, 2]), logStd: Tensor([Float(0), Float(two)], shape: [1, 2]))
        let x = Tensor([Float(2), 1], shape: [1, 2])
        // z = 1 in both dimensions; the second has σ = 2.
        let first: Double = -0.5 - 0.5 * twoPi, second: Double = -0.5 - two - 0.5 * twoPi
        #expect(Swift.abs(g.logProbability(x).item(as: Double.self) - (first + second)) < 1e-5)
        let gaussianEntropy: Double = 1 + twoPi + two
        #expect(Swift.abs(g.entropy().item(as: Double.self) - gaussianEntropy) < 1e-5)
    }

    @Test func doubleDQNTakesTheOnlineNetworksAction() throws {
        let online = QNetwork(observationSize: 2, actions: 3, generator: RandomGenerator(seed: 1))
        let target = QNetwork(observationSize: 2, actions: 3, generator: RandomGenerator(seed: 2))
        let next = Tensor.randn([16, 2], generator: RandomGenerator(seed: 3)), rewards = Tensor.zeros([16]), done = Tensor.zeros([16])
        var dqn = DQN()
        dqn.gamma = 1
        let plain = dqn.targets(online: online, target: target, rewards: rewards, nextObservations: next, terminated: done)
        dqn.double = true
        let double = dqn.targets(online: online, target: target, rewards: rewards, nextObservations: next, terminated: done)
        let q = target(next), pick = online(next).argmax(axis: 1)
        expectClose(plain, q.max(axis: 1), tolerance: Tolerance(absolute: 1e-6, relative: 1e-6))
        expectClose(double, q.gather(axis: 1, index: pick.reshaped(to: [-1, 1])).reshaped(to: [-1]), tolerance: Tolerance(absolute: 1e-6, relative: 1e-6))
        #expect(dqn.epsilon(at: 0) == 1 && Swift.abs(dqn.epsilon(at: 125_000) - 0.525) < 1e-12 && dqn.epsilon(at: 400_000) == 0.05)
    }
}

@Suite("Agents learn")
struct AgentLearningTests {
    static func randomReturn() -> Double {
        var random = NumPyRandom(seed: 9), total = 0.0
        let env = CartPole()
        for e in 0..<50 {
            env.reset(seed: e == 0 ? 9 : nil)
            while true {
                let t = env.step(Int(random.nextUInt64() % 2))
                total += t.reward
                if t.done { break }
            }
        }
        return total / 50
    }

    /// A short PPO run on CartPole beats a random policy's ~22 steps twice over, and the
    /// same seed repeats the run exactly.
    @Test func ppoImprovesOnCartPoleAndIsReproducible() {
        var ppo = PPO()
        ppo.totalSteps = 16_384
        let first = ppo.train(ActorCritic(observationSize: 4, actionSpace: .discrete(2), generator: RandomGenerator(seed: 1)), seed: 1) { CartPole() }
        let again = ppo.train(ActorCritic(observationSize: 4, actionSpace: .discrete(2), generator: RandomGenerator(seed: 1)), seed: 1) { CartPole() }
        let late = first.collector.statistics.meanReturn(last: 20)!, random = Self.randomReturn()
        #expect(late > 2 * random, "PPO \(late) vs random \(random)")
        #expect(first.collector.statistics.returns == again.collector.statistics.returns)
    }

    @Test func a2cAndDQNAndReinforceImproveOnCartPole() {
        let random = Self.randomReturn()
        var a2c = A2C()
        a2c.totalSteps = 20_000
        let a = a2c.train(ActorCritic(observationSize: 4, actionSpace: .discrete(2), generator: RandomGenerator(seed: 2)), seed: 2) { CartPole() }
        #expect(a.collector.statistics.meanReturn(last: 20)! > 2 * random, "A2C \(a.collector.statistics.meanReturn(last: 20)!) vs \(random)")
        var dqn = DQN()
        dqn.totalSteps = 12_000; dqn.learningStarts = 1000; dqn.trainFrequency = 2; dqn.targetUpdateInterval = 200; dqn.learningRate = 1e-3
        dqn.explorationFraction = 0.5
        let d = dqn.train(QNetwork(observationSize: 4, actions: 2, generator: RandomGenerator(seed: 3)), seed: 3) { CartPole() }
        #expect(d.statistics.meanReturn(last: 10)! > 2 * random, "DQN \(d.statistics.meanReturn(last: 10)!) vs \(random)")
        var reinforce = REINFORCE()
        reinforce.totalSteps = 15_000
        let r = reinforce.train(ActorCritic(observationSize: 4, actionSpace: .discrete(2), generator: RandomGenerator(seed: 4)), seed: 4) { CartPole() }
        #expect(r.statistics.meanReturn(last: 20)! > 2 * random, "REINFORCE \(r.statistics.meanReturn(last: 20)!) vs \(random)")
    }

    /// UCB and ε-greedy pull the best arm most over an episode of the 10-armed testbed.
    @Test(arguments: [BanditAgent.Rule.upperConfidenceBound(2), .epsilonGreedy(0.1)])
    func aBanditAgentFindsTheBestArm(_ rule: BanditAgent.Rule) {
        let bandit = MultiArmedBandit(arms: 10, pulls: 2000, problemSeed: 3)
        var agent = BanditAgent(arms: 10, rule: rule, seed: 1)
        _ = agent.play(bandit, seed: 3)
        #expect(agent.counts.indices.max { agent.counts[$0] < agent.counts[$1] } == bandit.bestArm, "\(agent.counts) best \(bandit.bestArm)")
    }

    @Test func aGaussianPolicyActsOnPendulum() {
        let policy = ActorCritic(observationSize: 3, actionSpace: Pendulum().actionSpace, generator: RandomGenerator(seed: 5))
        #expect(policy.logStd?.value.shape == [1, 1])
        var ppo = PPO()
        ppo.totalSteps = 2048; ppo.steps = 256
        let run = ppo.train(policy, seed: 5) { Pendulum() }
        #expect(run.records.count == 2 && run.collector.statistics.returns.count == 8)
        let eval = PolicyEvaluation.run(policy, make: { Pendulum() }, episodes: 2, seed: 1)
        #expect(eval.returns.count == 2 && eval.lengths == [200, 200])
    }
}

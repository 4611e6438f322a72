import NN
import Optim
import TensorCore

/// A circular buffer of transitions for off-policy learning.
public struct ReplayBuffer {
    /// The most transitions it holds (the oldest are overwritten after).
    public let capacity: Int
    /// Transitions held.
    public private(set) var count = 0
    let observationSize: Int
    private var observations: [Float], nextObservations: [Float]
    private var actions: [Int64], rewards: [Float], terminated: [Float]
    private var position = 0

    /// An empty buffer of `capacity` transitions with observations of `observationSize` entries.
    public init(capacity: Int, observationSize: Int) {
        tensorCheck(capacity > 0 && observationSize > 0, "[ReplayBuffer] capacity \(capacity) and observation size \(observationSize) must be positive")
        self.capacity = capacity
        self.observationSize = observationSize
        observations = Array(repeating: 0, count: capacity * observationSize)
        nextObservations = observations
        actions = Array(repeating: 0, count: capacity)
        rewards = Array(repeating: 0, count: capacity)
        terminated = rewards
    }

    /// Stores one transition (`nextObservation` the state the action led to, also when the
    /// episode was truncated there).
    public mutating func add(observation: [Float], action: Int, reward: Double, nextObservation: [Float], terminated done: Bool) {
        tensorCheck(observation.count == observationSize && nextObservation.count == observationSize,
                    "[ReplayBuffer.add] observations should have \(observationSize) entries")
        let o = position * observationSize
        observations.replaceSubrange(o..<(o + observationSize), with: observation)
        nextObservations.replaceSubrange(o..<(o + observationSize), with: nextObservation)
        actions[position] = Int64(action); rewards[position] = Float(reward); terminated[position] = done ? 1 : 0
        position = (position + 1) % capacity
        count = Swift.min(count + 1, capacity)
    }

    /// `size` transitions drawn uniformly with replacement: observations `[size, d]`, actions
    /// int64 `[size]`, rewards, next observations, terminated flags (1 or 0).
    public func sample(_ size: Int, _ random: inout NumPyRandom)
        -> (observations: Tensor, actions: Tensor, rewards: Tensor, nextObservations: Tensor, terminated: Tensor) {
        tensorCheck(count > 0, "[ReplayBuffer.sample] the buffer is empty")
        let picks = (0..<size).map { _ in Int(random.nextUInt64() % UInt64(count)) }
        let rows = { (x: [Float]) in picks.flatMap { x[($0 * self.observationSize)..<(($0 + 1) * self.observationSize)] } }
        return (Tensor(rows(observations), shape: [size, observationSize]), Tensor(picks.map { actions[$0] }, shape: [size]),
                Tensor(picks.map { rewards[$0] }, shape: [size]), Tensor(rows(nextObservations), shape: [size, observationSize]),
                Tensor(picks.map { terminated[$0] }, shape: [size]))
    }
}

/// A Q-network: observations to one value per discrete action (ReLU MLP).
public final class QNetwork: Module {
    /// The layers.
    public let network: Sequential

    /// Observations of `observationSize` entries to `actions` values through `hidden` layers.
    public init(observationSize: Int, actions: Int, hidden: [Int] = [120, 84], generator: RandomGenerator? = nil) {
        var layers: [Module] = [], width = observationSize
        for h in hidden {
            layers += [Linear(inputSize: width, outputSize: h, generator: generator), ReLU()]
            width = h
        }
        layers.append(Linear(inputSize: width, outputSize: actions, generator: generator))
        network = Sequential(layers)
        super.init()
    }

    /// Q(s, ·), `[n, actions]`.
    public override func forward(_ x: Tensor) -> Tensor { network(x) }
}

/// Deep Q-learning (Mnih et al. 2015) with the defaults of CleanRL's `dqn.py`: one environment,
/// ε-greedy exploration decaying linearly from 1 to 0.05 over half the run, a 10,000-step
/// replay buffer, an update of batch 128 every 10 steps after 10,000 steps, Adam 2.5e-4 on the
/// squared TD error, the target network copied every 500 steps. `double` takes the next
/// action from the online network and its value from the target network (van Hasselt et al.
/// 2016). A step that only truncates the episode still bootstraps.
public struct DQN: Codable, Equatable, Sendable {
    /// Environment steps in all.
    public var totalSteps = 500_000
    /// Adam's learning rate.
    public var learningRate = 2.5e-4
    /// Replay capacity.
    public var bufferSize = 10_000
    /// Discount.
    public var gamma = 0.99
    /// Steps between copies of the online network into the target network.
    public var targetUpdateInterval = 500
    /// Transitions per update.
    public var batchSize = 128
    /// ε at the start.
    public var startEpsilon = 1.0
    /// ε after the decay.
    public var endEpsilon = 0.05
    /// The fraction of the run over which ε decays.
    public var explorationFraction = 0.5
    /// Steps of acting before the first update.
    public var learningStarts = 10_000
    /// Steps between updates.
    public var trainFrequency = 10
    /// Double DQN's target.
    public var double = false
    /// Hidden layer sizes.
    public var hidden = [120, 84]

    /// The defaults.
    public init() {}

    /// ε at step `t`.
    public func epsilon(at t: Int) -> Double {
        let span = explorationFraction * Double(totalSteps)
        return span <= 0 ? endEpsilon : Swift.max(endEpsilon, startEpsilon + (endEpsilon - startEpsilon) * Double(t) / span)
    }

    /// The TD targets `r + γ (1 − terminated) Q_target(s', a*)` with a* the target network's
    /// argmax (or the online network's, for double DQN), `[n]`, without gradients.
    public func targets(online: QNetwork, target: QNetwork, rewards: Tensor, nextObservations: Tensor, terminated: Tensor) -> Tensor {
        withoutGradients {
            let nextQ = target(nextObservations)
            let best = double ? online(nextObservations).argmax(axis: 1) : nextQ.argmax(axis: 1)
            let next = nextQ.gather(axis: 1, index: best.reshaped(to: [-1, 1])).reshaped(to: [-1])
            return PolicyLosses.temporalDifferenceTargets(rewards: rewards, nextValues: next, terminated: terminated, gamma: gamma)
        }
    }

    /// Trains `network` on `make()`; a record every `reportEvery` steps. Returns the records
    /// and the finished episodes.
    @discardableResult
    public func train(_ network: QNetwork, seed: UInt64, reportEvery: Int = 10_000, make: () -> Environment,
                      report: (AgentRecord) -> Void = { _ in }) -> (records: [AgentRecord], statistics: EpisodeStatistics) {
        let env = make()
        guard case .discrete(let actionCount) = env.actionSpace else {
            fatalError("[DQN] \(env.id) has a continuous action space \(env.actionSpace); DQN needs a discrete one")
        }
        tensorCheck(totalSteps > 0 && batchSize > 0 && trainFrequency > 0 && targetUpdateInterval > 0 && reportEvery > 0,
                    "[DQN] step counts and sizes must be positive")
        let space = env.observationSpace
        let target = QNetwork(observationSize: space.encodedSize, actions: actionCount, hidden: hidden)
        try! target.loadStateDict(network.stateDict())
        let optimizer = Adam(parameters: network.parameters(), learningRate: learningRate)
        var buffer = ReplayBuffer(capacity: bufferSize, observationSize: space.encodedSize)
        var random = NumPyRandom(seed: seed &+ 0x9E37_79B9), statistics = EpisodeStatistics(count: 1)
        var records: [AgentRecord] = [], lossSum = 0.0, losses = 0
        var observation = env.reset(seed: seed)
        for t in 0..<totalSteps {
            let action: Int
            if random.nextDouble() < epsilon(at: t) {
                action = Int(random.nextUInt64() % UInt64(actionCount))
            } else {
                action = withoutGradients { Int(network(space.encode([observation])).argmax(axis: 1).scalars(as: Int64.self)[0]) }
            }
            let step = env.step(.discrete(action))
            buffer.add(observation: space.encode([observation]).scalars(as: Float.self), action: action, reward: step.reward,
                       nextObservation: space.encode([step.observation]).scalars(as: Float.self), terminated: step.terminated)
            statistics.record(rewards: [step.reward], ended: [step.done])
            observation = step.done ? env.reset() : step.observation
            if t >= learningStarts && t % trainFrequency == 0 {
                let batch = buffer.sample(batchSize, &random)
                let y = targets(online: network, target: target, rewards: batch.rewards, nextObservations: batch.nextObservations,
                                terminated: batch.terminated)
                let q = network(batch.observations).gather(axis: 1, index: batch.actions.reshaped(to: [-1, 1])).reshaped(to: [-1])
                let loss = (q - y).squared().mean()
                optimizer.zeroGradients()
                loss.backward()
                optimizer.step()
                lossSum += loss.item(as: Double.self); losses += 1
            }
            if t % targetUpdateInterval == 0 { try! target.loadStateDict(network.stateDict()) }
            if (t + 1) % reportEvery == 0 || t + 1 == totalSteps {
                var figures = ["epsilon": epsilon(at: t)]
                if losses > 0 { figures["td_loss"] = lossSum / Double(losses) }
                let record = AgentRecord(steps: t + 1, figures: figures, statistics: statistics)
                records.append(record)
                report(record)
                lossSum = 0; losses = 0
            }
        }
        return (records, statistics)
    }
}

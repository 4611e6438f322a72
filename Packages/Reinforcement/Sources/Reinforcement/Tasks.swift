import TensorCore

/// The environments `tessera rl` knows, by their short names.
public enum EnvironmentName: String, CaseIterable, Sendable {
    /// `CartPole-v1`.
    case cartpole
    /// `MountainCar-v0`.
    case mountaincar
    /// `Acrobot-v1`.
    case acrobot
    /// `Pendulum-v1`.
    case pendulum
    /// `FrozenLake-v1` (4×4, slippery).
    case gridworld
    /// A 10-armed bandit of 1,000 pulls.
    case bandit

    /// A new instance.
    public func make() -> Environment {
        switch self {
        case .cartpole: return CartPole()
        case .mountaincar: return MountainCar()
        case .acrobot: return Acrobot()
        case .pendulum: return Pendulum()
        case .gridworld: return GridWorld()
        case .bandit: return MultiArmedBandit()
        }
    }
}

/// Running a trained policy.
public enum PolicyEvaluation {
    /// `episodes` episodes of `make()` (the first reset with `seed`, then continuing its
    /// stream) acting with the policy's most likely action, or sampling when `greedy` is false.
    public static func run(_ policy: ActorCritic, make: () -> Environment, episodes: Int, seed: UInt64,
                           greedy: Bool = true) -> EpisodeStatistics {
        tensorCheck(episodes > 0, "[PolicyEvaluation] episodes \(episodes) must be positive")
        let env = make()
        var statistics = EpisodeStatistics(count: 1), random = NumPyRandom(seed: seed &+ 11)
        withoutGradients {
            for e in 0..<episodes {
                var observation = env.reset(seed: e == 0 ? seed : nil)
                while true {
                    let d = policy.distribution(env.observationSpace.encode([observation]))
                    let t = env.step(greedy ? d.mode()[0] : d.sample(&random)[0])
                    statistics.record(rewards: [t.reward], ended: [t.done])
                    if t.done { break }
                    observation = t.observation
                }
            }
        }
        return statistics
    }

    /// `episodes` greedy episodes of `make()` acting with the Q-network's best action.
    public static func run(_ network: QNetwork, make: () -> Environment, episodes: Int, seed: UInt64) -> EpisodeStatistics {
        tensorCheck(episodes > 0, "[PolicyEvaluation] episodes \(episodes) must be positive")
        let env = make()
        var statistics = EpisodeStatistics(count: 1)
        withoutGradients {
            for e in 0..<episodes {
                var observation = env.reset(seed: e == 0 ? seed : nil)
                while true {
                    let a = Int(network(env.observationSpace.encode([observation])).argmax(axis: 1).scalars(as: Int64.self)[0])
                    let t = env.step(a)
                    statistics.record(rewards: [t.reward], ended: [t.done])
                    if t.done { break }
                    observation = t.observation
                }
            }
        }
        return statistics
    }
}

extension PPO {
    /// The settings `tessera rl ENV` uses: CleanRL's defaults, and for Pendulum those of the RL
    /// Baselines3 Zoo (4 × 1024 steps, γ 0.9, 10 epochs of 64 minibatches, Adam 1e-3, no
    /// entropy bonus, 1M steps): its reward is dense and its horizon short.
    public static func recommended(for environment: EnvironmentName) -> PPO {
        var ppo = PPO()
        if environment == .pendulum {
            ppo.totalSteps = 1_000_000
            ppo.steps = 1024
            ppo.gamma = 0.9
            ppo.epochs = 10
            ppo.minibatches = 64
            ppo.learningRate = 1e-3
            ppo.entropyCoefficient = 0
        }
        return ppo
    }
}

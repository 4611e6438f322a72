import CheckpointHDF5
import Foundation
import NN
import Reinforcement
import TensorCore
import Training

/// `tessera rl ENV --algorithm ppo|a2c|dqn|reinforce`: trains an agent on a Gymnasium-semantics environment
/// through the Reinforcement library, or with `--checkpoint` evaluates a saved policy.
public struct RLCommand {
    static let algorithms = ["ppo", "a2c", "dqn", "reinforce"]
    static let spec = CommandSpec(
        usage: "tessera rl cartpole|mountaincar|acrobot|pendulum|gridworld|bandit [options]",
        summary: """
        Trains an actor-critic agent on the environment (CartPole-v1, MountainCar-v0, Acrobot-v1,
        Pendulum-v1, FrozenLake-v1 as the grid world, a 10-armed bandit; Gymnasium's dynamics and
        seeding). ppo: CleanRL's PPO (4 environments, 128 steps, 4 epochs of 4 minibatches, clip
        0.2, Adam 2.5e-4 annealed); a2c: Stable Baselines3's A2C (8 environments, 5 steps, RMSprop
        7e-4); dqn: CleanRL's DQN (ε 1 → 0.05 over half the run, 10k replay, target copied every
        500 steps; --double for double DQN; discrete actions); reinforce: REINFORCE with a learned
        baseline, 8 episodes an update. Prints the mean return of the last 100 episodes as it goes; writes results.json
        (final.mean_return: the last 100 training episodes; final.evaluation_mean_return: 100
        greedy episodes after training), returns.svg and model.h5 to --out. With --checkpoint FILE,
        evaluates that policy over --episodes episodes instead.
        """,
        options: [
            OptionSpec("algorithm", "NAME", "ppo (default), a2c, dqn or reinforce"),
            OptionSpec("double", nil, "dqn: double DQN's target"),
            OptionSpec("steps", "N", "environment steps to train for (default 500000; pendulum 1000000)"),
            OptionSpec("checkpoint", "FILE", "evaluate this saved policy (model.h5 of an earlier run) instead of training"),
            OptionSpec("episodes", "N", "evaluation episodes (default 100)"),
        ] + OptionSpec.runOptions(out: "runs/rl-ENV", data: false))
    public static var usage: String { spec.help }

    public var environment = EnvironmentName.cartpole
    public var algorithm = "ppo"
    public var steps: Int?
    public var checkpoint: String?
    public var episodes = 100
    public var double = false
    public var options: RunOptions
    var arguments: [String]

    public init(arguments: [String]) throws {
        self.arguments = arguments
        let args = try Self.spec.parse(arguments)
        environment = EnvironmentName(rawValue: try args.onlyPositional(from: EnvironmentName.allCases.map(\.rawValue), usage: "tessera rl",
                                                                        what: "an environment"))!
        algorithm = args.values["algorithm"] ?? "ppo"
        guard Self.algorithms.contains(algorithm) else {
            throw UsageError("invalid value '\(algorithm)' for --algorithm; expected " + Self.algorithms.joined(separator: " or "))
        }
        if args.values["steps"] != nil {
            steps = try args.value("steps", default: 500_000, where: { $0 >= 1000 && $0 <= 100_000_000 }, expected: "an integer in 1000...100000000")
        }
        episodes = try args.value("episodes", default: 100, where: { $0 >= 1 && $0 <= 100_000 }, expected: "an integer in 1...100000")
        double = args.flag("double")
        if double && algorithm != "dqn" { throw UsageError("--double is DQN's option; give --algorithm dqn") }
        if algorithm == "dqn", case .box = environment.make().actionSpace {
            throw UsageError("--algorithm dqn needs discrete actions; \(environment.rawValue) has continuous ones (use ppo or a2c)")
        }
        checkpoint = args.values["checkpoint"]
        if let checkpoint, !FileManager.default.fileExists(atPath: checkpoint) { throw UsageError("--checkpoint \(checkpoint) does not exist") }
        options = try RunOptions(args)
        if options.resume {
            // The environments' states and the replay buffer are not saved, so a resumed run
            // could not continue the same experiment.
            throw UsageError("--resume: tessera rl saves policy snapshots in --checkpoint-dir but cannot resume a run; evaluate one with --checkpoint")
        }
    }

    /// The policy network for the environment.
    func policy(seed: UInt64) -> ActorCritic {
        let env = environment.make()
        return ActorCritic(observationSize: env.observationSpace.encodedSize, actionSpace: env.actionSpace,
                           generator: RandomGenerator(seed: seed))
    }

    public func run(print output: (String) -> Void = { Swift.print($0) }) throws {
        try withoutActuallyEscaping(output) { try run(escaping: $0) }
    }

    func run(escaping output: @escaping (String) -> Void) throws {
        let out = try options.prepare(defaultOut: "runs/rl-\(environment.rawValue)")
        var configuration: [String: JSONValue] = ["command": .string("tessera " + (["rl"] + arguments).joined(separator: " ")),
                                                  "environment": .string(environment.make().id), "seed": .number(Double(options.seed))]
        let policy = self.policy(seed: options.seed)
        if let checkpoint {
            let saved = try CheckpointFile.load(from: checkpoint)
            let evaluation: EpisodeStatistics
            if case .string("q-network")? = saved.metadata["kind"] {
                let env = environment.make()
                guard case .discrete(let actions) = env.actionSpace else {
                    throw UsageError("--checkpoint \(checkpoint) holds a Q-network, which \(environment.rawValue)'s continuous actions cannot use")
                }
                let network = QNetwork(observationSize: env.observationSpace.encodedSize, actions: actions)
                try network.loadStateDict(saved.model)
                evaluation = PolicyEvaluation.run(network, make: environment.make, episodes: episodes, seed: options.seed)
            } else {
                try policy.loadStateDict(saved.model)
                evaluation = PolicyEvaluation.run(policy, make: environment.make, episodes: episodes, seed: options.seed)
            }
            let mean = evaluation.meanReturn(last: episodes) ?? .nan
            output(String(format: "%@: mean return %.2f over %d greedy episodes", environment.make().id, mean, episodes))
            configuration["checkpoint"] = .string(checkpoint)
            try Trainer.writeResults(history: TrainingHistory(epochs: []), configuration: configuration,
                                     final: ["evaluation_mean_return": mean, "episodes": Double(episodes)], to: out)
            return
        }
        let started = Date()
        // With --checkpoint-dir, a snapshot of the network about every tenth of the run (the last 3 kept).
        let snapshotDirectory = options.checkpointDirectory, environmentName = environment.rawValue
        var nextSnapshot = 0, snapshotError: Error?
        let snapshot = { (module: Module, steps: Int, total: Int) in
            guard let snapshotDirectory, steps >= nextSnapshot, snapshotError == nil else { return }
            nextSnapshot = steps + Swift.max(1, total / 10)
            do {
                _ = try CheckpointFile.save(Checkpoint(model: module.stateDict(), step: steps,
                                                       metadata: ["kind": .string(module is QNetwork ? "q-network" : "actor-critic"),
                                                                  "environment": .string(environmentName)]),
                                            inDirectory: snapshotDirectory, keepLast: 3)
            } catch { snapshotError = error }
        }
        let report: (AgentRecord) -> Void = { record in
            if let mean = record.figures["mean_return"] {
                output(String(format: "steps %8d  episodes %6.0f  mean return (last 100) %8.2f", record.steps, record.figures["episodes"] ?? 0, mean))
            }
        }
        let records: [AgentRecord], statistics: EpisodeStatistics
        var qNetwork: QNetwork?
        switch algorithm {
        case "dqn":
            var dqn = DQN()
            dqn.double = double
            if let steps { dqn.totalSteps = steps }
            configuration["agent"] = try JSONValue(encoding: dqn)
            let env = environment.make()
            guard case .discrete(let actions) = env.actionSpace else { fatalError("unreachable: checked when parsing") }
            let network = QNetwork(observationSize: env.observationSpace.encodedSize, actions: actions, hidden: dqn.hidden,
                                   generator: RandomGenerator(seed: options.seed))
            qNetwork = network
            (records, statistics) = dqn.train(network, seed: options.seed, make: environment.make) { report($0); snapshot(network, $0.steps, dqn.totalSteps) }
        case "reinforce":
            var reinforce = REINFORCE()
            if let steps { reinforce.totalSteps = steps }
            configuration["agent"] = try JSONValue(encoding: reinforce)
            let result = reinforce.train(policy, seed: options.seed, make: environment.make) { record in
                if record.figures["episodes"].map({ Int($0) % 400 == 0 }) == true { report(record) }
                snapshot(policy, record.steps, reinforce.totalSteps)
            }
            (records, statistics) = (result.records, result.statistics)
        case "a2c":
            var a2c = A2C()
            if let steps { a2c.totalSteps = steps }
            configuration["agent"] = try JSONValue(encoding: a2c)
            let result = a2c.train(policy, seed: options.seed, reportEvery: 500, make: environment.make) {
                report($0); snapshot(policy, $0.steps, a2c.totalSteps)
            }
            (records, statistics) = (result.records, result.collector.statistics)
        default:
            var ppo = PPO.recommended(for: environment)
            if let steps { ppo.totalSteps = steps }
            configuration["agent"] = try JSONValue(encoding: ppo)
            let result = ppo.train(policy, seed: options.seed, make: environment.make) { report($0); snapshot(policy, $0.steps, ppo.totalSteps) }
            (records, statistics) = (result.records, result.collector.statistics)
        }
        if let snapshotError { throw snapshotError }
        let seconds = Date().timeIntervalSince(started)
        configuration["algorithm"] = .string(algorithm)
        let evaluationSeed = options.seed &+ 1_000_003
        let evaluation = qNetwork.map { PolicyEvaluation.run($0, make: environment.make, episodes: episodes, seed: evaluationSeed) }
            ?? PolicyEvaluation.run(policy, make: environment.make, episodes: episodes, seed: evaluationSeed)
        let final: [String: Double] = [
            "mean_return": statistics.meanReturn() ?? .nan, "evaluation_mean_return": evaluation.meanReturn(last: episodes) ?? .nan,
            "environment_steps": Double(records.last?.steps ?? 0), "episodes": Double(statistics.returns.count),
            "training_seconds": seconds,
        ]
        let history = TrainingHistory(epochs: records.enumerated().map { i, r in
            EpochRecord(epoch: i + 1, metrics: r.figures.merging(["environment_steps": Double(r.steps)]) { a, _ in a })
        })
        try Trainer.writeResults(history: history, configuration: configuration, final: final, to: out)
        try CheckpointFile.save(Checkpoint(model: (qNetwork ?? policy).stateDict(), step: records.last?.steps ?? 0, epoch: records.count,
                                           metadata: ["kind": .string(qNetwork == nil ? "actor-critic" : "q-network"),
                                                      "environment": .string(environment.rawValue), "algorithm": .string(algorithm)]),
                                to: "\(out)/model.h5")
        // The episode returns with their running mean over 100, at most 400 points of each (a
        // run has thousands of episodes).
        let returns = statistics.returns, every = Swift.max(1, returns.count / 400)
        let shown = Array(stride(from: 0, to: returns.count, by: every)), x = shown.map { Double($0 + 1) }
        let running = shown.map { i in returns[Swift.max(0, i - 99)...i].reduce(0, +) / Double(i - Swift.max(0, i - 99) + 1) }
        try XYChart(title: "\(environment.make().id): \(algorithm) episode returns", xLabel: "episode", yLabel: "return",
                    series: [.init(name: every == 1 ? "return" : "return (every \(every)th episode)", x: x, y: shown.map { returns[$0] },
                                   color: "#c6dbef"),
                             .init(name: "mean of the last 100", x: x, y: running, color: "#1f77b4")])
            .svgDocument().write(toFile: out + "/returns.svg", atomically: true, encoding: .utf8)
        for key in final.keys.sorted() { output("\(key): \(final[key]!)") }
        output("wrote \(out)/results.json")
    }
}

import Foundation
import Testing
@testable import Reinforcement

/// Gymnasium's trajectories (Fixtures/generate_gym_fixtures.py).
enum GymFixtures {
    static let json: [String: Any] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/gym_trajectories.json")
        return try! JSONSerialization.jsonObject(with: try! Data(contentsOf: url)) as! [String: Any]
    }()

    static var trajectories: [[String: Any]] { json["trajectories"] as! [[String: Any]] }

    /// The environment a fixture was recorded from.
    static func make(_ id: String, _ kwargs: [String: Any]) -> Environment {
        switch id {
        case "CartPole-v1": return CartPole()
        case "MountainCar-v0": return MountainCar()
        case "Acrobot-v1": return Acrobot()
        case "Pendulum-v1": return Pendulum()
        case "FrozenLake-v1": return GridWorld(slippery: kwargs["is_slippery"] as? Bool ?? true)
        default: fatalError("no environment for \(id)")
        }
    }
}

@Suite("Environments step as Gymnasium's")
struct EnvironmentTests {
    @Test func numpyRandomIsNumPysPCG64() {
        for record in GymFixtures.json["numpy_random"] as! [[String: Any]] {
            let seed = (record["seed"] as! NSNumber).uint64Value
            var raw = NumPyRandom(seed: seed), doubles = NumPyRandom(seed: seed)
            #expect((0..<4).map { _ in String(raw.nextUInt64()) } == record["raw"] as! [String], "seed \(seed)")
            #expect((0..<4).map { _ in doubles.nextDouble() } == (record["doubles"] as! [String]).map { Double($0)! }, "seed \(seed)")
        }
    }

    /// Every recorded episode: the same seed gives the same first observation, the same actions
    /// the same observations (to 1e-6), rewards, terminations and truncations.
    @Test(arguments: ["CartPole-v1", "MountainCar-v0", "Acrobot-v1", "Pendulum-v1", "FrozenLake-v1"])
    func trajectoriesMatchGymnasium(_ id: String) {
        var compared = 0, endings = Set<String>()
        for record in GymFixtures.trajectories where record["id"] as! String == id {
            let env = GymFixtures.make(id, record["kwargs"] as! [String: Any]), seed = (record["seed"] as! NSNumber).uint64Value
            for (e, episode) in (record["episodes"] as! [[String: Any]]).enumerated() {
                let first = env.reset(seed: e == 0 ? seed : nil)
                let where_ = "\(id) \(record["kwargs"]!) seed \(seed) episode \(e)"
                Self.expectNear(first, episode["reset"] as! [NSNumber], "\(where_) reset")
                for (k, step) in (episode["steps"] as! [[String: Any]]).enumerated() {
                    let a = step["action"] as! NSNumber
                    let t = env.step(env.actionSpace.size == 1 && id == "Pendulum-v1" ? .continuous([a.doubleValue]) : .discrete(a.intValue))
                    Self.expectNear(t.observation, step["observation"] as! [NSNumber], "\(where_) step \(k)")
                    #expect(Swift.abs(t.reward - (step["reward"] as! NSNumber).doubleValue) <= 1e-6, "\(where_) step \(k) reward")
                    #expect(t.terminated == step["terminated"] as! Bool && t.truncated == step["truncated"] as! Bool, "\(where_) step \(k)")
                    if t.terminated { endings.insert("terminated") }
                    if t.truncated { endings.insert("truncated") }
                    compared += 1
                }
            }
        }
        #expect(compared > 20)
        let expected: Set<String> = id == "CartPole-v1" || id == "FrozenLake-v1" ? ["terminated"] : id == "Pendulum-v1" ? ["truncated"] : ["terminated", "truncated"]
        #expect(endings == expected, "\(id): \(endings)")
    }

    static func expectNear(_ actual: [Float], _ expected: [NSNumber], _ comment: String) {
        let e = expected.map(\.doubleValue)
        #expect(actual.count == e.count && zip(actual, e).allSatisfy { Swift.abs(Double($0) - $1) <= 1e-6 }, "\(comment): \(actual) vs \(e)")
    }

    @Test func spacesAndLimits() {
        #expect(CartPole().actionSpace == .discrete(2) && CartPole().maxEpisodeSteps == 500)
        #expect(MountainCar().maxEpisodeSteps == 200 && Acrobot().maxEpisodeSteps == 500 && Pendulum().maxEpisodeSteps == 200)
        #expect(GridWorld().observationSpace == .discrete(16) && GridWorld(map: GridWorld.maps["8x8"]!).maxEpisodeSteps == 200)
        #expect(Pendulum().actionSpace.description == "Box(-2.0, 2.0, (1,))")
        #expect(Space.box(low: [-2], high: [2]).contains(.continuous([1.5])) && !Space.box(low: [-2], high: [2]).contains(.continuous([3])))
        #expect(Space.box(low: [-2], high: [2]).accepts(.continuous([3])) && !Space.box(low: [-2], high: [2]).accepts(.continuous([.nan])))
        #expect(!Space.discrete(2).accepts(.discrete(2)) && !Space.discrete(2).accepts(.continuous([0])))
        // Unseeded resets draw a seed; reset() without one continues the stream.
        let a = CartPole(), b = CartPole()
        #expect(a.reset(seed: 3) == b.reset(seed: 3) && a.reset() == b.reset() && a.reset() != a.reset(seed: 3))
    }

    @Test func misuseStopsNamingTheEnvironment() async {
        let early = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = CartPole().step(0)
        }
        let earlyMessage = String(decoding: early?.standardErrorContent ?? [], as: UTF8.self)
        #expect(earlyMessage.contains("[CartPole-v1.step] the episode is over (or never began)"), "\(earlyMessage)")
        let wrong = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let env = MountainCar()
            env.reset(seed: 0)
            _ = env.step(3)
        }
        let wrongMessage = String(decoding: wrong?.standardErrorContent ?? [], as: UTF8.self)
        #expect(wrongMessage.contains("[MountainCar-v0.step] action 3 does not fit the action space Discrete(3)"), "\(wrongMessage)")
    }
}

@Suite("Vector environments and the bandit")
struct VectorEnvironmentTests {
    /// Copy i is seeded with seed + i; with Gymnasium's next-step autoreset the step after an
    /// ending returns the new episode's first observation with reward 0.
    @Test func copiesAreSeededInTurnAndResetThemselves() {
        let vector = VectorEnvironment(count: 3) { CartPole() }
        let first = vector.reset(seed: 10)
        for i in 0..<3 { #expect(first[i] == CartPole().reset(seed: 10 + UInt64(i))) }
        var ended = false
        for _ in 0..<200 {
            let step = vector.step([1, 1, 1])
            if ended {
                #expect(step.rewards[0] == 0 && !step.terminated[0] && !step.truncated[0])
                break
            }
            ended = step.terminated[0]
        }
        #expect(ended)
        // Same-step autoreset: the ending step returns the next episode's start and keeps the last observation.
        let same = VectorEnvironment(count: 2, autoresetMode: .sameStep) { CartPole() }
        same.reset(seed: 4)
        for _ in 0..<200 {
            let step = same.step([0, 0])
            if step.terminated[0] {
                #expect(step.finalObservations[0] != nil && step.finalObservations[0] != step.observations[0])
                #expect(Swift.abs(step.observations[0][2]) <= 0.05)
                return
            }
        }
        Issue.record("pushing left never ended the episode")
    }

    @Test func greedyPullsOfTheBestArmEarnItsMean() {
        let bandit = MultiArmedBandit(arms: 10, pulls: 2000)
        bandit.reset(seed: 5)
        let best = bandit.bestArm, mean = bandit.means[best]
        #expect(bandit.means.allSatisfy { $0 <= mean })
        var total = 0.0
        for _ in 0..<2000 { total += bandit.step(best).reward }
        // 2000 unit-variance draws: the average is within 4 standard errors (0.09) of the mean.
        #expect(Swift.abs(total / 2000 - mean) < 0.09, "\(total / 2000) vs \(mean)")
        #expect(bandit.elapsedSteps == 2000)
        // Every bandit of a problem seed is the same problem; another seed is another.
        #expect(MultiArmedBandit(arms: 10, pulls: 5).means == bandit.means && MultiArmedBandit(problemSeed: 1).means != bandit.means)
    }
}

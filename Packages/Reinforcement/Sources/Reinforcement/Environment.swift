import TensorCore

/// A set of observations or actions, as Gymnasium's `Discrete(n)` (the integers 0..<n) and
/// `Box(low, high)` (real vectors between the bounds, which may be infinite).
public enum Space: Equatable, Sendable, CustomStringConvertible {
    /// The integers `0..<n`.
    case discrete(Int)
    /// Vectors `x` with `low[i] ≤ x[i] ≤ high[i]`.
    case box(low: [Double], high: [Double])

    /// Entries of one element: 1 for a discrete space, the vector's length for a box.
    public var size: Int {
        switch self {
        case .discrete: return 1
        case .box(let low, _): return low.count
        }
    }

    /// Whether `action` lies in the space (right kind, in range, finite for a box).
    public func contains(_ action: Action) -> Bool {
        switch (self, action) {
        case (.discrete(let n), .discrete(let a)): return a >= 0 && a < n
        case (.box(let low, let high), .continuous(let x)):
            return x.count == low.count && x.indices.allSatisfy { x[$0].isFinite && x[$0] >= low[$0] && x[$0] <= high[$0] }
        default: return false
        }
    }

    /// Entries of an observation as networks take it: n for a discrete space (one-hot), the
    /// vector's length for a box.
    public var encodedSize: Int {
        switch self {
        case .discrete(let n): return n
        case .box(let low, _): return low.count
        }
    }

    /// Observations `[[Float]]` as a float32 tensor `[count, encodedSize]`: one-hot rows for a
    /// discrete space (whose observations are `[index]`), the vectors for a box.
    public func encode(_ observations: [[Float]]) -> Tensor {
        switch self {
        case .discrete(let n):
            var rows = [Float](repeating: 0, count: observations.count * n)
            for (i, o) in observations.enumerated() {
                let k = Int(o[0])
                tensorCheck(o.count == 1 && k >= 0 && k < n, "[Space.encode] observation \(o) is not in Discrete(\(n))")
                rows[i * n + k] = 1
            }
            return Tensor(rows, shape: [observations.count, n])
        case .box(let low, _):
            tensorCheck(observations.allSatisfy { $0.count == low.count }, "[Space.encode] observations should have \(low.count) entries")
            return Tensor(observations.flatMap { $0 }, shape: [observations.count, low.count])
        }
    }

    /// Whether an environment takes `action`: a discrete one in range, or a finite vector of
    /// the box's length (out-of-range values are the environment's to clip, as Gymnasium's
    /// Pendulum clips its torque).
    public func accepts(_ action: Action) -> Bool {
        switch (self, action) {
        case (.discrete, .discrete): return contains(action)
        case (.box(let low, _), .continuous(let x)): return x.count == low.count && x.allSatisfy(\.isFinite)
        default: return false
        }
    }

    /// Gymnasium's notation: `Discrete(2)`, `Box(-2.0, 2.0, (1,))`.
    public var description: String {
        switch self {
        case .discrete(let n): return "Discrete(\(n))"
        case .box(let low, let high):
            let uniform = Set(low).count == 1 && Set(high).count == 1
            return uniform ? "Box(\(low[0]), \(high[0]), (\(low.count),))" : "Box(\(low), \(high))"
        }
    }
}

/// An action: an index for a discrete action space, a vector for a box.
public enum Action: Equatable, Sendable, CustomStringConvertible {
    /// One of a discrete space's actions.
    case discrete(Int)
    /// A point of a box space.
    case continuous([Double])

    /// The index, or the vector.
    public var description: String {
        switch self {
        case .discrete(let a): return "\(a)"
        case .continuous(let x): return "\(x)"
        }
    }
}

/// What one step returns (Gymnasium's `observation, reward, terminated, truncated`).
public struct Transition: Equatable, Sendable {
    /// The observation after the step.
    public var observation: [Float]
    /// The step's reward.
    public var reward: Double
    /// The episode reached a terminal state of the task (the value of what follows is 0).
    public var terminated: Bool
    /// The episode was cut short from outside the task (the step limit): what follows still
    /// has value, so bootstrapping continues from `observation`.
    public var truncated: Bool

    /// A transition.
    public init(observation: [Float], reward: Double, terminated: Bool, truncated: Bool) {
        self.observation = observation
        self.reward = reward
        self.terminated = terminated
        self.truncated = truncated
    }

    /// Whether the episode is over (terminated or truncated): the next call is `reset`.
    public var done: Bool { terminated || truncated }
}

/// An environment with Gymnasium's semantics (`gymnasium.make(id)`, its time limit included):
/// `reset(seed:)` starts an episode and returns the first observation, `step(_:)` applies an
/// action. A seed restarts the environment's random stream as Gymnasium's `np_random`
/// (`NumPyRandom`), so the same seed starts the same episode here and there; `reset()` without
/// one continues the stream. Stepping before `reset` or after an episode ended, or with an
/// action that does not fit `actionSpace` (`Space.accepts`), stops with a message naming the
/// environment.
///
/// Subclasses give the dynamics: `startEpisode()` and `advance(_:)`.
open class Environment {
    /// Gymnasium's id, e.g. `CartPole-v1`.
    public let id: String
    /// What observations are.
    public let observationSpace: Space
    /// What actions are.
    public let actionSpace: Space
    /// The step limit after which an episode is truncated (Gymnasium's `max_episode_steps`);
    /// nil for none.
    public let maxEpisodeSteps: Int?
    /// The environment's random stream (`np_random`).
    public var random: NumPyRandom
    /// Steps taken in the current episode.
    public private(set) var elapsedSteps = 0
    private var seeded = false
    private var needsReset = true

    /// An environment with its spaces and step limit; its stream is seeded by the first
    /// `reset` (from the system's entropy when that gives no seed).
    public init(id: String, observationSpace: Space, actionSpace: Space, maxEpisodeSteps: Int?) {
        tensorCheck(maxEpisodeSteps.map { $0 > 0 } ?? true, "[\(id)] maxEpisodeSteps \(maxEpisodeSteps ?? 0) must be positive")
        self.id = id
        self.observationSpace = observationSpace
        self.actionSpace = actionSpace
        self.maxEpisodeSteps = maxEpisodeSteps
        random = NumPyRandom(seed: 0)
    }

    /// Starts an episode: with `seed`, from a stream restarted at that seed; returns the first
    /// observation.
    @discardableResult
    public final func reset(seed: UInt64? = nil) -> [Float] {
        if let seed {
            random = NumPyRandom(seed: seed)
            seeded = true
        } else if !seeded {
            random = NumPyRandom(seed: UInt64.random(in: .min ... .max))
            seeded = true
        }
        elapsedSteps = 0
        needsReset = false
        return startEpisode()
    }

    /// Applies `action`; after a transition that is `done`, the next call must be `reset`.
    public final func step(_ action: Action) -> Transition {
        tensorCheck(!needsReset, "[\(id).step] the episode is over (or never began): call reset() first")
        tensorCheck(actionSpace.accepts(action), "[\(id).step] action \(action) does not fit the action space \(actionSpace)")
        let (observation, reward, terminated) = advance(action)
        elapsedSteps += 1
        // As Gymnasium's TimeLimit: the last allowed step is truncated even when it also terminates.
        let truncated = maxEpisodeSteps.map { elapsedSteps >= $0 } ?? false
        needsReset = terminated || truncated
        return Transition(observation: observation, reward: reward, terminated: terminated, truncated: truncated)
    }

    /// `step(.discrete(action))`.
    public final func step(_ action: Int) -> Transition { step(.discrete(action)) }

    /// Draws the episode's initial state from `random` and returns its observation.
    open func startEpisode() -> [Float] { fatalError("[\(id)] an Environment subclass must override startEpisode()") }

    /// Applies an action (already checked against the space) to the state: the observation
    /// after it, the reward and whether the new state is terminal.
    open func advance(_ action: Action) -> (observation: [Float], reward: Double, terminated: Bool) {
        fatalError("[\(id)] an Environment subclass must override advance(_:)")
    }
}

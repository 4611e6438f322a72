import Foundation
import TensorCore

/// A grid world with Gymnasium's `FrozenLake-v1` semantics: walk from S to G across frozen
/// cells (F) without falling into a hole (H). Actions 0 left, 1 down, 2 right, 3 up (a move
/// into the edge stays put); on a slippery grid the move goes the intended way with
/// probability `successRate` and to either side otherwise. Reward 1 on reaching G; falling in
/// a hole or reaching G terminates; truncated at 100 steps (200 on the 8×8 map). The
/// observation is the cell's index `row · columns + column`, as `[Float(index)]`.
public final class GridWorld: Environment {
    /// The map, one string per row.
    public let map: [String]
    /// Whether moves slip.
    public let slippery: Bool
    /// The probability a slippery move goes the intended way.
    public let successRate: Double
    private let cells: [[Character]]
    private var cell = 0

    /// Gymnasium's maps: "4x4" and "8x8".
    public static let maps: [String: [String]] = [
        "4x4": ["SFFF", "FHFH", "FFFH", "HFFG"],
        "8x8": ["SFFFFFFF", "FFFFFFFF", "FFFHFFFF", "FFFFFHFF", "FFFHFFFF", "FHHFFFHF", "FHFFHFHF", "FFFHFFFG"],
    ]

    /// A grid of `map` (rows of S, F, H, G of equal length, with at least one S); the step limit
    /// is Gymnasium's (100, or 200 for 8×8) unless given.
    public init(map: [String] = GridWorld.maps["4x4"]!, slippery: Bool = true, successRate: Double = 1.0 / 3.0,
                maxEpisodeSteps: Int? = nil) {
        let cells = map.map(Array.init)
        tensorCheck(!cells.isEmpty && cells.allSatisfy { $0.count == cells[0].count && !$0.isEmpty }
                    && cells.joined().allSatisfy { "SFHG".contains($0) } && cells.joined().contains("S"),
                    "[GridWorld] the map \(map) should be rows of equal length of S, F, H and G with an S")
        tensorCheck(successRate >= 0 && successRate <= 1, "[GridWorld] successRate \(successRate) must be in [0, 1]")
        self.map = map
        self.slippery = slippery
        self.successRate = successRate
        self.cells = cells
        super.init(id: "FrozenLake-v1", observationSpace: .discrete(cells.count * cells[0].count), actionSpace: .discrete(4),
                   maxEpisodeSteps: maxEpisodeSteps ?? (map.count == 8 && cells[0].count == 8 ? 200 : 100))
    }

    /// The cell of the current state.
    public var position: (row: Int, column: Int) { (cell / cells[0].count, cell % cells[0].count) }

    /// Gymnasium's `categorical_sample`: the first index whose cumulative probability exceeds
    /// one uniform draw.
    private func sample(_ probabilities: [Double]) -> Int {
        let u = random.nextDouble()
        var total = 0.0
        for (i, p) in probabilities.enumerated() {
            total += p
            if total > u { return i }
        }
        return 0  // argmax of an all-false mask, as NumPy's
    }

    public override func startEpisode() -> [Float] {
        let flat = Array(cells.joined()), starts = Double(flat.filter { $0 == "S" }.count)
        cell = sample(flat.map { $0 == "S" ? 1 / starts : 0 })
        return [Float(cell)]
    }

    /// The cell a move of `action` from `cell` reaches.
    private func moved(_ cell: Int, _ action: Int) -> Int {
        let columns = cells[0].count
        var (row, column) = (cell / columns, cell % columns)
        switch action {
        case 0: column = Swift.max(column - 1, 0)
        case 1: row = Swift.min(row + 1, cells.count - 1)
        case 2: column = Swift.min(column + 1, columns - 1)
        default: row = Swift.max(row - 1, 0)
        }
        return row * columns + column
    }

    public override func advance(_ action: Action) -> (observation: [Float], reward: Double, terminated: Bool) {
        guard case .discrete(let a) = action else { fatalError("unreachable: checked against the space") }
        let columns = cells[0].count
        let letter = { (c: Int) in self.cells[c / columns][c % columns] }
        if "GH".contains(letter(cell)) { return ([Float(cell)], 0, true) }
        let failRate = (1.0 - successRate) / 2.0
        let directions = slippery ? [(a + 3) % 4, a, (a + 1) % 4] : [a]
        let choice = sample(slippery ? directions.map { $0 == a ? successRate : failRate } : [1.0])
        cell = moved(cell, directions[choice])
        return ([Float(cell)], letter(cell) == "G" ? 1 : 0, "GH".contains(letter(cell)))
    }
}

/// A k-armed bandit (Sutton & Barto's testbed problem): the arms' mean rewards are drawn from
/// N(0, 1) by `problemSeed` when the bandit is made, so every copy `make()` builds (a vector
/// environment's, an evaluation's) is the same problem; pulling arm a pays N(mean_a, 1), the
/// noise from the episode's stream. One pull a step, truncated after `pulls`; the observation
/// is always `[0]`. Gaussian draws use the Box–Muller transform (Gymnasium has no bandit to
/// match); the testbed's many problems are many `problemSeed`s.
public final class MultiArmedBandit: Environment {
    /// The arms' mean rewards.
    public let means: [Double]

    /// A bandit of `arms` arms and `pulls` pulls an episode, its means drawn from `problemSeed`.
    public init(arms: Int = 10, pulls: Int = 1000, problemSeed: UInt64 = 0) {
        tensorCheck(arms >= 2 && pulls >= 1, "[MultiArmedBandit] needs at least 2 arms and 1 pull, got \(arms) and \(pulls)")
        var problem = NumPyRandom(seed: problemSeed)
        means = (0..<arms).map { _ in Self.normal(&problem) }
        super.init(id: "Bandit-v0", observationSpace: .box(low: [0], high: [0]), actionSpace: .discrete(arms), maxEpisodeSteps: pulls)
    }

    /// The arm with the highest mean.
    public var bestArm: Int { means.indices.max { means[$0] < means[$1] }! }

    /// A standard normal draw (Box–Muller on two uniforms; 1 − u keeps the logarithm finite).
    static func normal(_ random: inout NumPyRandom) -> Double {
        let u = 1 - random.nextDouble(), v = random.nextDouble()
        return (-2 * Foundation.log(u)).squareRoot() * Foundation.cos(2 * Double.pi * v)
    }

    public override func startEpisode() -> [Float] { [0] }

    public override func advance(_ action: Action) -> (observation: [Float], reward: Double, terminated: Bool) {
        guard case .discrete(let a) = action else { fatalError("unreachable: checked against the space") }
        return ([0], means[a] + Self.normal(&random), false)
    }
}

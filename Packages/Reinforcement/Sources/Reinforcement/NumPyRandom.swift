/// NumPy's default random stream, `numpy.random.default_rng(seed)`: PCG64 (XSL-RR output of a
/// 128-bit LCG) seeded through `SeedSequence`'s hash. Gymnasium seeds every environment's
/// `np_random` this way, so an environment reset with the same seed here starts from the same
/// state as in Gymnasium, and an agent's experiments can be replayed across both.
public struct NumPyRandom: Sendable {
    private var state: UInt128
    private let increment: UInt128
    private static let multiplier = UInt128(0x2360_ED05_1FC6_5DA4) << 64 | UInt128(0x4385_DF64_9FCC_F645)

    /// The stream of `numpy.random.Generator(numpy.random.PCG64(seed))`.
    public init(seed: UInt64) {
        let words = Self.seedSequenceState(seed: seed, words: 8)
        let value = (0..<4).map { UInt64(words[2 * $0]) | UInt64(words[2 * $0 + 1]) << 32 }
        let initialState = UInt128(value[0]) << 64 | UInt128(value[1])
        let sequence = UInt128(value[2]) << 64 | UInt128(value[3])
        // pcg_setseq_128_srandom_r: state 0, inc odd, step, add the seed, step.
        increment = sequence << 1 | 1
        state = 0
        step()
        state = state &+ initialState
        step()
    }

    private mutating func step() { state = state &* Self.multiplier &+ increment }

    /// The next 64 random bits (`bit_generator.random_raw()`).
    public mutating func nextUInt64() -> UInt64 {
        step()
        let folded = UInt64(truncatingIfNeeded: state >> 64) ^ UInt64(truncatingIfNeeded: state)
        let rotation = UInt64(truncatingIfNeeded: state >> 122)
        return folded >> rotation | folded << ((64 &- rotation) & 63)
    }

    /// A double uniform on [0, 1) from the top 53 bits (`Generator.random()`).
    public mutating func nextDouble() -> Double { Double(nextUInt64() >> 11) * (1.0 / 9_007_199_254_740_992.0) }

    /// `Generator.uniform(low, high)`: `low + (high − low) · random()`.
    public mutating func uniform(low: Double, high: Double) -> Double { low + (high - low) * nextDouble() }

    /// `SeedSequence(seed).generate_state(words)` (32-bit words): the seed's 32-bit words
    /// hashed into a pool of four, mixed, then drawn out through a second hash.
    static func seedSequenceState(seed: UInt64, words count: Int) -> [UInt32] {
        let multiplyA: UInt32 = 0x931E_8875, multiplyB: UInt32 = 0x58F3_8DED
        let mixLeft: UInt32 = 0xCA01_F9DD, mixRight: UInt32 = 0x4973_F715
        let entropy: [UInt32] = seed >> 32 == 0 ? [UInt32(seed)] : [UInt32(truncatingIfNeeded: seed), UInt32(seed >> 32)]
        var hashConstant: UInt32 = 0x43B0_D7E5
        func hashmix(_ value: UInt32) -> UInt32 {
            var v = value ^ hashConstant
            hashConstant = hashConstant &* multiplyA
            v = v &* hashConstant
            return v ^ (v >> 16)
        }
        func mix(_ x: UInt32, _ y: UInt32) -> UInt32 {
            let r = mixLeft &* x &- mixRight &* y
            return r ^ (r >> 16)
        }
        var pool = (0..<4).map { hashmix($0 < entropy.count ? entropy[$0] : 0) }
        for source in 0..<4 {
            for destination in 0..<4 where source != destination {
                pool[destination] = mix(pool[destination], hashmix(pool[source]))
            }
        }
        // (Entropy beyond the pool's four words would be mixed in here; a 64-bit seed has two.)
        var outputConstant: UInt32 = 0x8B51_F9DD
        return (0..<count).map { i in
            var v = pool[i % 4] ^ outputConstant
            outputConstant = outputConstant &* multiplyB
            v = v &* outputConstant
            return v ^ (v >> 16)
        }
    }
}

/// Philox 4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", 2011).
///
/// A counter-based generator: the output for a (key, counter) pair is a pure function,
/// so any element of a random tensor can be computed independently — on any thread count,
/// or on a GPU — and still match.

public func philox4x32(counter: SIMD4<UInt32>, key: SIMD2<UInt32>) -> SIMD4<UInt32> {
    var c = counter
    var k = key
    for round in 0..<10 {
        let p0 = UInt64(0xD251_1F53) &* UInt64(c[0])
        let p1 = UInt64(0xCD9E_8D57) &* UInt64(c[2])
        let hi0 = UInt32(truncatingIfNeeded: p0 >> 32), lo0 = UInt32(truncatingIfNeeded: p0)
        let hi1 = UInt32(truncatingIfNeeded: p1 >> 32), lo1 = UInt32(truncatingIfNeeded: p1)
        c = SIMD4(hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0)
        if round < 9 { k &+= SIMD2(0x9E37_79B9, 0xBB67_AE85) }
    }
    return c
}

/// The four words for block `block` of the stream (seed, counter).

func philoxBlock(seed: UInt64, counter: UInt64, block: UInt64) -> SIMD4<UInt32> {
    let c = counter &+ block
    return philox4x32(counter: SIMD4(UInt32(truncatingIfNeeded: c), UInt32(truncatingIfNeeded: c >> 32), 0, 0),
                      key: SIMD2(UInt32(truncatingIfNeeded: seed), UInt32(truncatingIfNeeded: seed >> 32)))
}

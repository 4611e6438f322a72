#if canImport(Glibc)
import Glibc
#endif

extension CPUBackend {
    public func fillRandom(_ out: Operand, distribution: RandomDistribution, seed: UInt64, counter: UInt64) {
        guard out.layout.isContiguous, !out.dtype.isReducedPrecision else {
            let tmp = makeOperand(shape: out.shape, dtype: out.dtype.isReducedPrecision ? .float32 : out.dtype)
            fillRandom(tmp, distribution: distribution, seed: seed, counter: counter)
            return copy(tmp, into: out)
        }
        visitScalarType(out.dtype, RandomVisitor(out: out, distribution: distribution, seed: seed, counter: counter))
    }
}

/// Element `i` takes its value from Philox block `i / perBlock` (words split evenly), so a
/// chunk boundary anywhere gives the same numbers.
private struct RandomVisitor: ScalarVisitor {
    let out: Operand
    let distribution: RandomDistribution
    let seed: UInt64
    let counter: UInt64

    func visit<T: TensorScalar>(_ type: T.Type) {
        let p = out.elements(T.self)
        let count = out.elementCount
        let wide = out.dtype == .float64 || out.dtype == .int64
        let seed = self.seed, counter = self.counter, distribution = self.distribution
        // Values produced per block of four 32-bit words.
        let perBlock: Int
        switch distribution {
        case .normal: perBlock = 2
        case .integers: perBlock = 2
        default: perBlock = wide ? 2 : 4
        }
        let blocks = (count + perBlock - 1) / perBlock
        parallelChunks(count: blocks, cost: 16) { range in
            var values = [Double](repeating: 0, count: 4)
            for block in range {
                let w = philoxBlock(seed: seed, counter: counter, block: UInt64(block))
                produce(w, perBlock: perBlock, wide: wide, into: &values)
                let start = block * perBlock
                for j in 0..<Swift.min(perBlock, count - start) { p[start + j] = T(tensorDouble: values[j]) }
            }
        }
    }

    @inline(__always)
    private func produce(_ w: SIMD4<UInt32>, perBlock: Int, wide: Bool, into values: inout [Double]) {
        // Uniforms on [0, 1): 24 bits for float32, 53 for float64.
        func u24(_ x: UInt32) -> Double { Double(x >> 8) * 0x1p-24 }
        func u53(_ a: UInt32, _ b: UInt32) -> Double { Double((UInt64(a) << 32 | UInt64(b)) >> 11) * 0x1p-53 }
        switch distribution {
        case .uniform(let low, let high):
            for j in 0..<perBlock {
                let u = wide ? u53(w[2 * j], w[2 * j + 1]) : u24(w[j])
                values[j] = low + (high - low) * u
            }
        case .bernoulli(let probability):
            for j in 0..<perBlock {
                let u = wide ? u53(w[2 * j], w[2 * j + 1]) : u24(w[j])
                values[j] = u < probability ? 1 : 0
            }
        case .normal(let mean, let sd):
            // Box–Muller on two uniforms; 1 - u keeps the log argument in (0, 1].
            let u1 = 1 - (wide ? u53(w[0], w[1]) : u24(w[0]))
            let u2 = wide ? u53(w[2], w[3]) : u24(w[1])
            let r = (-2 * log(u1)).squareRoot()
            values[0] = mean + sd * r * cos(2 * Double.pi * u2)
            values[1] = mean + sd * r * sin(2 * Double.pi * u2)
        case .integers(let low, let high):
            let span = UInt64(high - low)
            for j in 0..<2 {
                let bits = UInt64(w[2 * j]) << 32 | UInt64(w[2 * j + 1])
                values[j] = Double(low + Int64(bits % span))
            }
        }
    }
}

extension Tensor {
    /// A tensor filled with `value`.
    public static func full(_ shape: [Int], value: Double, dtype: DType = .float32, device: Device = .cpu) -> Tensor {
        for d in shape { tensorCheck(d >= 0, "[full] negative dimension in shape \(shapeText(shape))") }
        let t = Tensor(uninitializedShape: shape, dtype: dtype, device: device)
        t.backend.fill(t.operand, with: value)
        return t
    }

    /// A tensor whose contents are unspecified (`torch.empty`): for outputs a kernel overwrites.
    public static func empty(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) -> Tensor {
        for d in shape { tensorCheck(d >= 0, "[empty] negative dimension in shape \(shapeText(shape))") }
        return Tensor(uninitializedShape: shape, dtype: dtype, device: device)
    }

    /// An uninitialised tensor of `t`'s shape, dtype and device.
    public static func empty(like t: Tensor) -> Tensor { empty(t.shape, dtype: t.dtype, device: t.device) }

    /// Zeros.
    public static func zeros(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) -> Tensor {
        full(shape, value: 0, dtype: dtype, device: device)
    }

    /// Ones.
    public static func ones(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) -> Tensor {
        full(shape, value: 1, dtype: dtype, device: device)
    }

    /// Zeros of `t`'s shape, dtype and device.
    public static func zeros(like t: Tensor) -> Tensor { zeros(t.shape, dtype: t.dtype, device: t.device) }
    /// Ones of `t`'s shape, dtype and device.
    public static func ones(like t: Tensor) -> Tensor { ones(t.shape, dtype: t.dtype, device: t.device) }
    /// `value` everywhere, of `t`'s shape, dtype and device.
    public static func full(like t: Tensor, value: Double) -> Tensor {
        full(t.shape, value: value, dtype: t.dtype, device: t.device)
    }

    /// `start, start + step, ...` up to but excluding `end`.
    public static func arange(_ start: Double, _ end: Double, step: Double = 1,
                              dtype: DType = .float32, device: Device = .cpu) -> Tensor {
        tensorCheck(step != 0, "[arange] step must be non-zero")
        let count = Swift.max(0, Int(((end - start) / step).rounded(.up)))
        return Tensor((0..<count).map { start + Double($0) * step }, shape: [count], device: device)
            .cast(to: dtype, differentiable: false)
    }

    /// `0, 1, ..., end - 1`.
    public static func arange(_ end: Double, dtype: DType = .float32, device: Device = .cpu) -> Tensor {
        arange(0, end, step: 1, dtype: dtype, device: device)
    }

    /// `count` evenly spaced values from `start` to `end` inclusive.
    public static func linspace(_ start: Double, _ end: Double, count: Int,
                                dtype: DType = .float32, device: Device = .cpu) -> Tensor {
        tensorCheck(count >= 0, "[linspace] count must be non-negative, got \(count)")
        let step = count > 1 ? (end - start) / Double(count - 1) : 0
        let values = (0..<count).map { i in i == count - 1 ? end : start + Double(i) * step }
        return Tensor(values, shape: [count], device: device).cast(to: dtype, differentiable: false)
    }

    /// The `n x m` identity (ones on the diagonal).
    public static func eye(_ n: Int, _ m: Int? = nil, dtype: DType = .float32, device: Device = .cpu) -> Tensor {
        let columns = m ?? n
        tensorCheck(n >= 0 && columns >= 0, "[eye] sizes must be non-negative, got \(n) x \(columns)")
        var values = [Double](repeating: 0, count: n * columns)
        for i in 0..<Swift.min(n, columns) { values[i * columns + i] = 1 }
        return Tensor(values, shape: [n, columns], device: device).cast(to: dtype, differentiable: false)
    }
}

// MARK: - Random

extension Tensor {
    /// Reseeds the global generator (`torch.manual_seed`).
    public static func manualSeed(_ seed: UInt64) { RandomGenerator.global.reseed(seed) }

    static func random(_ shape: [Int], _ distribution: RandomDistribution, dtype: DType, device: Device,
                       generator: RandomGenerator?, op: StaticString) -> Tensor {
        for d in shape { tensorCheck(d >= 0, "[\(op)] negative dimension in shape \(shapeText(shape))") }
        let t = Tensor(uninitializedShape: shape, dtype: dtype, device: device)
        let (seed, counter) = (generator ?? RandomGenerator.global).reserve(t.elementCount)
        t.backend.fillRandom(t.operand, distribution: distribution, seed: seed, counter: counter)
        return t
    }

    /// Uniform on [low, high).
    public static func rand(_ shape: [Int], low: Double = 0, high: Double = 1, dtype: DType = .float32,
                            device: Device = .cpu, generator: RandomGenerator? = nil) -> Tensor {
        tensorCheck(dtype.isFloatingPoint, "[rand] needs a floating-point dtype, got \(dtype)")
        return random(shape, .uniform(low: low, high: high), dtype: dtype, device: device, generator: generator, op: "rand")
    }

    /// Normal with the given mean and standard deviation.
    public static func randn(_ shape: [Int], mean: Double = 0, standardDeviation: Double = 1, dtype: DType = .float32,
                             device: Device = .cpu, generator: RandomGenerator? = nil) -> Tensor {
        tensorCheck(dtype.isFloatingPoint, "[randn] needs a floating-point dtype, got \(dtype)")
        return random(shape, .normal(mean: mean, standardDeviation: standardDeviation), dtype: dtype, device: device,
                      generator: generator, op: "randn")
    }

    /// Integers uniform on [low, high).
    public static func randint(_ low: Int, _ high: Int, shape: [Int], dtype: DType = .int64,
                               device: Device = .cpu, generator: RandomGenerator? = nil) -> Tensor {
        tensorCheck(high > low, "[randint] empty range \(low)..<\(high)")
        return random(shape, .integers(low: Int64(low), high: Int64(high)), dtype: dtype, device: device,
                      generator: generator, op: "randint")
    }

    /// 1 with probability `p`, else 0.
    public static func bernoulli(_ shape: [Int], p: Double, dtype: DType = .float32,
                                 device: Device = .cpu, generator: RandomGenerator? = nil) -> Tensor {
        tensorCheck(p >= 0 && p <= 1, "[bernoulli] probability \(p) is outside [0, 1]")
        return random(shape, .bernoulli(p: p), dtype: dtype, device: device, generator: generator, op: "bernoulli")
    }
}

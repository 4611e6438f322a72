import TensorCore

/// Limited-memory BFGS with an optional strong-Wolfe line search: a port of PyTorch's
/// `torch.optim.LBFGS`, step for step. All parameters form one flat vector (Float64 on the
/// host, so the recursion is exact whatever the parameters' dtype).
///
/// ```swift
/// let lbfgs = LBFGS(parameters: model.parameters(), lineSearch: .strongWolfe)
/// lbfgs.step { let loss = lossFunction(); loss.backward(); return loss.item(as: Double.self) }
/// ```
public final class LBFGS {
    /// How each iteration's step length is chosen.
    public enum LineSearch: Sendable {
        /// A fixed step of `learningRate`.
        case none
        /// PyTorch's strong Wolfe search (cubic interpolation, `line_search_fn="strong_wolfe"`).
        case strongWolfe
    }

    /// The parameters optimised (one flat vector to the algorithm).
    public let parameters: [Parameter]
    /// Step size (`lr`; with the strong Wolfe search, the first trial step).
    public var learningRate: Double
    /// Iterations per `step` (`max_iter`).
    public let maxIterations: Int
    /// Function evaluations per `step` (`max_eval`, default 1.25 × maxIterations).
    public let maxEvaluations: Int
    /// Stop when the largest gradient entry falls below this (`tolerance_grad`).
    public let toleranceGrad: Double
    /// Stop when the loss or the parameters change less than this (`tolerance_change`).
    public let toleranceChange: Double
    /// Curvature pairs kept (`history_size`).
    public let historySize: Int
    /// How the step length is chosen.
    public let lineSearch: LineSearch

    // State carried across `step` calls, as PyTorch keeps it.
    /// Closure evaluations so far (across steps).
    public private(set) var functionEvaluations = 0
    /// Iterations so far (across steps).
    public private(set) var iterations = 0
    var direction: [Double] = []
    var stepLength = 0.0
    var oldDirections: [[Double]] = []
    var oldSteps: [[Double]] = []
    var rho: [Double] = []
    var hessianDiagonal = 1.0
    var previousGradient: [Double] = []
    var previousLoss = 0.0

    /// L-BFGS with PyTorch's defaults.
    public init(parameters: [Parameter], learningRate: Double = 1, maxIterations: Int = 20, maxEvaluations: Int? = nil,
                toleranceGrad: Double = 1e-7, toleranceChange: Double = 1e-9, historySize: Int = 100,
                lineSearch: LineSearch = .none) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.maxIterations = maxIterations
        self.maxEvaluations = maxEvaluations ?? maxIterations * 5 / 4
        self.toleranceGrad = toleranceGrad
        self.toleranceChange = toleranceChange
        self.historySize = historySize
        self.lineSearch = lineSearch
    }

    // MARK: flat vectors

    func flatGradient() -> [Double] {
        parameters.flatMap { p in p.grad.map { $0.scalars(as: Double.self) } ?? [Double](repeating: 0, count: p.value.elementCount) }
    }

    func flatValues() -> [Double] { parameters.flatMap { $0.value.scalars(as: Double.self) } }

    func setValues(_ flat: [Double]) {
        var offset = 0
        for p in parameters {
            let n = p.value.elementCount
            p.value = Tensor(Array(flat[offset..<(offset + n)]), shape: p.shape).cast(to: p.dtype).moved(to: p.value.device)
            offset += n
        }
    }

    /// Loss and gradient at `x + t d` (parameters are restored to `x` afterwards).
    func evaluate(_ closure: () -> Double, _ x: [Double], _ t: Double, _ d: [Double]) -> (Double, [Double]) {
        setValues(zip(x, d).map { $0 + t * $1 })
        for p in parameters { p.grad = nil }
        let loss = withGradients(enabled: true) { closure() }
        let g = flatGradient()
        setValues(x)
        return (loss, g)
    }

    /// Runs up to `maxIterations` iterations; `closure` zeroes nothing, computes the loss,
    /// calls `backward()` and returns the loss. Returns the loss at the starting point.
    @discardableResult
    public func step(_ closure: () -> Double) -> Double {
        for p in parameters { p.grad = nil }
        let originalLoss = withGradients(enabled: true) { closure() }
        var loss = originalLoss
        var currentEvaluations = 1
        functionEvaluations += 1
        var g = flatGradient()
        if g.map(Swift.abs).max() ?? 0 <= toleranceGrad { return originalLoss }

        var d = direction, t = stepLength
        var n = 0
        while n < maxIterations {
            n += 1
            iterations += 1
            if iterations == 1 {
                d = g.map { -$0 }
                oldDirections = []; oldSteps = []; rho = []
                hessianDiagonal = 1
            } else {
                let y = zip(g, previousGradient).map { $0 - $1 }
                let s = d.map { $0 * t }
                let ys = dot(y, s)
                if ys > 1e-10 {
                    if oldDirections.count == historySize {
                        oldDirections.removeFirst(); oldSteps.removeFirst(); rho.removeFirst()
                    }
                    oldDirections.append(y); oldSteps.append(s); rho.append(1 / ys)
                    hessianDiagonal = ys / dot(y, y)
                }
                // Two-loop recursion.
                var q = g.map { -$0 }
                var alpha = [Double](repeating: 0, count: oldDirections.count)
                for i in stride(from: oldDirections.count - 1, through: 0, by: -1) {
                    alpha[i] = dot(oldSteps[i], q) * rho[i]
                    for k in q.indices { q[k] -= alpha[i] * oldDirections[i][k] }
                }
                var r = q.map { $0 * hessianDiagonal }
                for i in 0..<oldDirections.count {
                    let beta = dot(oldDirections[i], r) * rho[i]
                    for k in r.indices { r[k] += (alpha[i] - beta) * oldSteps[i][k] }
                }
                d = r
            }
            previousGradient = g
            previousLoss = loss
            t = iterations == 1 ? Swift.min(1, 1 / g.reduce(0) { $0 + Swift.abs($1) }) * learningRate : learningRate
            let gtd = dot(g, d)
            if gtd > -toleranceChange { break }

            var lineSearchEvaluations = 0
            var converged = false
            switch lineSearch {
            case .strongWolfe:
                let x = flatValues()
                let result = strongWolfe(x: x, t: t, d: d, f: loss, g: g, gtd: gtd) { self.evaluate(closure, $0, $1, $2) }
                loss = result.f; g = result.g; t = result.t; lineSearchEvaluations = result.evaluations
                setValues(zip(x, d).map { $0 + t * $1 })
                converged = g.map(Swift.abs).max() ?? 0 <= toleranceGrad
            case .none:
                setValues(zip(flatValues(), d).map { $0 + t * $1 })
                if n != maxIterations {
                    for p in parameters { p.grad = nil }
                    loss = withGradients(enabled: true) { closure() }
                    g = flatGradient()
                    converged = g.map(Swift.abs).max() ?? 0 <= toleranceGrad
                    lineSearchEvaluations = 1
                }
            }
            currentEvaluations += lineSearchEvaluations
            functionEvaluations += lineSearchEvaluations
            if n == maxIterations || currentEvaluations >= maxEvaluations || converged { break }
            if (d.map { Swift.abs($0 * t) }.max() ?? 0) <= toleranceChange { break }
            if Swift.abs(loss - previousLoss) < toleranceChange { break }
        }
        direction = d
        stepLength = t
        return originalLoss
    }

    func dot(_ a: [Double], _ b: [Double]) -> Double {
        var s = 0.0
        for i in a.indices { s += a[i] * b[i] }
        return s
    }

    /// PyTorch's `_strong_wolfe` through `LineSearches.strongWolfe`, carrying the gradient.
    func strongWolfe(x: [Double], t: Double, d: [Double], f: Double, g: [Double], gtd: Double,
                     objective: ([Double], Double, [Double]) -> (Double, [Double]))
        -> (f: Double, g: [Double], t: Double, evaluations: Int) {
        let dNorm = d.map(Swift.abs).max() ?? 0
        let result = LineSearches.strongWolfe(value: f, slope: gtd, payload: g, initialStep: t,
                                              tolerance: dNorm > 0 ? toleranceChange / dNorm : .infinity) { t in
            let (value, gradient) = objective(x, t, d)
            return (value, self.dot(gradient, d), gradient)
        }
        return (result.value, result.payload, result.step, result.evaluations)
    }
}

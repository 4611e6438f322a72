/// What a line search settled on: the step, the objective there (and its directional
/// derivative where the search evaluates it), how many evaluations it took, and whether its
/// conditions hold (false: it ran out of evaluations and returns the best step it saw).
public struct LineSearchResult<Payload> {
    /// The step t accepted.
    public var step: Double
    /// φ(t).
    public var value: Double
    /// φ′(t) where the search evaluated it (strong Wolfe), nil otherwise.
    public var derivative: Double?
    /// Whatever the evaluation returned with the value at `step` (a gradient, a state).
    public var payload: Payload
    /// Evaluations of φ.
    public var evaluations: Int
    /// Whether the search's conditions hold at `step`.
    public var satisfied: Bool
}

/// Line searches along a direction, on the 1-D restriction φ(t) = f(x + t d): the caller's
/// closure evaluates φ (and φ′ = ∇f(x + t d) · d for strong Wolfe). The conditions are Nocedal
/// & Wright's (3.6) and (3.7).
public enum LineSearches {
    /// Backtracking to sufficient decrease (Armijo): the first `t = initialStep · shrink^k`
    /// with `φ(t) ≤ φ(0) + c1 t φ′(0)`. `slope` is φ′(0) and must be negative (a descent
    /// direction).
    public static func armijo<Payload>(value f0: Double, slope: Double, initialStep: Double = 1, shrink: Double = 0.5,
                                       c1: Double = 1e-4, maxEvaluations: Int = 30,
                                       _ phi: (Double) -> (value: Double, payload: Payload)) -> LineSearchResult<Payload> {
        precondition(slope < 0, "[LineSearches.armijo] the direction is not a descent direction (slope \(slope) ≥ 0)")
        precondition(shrink > 0 && shrink < 1, "[LineSearches.armijo] shrink \(shrink) must lie in (0, 1)")
        var t = initialStep
        var best: (t: Double, value: Double, payload: Payload)?
        for evaluation in 1...Swift.max(maxEvaluations, 1) {
            let (value, payload) = phi(t)
            if value <= f0 + c1 * t * slope {
                return LineSearchResult(step: t, value: value, derivative: nil, payload: payload, evaluations: evaluation,
                                        satisfied: true)
            }
            if best == nil || value < best!.value { best = (t, value, payload) }
            t *= shrink
        }
        return LineSearchResult(step: best!.t, value: best!.value, derivative: nil, payload: best!.payload,
                                evaluations: Swift.max(maxEvaluations, 1), satisfied: false)
    }

    /// A step meeting the strong Wolfe conditions, `φ(t) ≤ φ(0) + c1 t φ′(0)` and
    /// `|φ′(t)| ≤ c2 |φ′(0)|`, by bracketing and cubic interpolation: PyTorch's
    /// `_strong_wolfe` (which L-BFGS uses), stopping when the bracket is narrower than
    /// `tolerance` (in units of t).
    public static func strongWolfe<Payload>(value f0: Double, slope: Double, payload p0: Payload, initialStep: Double = 1,
                                            c1: Double = 1e-4, c2: Double = 0.9, maxEvaluations: Int = 25,
                                            tolerance: Double = 1e-9,
                                            _ phi: (Double) -> (value: Double, derivative: Double, payload: Payload))
        -> LineSearchResult<Payload> {
        var t = initialStep
        var (fNew, gtdNew, gNew) = phi(t)
        var evaluations = 1
        var tPrev = 0.0, fPrev = f0, gPrev = p0, gtdPrev = slope
        var done = false
        var iteration = 0
        var bracket: [Double] = [], bracketF: [Double] = [], bracketG: [Payload] = [], bracketGtd: [Double] = []
        while iteration < maxEvaluations {
            if fNew > f0 + c1 * t * slope || (iteration > 1 && fNew >= fPrev) {
                bracket = [tPrev, t]; bracketF = [fPrev, fNew]; bracketG = [gPrev, gNew]; bracketGtd = [gtdPrev, gtdNew]
                break
            }
            if Swift.abs(gtdNew) <= -c2 * slope {
                bracket = [t]; bracketF = [fNew]; bracketG = [gNew]; bracketGtd = [gtdNew]; done = true
                break
            }
            if gtdNew >= 0 {
                bracket = [tPrev, t]; bracketF = [fPrev, fNew]; bracketG = [gPrev, gNew]; bracketGtd = [gtdPrev, gtdNew]
                break
            }
            let minStep = t + 0.01 * (t - tPrev), maxStep = t * 10
            let previous = t
            t = cubicInterpolate(tPrev, fPrev, gtdPrev, t, fNew, gtdNew, bounds: (minStep, maxStep))
            tPrev = previous; fPrev = fNew; gPrev = gNew; gtdPrev = gtdNew
            (fNew, gtdNew, gNew) = phi(t)
            evaluations += 1
            iteration += 1
        }
        if iteration == maxEvaluations {
            bracket = [0, t]; bracketF = [f0, fNew]; bracketG = [p0, gNew]; bracketGtd = [slope, gtdNew]
        }
        var insufficientProgress = false
        var (low, high) = bracketF[0] <= bracketF[bracketF.count - 1] ? (0, 1) : (1, 0)
        while !done && iteration < maxEvaluations {
            if Swift.abs(bracket[1] - bracket[0]) < tolerance { break }
            t = cubicInterpolate(bracket[0], bracketF[0], bracketGtd[0], bracket[1], bracketF[1], bracketGtd[1])
            let bMax = Swift.max(bracket[0], bracket[1]), bMin = Swift.min(bracket[0], bracket[1])
            let eps = 0.1 * (bMax - bMin)
            if Swift.min(bMax - t, t - bMin) < eps {
                if insufficientProgress || t >= bMax || t <= bMin {
                    t = Swift.abs(t - bMax) < Swift.abs(t - bMin) ? bMax - eps : bMin + eps
                    insufficientProgress = false
                } else {
                    insufficientProgress = true
                }
            } else {
                insufficientProgress = false
            }
            (fNew, gtdNew, gNew) = phi(t)
            evaluations += 1
            iteration += 1
            if fNew > f0 + c1 * t * slope || fNew >= bracketF[low] {
                bracket[high] = t; bracketF[high] = fNew; bracketG[high] = gNew; bracketGtd[high] = gtdNew
                (low, high) = bracketF[0] <= bracketF[1] ? (0, 1) : (1, 0)
            } else {
                if Swift.abs(gtdNew) <= -c2 * slope {
                    done = true
                } else if gtdNew * (bracket[high] - bracket[low]) >= 0 {
                    bracket[high] = bracket[low]; bracketF[high] = bracketF[low]
                    bracketG[high] = bracketG[low]; bracketGtd[high] = bracketGtd[low]
                }
                bracket[low] = t; bracketF[low] = fNew; bracketG[low] = gNew; bracketGtd[low] = gtdNew
            }
        }
        return LineSearchResult(step: bracket[low], value: bracketF[low], derivative: bracketGtd[low],
                                payload: bracketG[low], evaluations: evaluations, satisfied: done)
    }

    /// The minimiser of the cubic through (x1, f1, g1) and (x2, f2, g2), clamped to `bounds`
    /// (default: between the points), or their midpoint when the cubic has none.
    public static func cubicInterpolate(_ x1: Double, _ f1: Double, _ g1: Double, _ x2: Double, _ f2: Double, _ g2: Double,
                                        bounds: (Double, Double)? = nil) -> Double {
        let (lo, hi) = bounds ?? (x1 <= x2 ? (x1, x2) : (x2, x1))
        let d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
        let d2Square = d1 * d1 - g1 * g2
        guard d2Square >= 0 else { return (lo + hi) / 2 }
        let d2 = d2Square.squareRoot()
        let minimum = x1 <= x2 ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
                               : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return Swift.min(Swift.max(minimum, lo), hi)
    }
}

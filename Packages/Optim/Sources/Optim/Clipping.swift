import TensorCore

/// Scales all gradients together so that their global norm is at most `maxNorm`
/// (`clip_grad_norm_`); returns the norm before clipping. `normType` may be `.infinity`.
@discardableResult
public func clipGradientNorm(_ parameters: [Parameter], maxNorm: Double, normType: Double = 2) -> Double {
    tensorCheck(maxNorm >= 0 && normType > 0, "[clipGradientNorm] maxNorm must be non-negative and normType positive")
    return withoutGradients {
        let grads = parameters.compactMap(\.grad)
        guard !grads.isEmpty else { return 0 }
        let total: Double
        if normType == .infinity {
            total = grads.map { $0.abs().max().item(as: Double.self) }.max()!
        } else {
            // The 2-norm (the common case) from squares: no |g| pass, no pow per element.
            let sum = grads.reduce(0.0) {
                $0 + (normType == 2 ? $1.squared() : $1.abs().pow(normType)).sum().item(as: Double.self)
            }
            total = Double._pow(sum, 1 / normType)
        }
        let coefficient = maxNorm / (total + 1e-6)
        if coefficient < 1 {
            // Scaled in place where a gradient's buffer is its own (as PyTorch's mul_), after
            // letting go of the parameter's reference; shared ones are copied, not scaled twice.
            for p in parameters {
                guard var g = p.grad else { continue }
                p.grad = nil
                g *= coefficient
                p.grad = g
            }
        }
        return total
    }
}

/// Clamps every gradient element to `[-clipValue, clipValue]`.
public func clipGradientValue(_ parameters: [Parameter], clipValue: Double) {
    tensorCheck(clipValue >= 0, "[clipGradientValue] clipValue must be non-negative")
    withoutGradients {
        for p in parameters { if let g = p.grad { p.grad = g.clamped(min: -clipValue, max: clipValue) } }
    }
}

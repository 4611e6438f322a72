import Foundation
import TensorCore

/// The forward (noising) process of a diffusion model: `q(x_t | x_0) = N(√ᾱ_t x_0, (1 − ᾱ_t) I)`
/// over timesteps t = 0 ..< T (0-based, as diffusers counts them; the papers' t = 1 ... T),
/// with everything the samplers need precomputed in float64.
///
/// - `linear` (Ho et al. 2020): β_t evenly from `linearStart` (1e-4) to `linearEnd` (0.02).
/// - `cosine` (Nichol & Dhariwal 2021): ᾱ(t) = f(t) / f(0), f(t) = cos²(((t/T) + s) / (1 + s) · π/2)
///   with s = 0.008, β_t = min(1 − ᾱ_t / ᾱ_{t−1}, 0.999), ᾱ then recomputed from the clipped βs.
public struct NoiseSchedule: Equatable, Sendable {
    /// The shape of the βs.
    public enum Kind: String, Codable, Sendable, CaseIterable {
        /// β evenly spaced from `linearStart` to `linearEnd`.
        case linear
        /// ᾱ on a squared cosine (Nichol & Dhariwal).
        case cosine
    }

    /// The schedule's shape.
    public let kind: Kind
    /// β_t, `T` of them.
    public let betas: [Double]
    /// ᾱ_t = Π_{s ≤ t} (1 − β_s).
    public let alphaBars: [Double]

    /// A schedule of `steps` timesteps.
    public init(_ kind: Kind, steps: Int, linearStart: Double = 1e-4, linearEnd: Double = 0.02, cosineOffset: Double = 0.008) {
        tensorCheck(steps >= 2, "[NoiseSchedule] needs at least 2 steps, got \(steps)")
        tensorCheck(linearStart > 0 && linearEnd < 1 && linearStart <= linearEnd,
                    "[NoiseSchedule] linear βs must satisfy 0 < start \(linearStart) ≤ end \(linearEnd) < 1")
        self.kind = kind
        switch kind {
        case .linear:
            betas = (0..<steps).map { linearStart + (linearEnd - linearStart) * Double($0) / Double(steps - 1) }
        case .cosine:
            func f(_ t: Double) -> Double {
                let c = cos((t / Double(steps) + cosineOffset) / (1 + cosineOffset) * Double.pi / 2)
                return c * c
            }
            betas = (0..<steps).map { t in Swift.min(1 - f(Double(t + 1)) / f(Double(t)), 0.999) }
        }
        var product = 1.0
        alphaBars = betas.map { product *= 1 - $0; return product }
    }

    /// T, the number of timesteps.
    public var steps: Int { betas.count }

    /// ᾱ_{t−1}, with ᾱ_{−1} = 1 (nothing noised before the first step).
    public func previousAlphaBar(_ t: Int) -> Double { t > 0 ? alphaBars[t - 1] : 1 }

    /// The variance of q(x_{t−1} | x_t, x_0): β̃_t = β_t (1 − ᾱ_{t−1}) / (1 − ᾱ_t) (0 at t = 0).
    public func posteriorVariance(_ t: Int) -> Double { betas[t] * (1 - previousAlphaBar(t)) / (1 - alphaBars[t]) }

    /// The coefficients of q(x_{t−1} | x_t, x_0)'s mean, μ̃ = a x_0 + b x_t:
    /// a = √ᾱ_{t−1} β_t / (1 − ᾱ_t), b = √α_t (1 − ᾱ_{t−1}) / (1 − ᾱ_t).
    public func posteriorMeanCoefficients(_ t: Int) -> (x0: Double, xt: Double) {
        let previous = previousAlphaBar(t)
        return (previous.squareRoot() * betas[t] / (1 - alphaBars[t]), (1 - betas[t]).squareRoot() * (1 - previous) / (1 - alphaBars[t]))
    }

    /// Per-example factors `[N, 1, 1, 1]` (or `[N, 1]` for rank-2 data) of `values` at `t`, for
    /// broadcasting against a batch shaped like `like`.
    func factors(_ values: [Double], at t: [Int], like x: Tensor) -> Tensor {
        Tensor(t.map { values[$0] }, shape: [t.count] + Array(repeating: 1, count: x.rank - 1)).cast(to: x.dtype).moved(to: x.device)
    }

    /// x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε for each example's timestep.
    public func noised(_ x0: Tensor, noise: Tensor, at t: [Int]) -> Tensor {
        tensorCheck(x0.shape == noise.shape && t.count == x0.shape[0], "[NoiseSchedule.noised] x0 \(shapeText(x0.shape)), noise "
                    + "\(shapeText(noise.shape)) and \(t.count) timesteps disagree")
        tensorCheck(t.allSatisfy { (0..<steps).contains($0) }, "[NoiseSchedule.noised] timesteps must be in 0..<\(steps), got \(t.min()!)...\(t.max()!)")
        return factors(alphaBars.map { $0.squareRoot() }, at: t, like: x0) * x0
            + factors(alphaBars.map { (1 - $0).squareRoot() }, at: t, like: x0) * noise
    }
}

import Foundation

/// Gymnasium's `CartPole-v1` (Barto, Sutton & Anderson 1983): push a cart left (0) or right
/// (1) to keep a pole upright; +1 a step, terminated when the pole leans past 12° or the cart
/// leaves ±2.4, truncated at 500 steps. Observation: cart position and velocity, pole angle
/// and angular velocity; the state starts uniform in ±0.05. Euler steps of 0.02 s.
public final class CartPole: Environment {
    private var state = [Double](repeating: 0, count: 4)
    let gravity = 9.8, cartMass = 1.0, poleMass = 0.1, halfLength = 0.5, forceMagnitude = 10.0, tau = 0.02
    let angleLimit = 12 * 2 * Double.pi / 360, positionLimit = 2.4

    /// The environment, seeded by its first `reset`.
    public init() {
        let high = [Double(Float(2.4 * 2)), .infinity, Double(Float(12 * 2 * Double.pi / 360 * 2)), .infinity]
        super.init(id: "CartPole-v1", observationSpace: .box(low: high.map { -$0 }, high: high), actionSpace: .discrete(2),
                   maxEpisodeSteps: 500)
    }

    public override func startEpisode() -> [Float] {
        state = (0..<4).map { _ in random.uniform(low: -0.05, high: 0.05) }
        return state.map { Float($0) }
    }

    public override func advance(_ action: Action) -> (observation: [Float], reward: Double, terminated: Bool) {
        guard case .discrete(let a) = action else { fatalError("unreachable: checked against the space") }
        var (x, xDot, theta, thetaDot) = (state[0], state[1], state[2], state[3])
        let force = a == 1 ? forceMagnitude : -forceMagnitude
        let cosTheta = cos(theta), sinTheta = sin(theta)
        let totalMass = poleMass + cartMass, poleMassLength = poleMass * halfLength
        let temp = (force + poleMassLength * (thetaDot * thetaDot) * sinTheta) / totalMass
        let thetaAcc = (gravity * sinTheta - cosTheta * temp) / (halfLength * (4.0 / 3.0 - poleMass * (cosTheta * cosTheta) / totalMass))
        let xAcc = temp - poleMassLength * thetaAcc * cosTheta / totalMass
        x += tau * xDot
        xDot += tau * xAcc
        theta += tau * thetaDot
        thetaDot += tau * thetaAcc
        state = [x, xDot, theta, thetaDot]
        let terminated = x < -positionLimit || x > positionLimit || theta < -angleLimit || theta > angleLimit
        return (state.map { Float($0) }, 1, terminated)
    }
}

/// Gymnasium's `MountainCar-v0` (Moore 1990): an underpowered car in a valley pushes left (0),
/// not at all (1) or right (2) to reach the flag at 0.5; −1 a step, truncated at 200.
/// Observation: position in [−1.2, 0.6] and velocity in ±0.07; it starts at rest uniform in
/// [−0.6, −0.4].
public final class MountainCar: Environment {
    private var position = 0.0, velocity = 0.0
    let minPosition = -1.2, maxPosition = 0.6, maxSpeed = 0.07, goalPosition = 0.5, force = 0.001, gravity = 0.0025

    /// The environment, seeded by its first `reset`.
    public init() {
        super.init(id: "MountainCar-v0", observationSpace: .box(low: [Double(Float(-1.2)), Double(Float(-0.07))],
                                                              high: [Double(Float(0.6)), Double(Float(0.07))]),
                   actionSpace: .discrete(3), maxEpisodeSteps: 200)
    }

    public override func startEpisode() -> [Float] {
        position = random.uniform(low: -0.6, high: -0.4)
        velocity = 0
        return [Float(position), Float(velocity)]
    }

    public override func advance(_ action: Action) -> (observation: [Float], reward: Double, terminated: Bool) {
        guard case .discrete(let a) = action else { fatalError("unreachable: checked against the space") }
        velocity += Double(a - 1) * force + cos(3 * position) * -gravity
        velocity = Swift.min(Swift.max(velocity, -maxSpeed), maxSpeed)
        position += velocity
        position = Swift.min(Swift.max(position, minPosition), maxPosition)
        if position == minPosition && velocity < 0 { velocity = 0 }
        return ([Float(position), Float(velocity)], -1, position >= goalPosition && velocity >= 0)
    }
}

/// Gymnasium's `Acrobot-v1` (Sutton 1996; the book's dynamics): two links hanging down, torque
/// −1, 0 or +1 (actions 0, 1, 2) on the joint between them, to swing the tip above one link's
/// length over the pivot; −1 a step until then (terminated, reward 0), truncated at 500.
/// Observation: cos and sin of both angles and the two angular velocities (bounded at 4π and
/// 9π); the state starts uniform in ±0.1 (rounded to float32 as Gymnasium's). One RK4 step of
/// 0.2 s per action.
public final class Acrobot: Environment {
    private var state = [Double](repeating: 0, count: 4)
    let dt = 0.2, maxVelocity1 = 4 * Double.pi, maxVelocity2 = 9 * Double.pi

    /// The environment, seeded by its first `reset`.
    public init() {
        let high = [1, 1, 1, 1, Double(Float(4 * Double.pi)), Double(Float(9 * Double.pi))]
        super.init(id: "Acrobot-v1", observationSpace: .box(low: high.map { -$0 }, high: high), actionSpace: .discrete(3),
                   maxEpisodeSteps: 500)
    }

    private var observation: [Float] {
        [cos(state[0]), sin(state[0]), cos(state[1]), sin(state[1]), state[2], state[3]].map { Float($0) }
    }

    public override func startEpisode() -> [Float] {
        state = (0..<4).map { _ in Double(Float(random.uniform(low: -0.1, high: 0.1))) }
        return observation
    }

    /// The equations of motion: d/dt of (θ₁, θ₂, θ̇₁, θ̇₂) under torque `a`.
    func derivatives(_ s: [Double], torque a: Double) -> [Double] {
        let (m1, m2, l1, lc1, lc2, i1, i2, g) = (1.0, 1.0, 1.0, 0.5, 0.5, 1.0, 1.0, 9.8)
        let (theta1, theta2, dtheta1, dtheta2) = (s[0], s[1], s[2], s[3])
        let d1 = m1 * lc1 * lc1 + m2 * (l1 * l1 + lc2 * lc2 + 2 * l1 * lc2 * cos(theta2)) + i1 + i2
        let d2 = m2 * (lc2 * lc2 + l1 * lc2 * cos(theta2)) + i2
        let phi2 = m2 * lc2 * g * cos(theta1 + theta2 - Double.pi / 2.0)
        // Grouped as Gymnasium's Python (x**2 is one rounding): the system is chaotic, and a
        // different rounding order would part from Gymnasium's trajectory within an episode.
        let phi1 = -m2 * l1 * lc2 * (dtheta2 * dtheta2) * sin(theta2) - 2 * m2 * l1 * lc2 * dtheta2 * dtheta1 * sin(theta2)
            + (m1 * lc1 + m2 * l1) * g * cos(theta1 - Double.pi / 2) + phi2
        let ddtheta2 = (a + d2 / d1 * phi1 - m2 * l1 * lc2 * (dtheta1 * dtheta1) * sin(theta2) - phi2)
            / (m2 * lc2 * lc2 + i2 - d2 * d2 / d1)
        let ddtheta1 = -(d2 * ddtheta2 + phi1) / d1
        return [dtheta1, dtheta2, ddtheta1, ddtheta2]
    }

    public override func advance(_ action: Action) -> (observation: [Float], reward: Double, terminated: Bool) {
        guard case .discrete(let a) = action else { fatalError("unreachable: checked against the space") }
        let torque = [-1.0, 0, 1][a], h = dt / 2.0
        func along(_ k: [Double], _ scale: Double) -> [Double] { (0..<4).map { state[$0] + scale * k[$0] } }
        let k1 = derivatives(state, torque: torque), k2 = derivatives(along(k1, h), torque: torque)
        let k3 = derivatives(along(k2, h), torque: torque), k4 = derivatives(along(k3, dt), torque: torque)
        var next = (0..<4).map { state[$0] + dt / 6.0 * (k1[$0] + 2 * k2[$0] + 2 * k3[$0] + k4[$0]) }
        next[0] = Self.wrap(next[0]); next[1] = Self.wrap(next[1])
        next[2] = Swift.min(Swift.max(next[2], -maxVelocity1), maxVelocity1)
        next[3] = Swift.min(Swift.max(next[3], -maxVelocity2), maxVelocity2)
        state = next
        let terminated = -cos(state[0]) - cos(state[1] + state[0]) > 1.0
        return (observation, terminated ? 0 : -1, terminated)
    }

    /// An angle brought into [−π, π] by whole turns (Gymnasium's `wrap`).
    static func wrap(_ x: Double) -> Double {
        var x = x
        while x > Double.pi { x -= 2 * Double.pi }
        while x < -Double.pi { x += 2 * Double.pi }
        return x
    }
}

/// Gymnasium's `Pendulum-v1`: swing a pendulum up and hold it with a torque in [−2, 2];
/// reward −(θ² + 0.1 θ̇² + 0.001 u²) with θ normalised to [−π, π), never terminated,
/// truncated at 200. Observation: cos θ, sin θ, θ̇ (bounded at 8); it starts with θ uniform in
/// [−π, π] and θ̇ in [−1, 1]. Torques are float32, as Gymnasium's action space, and the
/// arithmetic Gymnasium does in float32 (NumPy 2's promotion) is done in float32 here.
public final class Pendulum: Environment {
    private var theta = 0.0, thetaDot = 0.0
    let maxSpeed = 8.0, maxTorque: Float = 2, dt = 0.05, g = 10.0

    /// The environment, seeded by its first `reset`.
    public init() {
        super.init(id: "Pendulum-v1", observationSpace: .box(low: [-1, -1, -8], high: [1, 1, 8]),
                   actionSpace: .box(low: [-2], high: [2]), maxEpisodeSteps: 200)
    }

    private var observation: [Float] { [Float(cos(theta)), Float(sin(theta)), Float(thetaDot)] }

    public override func startEpisode() -> [Float] {
        theta = random.uniform(low: -Double.pi, high: Double.pi)
        thetaDot = random.uniform(low: -1, high: 1)
        return observation
    }

    public override func advance(_ action: Action) -> (observation: [Float], reward: Double, terminated: Bool) {
        guard case .continuous(let x) = action else { fatalError("unreachable: checked against the space") }
        let u = Swift.min(Swift.max(Float(x[0]), -maxTorque), maxTorque)
        let normalized = (theta + Double.pi).truncatingRemainder(dividingBy: 2 * Double.pi)
        let angle = (normalized < 0 ? normalized + 2 * Double.pi : normalized) - Double.pi
        let cost = angle * angle + 0.1 * (thetaDot * thetaDot) + Double(Float(0.001) * (u * u))
        var newThetaDot = thetaDot + (3 * g / 2 * sin(theta) + Double(Float(3.0) * u)) * dt
        newThetaDot = Swift.min(Swift.max(newThetaDot, -maxSpeed), maxSpeed)
        theta += newThetaDot * dt
        thetaDot = newThetaDot
        return (observation, -cost, false)
    }
}

import Foundation
import Testing
import TensorCore
import TensorCoreTesting
@testable import Optim

/// Replays PyTorch's optimizer trajectories and schedules (Fixtures/generate_trajectories.py).
@Suite("Optimizers follow PyTorch's updates exactly")
struct TrajectoryTests {
    static let fixture: [String: Any] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/trajectories.json")
        return try! JSONSerialization.jsonObject(with: try! Data(contentsOf: url)) as! [String: Any]
    }()

    static func doubles(_ key: String) -> [Double] { (fixture[key] as! [NSNumber]).map(\.doubleValue) }
    static let x = Tensor(doubles("X"), shape: [6, 3])
    static let y = Tensor(doubles("Y"), shape: [6, 2])

    static func problem() -> (Parameter, Parameter) {
        (Parameter(Tensor(doubles("W0"), shape: [3, 2])), Parameter(Tensor(doubles("B0"), shape: [2])))
    }

    static func loss(_ w: Parameter, _ b: Parameter) -> Tensor {
        ((x.matmul(w.value) + b.value).tanh() - y).squared().mean()
    }

    static func expected(_ name: String) -> [[Double]] {
        ((fixture["trajectories"] as! [String: Any])[name] as! [[NSNumber]]).map { $0.map(\.doubleValue) }
    }

    func replay(_ name: String, _ make: ([Parameter]) -> Optimizer, sourceLocation: SourceLocation = #_sourceLocation) {
        let (w, b) = Self.problem()
        let optimizer = make([w, b])
        for (i, step) in Self.expected(name).enumerated() {
            optimizer.zeroGradients()
            Self.loss(w, b).backward()
            optimizer.step()
            let actual = Tensor.concatenated([w.value.reshaped(to: [-1]), b.value], axis: 0)
            expectClose(actual, step, tolerance: Tolerance(absolute: 1e-12, relative: 1e-10),
                        Comment(rawValue: "\(name) step \(i + 1)"), sourceLocation: sourceLocation)
        }
    }

    @Test func sgdVariants() {
        replay("sgd") { SGD(parameters: $0, learningRate: 0.1) }
        replay("sgd_momentum") { SGD(parameters: $0, learningRate: 0.1, momentum: 0.9, dampening: 0.1, weightDecay: 0.01) }
        replay("sgd_nesterov") { SGD(parameters: $0, learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01) }
    }

    @Test func adamVariants() {
        replay("adam") { Adam(parameters: $0, learningRate: 0.01) }
        replay("adam_amsgrad_l2") { Adam(parameters: $0, learningRate: 0.01, beta1: 0.8, beta2: 0.99, weightDecay: 0.1, amsgrad: true) }
        replay("adamw") { AdamW(parameters: $0, learningRate: 0.01, weightDecay: 0.1) }
    }

    @Test func rmspropAndAdagrad() {
        replay("rmsprop") { RMSprop(parameters: $0, learningRate: 0.01) }
        replay("rmsprop_centered") { RMSprop(parameters: $0, learningRate: 0.01, weightDecay: 0.01, momentum: 0.5, centered: true) }
        replay("adagrad") { Adagrad(parameters: $0, learningRate: 0.1, learningRateDecay: 0.01, weightDecay: 0.01, initialAccumulatorValue: 0.1) }
    }

    @Test(arguments: [("lbfgs", LBFGS.LineSearch.none, 5), ("lbfgs_wolfe", .strongWolfe, 4)])
    func lbfgs(name: String, search: LBFGS.LineSearch, iterations: Int) {
        let (w, b) = Self.problem()
        let optimizer = LBFGS(parameters: [w, b], learningRate: 1, maxIterations: iterations, lineSearch: search)
        for (i, step) in Self.expected(name).enumerated() {
            optimizer.step {
                let loss = Self.loss(w, b)
                loss.backward()
                return loss.item(as: Double.self)
            }
            let actual = Tensor.concatenated([w.value.reshaped(to: [-1]), b.value], axis: 0)
            expectClose(actual, step, tolerance: Tolerance(absolute: 1e-10, relative: 1e-8), Comment(rawValue: "\(name) call \(i + 1)"))
        }
    }

    @Test func schedulesMatchPyTorch() {
        let expected = (Self.fixture["schedules"] as! [String: [NSNumber]]).mapValues { $0.map(\.doubleValue) }
        let makers: [String: (Optimizer) -> LearningRateSchedule] = [
            "step": { StepSchedule($0, stepSize: 3, gamma: 0.5) },
            "multistep": { MultiStepSchedule($0, milestones: [2, 5], gamma: 0.1) },
            "exponential": { ExponentialSchedule($0, gamma: 0.9) },
            "cosine": { CosineAnnealingSchedule($0, maxSteps: 10, minimumRate: 0.001) },
            "warm_restarts": { CosineAnnealingWarmRestartsSchedule($0, firstPeriod: 3, periodMultiplier: 2, minimumRate: 0.001) },
            "linear": { LinearSchedule($0, startFactor: 0.25, endFactor: 1, totalSteps: 4) },
            "onecycle": { OneCycleSchedule($0, maxRate: 1, totalSteps: 13) },
            "sequential": { o in
                SequentialSchedule(o, [LinearSchedule(o, startFactor: 0.25, endFactor: 1, totalSteps: 4),
                                       CosineAnnealingSchedule(o, maxSteps: 8, minimumRate: 0.001)], milestones: [4])
            },
        ]
        for (name, make) in makers {
            let optimizer = SGD(parameters: [Parameter(Tensor.zeros([1]))], learningRate: 0.1)
            let schedule = make(optimizer)
            var rates = [optimizer.learningRate]
            for _ in 0..<12 { schedule.step(); rates.append(optimizer.learningRate) }
            expectClose(Tensor(rates, shape: [13]), expected[name]!, tolerance: Tolerance(absolute: 1e-12, relative: 1e-10),
                        Comment(rawValue: name))
        }
        // warmupCosineSchedule is the sequential pair: linear from 1 % over 5 steps, cosine to 0 at 12.
        let o = SGD(parameters: [Parameter(Tensor.zeros([1]))], learningRate: 0.1)
        let warm = warmupCosineSchedule(o, warmupSteps: 5, totalSteps: 12)
        var warmRates = [o.learningRate]
        for _ in 0..<12 { warm.step(); warmRates.append(o.learningRate) }
        let formula: [Double] = (0...12).map { (t: Int) -> Double in
            if t < 5 { return 0.1 * (0.01 + 0.99 * Double(t) / 5) }
            return 0.1 * (1 + cos(Double.pi * Double(t - 5) / 7)) / 2
        }
        expectClose(Tensor(warmRates, shape: [13]), formula, tolerance: Tolerance(absolute: 1e-12, relative: 1e-10), "warm-up cosine")
        let optimizer = SGD(parameters: [Parameter(Tensor.zeros([1]))], learningRate: 0.1)
        let plateau = ReduceOnPlateauSchedule(optimizer, factor: 0.5, patience: 2)
        var rates = [optimizer.learningRate]
        for m in Self.doubles("plateau_metrics") { plateau.step(metric: m); rates.append(optimizer.learningRate) }
        expectClose(Tensor(rates, shape: [13]), expected["plateau"]!, tolerance: Tolerance(absolute: 1e-12, relative: 1e-10), "plateau")
    }
}

@Suite("Optimizer state, clipping, accumulation")
struct OptimizerBehaviourTests {
    @Test func stateDictRestoresAnInterruptedRun() throws {
        let (w1, b1) = TrajectoryTests.problem()
        let straight = Adam(parameters: [w1, b1], learningRate: 0.01, amsgrad: true)
        for _ in 0..<4 { straight.zeroGradients(); TrajectoryTests.loss(w1, b1).backward(); straight.step() }

        let (w2, b2) = TrajectoryTests.problem()
        let first = Adam(parameters: [w2, b2], learningRate: 0.01, amsgrad: true)
        for _ in 0..<2 { first.zeroGradients(); TrajectoryTests.loss(w2, b2).backward(); first.step() }
        let saved = first.stateDict()
        let resumed = Adam(parameters: [w2, b2], learningRate: 0.5, amsgrad: true)
        try resumed.load(stateDict: saved)
        #expect(resumed.learningRate == 0.01)
        for _ in 0..<2 { resumed.zeroGradients(); TrajectoryTests.loss(w2, b2).backward(); resumed.step() }
        expectClose(w2.value, w1.value, tolerance: Tolerance(absolute: 0, relative: 0))

        var broken = saved
        broken.tensors["state.0.exp_avg"] = Tensor.zeros([5])
        #expect(throws: OptimizerError.self) { try resumed.load(stateDict: broken) }
    }

    @Test func adamDoesNotProduceNaNWithZeroGradients() {
        let p = Parameter(Tensor([1, 2, 3]))
        let adam = Adam(parameters: [p], learningRate: 0.1)
        for _ in 0..<3 { p.grad = Tensor.zeros([3]); adam.step() }
        #expect(p.value.scalars == [1, 2, 3])
    }

    @Test func clippingByNormAndValue() {
        let a = Parameter(Tensor([0, 0])), b = Parameter(Tensor([0]))
        a.grad = Tensor([3, 0]); b.grad = Tensor([4])
        let norm = clipGradientNorm([a, b], maxNorm: 1)
        #expect(Swift.abs(norm - 5) < 1e-6)
        expectClose(a.grad!, [0.6, 0], tolerance: Tolerance(absolute: 1e-5, relative: 0))
        expectClose(b.grad!, [0.8], tolerance: Tolerance(absolute: 1e-5, relative: 0))
        a.grad = Tensor([-3, 0.5])
        clipGradientValue([a], clipValue: 1)
        #expect(a.grad!.scalars == [-1, 0.5])
        a.grad = Tensor([-3, 2])
        #expect(clipGradientNorm([a], maxNorm: 10, normType: .infinity) == 3)
        // Scaling reuses a gradient's buffer only when nothing else holds it: a shared
        // gradient is scaled once per parameter, and a kept copy keeps its values.
        let shared = Tensor([3, 4])
        a.grad = shared; b.grad = Tensor([0])
        let c = Parameter(Tensor([0, 0]))
        c.grad = shared
        #expect(Swift.abs(clipGradientNorm([a, b, c], maxNorm: 1) - Double(50).squareRoot()) < 1e-5)
        let scale = 1 / Double(50).squareRoot()
        expectClose(a.grad!, [3 * scale, 4 * scale], tolerance: Tolerance(absolute: 1e-6, relative: 0))
        expectClose(c.grad!, [3 * scale, 4 * scale], tolerance: Tolerance(absolute: 1e-6, relative: 0))
        #expect(shared.scalars == [3, 4])
        var owned = Tensor([1, 2]) * 1
        owned *= 3
        #expect(owned.scalars == [3, 6])
    }

    @Test func gradientAccumulationByNotZeroing() {
        let p = Parameter(Tensor([1.0]))
        let sgd = SGD(parameters: [p], learningRate: 0.5)
        (p.value * 2).sum().backward()
        (p.value * 3).sum().backward()
        sgd.step()
        expectClose(p.value, [1 - 0.5 * 5])
    }

    @Test func parameterGroupsHaveTheirOwnRates() {
        let a = Parameter(Tensor([1.0])), b = Parameter(Tensor([1.0]))
        let sgd = SGD(groups: [ParameterGroup(parameters: [a], options: .init(learningRate: 0.1)),
                               ParameterGroup(parameters: [b], options: .init(learningRate: 1.0))])
        a.grad = Tensor([1.0]); b.grad = Tensor([1.0])
        sgd.step()
        expectClose(a.value, [0.9])
        expectClose(b.value, [0.0])
        #expect(sgd.learningRates == [0.1, 1.0])
    }

    @Test func frozenParametersAreSkipped() {
        let p = Parameter(Tensor([1.0]))
        let sgd = SGD(parameters: [p], learningRate: 1)
        p.grad = Tensor([1.0])
        p.requiresGrad = false
        sgd.step()
        #expect(p.value.scalars == [1])
    }
}

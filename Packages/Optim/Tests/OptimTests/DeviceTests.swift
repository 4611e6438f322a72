import Testing
import TensorCore
import TensorCoreTesting
import CUDABackend
@testable import Optim

/// Every optimizer, schedule-free, on parameters living on other devices: states are made on
/// the parameters' device and the trajectories are the CPU's.
@Suite("Optimizers on other devices")
struct DeviceTests {
    /// TensorCoreTesting's `emulated:0` (CPU kernels under another label), and `cuda:0` (the
    /// CUDA backend's kernels, on a GPU or the CUDA emulator) where either exists.
    static let devices: [Device] = {
        EmulatedDevice.register()
        return [EmulatedDevice.device] + [CUDABackend.deviceForTesting()].compactMap { $0 }
    }()

    /// Three steps of `makeOptimizer` on a small least-squares problem; the final parameters.
    func trajectory(on device: Device, _ makeOptimizer: ([Parameter]) -> (() -> Void)) -> [Tensor] {
        let g = RandomGenerator(seed: 12)
        let x = Tensor.randn([8, 3], generator: g).moved(to: device), y = Tensor.randn([8, 2], generator: g).moved(to: device)
        let w = Parameter(Tensor.randn([3, 2], generator: g).moved(to: device))
        let b = Parameter(Tensor.zeros([2]).moved(to: device))
        let step = makeOptimizer([w, b])
        for _ in 0..<3 {
            w.grad = nil; b.grad = nil
            ((x.matmul(w.value) + b.value - y).squared().mean()).backward()
            _ = clipGradientNorm([w, b], maxNorm: 0.5)
            clipGradientValue([w, b], clipValue: 0.2)
            step()
        }
        return [w.value, b.value]
    }

    @Test(arguments: DeviceTests.devices)
    func everyOptimizerStepsOnTheDeviceAsOnTheCPU(on target: Device) {
        let optimizers: [(String, ([Parameter]) -> (() -> Void))] = [
            ("SGD", { let o = SGD(parameters: $0, learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01); return o.step }),
            ("Adam", { let o = Adam(parameters: $0, learningRate: 0.05, weightDecay: 0.01, amsgrad: true); return o.step }),
            ("AdamW", { let o = AdamW(parameters: $0, learningRate: 0.05); return o.step }),
            ("RMSprop", { let o = RMSprop(parameters: $0, learningRate: 0.01, momentum: 0.5, centered: true); return o.step }),
            ("Adagrad", { let o = Adagrad(parameters: $0, learningRate: 0.1, learningRateDecay: 0.01); return o.step }),
        ]
        for (name, make) in optimizers {
            let cpu = trajectory(on: .cpu, make), device = trajectory(on: target, make)
            for (a, b) in zip(cpu, device) {
                #expect(b.device == target, "\(name) moved a parameter to \(b.device)")
                expectClose(b.moved(to: .cpu), a, tolerance: Tolerance(absolute: 1e-6, relative: 1e-5))
            }
        }
    }

    @Test(arguments: DeviceTests.devices)
    func lbfgsKeepsParametersOnTheDevice(on target: Device) {
        let goal = Tensor([1.5, -2]).moved(to: target)
        let p = Parameter(Tensor.zeros([2]).moved(to: target))
        let optimizer = LBFGS(parameters: [p], lineSearch: .strongWolfe)
        _ = optimizer.step {
            p.grad = nil
            let loss = (p.value - goal).squared().sum()
            loss.backward()
            return Double(loss.item())
        }
        #expect(p.value.device == target)
        expectClose(p.value.moved(to: .cpu), [1.5, -2], tolerance: Tolerance(absolute: 1e-4, relative: 0))
    }

    /// A state dict saved on the CPU resumes on the device: the moments move with it.
    @Test(arguments: DeviceTests.devices)
    func stateSavedOnTheCPUResumesOnTheDevice(on target: Device) throws {
        func problem(_ device: Device) -> (Parameter, () -> Void) {
            let p = Parameter(Tensor([1.0, -2, 3]).moved(to: device))
            let target = Tensor([0.5, 0.5, 0.5]).moved(to: device)
            return (p, { p.grad = nil; (p.value - target).squared().sum().backward() })
        }
        let (cpuParameter, cpuGradient) = problem(.cpu)
        let cpuOptimizers: [any Optimizer] = [Adam(parameters: [cpuParameter], learningRate: 0.1, amsgrad: true),
                                              SGD(parameters: [cpuParameter], learningRate: 0.1, momentum: 0.9),
                                              RMSprop(parameters: [cpuParameter], momentum: 0.5, centered: true),
                                              Adagrad(parameters: [cpuParameter])]
        let (deviceParameter, deviceGradient) = problem(target)
        let deviceOptimizers: [any Optimizer] = [Adam(parameters: [deviceParameter], learningRate: 0.1, amsgrad: true),
                                                 SGD(parameters: [deviceParameter], learningRate: 0.1, momentum: 0.9),
                                                 RMSprop(parameters: [deviceParameter], momentum: 0.5, centered: true),
                                                 Adagrad(parameters: [deviceParameter])]
        for (cpu, device) in zip(cpuOptimizers, deviceOptimizers) {
            cpuGradient(); cpu.step()
            try device.load(stateDict: cpu.stateDict())
            deviceParameter.value = cpuParameter.value.moved(to: target)
            cpuGradient(); cpu.step()
            deviceGradient(); device.step()
            #expect(deviceParameter.value.device == target)
            expectClose(deviceParameter.value.moved(to: .cpu), cpuParameter.value, tolerance: Tolerance(absolute: 1e-6, relative: 1e-6))
        }
    }
}

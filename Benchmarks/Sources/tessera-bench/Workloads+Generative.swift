import Generative
import Optim
import TensorCore

/// The class-conditional DDPM U-Net of `tessera train ddpm --conditional` (base 32, levels
/// ×1, ×2, ×2, self-attention at 7×7, 1000 cosine steps): one training step (loss with its
/// random timesteps, noise and dropped classes; backward; Adam; the moving average) and one
/// sampling step (a forward of the averaged network), batch 32 of 1×28×28, named as in
/// peers/torch_bench.py.
func generativeWorkloads(_ g: RandomGenerator) -> [Workload] {
    var list: [Workload] = []
    list.append(Workload(name: "ddpm_unet_train_step_b32", unit: "Ksample/s", workPerStep: 32e-3) {
        let model = Diffusion(DiffusionConfiguration(), generator: g)
        let optimizer = Adam(parameters: model.trainableParameters, learningRate: 1e-3)
        let x = Tensor.rand([32, 1, 28, 28], generator: g), labels = Tensor.randint(0, 10, shape: [32], generator: g)
        return {
            let loss = model.loss(x, labels: labels, generator: g)
            optimizer.zeroGradients()
            loss.backward()
            optimizer.step()
            model.updateAverage()
        }
    })
    list.append(Workload(name: "ddpm_unet_sample_step_b32", unit: "Ksample/s", workPerStep: 32e-3) {
        let model = Diffusion(DiffusionConfiguration(), generator: g)
        model.average.eval()
        let x = Tensor.randn([32, 1, 28, 28], generator: g), labels = Tensor.randint(0, 10, shape: [32], generator: g)
        let t = [Int](repeating: 500, count: 32)
        return { _ = withoutGradients { model.average(x, timesteps: t, labels: labels) } }
    })
    return list
}

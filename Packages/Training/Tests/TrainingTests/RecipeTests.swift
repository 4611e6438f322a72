import Optim
import Testing
import TensorCore
@testable import Training

@Suite("Recipes")
struct RecipeTests {
    @Test func choicesAreListedFromTheTypes() {
        #expect(OptimizerChoice.choices == "sgd, adam or adamw")
        #expect(ScheduleChoice.choices == "constant, cosine, warmup-cosine or linear")
        #expect(ScheduleChoice(rawValue: "warmup-cosine") == .warmupCosine)
    }

    @Test func optimizersAndSchedulesAreBuiltWithTheirDefaults() {
        let p = [Parameter(Tensor.zeros([2]))]
        #expect(OptimizerChoice.sgd.make(parameters: p) is SGD && OptimizerChoice.adamw.make(parameters: p) is AdamW)
        #expect(OptimizerChoice.sgd.make(parameters: p).learningRate == 0.05)
        #expect(OptimizerChoice.adam.make(parameters: p, learningRate: 0.02).learningRate == 0.02)
        let optimizer = OptimizerChoice.sgd.make(parameters: p, learningRate: 1)
        #expect(ScheduleChoice.constant.make(optimizer, totalSteps: 100) == nil)
        let schedule = ScheduleChoice.warmupCosine.make(optimizer, totalSteps: 100)!
        #expect(Swift.abs(optimizer.learningRate - 0.01) < 1e-12)     // warm-up starts at 1 %
        for _ in 0..<5 { schedule.step() }
        #expect(Swift.abs(optimizer.learningRate - 1) < 1e-12)        // the peak after 5 % of the steps
        for _ in 0..<95 { schedule.step() }
        #expect(Swift.abs(optimizer.learningRate) < 1e-12)            // cosine to 0 at the end
        // A schedule starts from its optimizer's current rates: a fresh optimizer for this one.
        let decaying = OptimizerChoice.sgd.make(parameters: p, learningRate: 1)
        let linear = ScheduleChoice.linear.make(decaying, totalSteps: 4)!
        #expect(Swift.abs(decaying.learningRate - 1) < 1e-12)         // the full rate first
        for _ in 0..<3 { linear.step() }
        #expect(Swift.abs(decaying.learningRate - 0.25) < 1e-12)      // 1 − 3/4
        linear.step()
        #expect(Swift.abs(decaying.learningRate) < 1e-12)             // 0 after the last step
    }
}

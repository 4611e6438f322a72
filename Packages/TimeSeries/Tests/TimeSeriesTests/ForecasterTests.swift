import Foundation
import NN
import TensorCore
import TensorCoreTesting
import Testing
@testable import TimeSeriesModels

@Suite("Forecasters: RevIN against the reference, gradients, recursion, training")
struct ForecasterTests {
    @Test func reversibleInstanceNormMatchesTheReference() {
        let revin = ReversibleInstanceNorm(variates: 3, dtype: .float64)
        revin.weight!.value = fixtures.tensor("revin", "weight")
        revin.bias!.value = fixtures.tensor("revin", "bias")
        let (normalized, statistics) = revin.normalize(fixtures.tensor("revin", "x"))
        let tight = Tolerance(absolute: 1e-12, relative: 1e-12)
        expectClose(normalized, fixtures.tensor("revin", "normalized"), tolerance: tight)
        expectClose(revin.denormalize(fixtures.tensor("revin", "y"), statistics), fixtures.tensor("revin", "denormalized"), tolerance: tight)
    }

    /// Every parameter's gradient (RevIN's affine weights, the recurrent layer, the head; the
    /// embedding, encoder and projection) against central differences in float64.
    @Test(arguments: ForecastModelKind.allCases)
    func gradientsMatchFiniteDifferences(_ kind: ForecastModelKind) {
        var c = ForecastExperiment.Configuration(model: kind, inputLength: 5, horizon: 3, holdout: 3, period: 2, logarithm: false)
        c.hiddenSize = 4
        c.heads = 2
        let model = ForecastExperiment.makeModel(c, variates: 2, generator: RandomGenerator(seed: 3))
        for p in model.parameters() { p.value = p.value.cast(to: .float64) }
        model.eval()   // no dropout
        // RevIN's affine weights away from their identity start, so their gradients are general.
        for p in model.parameters() where p.value.shape == [2] { p.value = Tensor.rand([2], low: 0.5, high: 1.5, dtype: .float64, generator: RandomGenerator(seed: 4)) }
        let x = Tensor.randn([3, 5, 2], dtype: .float64, generator: RandomGenerator(seed: 5))
        let y = Tensor.randn([3, 3, 2], dtype: .float64, generator: RandomGenerator(seed: 6))
        #expect(model(x).shape == [3, 3, 2])
        GradientCheck.checkParameters(model.parameters()) { meanSquaredError(predictions: model(x), targets: y) }
    }

    /// iTransformer treats variates as a set: permuting them permutes the forecast.
    @Test func iTransformerIsEquivariantToTheOrderOfVariates() {
        let model = ITransformer(inputLength: 6, horizon: 2, variates: 3, width: 8, heads: 2, layers: 2, generator: RandomGenerator(seed: 1))
        model.eval()
        let x = Tensor.randn([2, 6, 3], generator: RandomGenerator(seed: 2))
        let order = Tensor([2, 0, 1] as [Int64])
        expectClose(model(x.indexSelect(axis: 2, indices: order)), model(x).indexSelect(axis: 2, indices: order),
                    tolerance: Tolerance(absolute: 1e-5, relative: 1e-5))
    }

    /// Beyond its horizon a forecaster feeds its predictions back as history.
    @Test func forecastsPastTheHorizonRecursively() {
        let model = RecurrentForecaster(kind: .gru, inputLength: 4, horizon: 2, variates: 1, hiddenSize: 5, generator: RandomGenerator(seed: 8))
        let history = Tensor.randn([6, 1], generator: RandomGenerator(seed: 9))
        let five = model.forecast(history, steps: 5)
        #expect(five.shape == [5, 1])
        #expect(model.isTraining, "forecast restores the training mode")
        var known = history
        var manual: [Tensor] = []
        model.eval()
        withoutGradients {
            for _ in 0..<3 {
                let next = model(known.narrowed(axis: 0, start: known.shape[0] - 4, length: 4).unsqueezed(axis: 0)).squeezed(axis: 0)
                manual.append(next)
                known = Tensor.concatenated([known, next], axis: 0)
            }
        }
        expectClose(five, Tensor.concatenated(manual, axis: 0).narrowed(axis: 0, start: 0, length: 5), tolerance: Tolerance(absolute: 1e-6, relative: 1e-6))
    }

    /// On a seasonal series with a trend, a short LSTM run beats the seasonal-naive forecast
    /// (which misses the trend) on the held-out end, and the kept model is the best
    /// validation epoch's.
    @Test func lstmBeatsSeasonalNaiveOnATrendingSeasonalSeries() throws {
        let values = (0..<96).map { t in 10 + 0.15 * Double(t) + 2 * sin(2 * Double.pi * Double(t) / 12) }
        var c = ForecastExperiment.Configuration(model: .lstm, inputLength: 24, horizon: 12, holdout: 12, period: 12, logarithm: false)
        c.hiddenSize = 16
        c.epochs = 40
        c.learningRate = 1e-2
        let result = try ForecastExperiment.run(series: Tensor(values, shape: [96, 1]), configuration: c, log: { _ in })
        #expect(result.forecast.shape == [12, 1])
        #expect(result.final["mae"]! < result.final["seasonal_naive_mae"]!, "\(result.final)")
        #expect(abs(result.final["seasonal_naive_mae"]! - 0.15 * 12) < 1e-4, "seasonal naive misses one season of trend")
        let best = Int(result.final["best_epoch"]!)
        #expect(result.history.epochs[best - 1]["validation_mae"] == result.history.values(of: "validation_mae").min())
        #expect(result.final["validation_mae"] == result.history.values(of: "validation_mae").min())
    }
}

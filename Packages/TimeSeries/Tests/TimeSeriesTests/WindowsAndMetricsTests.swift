import Foundation
import NN
import TensorCore
import TensorCoreTesting
import Testing
@testable import TimeSeriesModels

let fixtures = JSONFixtures("Fixtures/fixtures.json")

@Suite("Sliding windows, scaling, forecast errors and the naive forecasts")
struct WindowsAndMetricsTests {
    /// Series 0, 1, …, 9 as a [10, 2] table whose second variate is 100 + the first.
    var table: Tensor {
        let t = (0..<10).map(Double.init)
        return Tensor(t.flatMap { [$0, 100 + $0] }, shape: [10, 2])
    }

    @Test func windowsAreConsecutiveInputsAndTheStepsAfterThem() {
        let data = SlidingWindows.dataset(table, inputLength: 3, horizon: 2, stride: 2)
        #expect(SlidingWindows.count(length: 10, inputLength: 3, horizon: 2, stride: 2) == 3)
        #expect(SlidingWindows.count(length: 4, inputLength: 3, horizon: 2) == 0)
        #expect(data.inputs.shape == [3, 3, 2] && data.targets.shape == [3, 2, 2])
        // Window w starts at 2w: inputs 2w…2w+2, targets 2w+3, 2w+4.
        for w in 0..<3 {
            let start = Double(2 * w)
            expectClose(data.inputs[w], [start, 100 + start, start + 1, 101 + start, start + 2, 102 + start], shape: [3, 2])
            expectClose(data.targets[w], [start + 3, 103 + start, start + 4, 104 + start], shape: [2, 2])
        }
        // A 1-D series is one variate.
        #expect(SlidingWindows.dataset(Tensor((0..<6).map(Double.init)), inputLength: 4, horizon: 2).inputs.shape == [1, 4, 1])
    }

    @Test func tooShortASeriesStopsWithTheLengths() async {
        await #expect(processExitsWith: .failure) {
            _ = SlidingWindows.dataset(Tensor((0..<5).map(Double.init)), inputLength: 4, horizon: 2)
        }
    }

    @Test func scalerUsesTheTrainingPartAndInvertsExactly() {
        let training = table.narrowed(axis: 0, start: 0, length: 6) + 1
        let scaler = SeriesScaler(fitting: training, logarithm: true)
        let logged = training.log()
        let mean = logged.mean(axes: [0]).scalars(as: Double.self)
        #expect(zip(scaler.mean, mean).allSatisfy { abs($0 - $1) < 1e-12 })
        let scaled = scaler.transform(training)
        expectClose(scaled.mean(axes: [0]), [0, 0], tolerance: Tolerance(absolute: 1e-12, relative: 0))
        expectClose(scaled.variance(axes: [0], correction: 0), [1, 1], tolerance: Tolerance(absolute: 1e-12, relative: 1e-12))
        // Values after the training part are scaled with its statistics, and come back exactly.
        let rest = table.narrowed(axis: 0, start: 6, length: 4) + 1
        expectClose(scaler.inverse(scaler.transform(rest)), rest, tolerance: Tolerance(absolute: 1e-10, relative: 1e-12))
    }

    @Test func errorsMatchScikitLearn() {
        let p = fixtures.tensor("metrics", "predicted"), a = fixtures.tensor("metrics", "actual")
        #expect(abs(ForecastMetrics.meanAbsoluteError(predicted: p, actual: a) - fixtures.number("metrics", "mae")) < 1e-12)
        #expect(abs(ForecastMetrics.rootMeanSquaredError(predicted: p, actual: a) - fixtures.number("metrics", "rmse")) < 1e-12)
        // A zero actual makes scikit-learn's MAPE enormous (|error| / ε); equal to 1e-12 relative.
        let mape = fixtures.number("metrics", "mape")
        #expect(abs(ForecastMetrics.meanAbsolutePercentageError(predicted: p, actual: a) - mape) <= 1e-12 * mape)
        let p0 = p.narrowed(axis: 1, start: 0, length: 1).squeezed(axis: 1), a0 = a.narrowed(axis: 1, start: 0, length: 1).squeezed(axis: 1)
        let all = ForecastMetrics.all(predicted: p0, actual: a0)
        #expect(abs(all["mae"]! - fixtures.number("metrics", "mae_first")) < 1e-12)
        #expect(abs(all["rmse"]! - fixtures.number("metrics", "rmse_first")) < 1e-12)
        #expect(abs(all["mape"]! - fixtures.number("metrics", "mape_first")) < 1e-12)
    }

    @Test func naiveForecastsFollowTheirDefinitions() {
        // Monthly-like history of 7 steps with period 3: 1 2 3 4 5 6 7.
        let history = Tensor([1, 2, 3, 4, 5, 6, 7] as [Double], shape: [7, 1])
        expectClose(NaiveForecast.last(history, steps: 3), [7, 7, 7], shape: [3, 1])
        // ŷ(T+h) = y(T + h − 3(⌊(h−1)/3⌋ + 1)): the last season 5 6 7 repeated.
        expectClose(NaiveForecast.seasonal(history, period: 3, steps: 7), [5, 6, 7, 5, 6, 7, 5], shape: [7, 1])
        // Drift: 7 + h (7 − 1) / 6.
        expectClose(NaiveForecast.drift(history, steps: 3), [8, 9, 10], shape: [3, 1])
        // Per variate.
        expectClose(NaiveForecast.seasonal(table, period: 4, steps: 2), [6, 106, 7, 107], shape: [2, 2])
    }
}

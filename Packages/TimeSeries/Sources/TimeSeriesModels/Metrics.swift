import TensorCore

/// Point-forecast errors as scikit-learn's `mean_absolute_error`, `root_mean_squared_error`
/// and `mean_absolute_percentage_error` define them: over `[T]` or `[T, V]` values, computed
/// per variate and then averaged uniformly (`multioutput="uniform_average"`). MAPE is a
/// fraction (0.05 is 5 %), with |actual| floored at the float64 epsilon as scikit-learn does.
public enum ForecastMetrics {
    /// Mean absolute error.
    public static func meanAbsoluteError(predicted: Tensor, actual: Tensor) -> Double {
        perVariate("meanAbsoluteError", predicted, actual) { p, a in zip(p, a).map { abs($0 - $1) }.mean }
    }

    /// Root mean squared error (per variate, then averaged).
    public static func rootMeanSquaredError(predicted: Tensor, actual: Tensor) -> Double {
        perVariate("rootMeanSquaredError", predicted, actual) { p, a in zip(p, a).map { ($0 - $1) * ($0 - $1) }.mean.squareRoot() }
    }

    /// Mean absolute percentage error, as a fraction.
    public static func meanAbsolutePercentageError(predicted: Tensor, actual: Tensor) -> Double {
        perVariate("meanAbsolutePercentageError", predicted, actual) { p, a in
            zip(p, a).map { abs($0 - $1) / Swift.max(abs($1), Double.ulpOfOne) }.mean
        }
    }

    /// `mae`, `rmse` and `mape` under those names.
    public static func all(predicted: Tensor, actual: Tensor) -> [String: Double] {
        ["mae": meanAbsoluteError(predicted: predicted, actual: actual),
         "rmse": rootMeanSquaredError(predicted: predicted, actual: actual),
         "mape": meanAbsolutePercentageError(predicted: predicted, actual: actual)]
    }

    private static func perVariate(_ name: String, _ predicted: Tensor, _ actual: Tensor,
                                   _ error: ([Double], [Double]) -> Double) -> Double {
        tensorCheck(predicted.shape == actual.shape && (predicted.rank == 1 || predicted.rank == 2) && predicted.elementCount > 0,
                    "[ForecastMetrics.\(name)] predicted \(shapeText(predicted.shape)) and actual \(shapeText(actual.shape)) "
                    + "should be one non-empty [T] or [T, V] shape")
        let p = predicted.rank == 1 ? predicted.unsqueezed(axis: 1) : predicted
        let a = actual.rank == 1 ? actual.unsqueezed(axis: 1) : actual
        let pv = p.cast(to: .float64).transposed().contiguous().scalars(as: Double.self)
        let av = a.cast(to: .float64).transposed().contiguous().scalars(as: Double.self)
        let t = p.shape[0], v = p.shape[1]
        return (0..<v).map { j in error(Array(pv[j * t..<(j + 1) * t]), Array(av[j * t..<(j + 1) * t])) }.mean
    }
}

extension Array where Element == Double {
    var mean: Double { isEmpty ? 0 : reduce(0, +) / Double(count) }
}

/// The forecasts every learned model must beat (Hyndman & Athanasopoulos, *Forecasting:
/// Principles and Practice*, §5.2), from the end of `history` (`[T, V]`), `steps` ahead.
public enum NaiveForecast {
    /// Every step is the last observation (a random walk's forecast).
    public static func last(_ history: Tensor, steps: Int) -> Tensor {
        let h = checked("last", history, steps, needs: 1)
        return h.narrowed(axis: 0, start: h.shape[0] - 1, length: 1).expanded(to: [steps, h.shape[1]]).contiguous()
    }

    /// Seasonal naive: `ŷ(T + h) = y(T + h − m(⌊(h − 1)/m⌋ + 1))`, the value one season
    /// (`period` steps) before, from the last observed season for every later one.
    public static func seasonal(_ history: Tensor, period: Int, steps: Int) -> Tensor {
        tensorCheck(period > 0, "[NaiveForecast.seasonal] period must be positive, got \(period)")
        let h = checked("seasonal", history, steps, needs: period)
        let t = h.shape[0]
        let rows = (1...steps).map { Int64(t + $0 - period * (($0 - 1) / period + 1) - 1) }
        return h.indexSelect(axis: 0, indices: Tensor(rows))
    }

    /// Drift: the last observation plus `h` times the average step over the history,
    /// `ŷ(T + h) = y(T) + h (y(T) − y(1)) / (T − 1)`.
    public static func drift(_ history: Tensor, steps: Int) -> Tensor {
        let h = checked("drift", history, steps, needs: 2)
        let t = h.shape[0]
        let first = h.narrowed(axis: 0, start: 0, length: 1), last = h.narrowed(axis: 0, start: t - 1, length: 1)
        let slope = (last - first) / Double(t - 1)
        let ahead = Tensor((1...steps).map(Double.init), shape: [steps, 1]).cast(to: h.dtype).moved(to: h.device)
        return last + ahead * slope
    }

    private static func checked(_ name: String, _ history: Tensor, _ steps: Int, needs: Int) -> Tensor {
        let h = history.rank == 1 ? history.unsqueezed(axis: 1) : history
        tensorCheck(h.rank == 2 && h.shape[0] >= needs && steps > 0,
                    "[NaiveForecast.\(name)] needs a [time, variates] history of at least \(needs) steps and steps > 0; "
                    + "got \(shapeText(history.shape)) and \(steps) steps")
        return h
    }
}

import NN
import TensorCore

/// Supervised examples cut from a series: every window of `inputLength` consecutive steps
/// with the `horizon` steps that follow it as its target (direct multi-step forecasting).
///
/// ```swift
/// let data = SlidingWindows.dataset(series, inputLength: 24, horizon: 12)   // series [T, V]
/// // data.inputs [N, 24, V], data.targets [N, 12, V], N = T - 36 + 1
/// ```
public enum SlidingWindows {
    /// Windows a series of `length` steps gives: `(length - inputLength - horizon) / stride + 1`,
    /// or 0 when one window does not fit.
    public static func count(length: Int, inputLength: Int, horizon: Int, stride: Int = 1) -> Int {
        let span = inputLength + horizon
        return length < span ? 0 : (length - span) / stride + 1
    }

    /// The windows of `series` (`[T, V]`, or `[T]` for one variate) starting at 0, `stride`,
    /// `2 stride`, …: inputs `[N, inputLength, V]`, targets `[N, horizon, V]`. The windows are
    /// copied out (the series a course forecasts are thousands of steps, not millions).
    public static func dataset(_ series: Tensor, inputLength: Int, horizon: Int, stride: Int = 1) -> TensorDataset {
        let table = series.rank == 1 ? series.unsqueezed(axis: 1) : series
        tensorCheck(table.rank == 2, "[SlidingWindows] series \(shapeText(series.shape)) should be [time] or [time, variates]")
        tensorCheck(inputLength > 0 && horizon > 0 && stride > 0,
                    "[SlidingWindows] inputLength \(inputLength), horizon \(horizon) and stride \(stride) must be positive")
        let n = count(length: table.shape[0], inputLength: inputLength, horizon: horizon, stride: stride)
        tensorCheck(n > 0, "[SlidingWindows] a series of \(table.shape[0]) steps holds no window of \(inputLength) inputs "
                    + "and \(horizon) targets")
        // One gather per tensor: row indices of every window, laid out [N · length].
        func rows(offset: Int, length: Int) -> Tensor {
            Tensor((0..<n).flatMap { w in (0..<length).map { Int64(w * stride + offset + $0) } })
        }
        let v = table.shape[1]
        let inputs = table.indexSelect(axis: 0, indices: rows(offset: 0, length: inputLength)).reshaped(to: [n, inputLength, v])
        let targets = table.indexSelect(axis: 0, indices: rows(offset: inputLength, length: horizon)).reshaped(to: [n, horizon, v])
        return TensorDataset(inputs: inputs.detached(), targets: targets.detached())
    }
}

/// A reversible elementwise transform of a series' values, fitted on the training part only
/// (so nothing of the held-out part leaks into the model): optionally the logarithm (for
/// series whose seasonal swings grow with their level, as the airline passengers), then
/// standardisation per variate.
public struct SeriesScaler: Equatable, Sendable {
    /// Whether values pass through `log` first (they must then be positive).
    public var logarithm: Bool
    /// Per-variate mean and standard deviation (population) of the training part, after the log.
    public var mean: [Double], standardDeviation: [Double]

    /// Fits on `training` (`[T, V]`): its per-variate mean and standard deviation, after the
    /// log when `logarithm`.
    public init(fitting training: Tensor, logarithm: Bool) {
        tensorCheck(training.rank == 2 && training.shape[0] > 0, "[SeriesScaler] training part \(shapeText(training.shape)) should be [time, variates]")
        let x = training.cast(to: .float64)
        if logarithm {
            let smallest = x.min().item(as: Double.self)
            tensorCheck(smallest > 0, "[SeriesScaler] the logarithm needs positive values; the smallest is \(smallest)")
        }
        let y = logarithm ? x.log() : x
        self.logarithm = logarithm
        mean = y.mean(axes: [0]).scalars(as: Double.self)
        standardDeviation = y.variance(axes: [0], correction: 0).sqrt().scalars(as: Double.self).map { $0 > 0 ? $0 : 1 }
    }

    /// `(log(x) - mean) / std` per variate of `[T, V]` (or `[…, V]`) values.
    public func transform(_ x: Tensor) -> Tensor {
        let (m, s) = statistics(like: x)
        return ((logarithm ? x.log() : x) - m) / s
    }

    /// The inverse of `transform`.
    public func inverse(_ y: Tensor) -> Tensor {
        let (m, s) = statistics(like: y)
        let x = y * s + m
        return logarithm ? x.exp() : x
    }

    private func statistics(like x: Tensor) -> (Tensor, Tensor) {
        tensorCheck(x.shape.last == mean.count, "[SeriesScaler] values \(shapeText(x.shape)) should end in \(mean.count) variates")
        return (Tensor(mean, shape: [mean.count]).cast(to: x.dtype).moved(to: x.device),
                Tensor(standardDeviation, shape: [mean.count]).cast(to: x.dtype).moved(to: x.device))
    }
}

import Foundation
import NN
import TensorCore

/// The "Peaks" classification set of Haber & Ruthotto's numerical-methods course
/// (Meganet): points uniform on [−3, 3]², labelled by which of `classes` equal-count level
/// bands of MATLAB's `peaks` surface they fall in, so the boundaries are curved and nested.
public enum Peaks {
    /// MATLAB's `peaks(x, y)`.
    public static func height(_ x: Double, _ y: Double) -> Double {
        3 * (1 - x) * (1 - x) * exp(-x * x - (y + 1) * (y + 1))
            - 10 * (x / 5 - x * x * x - pow(y, 5)) * exp(-x * x - y * y)
            - exp(-(x + 1) * (x + 1) - y * y) / 3
    }

    /// The band edges: quantiles of the height over a fine grid, so classes are about equally
    /// frequent under the uniform distribution, the same for every sample.
    public static func thresholds(classes: Int) -> [Double] {
        let grid = 400
        var heights: [Double] = []
        heights.reserveCapacity(grid * grid)
        for i in 0..<grid {
            for j in 0..<grid {
                heights.append(height(-3 + 6 * (Double(i) + 0.5) / Double(grid), -3 + 6 * (Double(j) + 0.5) / Double(grid)))
            }
        }
        heights.sort()
        return (1..<classes).map { heights[$0 * heights.count / classes] }
    }

    /// `count` points (float32 `[count, 2]`) and their classes (int64 `[count]`) from `seed`.
    public static func dataset(_ count: Int, classes: Int = 5, seed: UInt64) -> TensorDataset {
        tensorCheck(count > 0 && classes >= 2, "[Peaks] needs count > 0 and at least 2 classes, got \(count), \(classes)")
        let points = Tensor.rand([count, 2], low: -3, high: 3, dtype: .float64, generator: RandomGenerator(seed: seed))
        let xy = points.scalars(as: Double.self)
        let edges = thresholds(classes: classes)
        let labels = (0..<count).map { i in Int64(edges.filter { $0 <= height(xy[2 * i], xy[2 * i + 1]) }.count) }
        return TensorDataset(inputs: points.cast(to: .float32), targets: Tensor(labels, shape: [count]))
    }
}

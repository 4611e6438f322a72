import Datasets
import Foundation
import TensorCore
import Testing

@Suite("Peaks")
struct PeaksTests {
    @Test func matlabPeaksAndBalancedClasses() {
        // MATLAB: peaks(0, 0) = 3e^{-1} − e^{-1}/3 = 0.98101...
        let expected: Double = (3.0 - 1.0 / 3.0) * Foundation.exp(-1.0)
        #expect(Swift.abs(Peaks.height(0, 0) - expected) < 1e-12)
        let data = Peaks.dataset(5000, seed: 0)
        #expect(data.inputs.shape == [5000, 2] && data.targets.shape == [5000])
        let labels = data.targets.scalars(as: Int64.self)
        for c in 0..<5 {
            let share = Double(labels.filter { $0 == Int64(c) }.count) / 5000
            #expect(Swift.abs(share - 0.2) < 0.03, "class \(c): \(share)")
        }
        let points = data.inputs.scalars(as: Float.self)
        #expect(points.allSatisfy { $0 >= -3 && $0 <= 3 })
        #expect(Peaks.dataset(10, seed: 1).targets.scalars(as: Int64.self) == Peaks.dataset(10, seed: 1).targets.scalars(as: Int64.self))
    }
}

import Foundation
import TensorCore
import Vision

/// A square PNG of 2-D samples over the data's density: the reference points as a blue
/// histogram (darker where denser), the samples as red dots, over `bounds` on both axes (the
/// toys' default covers them all). What a user of the 2-D toys watches improve epoch by epoch.
public func saveScatterPlot(samples: Tensor, over reference: Tensor, to path: String, bounds: ClosedRange<Double> = -4.5...4.5,
                            size: Int = 256) throws {
    tensorCheck(samples.rank == 2 && samples.shape[1] == 2 && reference.rank == 2 && reference.shape[1] == 2,
                "[saveScatterPlot] samples \(shapeText(samples.shape)) and reference \(shapeText(reference.shape)) should be [N, 2]")
    tensorCheck(size >= 16 && bounds.upperBound > bounds.lowerBound, "[saveScatterPlot] size \(size) and bounds \(bounds) are too small")
    let scale = Double(size) / (bounds.upperBound - bounds.lowerBound)
    /// Pixel (row, column) of a point, y up; nil outside the bounds.
    func pixel(_ x: Double, _ y: Double) -> (Int, Int)? {
        let column = Int(((x - bounds.lowerBound) * scale).rounded(.down)), row = size - 1 - Int(((y - bounds.lowerBound) * scale).rounded(.down))
        return (0..<size).contains(column) && (0..<size).contains(row) ? (row, column) : nil
    }
    var density = [Double](repeating: 0, count: size * size)
    let r = reference.cast(to: .float64).scalars(as: Double.self)
    for i in stride(from: 0, to: r.count, by: 2) { if let (y, x) = pixel(r[i], r[i + 1]) { density[y * size + x] += 1 } }
    let peak = Swift.max(density.max() ?? 1, 1)
    // R, G, B planes: white, tinted blue by the square root of the density (faint regions show).
    var rgb = [Float](repeating: 1, count: 3 * size * size)
    for p in 0..<size * size where density[p] > 0 {
        let t = Float((density[p] / peak).squareRoot())
        rgb[p] = 1 - 0.75 * t
        rgb[size * size + p] = 1 - 0.55 * t
        rgb[2 * size * size + p] = 1 - 0.1 * t
    }
    let s = samples.cast(to: .float64).scalars(as: Double.self)
    for i in stride(from: 0, to: s.count, by: 2) {
        guard let (y, x) = pixel(s[i], s[i + 1]) else { continue }
        for dy in 0...1 { for dx in 0...1 where y + dy < size && x + dx < size {
            let p = (y + dy) * size + x + dx
            (rgb[p], rgb[size * size + p], rgb[2 * size * size + p]) = (0.8, 0.1, 0.1)
        } }
    }
    try PNG.write(Tensor(rgb, shape: [3, size, size]), to: path)
}

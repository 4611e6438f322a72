import Foundation
import TensorCore

/// Generated detection data: colour images of circles, squares and triangles on a noisy
/// background, each shape's tight box and class. Seeded: the same seed draws the same set.
public struct ShapesDataset {
    /// The class names, by index.
    public static let classNames = ["circle", "square", "triangle"]

    /// Images `[N, 3, size, size]` in [0, 1].
    public let images: Tensor
    /// Each image's boxes (pixels, x1 y1 x2 y2) and classes.
    public let targets: [ImageDetections]
    /// Image side in pixels.
    public let imageSize: Int

    /// `count` images of `imageSize`² pixels with 1 to `maxObjects` shapes each, of sides
    /// `sizes` pixels, that do not overlap (boxes kept 2 pixels apart).
    public init(count: Int, imageSize: Int = 64, maxObjects: Int = 5, sizes: ClosedRange<Int> = 8...24, seed: UInt64) {
        tensorCheck(count > 0 && maxObjects > 0 && sizes.lowerBound >= 4 && sizes.upperBound <= imageSize,
                    "[ShapesDataset] count \(count) and maxObjects \(maxObjects) must be positive and sizes \(sizes) within 4...\(imageSize)")
        let generator = RandomGenerator(seed: seed)
        var pixels = [Float](repeating: 0, count: count * 3 * imageSize * imageSize)
        var targets: [ImageDetections] = []
        let plane = imageSize * imageSize, attemptsAllowed = 100
        for n in 0..<count {
            let base = n * 3 * plane
            // Each image's draws in one block: tint, object count, then per attempt side, corner,
            // kind and colour (a fixed budget, so every image uses the stream the same way).
            let noise = Tensor.rand([3 * plane], generator: generator).scalars(as: Float.self)
            let u = Tensor.rand([4 + 8 * attemptsAllowed], dtype: .float64, generator: generator).scalars(as: Double.self)
            func pick(_ value: Double, _ choices: Int) -> Int { Swift.min(Int(value * Double(choices)), choices - 1) }
            // A dim background with a random tint and per-pixel noise.
            for c in 0..<3 { for i in 0..<plane { pixels[base + c * plane + i] = Float(u[c] * 0.25) + noise[c * plane + i] * 0.1 } }
            var boxes: [[Int]] = [], classes: [Int] = []
            let wanted = 1 + pick(u[3], maxObjects)
            for attempt in 0..<attemptsAllowed where boxes.count < wanted {
                let a = Array(u[(4 + 8 * attempt)..<(12 + 8 * attempt)])
                let side = sizes.lowerBound + pick(a[0], sizes.count)
                let x = pick(a[1], imageSize - side + 1), y = pick(a[2], imageSize - side + 1)
                let box = [x, y, x + side, y + side]
                if boxes.contains(where: { box[0] < $0[2] + 2 && $0[0] < box[2] + 2 && box[1] < $0[3] + 2 && $0[1] < box[3] + 2 }) { continue }
                let kind = pick(a[3], 3)
                // Bright colours, far from the dim background.
                let color = (0..<3).map { Float(0.55 + a[4 + $0] * 0.45) }
                Self.draw(kind: kind, box: box, color: color, into: &pixels, base: base, size: imageSize)
                boxes.append(box)
                classes.append(kind)
            }
            let values = boxes.flatMap { $0.map(Double.init) }
            targets.append(ImageDetections(boxes: Tensor(values, shape: [boxes.count, 4]).cast(to: .float32), classes: classes))
        }
        images = Tensor(pixels.map { Swift.min($0, 1) }, shape: [count, 3, imageSize, imageSize])
        self.targets = targets
        self.imageSize = imageSize
    }

    /// Fills the pixels whose centres lie inside the shape: the disc, the square, or the
    /// upward triangle whose base is the box's bottom edge and apex its top centre.
    static func draw(kind: Int, box: [Int], color: [Float], into pixels: inout [Float], base: Int, size: Int) {
        let (x1, y1, x2, y2) = (Double(box[0]), Double(box[1]), Double(box[2]), Double(box[3]))
        let cx = (x1 + x2) / 2, cy = (y1 + y2) / 2, r = (x2 - x1) / 2
        for py in box[1]..<box[3] {
            for px in box[0]..<box[2] {
                let x = Double(px) + 0.5, y = Double(py) + 0.5
                let inside: Bool
                switch kind {
                case 0: inside = (x - cx) * (x - cx) + (y - cy) * (y - cy) <= r * r
                case 1: inside = true
                default:
                    // Half-width at height y grows linearly from 0 at the apex to r at the base.
                    inside = abs(x - cx) <= r * (y - y1) / (y2 - y1)
                }
                if inside { for c in 0..<3 { pixels[base + c * size * size + py * size + px] = color[c] } }
            }
        }
    }

    /// Images.
    public var count: Int { targets.count }
}

import TensorCore
import Vision

/// Images with their detections drawn on them: each image enlarged `scale` times, every box
/// scoring at least `minimumScore` a 2-pixel rectangle in its class's colour with the class
/// name and score (in %) above it, and the ground truth (when given) as thin white rectangles
/// beneath. One PNG grid of `columns`.
public func saveDetectionGrid(_ images: Tensor, detections: [ImageDetections], truth: [ImageDetections]? = nil,
                              classNames: [String], to path: String, minimumScore: Double = 0.3, columns: Int = 4, scale: Int = 4) throws {
    tensorCheck(images.rank == 4 && images.shape[1] == 3 && detections.count == images.shape[0] && (truth?.count ?? detections.count) == detections.count,
                "[saveDetectionGrid] images \(shapeText(images.shape)) should be [N, 3, H, W] with one detection list (and truth) per image")
    let colors: [(Float, Float, Float)] = [(1, 0.25, 0.25), (0.3, 1, 0.3), (0.35, 0.6, 1), (1, 0.85, 0.2), (1, 0.4, 1), (0.3, 1, 1)]
    let n = images.shape[0], h = images.shape[2] * scale, w = images.shape[3] * scale
    var tiles: [Tensor] = []
    for i in 0..<n {
        // Nearest-neighbour enlargement.
        let image = images[i].cast(to: .float32)
        let big = image.reshaped(to: [3, images.shape[2], 1, images.shape[3], 1])
            .expanded(to: [3, images.shape[2], scale, images.shape[3], scale]).reshaped(to: [3, h, w]).contiguous()
        var pixels = big.scalars(as: Float.self)
        func rectangle(_ box: [Double], thickness: Int, color: (Float, Float, Float)) {
            let x1 = Int(box[0] * Double(scale)), y1 = Int(box[1] * Double(scale))
            let x2 = Int(box[2] * Double(scale)) - 1, y2 = Int(box[3] * Double(scale)) - 1
            for t in 0..<thickness {
                for x in x1...Swift.max(x1, x2) { set(x, y1 + t, color); set(x, y2 - t, color) }
                for y in y1...Swift.max(y1, y2) { set(x1 + t, y, color); set(x2 - t, y, color) }
            }
        }
        func set(_ x: Int, _ y: Int, _ color: (Float, Float, Float)) {
            guard x >= 0, x < w, y >= 0, y < h else { return }
            pixels[y * w + x] = color.0
            pixels[h * w + y * w + x] = color.1
            pixels[2 * h * w + y * w + x] = color.2
        }
        if let truth = truth?[i] {
            let b = truth.boxes.cast(to: .float64).contiguous().scalars(as: Double.self)
            for k in 0..<truth.count { rectangle(Array(b[4 * k ..< 4 * k + 4]), thickness: 1, color: (1, 1, 1)) }
        }
        let found = detections[i], b = found.boxes.cast(to: .float64).contiguous().scalars(as: Double.self)
        for k in 0..<found.count where found.scores[k] >= minimumScore {
            let box = Array(b[4 * k ..< 4 * k + 4]), color = colors[found.classes[k] % colors.count]
            rectangle(box, thickness: 2, color: color)
            let name = found.classes[k] < classNames.count ? classNames[found.classes[k]] : "\(found.classes[k])"
            let label = "\(name) \(Int((found.scores[k] * 100).rounded()))"
            let y = Swift.max(0, Int(box[1] * Double(scale)) - BitmapFont.glyphHeight - 2)
            BitmapFont.draw(label, into: &pixels, width: w, height: h, x: Int(box[0] * Double(scale)), y: y, color: color)
        }
        tiles.append(Tensor(pixels, shape: [3, h, w]))
    }
    try saveImageGrid(Tensor.stacked(tiles, axis: 0), to: path, columns: columns)
}

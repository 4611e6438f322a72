import TensorCore

/// A confusion matrix as a PNG heat map: true classes down, predicted across, each cell shaded
/// by its share of the true class's examples (so rare classes read as well as common ones)
/// with its count written in it, and the class names along both axes.
///
/// `counts[t][p]`: examples of true class `t` predicted as `p` (square, one row per class, as
/// `Metrics.confusionMatrix` returns); `classNames` one per class (indices when empty).
public func saveConfusionMatrixPNG(_ counts: [[Int]], classNames: [String] = [], to path: String, cell: Int = 40) throws {
    let k = counts.count
    tensorCheck(k > 0 && counts.allSatisfy { $0.count == k },
                "[saveConfusionMatrixPNG] counts should be square with one row per class (got \(k) rows of \(counts.map(\.count)))")
    tensorCheck(classNames.isEmpty || classNames.count == k,
                "[saveConfusionMatrixPNG] \(classNames.count) class names for \(k) classes")
    let names = classNames.isEmpty ? (0..<k).map(String.init) : classNames
    let scale = 2, glyph = BitmapFont.glyphHeight * scale
    let labelWidth = (names.map { BitmapFont.width(of: $0, scale: scale) }.max() ?? 0) + 12
    let left = labelWidth, top = glyph + 24 + labelWidth
    let width = left + k * cell + 12, height = top + k * cell + glyph + 24
    var pixels = [Float](repeating: 1, count: 3 * width * height)
    func fill(_ x0: Int, _ y0: Int, _ w: Int, _ h: Int, _ color: (Float, Float, Float)) {
        for y in y0..<(y0 + h) { for x in x0..<(x0 + w) {
            let i = y * width + x
            pixels[i] = color.0
            pixels[width * height + i] = color.1
            pixels[2 * width * height + i] = color.2
        } }
    }
    let dark: (Float, Float, Float) = (0.1, 0.1, 0.1)
    BitmapFont.draw("PREDICTED", into: &pixels, width: width, height: height, x: left, y: 6, scale: scale, color: dark)
    for (t, row) in counts.enumerated() {
        let total = Float(Swift.max(row.reduce(0, +), 1))
        BitmapFont.draw(names[t], into: &pixels, width: width, height: height, x: 4, y: top + t * cell + (cell - glyph) / 2,
                        scale: scale, color: dark)
        for (p, count) in row.enumerated() {
            // White to blue by the row's share; the count in white on dark cells.
            let share = Float(count) / total
            fill(left + p * cell, top + t * cell, cell - 1, cell - 1, (1 - 0.9 * share, 1 - 0.6 * share, 1 - 0.2 * share))
            let text = String(count), textScale = BitmapFont.width(of: text, scale: scale) + 4 <= cell ? scale : 1
            BitmapFont.draw(text, into: &pixels, width: width, height: height,
                            x: left + p * cell + (cell - BitmapFont.width(of: text, scale: textScale)) / 2,
                            y: top + t * cell + (cell - BitmapFont.glyphHeight * textScale) / 2, scale: textScale,
                            color: share > 0.5 ? (1, 1, 1) : dark)
        }
    }
    // Predicted names written vertically, one character per line, above their columns.
    for (p, name) in names.enumerated() {
        for (j, character) in name.prefix(labelWidth / (glyph + 2)).enumerated() {
            BitmapFont.draw(String(character), into: &pixels, width: width, height: height,
                            x: left + p * cell + (cell - BitmapFont.width(of: "0", scale: scale)) / 2,
                            y: glyph + 16 + j * (glyph + 2), scale: scale, color: dark)
        }
    }
    BitmapFont.draw("TRUE DOWN", into: &pixels, width: width, height: height, x: 4, y: height - glyph - 8, scale: scale,
                    color: (0.45, 0.45, 0.45))
    try PNG.write(Tensor(pixels, shape: [3, height, width]), to: path)
}

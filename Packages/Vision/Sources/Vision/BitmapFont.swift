import TensorCore

/// A 5×7 bitmap font for captions drawn into images (labels on prediction grids): upper-case
/// letters (lower case is drawn in capitals), digits and `- / : . ( ) ' *`; anything else is `?`.
/// Hand-made glyphs, no font files.
public enum BitmapFont {
    /// Columns of a glyph at scale 1.
    public static let glyphWidth = 5
    /// Rows of a glyph at scale 1.
    public static let glyphHeight = 7

    /// Each glyph as seven 5-bit rows, the leftmost pixel in bit 4.
    static let glyphs: [Character: [UInt8]] = [
        "A": [0b01110, 0b10001, 0b10001, 0b11111, 0b10001, 0b10001, 0b10001],
        "B": [0b11110, 0b10001, 0b10001, 0b11110, 0b10001, 0b10001, 0b11110],
        "C": [0b01110, 0b10001, 0b10000, 0b10000, 0b10000, 0b10001, 0b01110],
        "D": [0b11110, 0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b11110],
        "E": [0b11111, 0b10000, 0b10000, 0b11110, 0b10000, 0b10000, 0b11111],
        "F": [0b11111, 0b10000, 0b10000, 0b11110, 0b10000, 0b10000, 0b10000],
        "G": [0b01110, 0b10001, 0b10000, 0b10111, 0b10001, 0b10001, 0b01111],
        "H": [0b10001, 0b10001, 0b10001, 0b11111, 0b10001, 0b10001, 0b10001],
        "I": [0b01110, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110],
        "J": [0b00111, 0b00010, 0b00010, 0b00010, 0b00010, 0b10010, 0b01100],
        "K": [0b10001, 0b10010, 0b10100, 0b11000, 0b10100, 0b10010, 0b10001],
        "L": [0b10000, 0b10000, 0b10000, 0b10000, 0b10000, 0b10000, 0b11111],
        "M": [0b10001, 0b11011, 0b10101, 0b10101, 0b10001, 0b10001, 0b10001],
        "N": [0b10001, 0b10001, 0b11001, 0b10101, 0b10011, 0b10001, 0b10001],
        "O": [0b01110, 0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01110],
        "P": [0b11110, 0b10001, 0b10001, 0b11110, 0b10000, 0b10000, 0b10000],
        "Q": [0b01110, 0b10001, 0b10001, 0b10001, 0b10101, 0b10010, 0b01101],
        "R": [0b11110, 0b10001, 0b10001, 0b11110, 0b10100, 0b10010, 0b10001],
        "S": [0b01111, 0b10000, 0b10000, 0b01110, 0b00001, 0b00001, 0b11110],
        "T": [0b11111, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100],
        "U": [0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01110],
        "V": [0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01010, 0b00100],
        "W": [0b10001, 0b10001, 0b10001, 0b10101, 0b10101, 0b10101, 0b01010],
        "X": [0b10001, 0b10001, 0b01010, 0b00100, 0b01010, 0b10001, 0b10001],
        "Y": [0b10001, 0b10001, 0b01010, 0b00100, 0b00100, 0b00100, 0b00100],
        "Z": [0b11111, 0b00001, 0b00010, 0b00100, 0b01000, 0b10000, 0b11111],
        "0": [0b01110, 0b10001, 0b10011, 0b10101, 0b11001, 0b10001, 0b01110],
        "1": [0b00100, 0b01100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110],
        "2": [0b01110, 0b10001, 0b00001, 0b00010, 0b00100, 0b01000, 0b11111],
        "3": [0b11111, 0b00010, 0b00100, 0b00010, 0b00001, 0b10001, 0b01110],
        "4": [0b00010, 0b00110, 0b01010, 0b10010, 0b11111, 0b00010, 0b00010],
        "5": [0b11111, 0b10000, 0b11110, 0b00001, 0b00001, 0b10001, 0b01110],
        "6": [0b00110, 0b01000, 0b10000, 0b11110, 0b10001, 0b10001, 0b01110],
        "7": [0b11111, 0b00001, 0b00010, 0b00100, 0b01000, 0b01000, 0b01000],
        "8": [0b01110, 0b10001, 0b10001, 0b01110, 0b10001, 0b10001, 0b01110],
        "9": [0b01110, 0b10001, 0b10001, 0b01111, 0b00001, 0b00010, 0b01100],
        "-": [0b00000, 0b00000, 0b00000, 0b11111, 0b00000, 0b00000, 0b00000],
        "/": [0b00000, 0b00001, 0b00010, 0b00100, 0b01000, 0b10000, 0b00000],
        ":": [0b00000, 0b01100, 0b01100, 0b00000, 0b01100, 0b01100, 0b00000],
        ".": [0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b01100, 0b01100],
        "(": [0b00010, 0b00100, 0b01000, 0b01000, 0b01000, 0b00100, 0b00010],
        ")": [0b01000, 0b00100, 0b00010, 0b00010, 0b00010, 0b00100, 0b01000],
        "'": [0b00100, 0b00100, 0b01000, 0b00000, 0b00000, 0b00000, 0b00000],
        "*": [0b00000, 0b00100, 0b10101, 0b01110, 0b10101, 0b00100, 0b00000],
        " ": [0, 0, 0, 0, 0, 0, 0],
        "?": [0b01110, 0b10001, 0b00001, 0b00010, 0b00100, 0b00000, 0b00100],
    ]

    /// Pixels across `text` at `scale` (one blank column between glyphs).
    public static func width(of text: String, scale: Int = 1) -> Int {
        Swift.max(text.count * (glyphWidth + 1) - 1, 0) * scale
    }

    /// Draws `text` into an RGB image `[3, H, W]` (values in [0, 1], row-major `pixels`) with its
    /// top-left corner at (`x`, `y`), in `color`; pixels outside the image are skipped.
    public static func draw(_ text: String, into pixels: inout [Float], width: Int, height: Int, x: Int, y: Int,
                            scale: Int = 1, color: (Float, Float, Float)) {
        for (k, character) in text.uppercased().enumerated() {
            let rows = glyphs[character] ?? glyphs["?"]!
            let left = x + k * (glyphWidth + 1) * scale
            for (r, bits) in rows.enumerated() {
                for c in 0..<glyphWidth where bits & (1 << (glyphWidth - 1 - c)) != 0 {
                    for dy in 0..<scale { for dx in 0..<scale {
                        let px = left + c * scale + dx, py = y + r * scale + dy
                        guard px >= 0, px < width, py >= 0, py < height else { continue }
                        let i = py * width + px
                        pixels[i] = color.0
                        pixels[width * height + i] = color.1
                        pixels[2 * width * height + i] = color.2
                    } }
                }
            }
        }
    }
}

/// A grid of images, each enlarged `scale` times, with its predicted label beneath it (red
/// when wrong, with the true label under it): what a person reads a classifier's answers from.
///
/// `images [N, C, H, W]` (C 1 or 3, values in [0, 1]); `predicted` and `truth` one label each.
public func saveLabelledImageGrid(_ images: Tensor, predicted: [String], truth: [String]? = nil, to path: String,
                                  columns: Int = 8, scale: Int = 4) throws {
    tensorCheck(images.rank == 4 && (images.shape[1] == 1 || images.shape[1] == 3),
                "[saveLabelledImageGrid] images \(shapeText(images.shape)) should be [N, 1 or 3, H, W]")
    let (n, c, h, w) = (images.shape[0], images.shape[1], images.shape[2], images.shape[3])
    tensorCheck(predicted.count == n && (truth?.count ?? n) == n,
                "[saveLabelledImageGrid] \(predicted.count) predicted and \(truth?.count ?? n) true labels for \(n) images")
    let textScale = 2, line = (BitmapFont.glyphHeight + 3) * textScale, padding = 8
    let longest = (predicted + (truth ?? [])).map { BitmapFont.width(of: $0, scale: textScale) }.max() ?? 0
    let tileWidth = Swift.max(w * scale, longest), tileHeight = h * scale + 2 * line
    let cols = Swift.min(columns, Swift.max(n, 1)), rows = (n + cols - 1) / cols
    let width = cols * (tileWidth + padding) + padding, height = rows * (tileHeight + padding) + padding
    var pixels = [Float](repeating: 1, count: 3 * width * height)
    let values = images.detached().cast(to: .float32).contiguous().scalars
    for i in 0..<n {
        let left = padding + (i % cols) * (tileWidth + padding), top = padding + (i / cols) * (tileHeight + padding)
        let imageLeft = left + (tileWidth - w * scale) / 2
        for y in 0..<(h * scale) { for x in 0..<(w * scale) {
            let p = (top + y) * width + imageLeft + x
            for channel in 0..<3 {
                let source = i * c * h * w + (c == 3 ? channel : 0) * h * w + (y / scale) * w + x / scale
                pixels[channel * width * height + p] = Swift.min(Swift.max(values[source], 0), 1)
            }
        } }
        let wrong = truth.map { $0[i] != predicted[i] } ?? false
        BitmapFont.draw(predicted[i], into: &pixels, width: width, height: height, x: left, y: top + h * scale + textScale * 2,
                        scale: textScale, color: wrong ? (0.85, 0.1, 0.1) : (0.05, 0.05, 0.05))
        if wrong, let truth {
            BitmapFont.draw(truth[i], into: &pixels, width: width, height: height, x: left, y: top + h * scale + line + textScale * 2,
                            scale: textScale, color: (0.45, 0.45, 0.45))
        }
    }
    try PNG.write(Tensor(pixels, shape: [3, height, width]), to: path)
}

import TensorCore

/// One curve of a chart drawn as an image.
public struct ChartSeries {
    /// The legend's text.
    public var name: String
    /// The y values, one per x (NaN and infinities are left out).
    public var values: [Double]
    /// RGB in [0, 1].
    public var color: (Float, Float, Float)

    /// A series drawn in `color`.
    public init(name: String, values: [Double], color: (Float, Float, Float)) {
        self.name = name
        self.values = values
        self.color = color
    }
}

/// One panel: a title, the x axis's name, and its curves (x is the value's index, from 1).
public struct ChartPanel {
    /// String: The panel's heading.
    public var title: String
    /// String: The x axis's name.
    public var xLabel: String
    /// The curves drawn.
    public var series: [ChartSeries]

    /// A panel of `series`.
    public init(title: String, xLabel: String, series: [ChartSeries]) {
        self.title = title
        self.xLabel = xLabel
        self.series = series
    }
}

/// Panels side by side as a PNG: axes with tick labels, the x axis's name, a legend, each
/// curve as a line with a dot per point (NaN and infinite values are left out), drawn with the
/// built-in bitmap font, so curves can be read without an SVG viewer.
public func saveLineChartPNG(_ panels: [ChartPanel], to path: String, panelWidth: Int = 480, height: Int = 320) throws {
    let width = panelWidth * Swift.max(panels.count, 1)
    var canvas = Canvas(width: width, height: height)
    for (k, panel) in panels.enumerated() { canvas.draw(panel, left: k * panelWidth, width: panelWidth) }
    try PNG.write(Tensor(canvas.pixels, shape: [3, height, width]), to: path)
}

/// An RGB raster `[3, H, W]` with the few primitives a chart needs.
struct Canvas {
    let width: Int, height: Int
    var pixels: [Float]

    init(width: Int, height: Int) {
        self.width = width
        self.height = height
        pixels = [Float](repeating: 1, count: 3 * width * height)
    }

    mutating func plot(_ x: Int, _ y: Int, _ color: (Float, Float, Float)) {
        guard x >= 0, x < width, y >= 0, y < height else { return }
        let i = y * width + x
        pixels[i] = color.0
        pixels[width * height + i] = color.1
        pixels[2 * width * height + i] = color.2
    }

    /// Bresenham's line, `thickness` pixels wide.
    mutating func line(_ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int, _ color: (Float, Float, Float), thickness: Int = 1) {
        var x = x0, y = y0
        let dx = Swift.abs(x1 - x0), dy = -Swift.abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1
        var error = dx + dy
        while true {
            for a in 0..<thickness { for b in 0..<thickness { plot(x + a - thickness / 2, y + b - thickness / 2, color) } }
            if x == x1 && y == y1 { break }
            let e2 = 2 * error
            if e2 >= dy { error += dy; x += sx }
            if e2 <= dx { error += dx; y += sy }
        }
    }

    mutating func text(_ s: String, x: Int, y: Int, scale: Int = 1, color: (Float, Float, Float) = (0.1, 0.1, 0.1)) {
        BitmapFont.draw(s, into: &pixels, width: width, height: height, x: x, y: y, scale: scale, color: color)
    }

    mutating func draw(_ panel: ChartPanel, left x: Int, width panelWidth: Int) {
        let finite = panel.series.flatMap(\.values).filter(\.isFinite)
        var lo = finite.min() ?? 0, hi = finite.max() ?? 1
        if hi - lo < 1e-12 { lo -= 0.5; hi += 0.5 }
        let pad = (hi - lo) * 0.05
        lo -= pad; hi += pad
        let n = panel.series.map(\.values.count).max() ?? 1
        let left = x + 64, right = x + panelWidth - 16, top = 40, bottom = height - 44
        func px(_ i: Int) -> Int { left + (n > 1 ? (right - left) * i / (n - 1) : (right - left) / 2) }
        func py(_ v: Double) -> Int { bottom - Int((Double(bottom - top) * (v - lo) / (hi - lo)).rounded()) }
        let grey: (Float, Float, Float) = (0.6, 0.6, 0.6), light: (Float, Float, Float) = (0.92, 0.92, 0.92)
        text(panel.title, x: x + (panelWidth - BitmapFont.width(of: panel.title, scale: 2)) / 2, y: 8, scale: 2)
        for k in 0...4 {
            let v = lo + (hi - lo) * Double(k) / 4, yy = py(v)
            line(left, yy, right, yy, light)
            let label = Self.tick(v)
            text(label, x: left - 6 - BitmapFont.width(of: label), y: yy - 3)
        }
        let every = Swift.max(1, (n + 9) / 10)
        for i in stride(from: 0, to: n, by: every) {
            let label = String(i + 1)
            text(label, x: px(i) - BitmapFont.width(of: label) / 2, y: bottom + 6)
        }
        text(panel.xLabel, x: (left + right - BitmapFont.width(of: panel.xLabel, scale: 2)) / 2, y: bottom + 20, scale: 2)
        line(left, top, left, bottom, grey); line(left, bottom, right, bottom, grey)
        line(right, top, right, bottom, grey); line(left, top, right, top, grey)
        var legendX = right
        for s in panel.series.reversed() {
            legendX -= BitmapFont.width(of: s.name) + 22
            line(legendX, top - 9, legendX + 12, top - 9, s.color, thickness: 2)
            text(s.name, x: legendX + 16, y: top - 12, color: s.color)
        }
        for s in panel.series {
            var previous: (Int, Int)?
            for (i, v) in s.values.enumerated() {
                guard v.isFinite else { previous = nil; continue }
                let point = (px(i), py(v))
                if let p = previous { line(p.0, p.1, point.0, point.1, s.color, thickness: 2) }
                for a in -2...2 { for b in -2...2 where a * a + b * b <= 5 { plot(point.0 + a, point.1 + b, s.color) } }
                previous = point
            }
        }
    }

    /// Three significant digits, as `%.3g` without the C formatter.
    static func tick(_ v: Double) -> String {
        guard v != 0 else { return "0" }
        let magnitude = Int((log10(Swift.abs(v))).rounded(.down))
        if magnitude < -3 || magnitude > 5 {
            let mantissa = v / pow(10, Double(magnitude))
            return "\((mantissa * 100).rounded() / 100)E\(magnitude)"
        }
        let decimals = Swift.max(0, 2 - magnitude)
        let scaled = (v * pow(10, Double(decimals))).rounded() / pow(10, Double(decimals))
        var s = decimals == 0 ? String(Int(scaled)) : String(scaled)
        if s.contains(".") { while s.hasSuffix("0") { s.removeLast() }; if s.hasSuffix(".") { s.removeLast() } }
        return s
    }
}

#if canImport(Glibc)
import Glibc
#endif

import Foundation

/// An x–y chart as SVG, with optional logarithmic axes: L-curves, convergence slopes,
/// errors against width, scatter plots of 2-D points. Lines, points or both per series.
public struct XYChart {
    /// One set of points.
    public struct Series {
        /// The legend name.
        public var name: String
        /// The x values.
        public var x: [Double]
        /// The y values, one per x.
        public var y: [Double]
        /// A CSS colour.
        public var color: String
        /// Join the points with a line (else only dots).
        public var line: Bool
        /// A series of the points (x[i], y[i]).
        public init(name: String, x: [Double], y: [Double], color: String, line: Bool = true) {
            self.name = name; self.x = x; self.y = y; self.color = color; self.line = line
        }
    }
    /// The chart's title.
    public var title: String
    /// The x axis's name.
    public var xLabel: String
    /// The y axis's name.
    public var yLabel: String
    /// Whether the x axis is logarithmic (non-positive x values are left out).
    public var logX: Bool
    /// Whether the y axis is logarithmic (non-positive y values are left out).
    public var logY: Bool
    /// The series drawn.
    public var series: [Series]

    /// A chart of `series`.
    public init(title: String, xLabel: String, yLabel: String, logX: Bool = false, logY: Bool = false, series: [Series]) {
        self.title = title; self.xLabel = xLabel; self.yLabel = yLabel; self.logX = logX; self.logY = logY; self.series = series
    }

    /// A standalone SVG document of this chart.
    public func svgDocument(width: Int = 520, height: Int = 380) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" font-family=\"sans-serif\">\n"
            + "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n" + svg(width: width, height: height) + "</svg>\n"
    }

    func svg(width: Int, height: Int) -> String {
        func tx(_ v: Double) -> Double { logX ? log10(v) : v }
        func ty(_ v: Double) -> Double { logY ? log10(v) : v }
        let usable = series.map { s in zip(s.x, s.y).filter { (x, y) in
            x.isFinite && y.isFinite && (!logX || x > 0) && (!logY || y > 0) } }
        let xs = usable.flatMap { $0.map { tx($0.0) } }, ys = usable.flatMap { $0.map { ty($0.1) } }
        func range(_ v: [Double]) -> (Double, Double) {
            var lo = v.min() ?? 0, hi = v.max() ?? 1
            if hi - lo < 1e-12 { lo -= 0.5; hi += 0.5 }
            let pad = (hi - lo) * 0.05
            return (lo - pad, hi + pad)
        }
        let (x0, x1) = range(xs), (y0, y1) = range(ys)
        let left = 70.0, right = Double(width) - 20, top = 30.0, bottom = Double(height) - 45
        func px(_ v: Double) -> Double { left + (right - left) * (tx(v) - x0) / (x1 - x0) }
        func py(_ v: Double) -> Double { bottom - (bottom - top) * (ty(v) - y0) / (y1 - y0) }
        func label(_ t: Double, log: Bool) -> String { String(format: "%.3g", log ? pow(10, t) : t) }
        var out = "<text x=\"\(width / 2)\" y=\"18\" text-anchor=\"middle\" font-size=\"15\">\(title)</text>\n"
        out += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(right - left)\" height=\"\(bottom - top)\" fill=\"none\" stroke=\"#999\"/>\n"
        for k in 0...4 {
            let t = y0 + (y1 - y0) * Double(k) / 4, yy = bottom - (bottom - top) * Double(k) / 4
            out += "<text x=\"\(left - 6)\" y=\"\(yy + 4)\" text-anchor=\"end\" font-size=\"11\">\(label(t, log: logY))</text>\n"
            let u = x0 + (x1 - x0) * Double(k) / 4, xx = left + (right - left) * Double(k) / 4
            out += "<text x=\"\(xx)\" y=\"\(bottom + 16)\" text-anchor=\"middle\" font-size=\"11\">\(label(u, log: logX))</text>\n"
        }
        out += "<text x=\"\((left + right) / 2)\" y=\"\(bottom + 36)\" text-anchor=\"middle\" font-size=\"12\">\(xLabel)</text>\n"
        out += "<text x=\"14\" y=\"\((top + bottom) / 2)\" text-anchor=\"middle\" font-size=\"12\" transform=\"rotate(-90 14 \((top + bottom) / 2))\">\(yLabel)</text>\n"
        for (k, s) in series.enumerated() {
            let points = usable[k]
            if s.line && points.count > 1 {
                out += "<polyline points=\"" + points.map { "\(px($0.0)),\(py($0.1))" }.joined(separator: " ")
                    + "\" fill=\"none\" stroke=\"\(s.color)\" stroke-width=\"2\"/>\n"
            }
            for (x, y) in points { out += "<circle cx=\"\(px(x))\" cy=\"\(py(y))\" r=\"\(s.line ? 3 : 1.8)\" fill=\"\(s.color)\"/>\n" }
            out += "<text x=\"\(left + 8)\" y=\"\(top + 16 + 15 * Double(k))\" font-size=\"12\" fill=\"\(s.color)\">● \(s.name)</text>\n"
        }
        return out
    }
}

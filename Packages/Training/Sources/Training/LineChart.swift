import Foundation

/// Line charts as SVG: one panel per metric group, series with a legend. Hand-written so
/// that the tool needs no plotting library.
public struct LineChart {
    /// One curve: its legend name, values by epoch and SVG colour.
    public struct Series {
        /// The legend name, the values (x is the index, from 1) and a CSS colour.
        public var name: String, values: [Double], color: String
        /// A curve named `name`.
        public init(name: String, values: [Double], color: String) { self.name = name; self.values = values; self.color = color }
    }
    /// The panel's title.
    public var title: String
    /// The x axis's name.
    public var xLabel: String
    /// The curves.
    public var series: [Series]

    /// A panel of `series`.
    public init(title: String, xLabel: String, series: [Series]) {
        self.title = title
        self.xLabel = xLabel
        self.series = series
    }

    func svg(x: Int, y: Int, width: Int, height: Int) -> String {
        let finite = series.flatMap(\.values).filter(\.isFinite)
        var lo = finite.min() ?? 0, hi = finite.max() ?? 1
        if hi - lo < 1e-12 { lo -= 0.5; hi += 0.5 }
        let pad = (hi - lo) * 0.05
        lo -= pad; hi += pad
        let n = series.map(\.values.count).max() ?? 1
        let left = x + 60, right = x + width - 20, top = y + 30, bottom = y + height - 40
        func px(_ i: Int) -> Double { Double(left) + Double(right - left) * (n > 1 ? Double(i) / Double(n - 1) : 0.5) }
        func py(_ v: Double) -> Double { Double(bottom) - Double(bottom - top) * (v - lo) / (hi - lo) }
        var out = "<text x=\"\(x + width / 2)\" y=\"\(y + 18)\" text-anchor=\"middle\" font-size=\"15\">\(title)</text>\n"
        out += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(right - left)\" height=\"\(bottom - top)\" fill=\"none\" stroke=\"#999\"/>\n"
        for k in 0...4 {
            let v = lo + (hi - lo) * Double(k) / 4
            out += "<text x=\"\(left - 6)\" y=\"\(py(v) + 4)\" text-anchor=\"end\" font-size=\"11\">\(String(format: "%.3g", v))</text>\n"
            out += "<line x1=\"\(left)\" x2=\"\(right)\" y1=\"\(py(v))\" y2=\"\(py(v))\" stroke=\"#eee\"/>\n"
        }
        for i in 0..<n {
            out += "<text x=\"\(px(i))\" y=\"\(bottom + 16)\" text-anchor=\"middle\" font-size=\"11\">\(i + 1)</text>\n"
        }
        out += "<text x=\"\((left + right) / 2)\" y=\"\(bottom + 34)\" text-anchor=\"middle\" font-size=\"12\">\(xLabel)</text>\n"
        for (k, s) in series.enumerated() {
            let points = s.values.enumerated().filter { $0.element.isFinite }
                .map { "\(px($0.offset)),\(py($0.element))" }.joined(separator: " ")
            out += "<polyline points=\"\(points)\" fill=\"none\" stroke=\"\(s.color)\" stroke-width=\"2\"/>\n"
            for (i, v) in s.values.enumerated() where v.isFinite {
                out += "<circle cx=\"\(px(i))\" cy=\"\(py(v))\" r=\"3\" fill=\"\(s.color)\"/>\n"
            }
            // Legend above the frame, right-aligned, so it never covers a curve.
            out += "<text x=\"\(right - 60 * (series.count - k))\" y=\"\(y + 18)\" font-size=\"12\" fill=\"\(s.color)\">● \(s.name)</text>\n"
        }
        return out
    }
}

/// Charts side by side in one SVG document.
public func svgDocument(_ charts: [LineChart], panelWidth: Int = 480, height: Int = 320) -> String {
    var body = ""
    for (i, chart) in charts.enumerated() { body += chart.svg(x: i * panelWidth, y: 0, width: panelWidth, height: height) }
    return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(panelWidth * charts.count)\" height=\"\(height)\" font-family=\"sans-serif\">\n"
        + "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n" + body + "</svg>\n"
}

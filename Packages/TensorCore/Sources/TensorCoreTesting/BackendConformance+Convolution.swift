import Testing
import TensorCore

/// Convolution (forward, input and weight gradients) and max pooling against direct loops in
/// Double, with stride, padding, dilation and groups.
extension BackendConformance {
    struct ConvolutionCase {
        let n: Int, c: Int, h: Int, w: Int, o: Int, kh: Int, kw: Int
        let geometry: ConvolutionGeometry
        var ho: Int { ConvolutionGeometry.outputSize(h, kernel: kh, stride: geometry.stride.0, padding: geometry.padding.0, dilation: geometry.dilation.0) }
        var wo: Int { ConvolutionGeometry.outputSize(w, kernel: kw, stride: geometry.stride.1, padding: geometry.padding.1, dilation: geometry.dilation.1) }
        var perGroup: Int { c / geometry.groups }

        /// Calls `body(n, o, y, x, ci, channel, iy, ix)` for every product term of the convolution
        /// that falls inside the input: output (n, o, y, x) and weight (o, ci, ky, kx) index `wi`.
        func forEachTerm(_ body: (_ out: Int, _ input: Int, _ weight: Int) -> Void) {
            let g = geometry, outPerGroup = o / g.groups
            for b in 0..<n { for oc in 0..<o { for y in 0..<ho { for x in 0..<wo {
                let group = oc / outPerGroup
                for ci in 0..<perGroup { for ky in 0..<kh { for kx in 0..<kw {
                    let iy = y * g.stride.0 - g.padding.0 + ky * g.dilation.0
                    let ix = x * g.stride.1 - g.padding.1 + kx * g.dilation.1
                    guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                    let channel = group * perGroup + ci
                    body(((b * o + oc) * ho + y) * wo + x, ((b * c + channel) * h + iy) * w + ix, ((oc * perGroup + ci) * kh + ky) * kw + kx)
                } } }
            } } } }
        }
    }

    /// Convolutions are float32 and float64 requirements (reduced precision converts first).
    func convolution(_ loc: SourceLocation) {
        guard dtype == .float32 || dtype == .float64 else { return }
        let cases = [
            ConvolutionCase(n: 2, c: 4, h: 7, w: 6, o: 6, kh: 3, kw: 2,
                            geometry: ConvolutionGeometry(stride: (2, 1), padding: (1, 1), dilation: (1, 2), groups: 2)),
            ConvolutionCase(n: 1, c: 1, h: 9, w: 9, o: 3, kh: 5, kw: 5, geometry: ConvolutionGeometry()),
        ]
        for k in cases {
            let xv = Self.values(k.n * k.c * k.h * k.w, seed: 51), wv = Self.values(k.o * k.perGroup * k.kh * k.kw, seed: 52)
            let gv = Self.values(k.n * k.o * k.ho * k.wo, seed: 53)
            var y = [Double](repeating: 0, count: gv.count), dx = [Double](repeating: 0, count: xv.count)
            var dw = [Double](repeating: 0, count: wv.count)
            k.forEachTerm { out, input, weight in
                y[out] += xv[input] * wv[weight]
                dx[input] += gv[out] * wv[weight]
                dw[weight] += gv[out] * xv[input]
            }
            let x = upload(xv, shape: [k.n, k.c, k.h, k.w]), weight = upload(wv, shape: [k.o, k.perGroup, k.kh, k.kw])
            let g = upload(gv, shape: [k.n, k.o, k.ho, k.wo])
            let out = backend.makeOperand(shape: [k.n, k.o, k.ho, k.wo], dtype: dtype)
            backend.conv2d(x, weight: weight, geometry: k.geometry, into: out)
            let tolerance = Tolerance(absolute: 1e-5, relative: 1e-4)
            expect(out, y, "conv2d \(k.geometry)", tolerance: tolerance, sourceLocation: loc)
            let inputGradient = backend.makeOperand(shape: [k.n, k.c, k.h, k.w], dtype: dtype)
            backend.conv2dInputGradient(g, weight: weight, geometry: k.geometry, into: inputGradient)
            expect(inputGradient, dx, "conv2dInputGradient \(k.geometry)", tolerance: tolerance, sourceLocation: loc)
            let weightGradient = backend.makeOperand(shape: [k.o, k.perGroup, k.kh, k.kw], dtype: dtype)
            backend.conv2dWeightGradient(x, gradient: g, geometry: k.geometry, into: weightGradient)
            expect(weightGradient, dw, "conv2dWeightGradient \(k.geometry)", tolerance: tolerance, sourceLocation: loc)
        }
        maxPooling(loc)
    }

    /// 3×3 windows, stride 2, padding 1 (padding never wins), with ties (the first wins).
    func maxPooling(_ loc: SourceLocation) {
        let (n, c, h, w) = (2, 2, 5, 6)
        var v = Self.values(n * c * h * w, seed: 54)
        v[1] = v[0]; v[7] = v[0]
        let (ho, wo) = (3, 3)
        var values: [Double] = [], indices: [Double] = []
        for plane in 0..<(n * c) { for y in 0..<ho { for x in 0..<wo {
            var best = -Double.infinity, at = -1
            for ky in 0..<3 { for kx in 0..<3 {
                let iy = y * 2 - 1 + ky, ix = x * 2 - 1 + kx
                guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                let value = v[plane * h * w + iy * w + ix]
                if value > best { best = value; at = iy * w + ix }
            } }
            values.append(best); indices.append(Double(at))
        } } }
        let out = backend.makeOperand(shape: [n, c, ho, wo], dtype: dtype)
        let where_ = backend.makeOperand(shape: [n, c, ho, wo], dtype: .int64)
        backend.maxPool2d(upload(v, shape: [n, c, h, w]), kernel: (3, 3), stride: (2, 2), padding: (1, 1), into: out, indices: where_)
        expect(out, values, "maxPool2d values", sourceLocation: loc)
        expect(where_, indices, "maxPool2d indices", sourceLocation: loc)
    }
}

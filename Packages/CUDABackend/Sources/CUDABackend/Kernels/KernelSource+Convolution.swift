/// Convolution helpers for floating dtypes over contiguous NCHW: im2col (the columns a GEMM
/// multiplies), col2im (the input gradient, a thread per input element summing its windows,
/// so no atomics), and max pooling with the flat index of each maximum.
enum ConvolutionKernels {
    static let source = #"""
    struct Geometry { int channels, height, width, kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w; };

    // columns[n][c·kh·kw + ki·kw + kj][oh·out_w + ow] = x[n][c][oh·sh - ph + ki·dh][ow·sw - pw + kj·dw] (0 outside).
    extern "C" __global__ void im2col(const T* x, T* columns, Geometry g, i64 images) {
        i64 positions = (i64)g.out_h * g.out_w;
        i64 rows = (i64)g.channels * g.kh * g.kw;
        i64 total = images * rows * positions;
        FOR_EACH(i, total) {
            i64 p = i % positions, r = (i / positions) % rows, n = i / (positions * rows);
            int oh = (int)(p / g.out_w), ow = (int)(p % g.out_w);
            int kj = (int)(r % g.kw), ki = (int)((r / g.kw) % g.kh), c = (int)(r / ((i64)g.kw * g.kh));
            int h = oh * g.sh - g.ph + ki * g.dh, w = ow * g.sw - g.pw + kj * g.dw;
            T v;
            if (h >= 0 && h < g.height && w >= 0 && w < g.width) v = x[((n * g.channels + c) * g.height + h) * g.width + w];
            else store(&v, 0, (C)0);
            columns[i] = v;
        }
    }

    // x_grad[n][c][h][w] = Σ over windows covering (h, w) of columns[n][c·kh·kw + ki·kw + kj][oh·out_w + ow].
    extern "C" __global__ void col2im(const T* columns, T* x_grad, Geometry g, i64 images) {
        i64 positions = (i64)g.out_h * g.out_w;
        i64 rows = (i64)g.channels * g.kh * g.kw;
        i64 total = images * g.channels * g.height * g.width;
        FOR_EACH(i, total) {
            int w = (int)(i % g.width), h = (int)((i / g.width) % g.height);
            i64 c = (i / ((i64)g.width * g.height)) % g.channels, n = i / ((i64)g.width * g.height * g.channels);
            ACC acc = 0;
            for (int ki = 0; ki < g.kh; ++ki) {
                int th = h + g.ph - ki * g.dh;
                if (th < 0 || th % g.sh != 0) continue;
                int oh = th / g.sh;
                if (oh >= g.out_h) continue;
                for (int kj = 0; kj < g.kw; ++kj) {
                    int tw = w + g.pw - kj * g.dw;
                    if (tw < 0 || tw % g.sw != 0) continue;
                    int ow = tw / g.sw;
                    if (ow >= g.out_w) continue;
                    i64 r = (c * g.kh + ki) * g.kw + kj;
                    acc += (ACC)load(columns, (n * rows + r) * positions + (i64)oh * g.out_w + ow);
                }
            }
            store(x_grad, i, (C)acc);
        }
    }

    // Max over each window (padding never wins); index = h·W + w of the first maximum.
    extern "C" __global__ void max_pool2d(const T* x, T* out, i64* indices, Geometry g, i64 planes) {
        i64 positions = (i64)g.out_h * g.out_w;
        FOR_EACH(i, planes * positions) {
            i64 plane = i / positions;
            int oh = (int)((i % positions) / g.out_w), ow = (int)(i % g.out_w);
            const T* xp = x + plane * g.height * g.width;
            C best = (C)0; i64 best_index = -1;
            for (int ki = 0; ki < g.kh; ++ki) {
                int h = oh * g.sh - g.ph + ki * g.dh;
                if (h < 0 || h >= g.height) continue;
                for (int kj = 0; kj < g.kw; ++kj) {
                    int w = ow * g.sw - g.pw + kj * g.dw;
                    if (w < 0 || w >= g.width) continue;
                    C v = load(xp, (i64)h * g.width + w);
                    if (best_index < 0 || v > best || v != v) { best = v; best_index = (i64)h * g.width + w; if (v != v) break; }
                }
            }
            store(out, i, best);
            indices[i] = best_index;
        }
    }
    """#
}

import Foundation
import NN
import TensorCore

/// A transformation of one image `[C, H, W]` (float32), applied on the data-loading thread.
/// Random transforms draw from their own seeded generator, so runs repeat.
public protocol ImageTransform {
    /// The transformed image.
    func callAsFunction(_ image: Tensor) -> Tensor
}

/// Applies transforms in order (`transforms.Compose`).
public struct Compose: ImageTransform {
    /// The transforms, in order.
    public let transforms: [ImageTransform]
    /// A composition of `transforms`.
    public init(_ transforms: [ImageTransform]) { self.transforms = transforms }
    /// Every transform in order.
    public func callAsFunction(_ image: Tensor) -> Tensor { transforms.reduce(image) { $1($0) } }
}

/// uint8 pixels (any shape) to float32 in [0, 1] (`transforms.ToTensor` without the HWC swap).
public struct ConvertFromUInt8: ImageTransform {
    /// The conversion.
    public init() {}
    /// The image as float32 divided by 255.
    public func callAsFunction(_ image: Tensor) -> Tensor {
        image.dtype == .uint8 ? image.cast(to: .float32) / 255 : image
    }
}

/// `(x - mean[c]) / std[c]` per channel.
public struct Normalize: ImageTransform {
    /// [Double]: Per-channel means subtracted.
    public let mean: [Double]
    /// [Double]: Per-channel deviations divided by.
    public let standardDeviation: [Double]
    /// A normalisation with one mean and deviation per channel.
    public init(mean: [Double], standardDeviation: [Double]) {
        tensorCheck(mean.count == standardDeviation.count && standardDeviation.allSatisfy { $0 > 0 },
                    "[Normalize] needs one positive standard deviation per mean")
        self.mean = mean
        self.standardDeviation = standardDeviation
    }
    /// The normalised image.
    public func callAsFunction(_ image: Tensor) -> Tensor {
        tensorCheck(image.rank == 3 && image.shape[0] == mean.count,
                    "[Normalize] image \(shapeText(image.shape)) should have \(mean.count) channels first")
        let m = Tensor(mean, shape: [mean.count, 1, 1]).cast(to: image.dtype)
        let s = Tensor(standardDeviation, shape: [mean.count, 1, 1]).cast(to: image.dtype)
        return (image - m) / s
    }
}

/// Pads by `padding` (zeros) and crops a random `size × size` window (`RandomCrop(size, padding)`).
public final class RandomCrop: ImageTransform {
    /// Int: The crop's side.
    public let size: Int
    /// Int: Zeros added on every side first.
    public let padding: Int
    let generator: RandomGenerator
    /// Random crops of `size` after `padding`, drawn from `seed`.
    public init(size: Int, padding: Int = 0, seed: UInt64 = 0) {
        self.size = size
        self.padding = padding
        generator = RandomGenerator(seed: seed)
    }
    /// A random crop of the padded image.
    public func callAsFunction(_ image: Tensor) -> Tensor {
        tensorCheck(image.rank == 3, "[RandomCrop] image \(shapeText(image.shape)) should be [C, H, W]")
        let padded = padding > 0 ? image.padded([(0, 0), (padding, padding), (padding, padding)]) : image
        let (h, w) = (padded.shape[1], padded.shape[2])
        tensorCheck(h >= size && w >= size, "[RandomCrop] crop \(size) is larger than the padded image \(h)x\(w)")
        let offsets = Tensor.randint(0, Int.max, shape: [2], generator: generator).scalars(as: Int64.self)
        let y = Int(offsets[0] % Int64(h - size + 1)), x = Int(offsets[1] % Int64(w - size + 1))
        return padded[.all, y..<(y + size), x..<(x + size)].contiguous()
    }
}

/// A random crop of random area and aspect ratio resized to `size × size` with bilinear
/// interpolation, as torchvision's `RandomResizedCrop`: up to ten draws of an area fraction in
/// `scale` and a log-uniform aspect ratio in `ratio` until the crop fits, else the largest
/// centred crop within the ratios. SimCLR's main augmentation.
public final class RandomResizedCrop: ImageTransform {
    /// Int: The output side.
    public let size: Int
    /// The range of the crop's area as a fraction of the image's.
    public let scale: ClosedRange<Double>
    /// The range of the crop's width / height.
    public let ratio: ClosedRange<Double>
    let generator: RandomGenerator

    /// Crops resized to `size`, drawn from `seed` (torchvision's default ranges).
    public init(size: Int, scale: ClosedRange<Double> = 0.08...1, ratio: ClosedRange<Double> = (3.0 / 4)...(4.0 / 3), seed: UInt64 = 0) {
        tensorCheck(size > 0 && scale.lowerBound > 0 && scale.upperBound <= 1 && ratio.lowerBound > 0,
                    "[RandomResizedCrop] size \(size), scale \(scale) within (0, 1] and ratio \(ratio) must be positive")
        self.size = size
        self.scale = scale
        self.ratio = ratio
        generator = RandomGenerator(seed: seed)
    }

    /// A random crop's corner and extent `(top, left, height, width)` in an `h × w` image (what
    /// torchvision's `get_params` draws; each call advances the generator).
    public func window(height h: Int, width w: Int) -> (top: Int, left: Int, height: Int, width: Int) {
        let draws = Tensor.rand([40], dtype: .float64, generator: generator).scalars(as: Double.self)
        let area = Double(h * w), logLow = Foundation.log(ratio.lowerBound), logHigh = Foundation.log(ratio.upperBound)
        for attempt in 0..<10 {
            let target = area * (scale.lowerBound + draws[4 * attempt] * (scale.upperBound - scale.lowerBound))
            let aspect = Foundation.exp(logLow + draws[4 * attempt + 1] * (logHigh - logLow))
            let cw = Int((target * aspect).squareRoot().rounded()), ch = Int((target / aspect).squareRoot().rounded())
            if cw > 0 && ch > 0 && cw <= w && ch <= h {
                let top = Int(draws[4 * attempt + 2] * Double(h - ch + 1)), left = Int(draws[4 * attempt + 3] * Double(w - cw + 1))
                return (Swift.min(top, h - ch), Swift.min(left, w - cw), ch, cw)
            }
        }
        // torchvision's fallback: the whole image clipped to the ratio range, centred.
        let inRatio = Double(w) / Double(h)
        let (cw, ch) = inRatio < ratio.lowerBound ? (w, Int((Double(w) / ratio.lowerBound).rounded()))
            : inRatio > ratio.upperBound ? (Int((Double(h) * ratio.upperBound).rounded()), h) : (w, h)
        return ((h - ch) / 2, (w - cw) / 2, ch, cw)
    }

    /// The image cropped and resized (bilinear, half-pixel centres as `align_corners=False`).
    public func callAsFunction(_ image: Tensor) -> Tensor {
        tensorCheck(image.rank == 3, "[RandomResizedCrop] image \(shapeText(image.shape)) should be [C, H, W]")
        let (c, h, w) = (image.shape[0], image.shape[1], image.shape[2])
        let (top, left, ch, cw) = window(height: h, width: w)
        let source = image.cast(to: .float32).contiguous().scalars(as: Float.self)
        var out = [Float](repeating: 0, count: c * size * size)
        let sy = Double(ch) / Double(size), sx = Double(cw) / Double(size)
        for y in 0..<size {
            let fy = Swift.min(Swift.max((Double(y) + 0.5) * sy - 0.5, 0), Double(ch - 1))
            let y0 = Int(fy), y1 = Swift.min(y0 + 1, ch - 1), wy = Float(fy - Double(y0))
            for x in 0..<size {
                let fx = Swift.min(Swift.max((Double(x) + 0.5) * sx - 0.5, 0), Double(cw - 1))
                let x0 = Int(fx), x1 = Swift.min(x0 + 1, cw - 1), wx = Float(fx - Double(x0))
                for k in 0..<c {
                    func at(_ yy: Int, _ xx: Int) -> Float { source[(k * h + top + yy) * w + left + xx] }
                    let upper = at(y0, x0) * (1 - wx) + at(y0, x1) * wx, lower = at(y1, x0) * (1 - wx) + at(y1, x1) * wx
                    out[(k * size + y) * size + x] = upper * (1 - wy) + lower * wy
                }
            }
        }
        return Tensor(out, shape: [c, size, size]).cast(to: image.dtype)
    }
}

/// Mirrors left-right with probability `p`.
public final class RandomHorizontalFlip: ImageTransform {
    /// The probability of mirroring.
    public let p: Double
    let generator: RandomGenerator
    /// Flips with probability `p`, drawn from `seed`.
    public init(p: Double = 0.5, seed: UInt64 = 0) {
        self.p = p
        generator = RandomGenerator(seed: seed)
    }
    /// The image, mirrored or not.
    public func callAsFunction(_ image: Tensor) -> Tensor {
        let draw = Tensor.rand([1], dtype: .float64, generator: generator).item(as: Double.self)
        return draw < p ? image.flipped(axes: [image.rank - 1]).contiguous() : image
    }
}

/// A small random rotation (degrees in ±`maxDegrees`) and translation (fraction of the size),
/// nearest-neighbour sampling with zeros outside (`RandomAffine`, simplified).
public final class RandomAffine: ImageTransform {
    /// Double: Largest rotation either way, in degrees.
    public let maxDegrees: Double
    /// Double: Largest shift, as a fraction of the size.
    public let maxTranslation: Double
    let generator: RandomGenerator
    /// Random rotations and shifts drawn from `seed`.
    public init(maxDegrees: Double, maxTranslation: Double = 0, seed: UInt64 = 0) {
        self.maxDegrees = maxDegrees
        self.maxTranslation = maxTranslation
        generator = RandomGenerator(seed: seed)
    }
    /// The image rotated and shifted.
    public func callAsFunction(_ image: Tensor) -> Tensor {
        tensorCheck(image.rank == 3, "[RandomAffine] image \(shapeText(image.shape)) should be [C, H, W]")
        let (c, h, w) = (image.shape[0], image.shape[1], image.shape[2])
        let r = Tensor.rand([3], low: -1, high: 1, dtype: .float64, generator: generator).scalars(as: Double.self)
        let angle = r[0] * maxDegrees * Double.pi / 180
        let (tx, ty) = (r[1] * maxTranslation * Double(w), r[2] * maxTranslation * Double(h))
        let (cosA, sinA) = (cosine(angle), sine(angle))
        let (cx, cy) = (Double(w - 1) / 2, Double(h - 1) / 2)
        let source = image.cast(to: .float32).contiguous().scalars
        var out = [Float](repeating: 0, count: c * h * w)
        for y in 0..<h {
            for x in 0..<w {
                // Inverse map: where in the source does output pixel (x, y) come from?
                let dx = Double(x) - cx - tx, dy = Double(y) - cy - ty
                let sx = Int((cosA * dx + sinA * dy + cx).rounded()), sy = Int((-sinA * dx + cosA * dy + cy).rounded())
                guard sx >= 0 && sx < w && sy >= 0 && sy < h else { continue }
                for ch in 0..<c { out[(ch * h + y) * w + x] = source[(ch * h + sy) * w + sx] }
            }
        }
        return Tensor(out, shape: [c, h, w]).cast(to: image.dtype)
    }

    // Taylor-free trig without Foundation: Float math is enough for pixel positions.
    private func sine(_ x: Double) -> Double { Tensor([Float(x)]).sin().item(as: Double.self) }
    private func cosine(_ x: Double) -> Double { Tensor([Float(x)]).cos().item(as: Double.self) }
}

/// A labelled image dataset whose inputs pass through `transform` when an example is read,
/// so a `DataLoader` applies it on its data-loading (prefetch) thread, per epoch anew.
///
/// ```swift
/// let augmented = TransformedDataset(train, transform: Compose([RandomCrop(size: 28, padding: 2), RandomHorizontalFlip()]))
/// let loader = DataLoader(stacking: augmented, batchSize: 128, sampler: RandomSampler(seed: 0))
/// ```
public struct TransformedDataset<Base: Dataset>: Dataset where Base.Example == LabeledExample {
    /// The untransformed dataset.
    public let base: Base
    /// Applied to each input when read.
    public let transform: ImageTransform

    /// `base` with `transform` applied to its inputs.
    public init(_ base: Base, transform: ImageTransform) {
        self.base = base
        self.transform = transform
    }

    /// Examples in the dataset.
    public var count: Int { base.count }

    /// The example at `index`, its input transformed.
    public subscript(index: Int) -> LabeledExample {
        let example = base[index]
        return LabeledExample(input: withoutGradients { transform(example.input) }, target: example.target)
    }
}

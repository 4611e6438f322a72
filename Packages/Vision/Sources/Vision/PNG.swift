import Zlib
import Foundation
import TensorCore

/// A damaged or unsupported PNG file.
public enum ImageError: Error, CustomStringConvertible, Equatable {
    /// The file does not start with PNG's signature.
    case notPNG(String)
    /// A chunk, checksum or compressed stream is damaged.
    case corrupt(String, reason: String)
    /// A valid PNG of a kind not read here (interlaced, palette, 16-bit, …).
    case unsupported(String, reason: String)
    /// The file could not be read or written.
    case io(String, reason: String)

    public var description: String {
        switch self {
        case .notPNG(let p): return "\(p) is not a PNG file"
        case let .corrupt(p, why): return "PNG \(p) is corrupt: \(why)"
        case let .unsupported(p, why): return "PNG \(p) is not supported: \(why)"
        case let .io(p, why): return "cannot access \(p): \(why)"
        }
    }
}

/// 8-bit PNG reading and writing (gray, gray+alpha, RGB, RGBA; no interlacing) with zlib
/// only. Images are float32 tensors `[C, H, W]` with values in [0, 1].
public enum PNG {
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// Encodes `[C, H, W]` (C = 1 or 3) or `[H, W]` values in [0, 1] (clamped).
    public static func encode(_ image: Tensor) -> [UInt8] {
        let chw = image.rank == 2 ? image.unsqueezed(axis: 0) : image
        tensorCheck(chw.rank == 3 && (chw.shape[0] == 1 || chw.shape[0] == 3),
                    "[PNG] image \(shapeText(image.shape)) should be [1 or 3, H, W] or [H, W]")
        let (c, h, w) = (chw.shape[0], chw.shape[1], chw.shape[2])
        let pixels = withoutGradients { (chw.clamped(min: 0, max: 1) * 255).permuted(1, 2, 0).contiguous() }
            .scalars(as: Float.self).map { UInt8(($0).rounded()) }
        var raw = [UInt8]()
        raw.reserveCapacity(h * (w * c + 1))
        for y in 0..<h {
            raw.append(0)  // filter: none
            raw.append(contentsOf: pixels[(y * w * c)..<((y + 1) * w * c)])
        }
        var out = signature
        var header = [UInt8]()
        header += bigEndian(UInt32(w)) + bigEndian(UInt32(h))
        header += [8, c == 1 ? 0 : 2, 0, 0, 0]
        appendChunk(&out, "IHDR", header)
        appendChunk(&out, "IDAT", deflate(raw))
        appendChunk(&out, "IEND", [])
        return out
    }

    /// Writes `image` (`[C, H, W]` or `[H, W]`, values in [0, 1]) as a PNG file.
    public static func write(_ image: Tensor, to path: String) throws {
        do { try Data(encode(image)).write(to: URL(fileURLWithPath: path), options: .atomic) }
        catch { throw ImageError.io(path, reason: error.localizedDescription) }
    }

    /// Reads a PNG file as `[C, H, W]` float32 in [0, 1].
    public static func read(_ path: String) throws -> Tensor {
        guard let data = FileManager.default.contents(atPath: path) else { throw ImageError.io(path, reason: "cannot read") }
        return try decode([UInt8](data), name: path)
    }

    /// Decodes to `[C, H, W]` float32 in [0, 1] (alpha dropped).
    public static func decode(_ bytes: [UInt8], name: String = "<memory>") throws -> Tensor {
        guard bytes.count >= 8, Array(bytes[0..<8]) == signature else { throw ImageError.notPNG(name) }
        var offset = 8
        var width = 0, height = 0, channels = 0
        var compressed = [UInt8]()
        var sawHeader = false, sawEnd = false
        while offset + 12 <= bytes.count && !sawEnd {
            let length = Int(readBigEndian(bytes, offset))
            let type = String(decoding: bytes[(offset + 4)..<(offset + 8)], as: UTF8.self)
            guard length >= 0, length <= bytes.count - offset - 12 else { throw ImageError.corrupt(name, reason: "chunk \(type) overruns the file") }
            let body = Array(bytes[(offset + 8)..<(offset + 8 + length)])
            let storedCRC = readBigEndian(bytes, offset + 8 + length)
            let actualCRC = Zlib.crc32(Array(bytes[(offset + 4)..<(offset + 8 + length)]))
            guard storedCRC == actualCRC else { throw ImageError.corrupt(name, reason: "CRC mismatch in \(type)") }
            switch type {
            case "IHDR":
                guard length == 13 else { throw ImageError.corrupt(name, reason: "bad IHDR") }
                width = Int(readBigEndian(body, 0)); height = Int(readBigEndian(body, 4))
                let depth = body[8], color = body[9], interlace = body[12]
                guard depth == 8 else { throw ImageError.unsupported(name, reason: "bit depth \(depth)") }
                // The specification defines compression and filter method 0 only, interlace 0 or 1.
                guard body[10] == 0, body[11] == 0, interlace <= 1 else {
                    throw ImageError.corrupt(name, reason: "IHDR compression \(body[10]), filter \(body[11]), interlace \(interlace) "
                                               + "outside the specification")
                }
                guard interlace == 0 else { throw ImageError.unsupported(name, reason: "interlacing") }
                switch color {
                case 0: channels = 1
                case 2: channels = 3
                case 4: channels = 2
                case 6: channels = 4
                default: throw ImageError.unsupported(name, reason: "color type \(color)")
                }
                // The specification caps each side at 2^31 - 1; the product is checked before it
                // is formed (two such sides overflow Int when multiplied).
                guard width > 0, height > 0, width < 1 << 31, height < 1 << 31, width <= (1 << 28) / height else {
                    throw ImageError.corrupt(name, reason: "size \(width)x\(height)")
                }
                sawHeader = true
            case "IDAT": compressed += body
            case "IEND": sawEnd = true
            default: break
            }
            offset += 12 + length
        }
        guard sawHeader, sawEnd else { throw ImageError.corrupt(name, reason: sawHeader ? "no IEND (truncated)" : "no IHDR") }
        let stride = width * channels
        let raw = try inflate(compressed, expected: height * (stride + 1), name: name)
        var pixels = [UInt8](repeating: 0, count: height * stride)
        for y in 0..<height {
            let filter = raw[y * (stride + 1)]
            let line = y * (stride + 1) + 1
            for x in 0..<stride {
                let a = x >= channels ? Int(pixels[y * stride + x - channels]) : 0
                let b = y > 0 ? Int(pixels[(y - 1) * stride + x]) : 0
                let c = x >= channels && y > 0 ? Int(pixels[(y - 1) * stride + x - channels]) : 0
                let predictor: Int
                switch filter {
                case 0: predictor = 0
                case 1: predictor = a
                case 2: predictor = b
                case 3: predictor = (a + b) / 2
                case 4:
                    let p = a + b - c, pa = Swift.abs(p - a), pb = Swift.abs(p - b), pc = Swift.abs(p - c)
                    predictor = pa <= pb && pa <= pc ? a : (pb <= pc ? b : c)
                default: throw ImageError.corrupt(name, reason: "filter type \(filter)")
                }
                pixels[y * stride + x] = UInt8(truncatingIfNeeded: Int(raw[line + x]) + predictor)
            }
        }
        let colorChannels = channels == 2 ? 1 : (channels == 4 ? 3 : channels)
        let hwc = Tensor(pixels, shape: [height, width, channels]).cast(to: .float32) / 255
        return hwc.narrowed(axis: 2, start: 0, length: colorChannels).permuted(2, 0, 1).contiguous()
    }

    static func bigEndian(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }

    static func readBigEndian(_ b: [UInt8], _ o: Int) -> UInt32 {
        UInt32(b[o]) << 24 | UInt32(b[o + 1]) << 16 | UInt32(b[o + 2]) << 8 | UInt32(b[o + 3])
    }

    static func appendChunk(_ out: inout [UInt8], _ type: String, _ body: [UInt8]) {
        out += bigEndian(UInt32(body.count))
        let typed = Array(type.utf8) + body
        out += typed
        out += bigEndian(Zlib.crc32(typed))
    }

    static func deflate(_ input: [UInt8]) -> [UInt8] { Zlib.deflate(input, format: .zlib) }

    /// The image data, which must inflate to exactly `expected` bytes (never more is produced).
    static func inflate(_ input: [UInt8], expected: Int, name: String) throws -> [UInt8] {
        let output: [UInt8]
        do { output = try Zlib.inflate(input, limit: expected) }
        catch { throw ImageError.corrupt(name, reason: "image data does not inflate to \(expected) bytes (\(error))") }
        guard output.count == expected else {
            throw ImageError.corrupt(name, reason: "image data inflates to \(output.count) bytes, not \(expected)")
        }
        return output
    }
}

/// Tiles images into one grid image, like torchvision's `make_grid` (padding 2, values
/// scaled to [0, 1] per image when `normalize`).
public func makeImageGrid(_ images: Tensor, columns: Int = 8, padding: Int = 2, normalize: Bool = false) -> Tensor {
    tensorCheck(images.rank == 4, "[makeImageGrid] images \(shapeText(images.shape)) should be [N, C, H, W]")
    let (n, c, h, w) = (images.shape[0], images.shape[1], images.shape[2], images.shape[3])
    let cols = Swift.min(columns, Swift.max(n, 1)), rows = (n + cols - 1) / cols
    var grid = Tensor.zeros([c, rows * (h + padding) + padding, cols * (w + padding) + padding])
    withoutGradients {
        for i in 0..<n {
            var image = images[i].cast(to: .float32)
            if normalize {
                let lo = image.min(), hi = image.max()
                image = (image - lo) / (hi - lo + 1e-12)
            }
            let y = padding + (i / cols) * (h + padding), x = padding + (i % cols) * (w + padding)
            grid[.all, y..<(y + h), x..<(x + w)] = image
        }
    }
    return grid
}

/// Writes a grid of images as a PNG (`save_image(make_grid(...))`).
public func saveImageGrid(_ images: Tensor, to path: String, columns: Int = 8, normalize: Bool = false) throws {
    try PNG.write(makeImageGrid(images, columns: columns, normalize: normalize), to: path)
}

/// First-layer filters `[O, C, k, k]` as a PNG grid, each filter scaled to [0, 1] on its own
/// and enlarged `scale` times: colour when C is 3, else one gray tile per input channel.
public func saveFilterGrid(_ weight: Tensor, to path: String, columns: Int = 8, scale: Int = 4) throws {
    tensorCheck(weight.rank == 4 && scale > 0, "[saveFilterGrid] weight \(shapeText(weight.shape)) should be [O, C, kh, kw]")
    let w = weight.detached().cast(to: .float32)
    let tiles = w.shape[1] == 3 ? w : w.reshaped(to: [w.shape[0] * w.shape[1], 1, w.shape[2], w.shape[3]])
    try saveImageGrid(tiles.upsampledNearest(scale: (scale, scale)), to: path, columns: columns, normalize: true)
}

/// Feature maps `[C, H, W]` (or one sample `[1, C, H, W]`) as a gray PNG grid, each map scaled to [0, 1].
public func saveFeatureMapGrid(_ maps: Tensor, to path: String, columns: Int = 8) throws {
    let m = maps.rank == 4 && maps.shape[0] == 1 ? maps.squeezed(axis: 0) : maps
    tensorCheck(m.rank == 3, "[saveFeatureMapGrid] maps \(shapeText(maps.shape)) should be [C, H, W] or [1, C, H, W]")
    try saveImageGrid(m.detached().unsqueezed(axis: 1), to: path, columns: columns, normalize: true)
}

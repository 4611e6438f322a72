import Foundation
import Testing
import TensorCore
@testable import Vision

@Suite("PNG images")
struct PNGTests {
    @Test(arguments: [1, 3])
    func roundTripIsExactFor8BitValues(channels: Int) throws {
        let g = RandomGenerator(seed: 5)
        let pixels = Tensor.randint(0, 256, shape: [channels, 7, 9], generator: g).cast(to: .float32) / 255
        let back = try PNG.decode(PNG.encode(pixels))
        #expect(back.shape == [channels, 7, 9])
        #expect(((back - pixels).abs().max().item()) < 1e-6)
    }

    @Test func decodesAllFilterTypesWrittenByAnotherEncoder() throws {
        // A 3x2 RGB image with filters Sub (row 0) and Paeth (row 1), which our encoder never writes.
        let raw: [UInt8] = [1, 10, 20, 30, 5, 5, 5, 5, 5, 5,
                            4, 1, 2, 3, 10, 10, 10, 20, 20, 20]
        var png = PNG.signature
        PNG.appendChunk(&png, "IHDR", PNG.bigEndian(3) + PNG.bigEndian(2) + [8, 2, 0, 0, 0])
        PNG.appendChunk(&png, "IDAT", PNG.deflate(raw))
        PNG.appendChunk(&png, "IEND", [])
        let image = try PNG.decode(png)
        let bytes = (image.permuted(1, 2, 0).contiguous() * 255).scalars.map { UInt8($0.rounded()) }
        // Row 0 (Sub): 10,20,30 then +5 each pixel; row 1 (Paeth) predicted from above/left.
        #expect(Array(bytes[0..<9]) == [10, 20, 30, 15, 25, 35, 20, 30, 40])
        #expect(Array(bytes[9..<12]) == [11, 22, 33])
    }

    /// Headers with compression, filter or interlace methods outside the specification were
    /// accepted (with valid CRCs, so only the field check can refuse them).
    @Test(arguments: [[8, 2, 1, 0, 0], [8, 2, 0, 3, 0], [8, 2, 0, 0, 2]] as [[UInt8]])
    func headerMethodsOutsideTheSpecificationAreRefused(fields: [UInt8]) {
        var png = PNG.signature
        PNG.appendChunk(&png, "IHDR", PNG.bigEndian(1) + PNG.bigEndian(1) + fields)
        PNG.appendChunk(&png, "IDAT", PNG.deflate([0, 1, 2, 3]))
        PNG.appendChunk(&png, "IEND", [])
        #expect(throws: ImageError.self) { try PNG.decode(png, name: "methods") }
    }

    /// libFuzzer's first PNG find: sides of 2^32 - 1 and 2^32 - 257 (valid CRC) overflowed
    /// `width * height` before the size check.
    @Test(arguments: [(UInt32.max, UInt32.max - 256), (1 << 31, 1), (1, UInt32.max)] as [(UInt32, UInt32)])
    func hugeSidesAreRefusedWithoutOverflow(width: UInt32, height: UInt32) {
        var png = PNG.signature
        PNG.appendChunk(&png, "IHDR", PNG.bigEndian(width) + PNG.bigEndian(height) + [8, 0, 0, 0, 0])
        PNG.appendChunk(&png, "IDAT", PNG.deflate([0, 1]))
        PNG.appendChunk(&png, "IEND", [])
        #expect(throws: ImageError.corrupt("huge", reason: "size \(width)x\(height)")) { try PNG.decode(png, name: "huge") }
    }

    @Test func corruptFilesThrowTypedErrors() {
        let good = PNG.encode(Tensor.rand([1, 4, 4], generator: RandomGenerator(seed: 1)))
        #expect(throws: ImageError.notPNG("x")) { try PNG.decode([1, 2, 3], name: "x") }
        #expect(throws: ImageError.self) { try PNG.decode(Array(good.prefix(good.count - 12)), name: "t") }
        var flipped = good
        flipped[flipped.count - 20] ^= 0xFF
        #expect(throws: ImageError.self) { try PNG.decode(flipped, name: "f") }
    }

    @Test func gridTilesImagesWithPadding() throws {
        let images = Tensor.ones([5, 1, 3, 3])
        let grid = makeImageGrid(images, columns: 2)
        #expect(grid.shape == [1, 3 * 5 + 2, 2 * 5 + 2])
        #expect(grid.sum().item() == 45)
        let path = NSTemporaryDirectory() + "grid-\(UInt32.random(in: 0...UInt32.max)).png"
        try saveImageGrid(images, to: path, columns: 2)
        #expect(try PNG.read(path).shape == [1, 17, 12])
    }
}


import Testing
import Zlib

@Suite("zlib streams")
struct ZlibTests {
    let text = Array(String(repeating: "tessera, deflate and inflate. ", count: 200).utf8)

    @Test(arguments: [Zlib.Format.zlib, .gzip])
    func roundTripsInBothFramings(format: Zlib.Format) throws {
        let packed = Zlib.deflate(text, format: format)
        #expect(packed.count < text.count / 10)
        #expect(Zlib.isGzip(packed) == (format == .gzip))
        #expect(try Zlib.inflate(packed) == text)
    }

    @Test func crcMatchesTheKnownCheckValue() {
        // The CRC-32 check value of "123456789" (RFC 3720 / zlib's own test).
        #expect(Zlib.crc32(Array("123456789".utf8)) == 0xCBF4_3926)
    }

    @Test func badStreamsThrowTypedErrors() {
        let packed = Zlib.deflate(text)
        #expect(throws: ZlibError.truncated) { try Zlib.inflate(Array(packed.prefix(packed.count / 2))) }
        #expect(throws: ZlibError.exceedsLimit(100)) { try Zlib.inflate(packed, limit: 100) }
        var damaged = packed
        damaged[0] = 0x00
        #expect(throws: ZlibError.self) { try Zlib.inflate(damaged) }
        #expect(throws: ZlibError.self) { try Zlib.inflate([]) }
    }
}

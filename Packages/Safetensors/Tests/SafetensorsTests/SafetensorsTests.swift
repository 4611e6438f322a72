import Foundation
import Testing
import TensorCore
@testable import Safetensors

func temporaryPath(_ name: String) -> String { NSTemporaryDirectory() + "tessera-st-\(getpid())-\(name)" }

/// Bit patterns, so NaNs and -0 compare exactly.
func bits(_ t: Tensor) -> [UInt8] {
    let c = t.contiguous()
    return c.withOperand { o in Array(UnsafeRawBufferPointer(start: o.storage.pointer + o.layout.offset * c.dtype.byteSize,
                                                              count: c.elementCount * c.dtype.byteSize)) }
}

/// `arange(n) * 0.5 - 3` in `dtype` (exact in every float type; integers and bools from it).
func pattern(_ n: Int, _ dtype: DType) -> Tensor {
    let values = (0..<n).map { Double($0) * 0.5 - 3 }
    switch dtype {
    case .bool: return Tensor(values.map { $0 > 0 ? 1.0 : 0.0 }).cast(to: .bool)
    case .uint8: return Tensor((0..<n).map { Double($0 * 37 % 256) }).cast(to: .uint8)
    case .int32, .int64: return Tensor((0..<n).map { Double($0 * 1000 - 7000) }).cast(to: dtype)
    default: return Tensor(values).cast(to: dtype)
    }
}

let everyDtype: [DType] = [.float32, .float64, .float16, .bfloat16, .int32, .int64, .uint8, .bool]

@Suite("safetensors")
struct SafetensorsTests {
    @Test(arguments: [true, false])
    func everyDtypeRoundTripsBitExactly(mapped: Bool) throws {
        var tensors: [String: Tensor] = [:]
        for (i, dtype) in everyDtype.enumerated() { tensors["layer.\(i).\(dtype)"] = pattern(5 + i, dtype).reshaped(to: [1, 5 + i]) }
        tensors["scalar"] = Tensor(scalar: Float(2.5))
        tensors["empty"] = Tensor.zeros([0, 3])
        tensors["transposed"] = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3]).transposed()
        let path = temporaryPath("round-\(mapped).safetensors")
        try Safetensors.write(tensors, metadata: ["format": "pt", "note": "a \"quoted\" value"], to: path)
        let (loaded, metadata) = try Safetensors.read(from: path, mapped: mapped)
        #expect(metadata == ["format": "pt", "note": "a \"quoted\" value"])
        #expect(Set(loaded.keys) == Set(tensors.keys))
        for (name, t) in tensors {
            let l = try #require(loaded[name])
            #expect(l.shape == t.shape && l.dtype == t.dtype, "\(name)")
            #expect(bits(l) == bits(t), "\(name)")
        }
    }

    /// A file built byte by byte from the format's description, so reader and writer cannot
    /// agree on a shared mistake.
    @Test func readsAFileWrittenToTheSpecification() throws {
        let header = #"{"__metadata__":{"k":"v"},"b":{"dtype":"I64","shape":[2],"data_offsets":[8,24]},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        var bytes = withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { Array($0) } + Array(header.utf8)
        for f in [Float(1.5), -2] { bytes += withUnsafeBytes(of: f.bitPattern.littleEndian) { Array($0) } }
        for i in [Int64(7), -9] { bytes += withUnsafeBytes(of: i.littleEndian) { Array($0) } }
        let path = temporaryPath("spec.safetensors")
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let (tensors, metadata) = try Safetensors.read(from: path)
        #expect(metadata == ["k": "v"])
        #expect(tensors["a"]!.scalars == [1.5, -2])
        #expect(tensors["b"]!.scalars(as: Int64.self) == [7, -9])
    }

    @Test func mappedTensorsAreCopiedOnWriteAndOutliveTheirFile() throws {
        let path = temporaryPath("cow.safetensors")
        try Safetensors.write(["w": Tensor([1, 2, 3, 4] as [Float])], to: path)
        var (tensors, _) = try Safetensors.read(from: path)
        var w = tensors.removeValue(forKey: "w")!
        tensors = [:]
        let o = w.uniqueOperand()
        w.backend.fill(o, with: 9)
        #expect(w.scalars == [9, 9, 9, 9])
        unlink(path)                                   // the mapping stays valid
        #expect((w * 2).scalars == [18, 18, 18, 18])
        try Safetensors.write(["w": Tensor([1, 2, 3, 4] as [Float])], to: path)
        #expect(try Safetensors.read(from: path).tensors["w"]!.scalars == [1, 2, 3, 4])
    }

    @Test func badFilesThrowTypedErrors() throws {
        let good = temporaryPath("good.safetensors")
        try Safetensors.write(["a": Tensor([1, 2, 3] as [Float]), "b": Tensor([Int64(4)])], to: good)
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: good)))
        func variant(_ name: String, _ make: ([UInt8]) -> [UInt8]) -> String {
            let path = temporaryPath(name)
            try! Data(make(bytes)).write(to: URL(fileURLWithPath: path))
            return path
        }
        func header(_ json: String, data: Int) -> [UInt8] {
            withUnsafeBytes(of: UInt64(json.utf8.count).littleEndian) { Array($0) } + Array(json.utf8) + [UInt8](repeating: 0, count: data)
        }
        let cases: [(String, [UInt8])] = [
            ("short", Array(bytes.prefix(5))),
            ("truncated", Array(bytes.prefix(bytes.count - 3))),
            ("huge-length", [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F] + Array(bytes.dropFirst(8))),
            ("header-past-end", withUnsafeBytes(of: UInt64(bytes.count).littleEndian) { Array($0) } + Array(bytes.dropFirst(8))),
            ("not-json", header("{nope", data: 0)),
            ("not-object", header("[1, 2]", data: 0)),
            ("missing-field", header(#"{"a":{"dtype":"F32","shape":[1]}}"#, data: 4)),
            ("unknown-dtype", header(#"{"a":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}}"#, data: 1)),
            ("wrong-byte-count", header(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#, data: 8)),
            ("overlap", header(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: 8)),
            ("out-of-range", header(#"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, data: 8)),
            ("negative-shape", header(#"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}}"#, data: 0)),
            ("reversed-offsets", header(#"{"a":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}}"#, data: 4)),
            ("bad-bool", header(#"{"a":{"dtype":"BOOL","shape":[2],"data_offsets":[0,2]}}"#, data: 0) + [1, 7]),
            ("metadata-number", header(#"{"__metadata__":{"k":1}}"#, data: 0)),
        ]
        for (name, content) in cases {
            let path = variant(name, { _ in content })
            #expect(throws: SafetensorsError.self, "\(name)") { try Safetensors.read(from: path) }
        }
        #expect(throws: SafetensorsError.self) { try Safetensors.read(from: temporaryPath("does-not-exist")) }
        #expect(throws: SafetensorsError.self) { try Safetensors.write(["a": Tensor([1] as [Float])], to: "/nonexistent/dir/x.safetensors") }
    }
}

/// The Python `safetensors` package (with torch) reads Tessera's files and Tessera reads its,
/// bit for bit. Runs where the peers venv has both (`.venv-peers/bin/pip install safetensors`).
@Suite("safetensors interop with Python")
struct SafetensorsInteropTests {
    static let python: String? = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let venv = root.appendingPathComponent(".venv-peers/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: venv), (try? run(venv, "import torch, safetensors")) != nil else { return nil }
        return venv
    }()

    @discardableResult
    static func run(_ python: String, _ script: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", script]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw SafetensorsError.io(path: "python", reason: output) }
        return output
    }

    /// The same patterns as `pattern(_:_:)`, in PyTorch.
    static let patterns = """
    import torch
    from safetensors.torch import save_file, load_file
    dtypes = {'float32': torch.float32, 'float64': torch.float64, 'float16': torch.float16, 'bfloat16': torch.bfloat16,
              'int32': torch.int32, 'int64': torch.int64, 'uint8': torch.uint8, 'bool': torch.bool}
    def pattern(n, name):
        v = torch.arange(n, dtype=torch.float64) * 0.5 - 3
        if name == 'bool': return (v > 0)
        if name == 'uint8': return (torch.arange(n) * 37 % 256).to(torch.uint8)
        if name in ('int32', 'int64'): return (torch.arange(n) * 1000 - 7000).to(dtypes[name])
        return v.to(dtypes[name])
    names = ['float32', 'float64', 'float16', 'bfloat16', 'int32', 'int64', 'uint8', 'bool']
    """

    @Test(.enabled(if: python != nil, "needs .venv-peers with torch and safetensors"))
    func pythonFilesLoadBitExactlyAndTesseraFilesLoadInPython() throws {
        let python = try #require(Self.python)
        let fromPython = temporaryPath("from-python.safetensors"), fromTessera = temporaryPath("from-tessera.safetensors")
        try Self.run(python, Self.patterns + "\n" + """
        save_file({f'{i}.{n}': pattern(5 + i, n).reshape(1, 5 + i) for i, n in enumerate(names)}, '\(fromPython)', metadata={'format': 'pt'})
        """)
        let (loaded, metadata) = try Safetensors.read(from: fromPython)
        #expect(metadata["format"] == "pt")
        for (i, dtype) in everyDtype.enumerated() {
            let t = try #require(loaded["\(i).\(dtype)"], "\(dtype)")
            #expect(t.shape == [1, 5 + i] && t.dtype == dtype)
            #expect(bits(t) == bits(pattern(5 + i, dtype).reshaped(to: [1, 5 + i])), "\(dtype) from Python")
        }
        var tensors: [String: Tensor] = [:]
        for (i, dtype) in everyDtype.enumerated() { tensors["\(i).\(dtype)"] = pattern(5 + i, dtype).reshaped(to: [1, 5 + i]) }
        try Safetensors.write(tensors, metadata: ["format": "pt"], to: fromTessera)
        try Self.run(python, Self.patterns + "\n" + """
        from safetensors import safe_open
        t = load_file('\(fromTessera)')
        for i, n in enumerate(names):
            want = pattern(5 + i, n).reshape(1, 5 + i)
            got = t[f'{i}.{n}']
            assert got.dtype == want.dtype and got.shape == want.shape, (n, got.dtype, got.shape)
            assert torch.equal(got.view(torch.uint8) if n != 'bool' else got, want.view(torch.uint8) if n != 'bool' else want), n
        with safe_open('\(fromTessera)', 'pt') as f:
            assert f.metadata() == {'format': 'pt'}, f.metadata()
        """)
    }
}

import Foundation
import TensorCore
#if canImport(Glibc)
import Glibc
#endif

/// Reads and writes safetensors files (Hugging Face's format): 8 bytes of little-endian header
/// length, a JSON header `{"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]},
/// "__metadata__": {"key": "value"}}`, then the tensors' raw little-endian bytes.
///
/// ```swift
/// try Safetensors.write(model.stateDict(), metadata: ["format": "pt"], to: "model.safetensors")
/// let (tensors, metadata) = try Safetensors.read(from: "model.safetensors")
/// ```
public enum Safetensors {
    /// The file's dtype names for Tessera's dtypes.
    static let names: [DType: String] = [
        .float32: "F32", .float64: "F64", .float16: "F16", .bfloat16: "BF16",
        .int32: "I32", .int64: "I64", .uint8: "U8", .bool: "BOOL",
    ]
    static let dtypes: [String: DType] = Dictionary(uniqueKeysWithValues: names.map { ($1, $0) })

    /// Headers larger than this are refused before allocating (the Rust reader's limit).
    public static let maximumHeaderBytes = 100_000_000

    // MARK: writing

    /// Writes `tensors` (any device; copied to host, contiguous) and string `metadata`, through a
    /// temporary file renamed into place, so a failed write never leaves a partial file.
    public static func write(_ tensors: [String: Tensor], metadata: [String: String] = [:], to path: String) throws {
        var entries: [String] = []
        var offset = 0
        let names = tensors.keys.sorted()
        for name in names {
            let t = tensors[name]!
            guard let dtype = Self.names[t.dtype] else {
                throw SafetensorsError.unsupportedDType(path: path, tensor: name, dtype: "\(t.dtype)")
            }
            let bytes = t.elementCount * t.dtype.byteSize
            entries.append("\(quoted(name)):{\"dtype\":\"\(dtype)\",\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],"
                           + "\"data_offsets\":[\(offset),\(offset + bytes)]}")
            offset += bytes
        }
        if !metadata.isEmpty {
            let members = metadata.keys.sorted().map { "\(quoted($0)):\(quoted(metadata[$0]!))" }
            entries.insert("\"__metadata__\":{\(members.joined(separator: ","))}", at: 0)
        }
        var header = Array(("{" + entries.joined(separator: ",") + "}").utf8)
        // Pad with spaces so the data starts 8-byte aligned, as the reference writer does.
        while (8 + header.count) % 8 != 0 { header.append(0x20) }
        var out = [UInt8]()
        out.reserveCapacity(8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { out += $0 }
        out += header
        for name in names {
            let t = tensors[name]!.contiguous().moved(to: .cpu)
            t.withOperand { o in
                let start = o.storage.pointer + o.layout.offset * t.dtype.byteSize
                out += UnsafeRawBufferPointer(start: start, count: t.elementCount * t.dtype.byteSize)
            }
        }
        let temporary = path + ".\(getpid()).tmp"
        do {
            try Data(out).write(to: URL(fileURLWithPath: temporary))
            guard rename(temporary, path) == 0 else {
                throw SafetensorsError.io(path: path, reason: "cannot rename into place: \(String(cString: strerror(errno)))")
            }
        } catch let error as SafetensorsError {
            unlink(temporary)
            throw error
        } catch {
            unlink(temporary)
            throw SafetensorsError.io(path: path, reason: error.localizedDescription)
        }
    }

    static func quoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            default:
                if scalar.value < 0x20 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }

    // MARK: reading

    /// One tensor's header entry.
    struct Entry {
        var name: String, dtype: DType, shape: [Int], begin: Int, end: Int
    }

    /// Reads every tensor and the metadata. With `mapped` the file is memory-mapped (private,
    /// copy on write) and each tensor views its bytes in place where they are aligned for its
    /// type; otherwise, or when not aligned, they are copied. Throws `SafetensorsError` for a
    /// missing, truncated or malformed file; never traps on one.
    public static func read(from path: String, mapped: Bool = true) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        let file = try MappedFile(path: path)
        guard file.count >= 8 else { throw SafetensorsError.invalidHeader(path: path, reason: "\(file.count) bytes, fewer than the 8-byte length") }
        var length: UInt64 = 0
        withUnsafeMutableBytes(of: &length) { $0.copyMemory(from: UnsafeRawBufferPointer(start: file.base, count: 8)) }
        length = UInt64(littleEndian: length)
        guard length <= UInt64(maximumHeaderBytes) else {
            throw SafetensorsError.invalidHeader(path: path, reason: "header length \(length) exceeds \(maximumHeaderBytes)")
        }
        let headerBytes = Int(length)
        guard 8 + headerBytes <= file.count else {
            throw SafetensorsError.truncated(path: path, reason: "header of \(headerBytes) bytes, file of \(file.count)")
        }
        let (entries, metadata) = try parseHeader(Data(bytes: file.base + 8, count: headerBytes), path: path)
        let dataStart = 8 + headerBytes, dataCount = file.count - dataStart
        var previousEnd = 0
        for entry in entries.sorted(by: { ($0.begin, $0.end) < ($1.begin, $1.end) }) {
            guard entry.end <= dataCount else {
                throw SafetensorsError.truncated(path: path, reason: "tensor '\(entry.name)' ends at byte \(entry.end) of \(dataCount) data bytes")
            }
            guard entry.begin >= previousEnd else {
                throw SafetensorsError.invalidOffsets(path: path, tensor: entry.name, reason: "data_offsets overlap another tensor's")
            }
            previousEnd = entry.end
        }
        var tensors: [String: Tensor] = [:]
        for entry in entries {
            let address = file.base + dataStart + entry.begin
            let aligned = Int(bitPattern: address) % entry.dtype.byteSize == 0
            if mapped && aligned && entry.end > entry.begin {
                let storage = Storage(pointer: UnsafeMutableRawPointer(mutating: address), byteCount: entry.end - entry.begin,
                                      backend: CPUBackend.shared, allocator: file)
                tensors[entry.name] = Tensor(operand: Operand(storage: storage, layout: Layout(contiguous: entry.shape), dtype: entry.dtype))
            } else {
                var t = Tensor.empty(entry.shape, dtype: entry.dtype)
                if entry.end > entry.begin {
                    t.uniqueOperand().storage.pointer.copyMemory(from: address, byteCount: entry.end - entry.begin)
                }
                tensors[entry.name] = t
            }
        }
        try validateBools(tensors, entries, path: path)
        return (tensors, metadata)
    }

    static func parseHeader(_ data: Data, path: String) throws -> ([Entry], [String: String]) {
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data) } catch {
            throw SafetensorsError.invalidHeader(path: path, reason: "the header is not JSON")
        }
        guard let members = object as? [String: Any] else { throw SafetensorsError.invalidHeader(path: path, reason: "the header is not a JSON object") }
        var entries: [Entry] = [], metadata: [String: String] = [:]
        for (name, value) in members {
            if name == "__metadata__" {
                guard let m = value as? [String: Any] else { throw SafetensorsError.invalidHeader(path: path, reason: "__metadata__ is not an object") }
                for (k, v) in m {
                    guard let s = v as? String else { throw SafetensorsError.invalidHeader(path: path, reason: "metadata '\(k)' is not a string") }
                    metadata[k] = s
                }
                continue
            }
            guard let fields = value as? [String: Any], let dtypeName = fields["dtype"] as? String,
                  let shapeValues = fields["shape"] as? [Any], let offsetValues = fields["data_offsets"] as? [Any] else {
                throw SafetensorsError.invalidHeader(path: path, reason: "tensor '\(name)' lacks dtype, shape or data_offsets")
            }
            guard let dtype = dtypes[dtypeName] else { throw SafetensorsError.unsupportedDType(path: path, tensor: name, dtype: dtypeName) }
            let shape = try shapeValues.map { try integer($0, path: path, name: name, what: "shape") }
            let offsets = try offsetValues.map { try integer($0, path: path, name: name, what: "data_offsets") }
            guard offsets.count == 2, offsets[0] <= offsets[1] else {
                throw SafetensorsError.invalidOffsets(path: path, tensor: name, reason: "data_offsets \(offsets) are not [begin, end]")
            }
            var count = 1
            for d in shape {
                let (product, overflow) = count.multipliedReportingOverflow(by: d)
                guard !overflow, product <= 1 << 40 else {
                    throw SafetensorsError.invalidHeader(path: path, reason: "tensor '\(name)' has an implausible shape \(shape)")
                }
                count = product
            }
            guard offsets[1] - offsets[0] == count * dtype.byteSize else {
                throw SafetensorsError.invalidOffsets(path: path, tensor: name,
                    reason: "\(offsets[1] - offsets[0]) bytes for shape \(shape) of \(dtypeName) (\(count * dtype.byteSize) expected)")
            }
            entries.append(Entry(name: name, dtype: dtype, shape: shape, begin: offsets[0], end: offsets[1]))
        }
        return (entries, metadata)
    }

    static func integer(_ value: Any, path: String, name: String, what: String) throws -> Int {
        guard let number = value as? NSNumber, number.doubleValue >= 0, number.doubleValue <= 9e15,
              number.doubleValue == number.doubleValue.rounded() else {
            throw SafetensorsError.invalidHeader(path: path, reason: "tensor '\(name)': \(what) holds \(value), not a non-negative integer")
        }
        return number.intValue
    }

    /// A bool byte other than 0 or 1 is damage (and undefined behaviour to load as Bool).
    static func validateBools(_ tensors: [String: Tensor], _ entries: [Entry], path: String) throws {
        for entry in entries where entry.dtype == .bool {
            let bytes = tensors[entry.name]!.withOperand { o in
                UnsafeBufferPointer(start: o.storage.pointer.assumingMemoryBound(to: UInt8.self) + o.layout.offset,
                                    count: o.elementCount).allSatisfy { $0 <= 1 }
            }
            guard bytes else { throw SafetensorsError.invalidOffsets(path: path, tensor: entry.name, reason: "bool bytes other than 0 and 1") }
        }
    }
}

/// A whole file mapped read-write-private: the storages of the tensors read from it point into
/// the mapping and keep it alive (this object is their allocator); it is unmapped when the last
/// of them goes. Writes through a tensor change its private pages, never the file.
final class MappedFile: StorageAllocator {
    let base: UnsafeMutableRawPointer
    let count: Int
    private let isMapped: Bool

    init(path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw SafetensorsError.io(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw SafetensorsError.io(path: path, reason: String(cString: strerror(errno))) }
        count = Int(status.st_size)
        guard count > 0 else {
            // mmap refuses empty files; an empty buffer still has a (valid) address.
            base = UnsafeMutableRawPointer.allocate(byteCount: 8, alignment: 8)
            isMapped = false
            return
        }
        guard let mapping = mmap(nil, count, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0), mapping != MAP_FAILED else {
            throw SafetensorsError.io(path: path, reason: "cannot map: \(String(cString: strerror(errno)))")
        }
        base = mapping
        isMapped = true
    }

    /// Storages of a mapping release nothing themselves; the mapping goes with this object.
    func deallocate(_ pointer: UnsafeMutableRawPointer, byteCount: Int) {}

    deinit {
        if isMapped { munmap(base, count) } else { base.deallocate() }
    }
}

import Foundation
import FuzzTargets

// tessera-fuzz list                    the targets
// tessera-fuzz seeds DIR               writes each target's seeds to DIR/<name>/seed-<k>
// tessera-fuzz replay NAME PATH...     runs files (or every file of folders) through a target
// tessera-fuzz run NAME [libFuzzer options] [CORPUS...]
//                                      fuzzes (only in CI/fuzz's build, -DFUZZING)

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("tessera-fuzz: \(message)\n".utf8))
    exit(2)
}

func target(_ name: String?) -> FuzzTarget {
    guard let name, let t = FuzzTargets.named(name) else {
        fail("name a target: \(FuzzTargets.all.map(\.name).joined(separator: ", "))")
    }
    return t
}

func files(_ paths: ArraySlice<String>) -> [String] {
    paths.flatMap { path -> [String] in
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { fail("\(path) does not exist") }
        guard isDirectory.boolValue else { return [path] }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.sorted().map { "\(path)/\($0)" }
    }
}

#if FUZZING
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<Int32>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

@_silgen_name("LLVMFuzzerMutate")
func LLVMFuzzerMutate(_ data: UnsafeMutablePointer<UInt8>?, _ size: Int, _ maxSize: Int) -> Int

/// The target being fuzzed; set once before the driver starts.
nonisolated(unsafe) var selected: FuzzTarget? = nil

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    selected!.accepts(bytes)
    return 0
}

@_cdecl("LLVMFuzzerCustomMutator")
public func customMutator(_ data: UnsafeMutablePointer<UInt8>?, _ size: Int, _ maxSize: Int, _ seed: UInt32) -> Int {
    let input = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    let out = selected!.mutate(input, maxSize: maxSize, seed: seed) { bytes, capacity in
        var buffer = bytes + [UInt8](repeating: 0, count: Swift.max(capacity - bytes.count, 1))
        let n = buffer.withUnsafeMutableBufferPointer { LLVMFuzzerMutate($0.baseAddress, bytes.count, capacity) }
        return Array(buffer[0..<n])
    }
    let n = Swift.min(out.count, maxSize)
    out.withUnsafeBufferPointer { data!.update(from: $0.baseAddress!, count: n) }
    return n
}
#endif

let arguments = CommandLine.arguments
switch arguments.dropFirst().first {
case "list":
    for t in FuzzTargets.all { print("\(t.name.padding(toLength: 18, withPad: " ", startingAt: 0)) \(t.summary)") }
case "seeds":
    guard arguments.count == 3 else { fail("usage: tessera-fuzz seeds DIR") }
    for t in FuzzTargets.all {
        let directory = "\(arguments[2])/\(t.name)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for (k, seed) in try t.seeds().enumerated() {
            guard t.accepts(seed) else { fail("\(t.name): seed \(k) is refused by its own reader") }
            try Data(seed).write(to: URL(fileURLWithPath: "\(directory)/seed-\(k)"))
        }
    }
case "replay":
    let t = target(arguments.count > 2 ? arguments[2] : nil)
    let paths = files(arguments.dropFirst(3))
    var accepted = 0
    for path in paths {
        do {
            try t.run([UInt8]((try? Data(contentsOf: URL(fileURLWithPath: path))) ?? Data()))
            accepted += 1
        } catch {
            // One file is being looked into: say why it was refused.
            if paths.count == 1 { print("\(path): \(error)") }
        }
    }
    print("\(t.name): \(paths.count) inputs, \(accepted) accepted, \(paths.count - accepted) refused, none crashed")
case "run":
    #if FUZZING
    selected = target(arguments.count > 2 ? arguments[2] : nil)
    // libFuzzer sees the program name and what follows the target's.
    let driverArguments = [arguments[0]] + arguments.dropFirst(3)
    var cStrings: [UnsafeMutablePointer<CChar>?] = driverArguments.map { strdup($0) } + [nil]
    var argc = Int32(driverArguments.count)
    cStrings.withUnsafeMutableBufferPointer { buffer in
        var argv = buffer.baseAddress
        exit(LLVMFuzzerRunDriver(&argc, &argv, testOneInput))
    }
    #else
    fail("this build has no fuzzer; build it with CI/fuzz")
    #endif
default:
    fail("usage: tessera-fuzz list | seeds DIR | replay NAME PATH... | run NAME [libFuzzer options] [CORPUS...]")
}

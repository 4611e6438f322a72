import CNCCL
import CUDABackend
import TensorCore

/// NCCL's functions, resolved at run time (`libnccl.so.2` with dlopen, as the CUDA backend
/// loads CUDA) or from a table of stand-ins (the tests', where no GPU exists). Nothing of
/// NCCL is needed to build.
public struct NCCLLibrary {
    typealias Result = Int32
    typealias Comm = OpaquePointer
    typealias Stream = OpaquePointer

    /// Where the functions came from (the library's path, or a stand-in's name).
    public let path: String
    let getUniqueId: @convention(c) (UnsafeMutablePointer<tessera_nccl_unique_id>?) -> Result
    let commInitRank: @convention(c) (UnsafeMutablePointer<Comm?>?, Int32, tessera_nccl_unique_id, Int32) -> Result
    let commDestroy: @convention(c) (Comm?) -> Result
    let allReduce: @convention(c) (UnsafeRawPointer?, UnsafeMutableRawPointer?, Int, Int32, Int32, Comm?, Stream?) -> Result
    let broadcast: @convention(c) (UnsafeRawPointer?, UnsafeMutableRawPointer?, Int, Int32, Int32, Comm?, Stream?) -> Result
    let allGather: @convention(c) (UnsafeRawPointer?, UnsafeMutableRawPointer?, Int, Int32, Comm?, Stream?) -> Result
    let reduceScatter: @convention(c) (UnsafeRawPointer?, UnsafeMutableRawPointer?, Int, Int32, Int32, Comm?, Stream?) -> Result
    let errorString: @convention(c) (Result) -> UnsafePointer<CChar>?

    /// NCCL from the loader's path (`libnccl.so.2`, or `$TESSERA_CUDA_LIBRARY_PATH` first, as
    /// the CUDA backend looks for its libraries).
    public static func load() throws -> NCCLLibrary {
        let (library, failures) = DynamicLibrary.open(CUDALibraryNames.candidates("nccl", versions: ["2"]))
        guard let library else {
            throw DistributedError.unavailable(reason: "NCCL (libnccl.so.2) was not found: \(failures.first ?? "no candidates")")
        }
        return try NCCLLibrary(path: library.path) { library.symbol($0, as: UnsafeMutableRawPointer.self) }
    }

    /// The functions resolved through `symbol` (dlsym, or a test's stand-ins).
    public init(path: String, symbol: (String) -> UnsafeMutableRawPointer?) throws {
        self.path = path
        func load<T>(_ name: String) throws -> T {
            guard let f = symbol(name) else {
                throw DistributedError.unavailable(reason: "\(path) lacks \(name) (NCCL 2.x is needed)")
            }
            return unsafeBitCast(f, to: T.self)
        }
        getUniqueId = try load("ncclGetUniqueId")
        commInitRank = try load("ncclCommInitRank")
        commDestroy = try load("ncclCommDestroy")
        allReduce = try load("ncclAllReduce")
        broadcast = try load("ncclBroadcast")
        allGather = try load("ncclAllGather")
        reduceScatter = try load("ncclReduceScatter")
        errorString = try load("ncclGetErrorString")
    }

    /// `ncclDataType_t` of a wire type (ncclUint8 1, ncclInt32 2, ncclInt64 4, ncclFloat32 7, ncclFloat64 8).
    static func datatype(_ type: WireType) -> Int32 {
        switch type {
        case .uint8: 1
        case .int32: 2
        case .int64: 4
        case .float32: 7
        case .float64: 8
        }
    }

    /// `ncclRedOp_t` (ncclSum 0, ncclMax 2, ncclMin 3; averages are sums divided afterwards).
    static func reduction(_ operation: ReduceOperation) -> Int32 {
        switch operation {
        case .sum, .average: 0
        case .max: 2
        case .min: 3
        }
    }

    func check(_ result: Result, _ call: String) throws {
        guard result != 0 else { return }
        let message = errorString(result).map { String(cString: $0) } ?? "error \(result)"
        throw DistributedError.nccl(call: call, code: result, message: message)
    }
}

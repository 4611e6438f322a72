import Foundation
import Testing
import TensorCore
@testable import CheckpointHDF5

/// A save killed with SIGKILL half-way must leave the previous checkpoint loadable.
@Suite("Crash safety")
struct CrashSafetyTests {
    @Test func killedSaveLeavesThePreviousCheckpointIntact() async throws {
        let path = temporaryPath("model.h5")
        let previous = Checkpoint(model: ["w": Tensor([1, 2, 3])], step: 1)
        try CheckpointFile.save(previous, to: path)
        setenv("TESSERA_CRASH_TEST_PATH", path, 1)
        await #expect(processExitsWith: .signal(SIGKILL)) {
            let target = String(cString: getenv("TESSERA_CRASH_TEST_PATH"))
            // ~400 MB to write: the kill lands in the middle of the save.
            let big = Checkpoint(model: (0..<25).reduce(into: [String: Tensor]()) { d, i in d["layer\(i)"] = Tensor.ones([4_000_000]) },
                                 step: 2)
            Thread.detachNewThread {
                usleep(150_000)
                kill(getpid(), SIGKILL)
            }
            while true { try? CheckpointFile.save(big, to: target) }
        }
        let loaded = try CheckpointFile.load(from: path)
        #expect(loaded.step == 1)
        #expect(loaded.model["w"]!.scalars == [1, 2, 3])
    }
}

import Testing
import TensorCore

/// `uniqueOperand()` is the only way outside TensorCore to write a tensor's elements in place:
/// it must never change another value that shared the storage.
@Suite("In-place writes keep value semantics")
struct InPlaceWriteTests {
    private func write(_ value: Double, into t: inout Tensor) {
        let o = t.uniqueOperand()
        t.backend.fill(o, with: value)
    }

    @Test func aSharedStorageIsCopiedBeforeTheWrite() {
        let original = Tensor([1, 2, 3, 4], shape: [2, 2])
        var copy = original
        #expect(copy.sharesStorage(with: original))
        write(7, into: &copy)
        #expect(!copy.sharesStorage(with: original))
        #expect(original.scalars == [1, 2, 3, 4])
        #expect(copy.scalars == [7, 7, 7, 7])
    }

    @Test func aViewsBaseIsNotChangedThroughTheView() {
        let base = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
        var row = base[1]
        write(0, into: &row)
        #expect(base.scalars == [1, 2, 3, 4, 5, 6])
        #expect(row.scalars == [0, 0, 0])
    }

    @Test func anUnsharedStorageIsWrittenWhereItIs() {
        var t = Tensor.zeros([3])
        let before = t.withOperand { $0.storage.pointer }
        write(2, into: &t)
        #expect(t.withOperand { $0.storage.pointer } == before)
        #expect(t.scalars == [2, 2, 2])
    }

    @Test func aTensorThatRecordsGradientsRefuses() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            var t = Tensor.ones([2]).requiringGrad()
            _ = t.uniqueOperand()
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("[uniqueOperand] in-place write to a tensor that records gradients"), "\(message)")
    }
}

import Foundation
import Testing
import TensorCore

/// Programmer errors stop the process with a message naming the operation and operands.
@Suite("Misuse stops with a clear message")
struct ErrorMessageTests {
    static func stderrText(_ result: ExitTest.Result?) -> String {
        String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
    }

    @Test func matmulShapeMismatchNamesBothShapes() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]).matmul(Tensor.zeros([4, 5]))
        }
        #expect(Self.stderrText(result).contains("[matmul] lhs [2, 3] incompatible with rhs [4, 5]"))
    }

    @Test func matmulDtypeMismatch() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 2]).matmul(Tensor.zeros([2, 2], dtype: .float64))
        }
        #expect(Self.stderrText(result).contains("[matmul] lhs dtype float32 does not match rhs dtype float64"))
    }

    @Test func broadcastFailureNamesShapes() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]) + Tensor.zeros([4])
        }
        #expect(Self.stderrText(result).contains("[add] shapes [2, 3] and [4] cannot be broadcast"))
    }

    @Test func shapesWhoseByteCountOverflowsNameTheShape() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([1 << 32, 1 << 32])
        }
        #expect(Self.stderrText(result).contains("[allocate] shape [4294967296, 4294967296] of float32 holds more bytes than can be counted"))
    }

    @Test func overflowingElementCountsNameTheShape() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.empty([Int.max, 3], dtype: .uint8)
        }
        #expect(Self.stderrText(result).contains("[allocate] shape [9223372036854775807, 3] of uint8 holds more bytes than can be counted"))
    }

    @Test func reshapeToAnUncountableShapeSaysSo() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]).reshaped(to: [Int.max, 4])
        }
        #expect(Self.stderrText(result).contains("[reshape] cannot reshape [2, 3] (6 elements) to [9223372036854775807, 4] (more elements than can be counted)"))
    }

    @Test func impossibleReshape() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]).reshaped(to: [4, 2])
        }
        #expect(Self.stderrText(result).contains("[reshape] cannot reshape [2, 3] (6 elements) to [4, 2]"))
    }

    @Test func indexOutOfRange() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3])[0, 5]
        }
        #expect(Self.stderrText(result).contains("[subscript] index 5 is out of range for axis 1 of size 3"))
    }

    @Test func gatherIndexOutOfRange() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]).gather(axis: 1, index: Tensor([Int64(0), 3], shape: [1, 2]))
        }
        #expect(Self.stderrText(result).contains("[gather] index 3 is out of range for axis 1 of size 3"))
    }

    @Test func unregisteredDeviceSaysWhy() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2], device: Device(kind: DeviceKind(named: "nowhere"), index: 0))
        }
        #expect(Self.stderrText(result).contains("[device] nowhere:0 unavailable: no backend registered for device kind 'nowhere'"))
    }

    @Test func integerTensorsCannotRequireGradients() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            var t = Tensor([Int64(1)])
            t.requiresGrad = true
        }
        #expect(Self.stderrText(result).contains("[requiresGrad] only floating-point tensors"))
    }

    @Test func backwardOnNonScalar() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            (Tensor.ones([3]).requiringGrad() * 2).backward()
        }
        #expect(Self.stderrText(result).contains("[backward] needs a scalar"))
    }
}

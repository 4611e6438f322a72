import Testing
@testable import TensorCore
import TensorCoreTesting

@Suite("Creation, views, copy on write, dtypes")
struct TensorBasicsTests {
    @Test func creationFunctions() {
        #expect(Tensor.zeros([2, 3]).scalars == [0, 0, 0, 0, 0, 0])
        #expect(Tensor.full([2], value: 7, dtype: .int32).scalars(as: Int32.self) == [7, 7])
        #expect(Tensor.arange(0, 5, step: 2).scalars == [0, 2, 4])
        #expect(Tensor.arange(5, dtype: .int64).scalars(as: Int64.self) == [0, 1, 2, 3, 4])
        #expect(Tensor.linspace(0, 1, count: 5).scalars == [0, 0.25, 0.5, 0.75, 1])
        #expect(Tensor.eye(2, 3).scalars == [1, 0, 0, 0, 1, 0])
        #expect(Tensor([1.5, 2.0], shape: [2]).dtype == .float32, "decimal literals default to float32")
        let doubles: [Double] = [1, 2]
        #expect(Tensor(doubles, shape: [2]).dtype == .float64)
        #expect(Tensor([1, 2, 3], shape: [3]).dtype == .float32)
        #expect(Tensor(scalar: 3.5).item(as: Double.self) == 3.5)
    }

    @Test func viewsShareStorageAndCopyOnWrite() {
        let x = Tensor.arange(0, 12).reshaped(to: [3, 4])
        let t = x.transposed()
        #expect(t.shape == [4, 3])
        #expect(t.sharesStorage(with: x))
        #expect(t.contiguous().scalars == [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11])
        var y = x
        y[0, 0] = Tensor(scalar: Float(100))
        #expect(x.scalars[0] == 0, "writing through a copy must not change the original")
        #expect(y.scalars[0] == 100)
        #expect(!y.sharesStorage(with: x))
    }

    @Test func subscriptsSelectLikeNumPy() {
        let x = Tensor.arange(0, 24).reshaped(to: [2, 3, 4])
        #expect(x[1].shape == [3, 4])
        #expect(x[.all, 2].scalars == [8, 9, 10, 11, 20, 21, 22, 23])
        #expect(x[.ellipsis, 1].scalars == [1, 5, 9, 13, 17, 21])
        #expect(x[0, 1..<3, .stride(nil, nil, by: 2)].scalars == [4, 6, 8, 10])
        #expect(x[0, 0, .stride(nil, nil, by: -1)].scalars == [3, 2, 1, 0])
        #expect(x[0, -1, 1...2].scalars == [9, 10])
        #expect(x[.newAxis, 0].shape == [1, 3, 4])
        var z = Tensor.zeros([3, 3])
        z[.all, 1] = Tensor([1, 2, 3])
        #expect(z.scalars == [0, 1, 0, 0, 2, 0, 0, 3, 0])
    }

    @Test func broadcastingFollowsNumPy() {
        let a = Tensor.ones([3, 1]), b = Tensor.arange(0, 4)
        #expect((a + b).shape == [3, 4])
        #expect((a * b).scalars == [0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3])
        #expect(broadcastShapes([8, 1, 6, 1], [7, 1, 5]) == [8, 7, 6, 5])
        #expect(broadcastShapes([3], [4]) == nil)
    }

    @Test func reducedPrecisionStoresAndConverts() {
        let x = Tensor([1.0, 0.1, -2.5, 30000, 3.14159], shape: [5]).cast(to: .float32)
        let half = x.cast(to: .float16), brain = x.cast(to: .bfloat16)
        #expect(half.dtype == .float16 && brain.dtype == .bfloat16)
        expectClose(half.cast(to: .float32), x, tolerance: Tolerance(absolute: 0, relative: 1e-3))
        expectClose(brain.cast(to: .float32), x, tolerance: Tolerance(absolute: 0, relative: 8e-3))
        // Ops on reduced precision compute in float32 and round back.
        let sum = (half + half)
        #expect(sum.dtype == .float16)
        expectClose(sum.cast(to: .float32), x * 2, tolerance: Tolerance(absolute: 0, relative: 1e-3))
        #expect(BFloat16(Float(1.0)).bitPattern == 0x3F80)
    }

    @Test func integerAndBoolOps() {
        let a = Tensor([Int64(5), -3, 7]), b = Tensor([Int64(2), 2, -7])
        #expect((a + b).scalars(as: Int64.self) == [7, -1, 0])
        #expect((a / b).dtype == .float32, "true division of integers gives float, as PyTorch")
        #expect((a .> b).scalars(as: Bool.self) == [true, false, true])
        #expect(((a .> 0) .& (b .> 0)).scalars(as: Bool.self) == [true, false, false])
        #expect(a.sum().item(as: Int64.self) == 9)
        #expect(a.argmax().item(as: Int64.self) == 2)
        #expect(Tensor.oneHot(Tensor([Int64(2), 0]), classCount: 3).scalars == [0, 0, 1, 1, 0, 0])
    }

    @Test func combiningAndSorting() {
        let x = Tensor([3, 1, 2, 9, 7, 8], shape: [2, 3])
        #expect(Tensor.concatenated([x, x], axis: 0).shape == [4, 3])
        #expect(Tensor.stacked([x, x], axis: 1).shape == [2, 2, 3])
        #expect(x.chunked(2, axis: 1).map(\.shape) == [[2, 2], [2, 1]])
        #expect(x.padded([(0, 0), (1, 1)]).scalars == [0, 3, 1, 2, 0, 0, 9, 7, 8, 0])
        let (values, indices) = x.sorted(axis: 1)
        #expect(values.scalars == [1, 2, 3, 7, 8, 9])
        #expect(indices.scalars(as: Int64.self) == [1, 2, 0, 1, 2, 0])
        #expect(x.topK(1, axis: 1).values.scalars == [3, 9])
        #expect(x.cumulativeSum(axis: 1).scalars == [3, 4, 6, 9, 16, 24])
    }

    @Test func emptyTensorsWorkThroughOps() {
        let e = Tensor.zeros([0, 3])
        #expect((e + 1).shape == [0, 3])
        #expect(e.sum(axes: [0]).scalars == [0, 0, 0])
        #expect(Tensor.concatenated([e, Tensor.ones([2, 3])], axis: 0).shape == [2, 3])
        #expect(e.transposed().contiguous().shape == [3, 0])
    }

    @Test func descriptionElidesLargeTensors() {
        let big = Tensor.arange(2000, dtype: .int64)
        #expect(big.description == "tensor([   0,    1,    2,  ..., 1997, 1998, 1999])")
        #expect(Tensor([1e-5, 1.0, 1000.0], shape: [3]).cast(to: .float32).description == "tensor([1.0000e-05, 1.0000e+00, 1.0000e+03])")
        #expect(Tensor([1.0], shape: [1]).requiringGrad().description.contains("requiresGrad=true"))
    }

    @Test func nanPropagatesThroughMaxAndSoftmax() {
        let x = Tensor([1, .nan, 3], shape: [3])
        #expect(x.max().item().isNaN)
        #expect(x.softmax().scalars.allSatisfy { $0.isNaN })
        let masked = Tensor([0, -.infinity, 1], shape: [3]).softmax()
        #expect(masked.scalars[1] == 0)
    }
}

@Suite("Random numbers (Philox 4x32-10)")
struct RandomTests {
    @Test func philoxMatchesTheReferenceVector() {
        // Known-answer test from Random123 (kat_vectors): philox4x32_10, counter and key zero.
        let out = philox4x32(counter: SIMD4(0, 0, 0, 0), key: SIMD2(0, 0))
        #expect(out == SIMD4(0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8))
        let ones = philox4x32(counter: SIMD4(repeating: 0xffff_ffff), key: SIMD2(repeating: 0xffff_ffff))
        #expect(ones == SIMD4(0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd))
    }

    @Test func sameSeedSameNumbersForOneAndTwoThreads() {
        let previous = CPUThreads.count
        defer { CPUThreads.count = previous }
        CPUThreads.count = 1
        let a = Tensor.randn([100_000], generator: RandomGenerator(seed: 7)).scalars
        CPUThreads.count = 2
        let b = Tensor.randn([100_000], generator: RandomGenerator(seed: 7)).scalars
        #expect(a == b)
        #expect(Tensor.rand([10], generator: RandomGenerator(seed: 8)).scalars != Tensor.rand([10], generator: RandomGenerator(seed: 9)).scalars)
    }

    @Test func momentsAreSensible() {
        let g = RandomGenerator(seed: 11)
        let n = Tensor.randn([200_000], mean: 2, standardDeviation: 3, dtype: .float64, generator: g)
        #expect(Swift.abs(n.mean().item(as: Double.self) - 2) < 0.03)
        #expect(Swift.abs(n.standardDeviation().item(as: Double.self) - 3) < 0.03)
        let u = Tensor.rand([200_000], low: -1, high: 1, generator: g)
        #expect(Swift.abs(u.mean().item()) < 0.01)
        #expect(u.min().item() >= -1 && u.max().item() < 1)
        let bern = Tensor.bernoulli([200_000], p: 0.3, generator: g)
        #expect(Swift.abs(bern.mean().item() - 0.3) < 0.01)
        let ints = Tensor.randint(3, 9, shape: [10_000], generator: g)
        #expect(ints.min().item(as: Int64.self) == 3 && ints.max().item(as: Int64.self) == 8)
    }

    @Test func successiveDrawsDifferAndGlobalSeedRepeats() {
        Tensor.manualSeed(5)
        let a = Tensor.rand([4]), b = Tensor.rand([4])
        Tensor.manualSeed(5)
        let c = Tensor.rand([4])
        #expect(a.scalars != b.scalars)
        #expect(a.scalars == c.scalars)
    }

    @Test func integerClampWithInfiniteBoundsSaturates() {
        let x = Tensor([-5, 0, 3, 9] as [Int64])
        #expect(x.clamped(min: 1).scalars(as: Int64.self) == [1, 1, 3, 9])
        #expect(x.clamped(max: 2).scalars(as: Int64.self) == [-5, 0, 2, 2])
        #expect(Tensor([200, 3] as [UInt8]).clamped(min: -1e30, max: 1e30).scalars(as: UInt8.self) == [200, 3])
    }
}

import Foundation
import Testing
import NN
import TensorCore
import TensorCoreTesting
@testable import SequenceModels

@Suite("Recurrent layers")
struct RecurrentTests {
    let tight = Tolerance(absolute: 1e-10, relative: 1e-9)

    /// Loads the fixture's weights, runs forward and backward, and compares everything.
    func compare(_ name: String, _ layer: Module, run: (Tensor, [Tensor]) -> (Tensor, [Tensor])) throws {
        try layer.loadStateDict(Fixtures.dictionary(name, "params"))
        let x = Fixtures.tensor(name, "input").requiringGrad()
        let state = Fixtures.tensors(name, "state")
        let (out, finals) = run(x, state)
        expectClose(out, Fixtures.tensor(name, "output"), tolerance: tight, "\(name) output")
        for (f, e) in zip(finals, Fixtures.tensors(name, "final")) { expectClose(f, e, tolerance: tight, "\(name) final state") }
        let loss = (out * fixtureWeights(out.shape)).sum() + finals.map { $0.sum() }.reduce(Tensor.zeros([], dtype: .float64), +)
        loss.backward()
        expectClose(x.grad!, Fixtures.tensor(name, "grad_input"), tolerance: tight, "\(name) input gradient")
        let expected = Fixtures.dictionary(name, "grad_params")
        for (key, p) in layer.namedParameters() {
            expectClose(p.grad!, expected[key]!, tolerance: tight, "\(name) gradient of \(key)")
        }
        #expect(Set(layer.namedParameters().map(\.0)) == Set(expected.keys))
    }

    @Test func lstmMatchesPyTorch() throws {
        let lstm = LSTM(inputSize: 4, hiddenSize: 6, numLayers: 2, batchFirst: true, dtype: .float64)
        try compare("lstm", lstm) { x, s in
            let (out, state) = lstm(x, LSTMState(hidden: s[0], cell: s[1]))
            return (out, [state.hidden, state.cell])
        }
    }

    @Test func bidirectionalLSTMMatchesPyTorch() throws {
        let lstm = LSTM(inputSize: 3, hiddenSize: 4, bidirectional: true, dtype: .float64)
        try compare("bilstm", lstm) { x, _ in
            let (out, state) = lstm(x)
            return (out, [state.hidden, state.cell])
        }
    }

    @Test func gruMatchesPyTorch() throws {
        let gru = GRU(inputSize: 3, hiddenSize: 5, numLayers: 2, bidirectional: true, dtype: .float64)
        try compare("gru", gru) { x, s in
            let (out, h) = gru(x, s[0])
            return (out, [h])
        }
    }

    @Test func reluRNNMatchesPyTorch() throws {
        let rnn = RNN(inputSize: 3, hiddenSize: 4, nonlinearity: .relu, batchFirst: true, bidirectional: true, dtype: .float64)
        try compare("rnn_relu", rnn) { x, s in
            let (out, h) = rnn(x, s[0])
            return (out, [h])
        }
    }

    /// float32 LSTMs run the backend's whole-sequence kernel (lstm.c on the CPU); float64 ones the
    /// composed per-step default. Both must agree on outputs, final states and every gradient,
    /// bidirectional and stacked, with a hidden size that is no multiple of the GEMM's tiles.
    @Test(.serialized, arguments: [1, 2, 4]) func float32SequenceKernelMatchesFloat64(threads: Int) {
        // 1 thread: recurrence, then the weight products; 2: the products on the second thread
        // beside the recurrence, in chunks of finished rows (25 steps at batch 5, so 30 steps
        // end in a partial chunk); 4: recurrence and products each over all threads.
        let previous = CPUThreads.count
        defer { CPUThreads.count = previous }
        CPUThreads.count = threads
        let g = RandomGenerator(seed: 21)
        for (bias, inputGradient) in [(true, true), (false, false)] {
            let wide = LSTM(inputSize: 6, hiddenSize: 20, numLayers: 2, bias: bias, bidirectional: true, dtype: .float64,
                            generator: g)
            let narrow = LSTM(inputSize: 6, hiddenSize: 20, numLayers: 2, bias: bias, bidirectional: true, dtype: .float32)
            try! narrow.loadStateDict(wide.stateDict())
            let x = Tensor.randn([30, 5, 6], generator: g)
            let h0 = Tensor.randn([4, 5, 20], generator: g), c0 = Tensor.randn([4, 5, 20], generator: g)
            let seedOut = Tensor.randn([30, 5, 40], generator: g)
            func run(_ layer: LSTM, _ dtype: DType) -> [Tensor] {
                let xs = inputGradient ? x.cast(to: dtype).requiringGrad() : x.cast(to: dtype)
                let hs = h0.cast(to: dtype).requiringGrad(), cs = c0.cast(to: dtype).requiringGrad()
                let (out, state) = layer(xs, LSTMState(hidden: hs, cell: cs))
                let loss = (out * seedOut.cast(to: dtype)).sum() + (state.hidden * state.hidden).sum() + state.cell.sum()
                let grads = gradients(of: [loss], withRespectTo: (inputGradient ? [xs] : []) + [hs, cs]
                                          + layer.parameters().map(\.value))
                return ([out, state.hidden, state.cell] + grads).map { $0.detached().cast(to: .float64) }
            }
            let expected = run(wide, .float64), got = run(narrow, .float32)
            #expect(got.count == expected.count)
            for (i, (a, b)) in zip(got, expected).enumerated() {
                expectClose(a, b, tolerance: Tolerance(absolute: 5e-5, relative: 5e-4),
                            "result \(i), \(threads) threads, bias \(bias)")
            }
        }
    }

    @Test func fusedCellsGradientCheck() {
        Tensor.manualSeed(3)
        let gates = Tensor.randn([3, 8], dtype: .float64), cell = Tensor.randn([3, 2], dtype: .float64)
        GradientCheck.check([gates, cell], "lstmCell") { x in
            let r = Tensor.lstmCell(gates: x[0], cell: x[1])
            return Tensor.stacked([r.hidden, r.cell * 0.7])
        }
        GradientCheck.checkSecondOrder([gates, cell], "lstmCell second order") { x in
            let r = Tensor.lstmCell(gates: x[0], cell: x[1])
            return r.hidden + r.cell
        }
        let xg = Tensor.randn([3, 6], dtype: .float64), hg = Tensor.randn([3, 6], dtype: .float64)
        let h = Tensor.randn([3, 2], dtype: .float64)
        GradientCheck.check([xg, hg, h], "gruCell") { x in Tensor.gruCell(inputGates: x[0], hiddenGates: x[1], hidden: x[2]) }
        GradientCheck.checkSecondOrder([xg, hg, h], "gruCell second order") { x in
            Tensor.gruCell(inputGates: x[0], hiddenGates: x[1], hidden: x[2])
        }
    }

    @Test func fusedCellsMatchComposition() {
        Tensor.manualSeed(4)
        for dtype in [DType.float32, .float64] {
            let gates = Tensor.randn([5, 12], dtype: dtype), cell = Tensor.randn([5, 3], dtype: dtype)
            let fused = Tensor.lstmCell(gates: gates, cell: cell), composed = Tensor.composedLSTMCell(gates: gates, cell: cell)
            expectClose(fused.hidden, composed.hidden, "lstm hidden \(dtype)")
            expectClose(fused.cell, composed.cell, "lstm cell \(dtype)")
            let xg = Tensor.randn([5, 9], dtype: dtype), hg = Tensor.randn([5, 9], dtype: dtype), h = Tensor.randn([5, 3], dtype: dtype)
            expectClose(Tensor.gruCell(inputGates: xg, hiddenGates: hg, hidden: h),
                        Tensor.composedGRUCell(inputGates: xg, hiddenGates: hg, hidden: h), "gru \(dtype)")
            // Strided gates (a transposed view) take the composed default path of the backend.
            let strided = Tensor.randn([12, 5], dtype: dtype).transposed()
            expectClose(Tensor.lstmCell(gates: strided, cell: cell).hidden,
                        Tensor.composedLSTMCell(gates: strided, cell: cell).hidden, "lstm strided \(dtype)")
        }
    }

    @Test func layersGradientCheck() {
        Tensor.manualSeed(5)
        let generator = RandomGenerator(seed: 9)
        let x = Tensor.randn([3, 2, 2], dtype: .float64), h0 = Tensor.randn([2, 2, 3], dtype: .float64)
        let c0 = Tensor.randn([2, 2, 3], dtype: .float64)
        let lstm = LSTM(inputSize: 2, hiddenSize: 3, bidirectional: true, dtype: .float64, generator: generator)
        func flat(_ ts: [Tensor]) -> Tensor { Tensor.concatenated(ts.map { $0.reshaped(to: [-1]) }, axis: 0) }
        GradientCheck.check([x, h0, c0], "LSTM inputs and states") { v in
            let (out, s) = lstm(v[0], LSTMState(hidden: v[1], cell: v[2]))
            return flat([out, s.hidden, s.cell])
        }
        GradientCheck.checkParameters(lstm.parameters(), "LSTM weights") {
            let (out, s) = lstm(x, LSTMState(hidden: h0, cell: c0))
            return (flat([out, s.hidden, s.cell]) * fixtureWeights([out.elementCount + 24])).sum()
        }
        let gru = GRU(inputSize: 2, hiddenSize: 3, numLayers: 2, dtype: .float64, generator: generator)
        GradientCheck.check([x, h0], "GRU inputs and state") { v in
            let (out, h) = gru(v[0], v[1])
            return flat([out, h])
        }
        GradientCheck.checkParameters(gru.parameters(), "GRU weights") {
            let (out, h) = gru(x, h0)
            return (flat([out, h]) * fixtureWeights([out.elementCount + 12])).sum()
        }
        let rnn = RNN(inputSize: 2, hiddenSize: 3, dtype: .float64, generator: generator)
        GradientCheck.check([x], "RNN input") { v in rnn(v[0]).output }
        GradientCheck.checkParameters(rnn.parameters(), "RNN weights") {
            (rnn(x).output * fixtureWeights([3, 2, 3])).sum()
        }
        GradientCheck.checkSecondOrder([x], "GRU layer second order (recorded backward)") { v in
            gru(v[0]).output.sum(axes: [0])
        }
        GradientCheck.checkSecondOrder([x], "LSTM layer second order (recorded backward)") { v in
            lstm(v[0]).output.sum(axes: [0])
        }
    }

    @Test func cellsMatchOneLayerStep() {
        let generator = RandomGenerator(seed: 2)
        let cell = LSTMCell(inputSize: 3, hiddenSize: 4, dtype: .float64, generator: generator)
        let layer = LSTM(inputSize: 3, hiddenSize: 4, dtype: .float64)
        for (p, q) in zip(layer.parameters(), cell.parameters()) { p.value = q.value }
        #expect(cell.namedParameters().map(\.0) == ["weight_ih", "weight_hh", "bias_ih", "bias_hh"])
        let x = Tensor.randn([2, 3], dtype: .float64)
        let s = cell(x, nil)
        let (out, state) = layer(x.unsqueezed(axis: 0))
        expectClose(s.hidden, out[0], tolerance: tight)
        expectClose(s.cell, state.cell[0], tolerance: tight)
        let gruCell = GRUCell(inputSize: 3, hiddenSize: 4, dtype: .float64, generator: generator)
        let gru = GRU(inputSize: 3, hiddenSize: 4, dtype: .float64)
        for (p, q) in zip(gru.parameters(), gruCell.parameters()) { p.value = q.value }
        expectClose(gruCell(x, nil), gru(x.unsqueezed(axis: 0)).output[0], tolerance: tight)
    }

    @Test func unbatchedInputAndStateCarry() {
        let lstm = LSTM(inputSize: 3, hiddenSize: 2, numLayers: 2, dtype: .float64, generator: RandomGenerator(seed: 1))
        let x = Tensor.randn([6, 3], dtype: .float64)
        let (whole, final) = lstm(x)
        #expect(whole.shape == [6, 2] && final.hidden.shape == [2, 2])
        // Running the sequence in two halves with the state carried gives the same outputs.
        let (first, mid) = lstm(x[0..<3])
        let (second, end) = lstm(x[3..<6], mid.detached())
        expectClose(Tensor.concatenated([first, second], axis: 0), whole, tolerance: tight)
        expectClose(end.cell, final.cell, tolerance: tight)
    }

    @Test func inputSizeMismatchNamesLayerAndShapes() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = LSTM(inputSize: 4, hiddenSize: 2)(Tensor.zeros([5, 3, 7]))
        }
        let text = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(text.contains("[LSTM] input [5, 3, 7] has 7 features, the layer expects inputSize 4"))
    }

    @Test func stateShapeMismatchNamesLayerAndShapes() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = GRU(inputSize: 4, hiddenSize: 2)(Tensor.zeros([5, 3, 4]), Tensor.zeros([1, 3, 5]))
        }
        let text = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(text.contains("[GRU] initial hidden state [1, 3, 5] should be [1, 3, 2]"))
    }

    /// A checkpoint's recorded configuration rebuilds the same network: JSON round trip, the
    /// same parameters from the same seed, and the shape the configuration names.
    @Test func charRNNConfigurationRebuildsTheNetwork() throws {
        let configuration = CharRNNConfiguration(vocabularySize: 13, embeddingSize: 5, hiddenSize: 7, layers: 2, cell: .gru)
        let decoded = try JSONDecoder().decode(CharRNNConfiguration.self, from: JSONEncoder().encode(configuration))
        #expect(decoded == configuration)
        let a = CharRNN(decoded, generator: RandomGenerator(seed: 3))
        let b = CharRNN(vocabularySize: 13, embeddingSize: 5, hiddenSize: 7, layers: 2, cell: .gru, generator: RandomGenerator(seed: 3))
        #expect(a.configuration == configuration && b.configuration == configuration)
        let sa = a.stateDict(), sb = b.stateDict()
        #expect(sa.keys.sorted() == sb.keys.sorted())
        for (name, value) in sa { #expect(value.scalars == sb[name]!.scalars, "\(name)") }
        #expect(sa["recurrent.weight_hh_l1"]?.shape == [3 * 7, 7] && sa["embedding.weight"]?.shape == [13, 5])
        #expect(throws: (any Error).self) { _ = try JSONDecoder().decode(CharRNNConfiguration.self, from: Data(#"{"cell":"tcn"}"#.utf8)) }
    }
}

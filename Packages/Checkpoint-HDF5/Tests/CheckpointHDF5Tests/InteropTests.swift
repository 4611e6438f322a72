import Foundation
import Testing
import TensorCore
import TensorCoreTesting
@testable import CheckpointHDF5

/// The README's round trip: PyTorch trains, Tools/interop converts, Tessera reproduces the
/// outputs. Runs where a Python with torch and h5py exists (the peers venv).
@Suite("PyTorch interop")
struct InteropTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var torchPython: String? {
        let venv = repositoryRoot.appendingPathComponent(".venv-peers/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: venv), (try? runPython(venv, "import torch, h5py")) != nil else { return nil }
        return venv
    }

    @Test(.enabled(if: torchPython != nil))
    func modelTrainedInPyTorchGivesTheSameOutputsInTessera() throws {
        let python = try #require(Self.torchPython)
        let directory = temporaryPath("interop")
        let script = Self.repositoryRoot.appendingPathComponent("Tools/interop/roundtrip_demo.py").path
        try runPython(python, "import runpy, sys; sys.argv = ['x', '\(directory)']; sys.path.insert(0, '\(Self.repositoryRoot.path)/Tools/interop'); runpy.run_path('\(script)', run_name='__main__')")
        let model = try CheckpointFile.load(from: directory + "/model.h5").model
        let inputs = try CheckpointFile.load(from: directory + "/inputs.h5").model
        let x = try #require(inputs["x"])
        let logits = x.linear(weight: model["0.weight"]!, bias: model["0.bias"]!).relu()
            .linear(weight: model["2.weight"]!, bias: model["2.bias"]!)
        expectClose(logits, try #require(inputs["torch_logits"]), tolerance: Tolerance(absolute: 1e-5, relative: 1e-5))

        // And back: Tessera's file converts to a .pt that torch loads with the same values.
        let saved = directory + "/tessera.h5"
        try CheckpointFile.save(Checkpoint(model: model), to: saved)
        let check = """
        import sys, torch
        sys.path.insert(0, '\(Self.repositoryRoot.path)/Tools/interop')
        import tessera_to_torch
        tessera_to_torch.main('\(saved)', '\(directory)/back.pt')
        a = torch.load('\(directory)/back.pt'); b = torch.load('\(directory)/model.pt')
        assert set(a) == set(b) and all(torch.equal(a[k], b[k]) for k in a)
        print('ok')
        """
        #expect(try runPython(python, check).hasSuffix("ok"))
    }
}

import Foundation
import Testing
@testable import TesseraCLI
import Training

extension CommandTests {
    @Suite("tessera launch and train --distributed")
    struct LaunchCommandTests {
        static let mpirun = ["/usr/bin/mpirun", "/usr/local/bin/mpirun"].first { FileManager.default.isExecutableFile(atPath: $0) }
        /// The tessera binary `swift test` built beside this test bundle.
        static let tessera = URL(fileURLWithPath: LaunchCommand.selfPath).deletingLastPathComponent()
            .appendingPathComponent("tessera").path
        static var canLaunch: Bool { mpirun != nil && FileManager.default.isExecutableFile(atPath: tessera) }

        /// The mpirun line: N ranks of this binary, --distributed added, the cores shared out.
        @Test(.enabled(if: mpirun != nil, "LaunchCommand looks mpirun up on PATH (CI/setup installs Open MPI)"))
        func launchBuildsTheMPIRunLine() throws {
            let launch = try LaunchCommand(arguments: ["--nproc", "2", "--timeout", "30", "--", "train", "mlp", "--epochs", "1"])
            let line = launch.launchArguments
            #expect(Array(line.prefix(4)) == ["-np", "2", "--bind-to", "none"])
            #expect(line.contains("TESSERA_COLLECTIVE_TIMEOUT=30.0"))
            let command = Array(line.drop { $0 != "train" })
            #expect(Array(command.prefix(4)) == ["train", "mlp", "--epochs", "1"])
            #expect(command.contains("--distributed"))
            let threads = try #require(command.firstIndex(of: "--threads"))
            #expect(Int(command[threads + 1]) == max(1, ProcessInfo.processInfo.activeProcessorCount / 2))
            let own = try LaunchCommand(arguments: ["--", "train", "lenet", "--threads", "1", "--distributed"]).launchArguments
            #expect(own.filter { $0 == "--threads" }.count == 1 && own.filter { $0 == "--distributed" }.count == 1)
        }

        /// Two ranks × batch 25 under mpirun reach what one process with batch 50 does (the same
        /// permutation, each step's 50 examples split between the ranks), and rank 0 writes
        /// results.json with world_size 2.
        @Test(.enabled(if: canLaunch, "needs mpirun (CI/setup installs Open MPI) and the tessera binary"))
        func twoRanksMatchOneProcess() throws {
            let root = TrainCommandTests().syntheticRoot()
            let common = ["mlp", "--dataset", "mnist", "--epochs", "2", "--hidden", "32", "--data", root, "--seed", "3"]
            let single = try TrainCommand(arguments: common + ["--batch-size", "50", "--out", root + "/one"]).run(print: { _ in })
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Self.mpirun!)
            process.arguments = ["--allow-run-as-root", "--oversubscribe", "-np", "2", Self.tessera, "train"] + common
                + ["--batch-size", "25", "--threads", "1", "--distributed", "--out", root + "/two"]
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            try process.run()
            let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "\(output)")
            // Rank 0 alone logs: each epoch's line once.
            #expect(output.components(separatedBy: "epoch 2: ").count == 2, "\(output)")
            let results = try JSONValue(parsing: Data(contentsOf: URL(fileURLWithPath: root + "/two/results.json")))
            #expect(results["configuration"]?["world_size"]?.numberValue == 2)
            #expect(results["configuration"]?["global_batch_size"]?.numberValue == 50)
            let loss = try #require(results["final"]?["test_loss"]?.numberValue)
            #expect(abs(loss - single.epochs.last!["test_loss"]!) < 1e-4, "\(loss) against \(single.epochs.last!["test_loss"]!)")
            #expect(results["final"]?["test_accuracy"]?.numberValue == single.epochs.last!["test_accuracy"])
        }
    }
}

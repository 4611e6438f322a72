import Foundation
import Testing
import Training
@testable import TesseraCLI

extension CommandTests {
    /// `tessera rl`: short runs write results.json (mean_return, evaluation_mean_return),
    /// returns.svg and model.h5, and --checkpoint evaluates the saved policy.
    struct RLCommandTests {
        func run(_ arguments: [String], out: String? = nil) throws -> (JSONValue, String) {
            let out = out ?? NSTemporaryDirectory() + "tessera-rl-\(UInt64.random(in: 0..<UInt64.max))"
            try RLCommand(arguments: arguments + ["--out", out]).run(print: { _ in })
            return (try JSONValue(parsing: Data(contentsOf: URL(fileURLWithPath: out + "/results.json"))), out)
        }

        @Test func trainsEvaluatesAndReloadsAPolicy() throws {
            let snapshots = NSTemporaryDirectory() + "tessera-rl-snapshots-\(UInt64.random(in: 0..<UInt64.max))"
            let (results, out) = try run(["cartpole", "--steps", "4096", "--episodes", "5", "--checkpoint-dir", snapshots])
            // Snapshots about every tenth of the run, the last three kept.
            #expect(try FileManager.default.contentsOfDirectory(atPath: snapshots).filter { $0.hasSuffix(".h5") }.count == 3)
            let final = try #require(results["final"])
            #expect(try #require(final["mean_return"]?.numberValue) > 5)
            #expect(final["environment_steps"]?.numberValue == 4096)
            let evaluated = try #require(final["evaluation_mean_return"]?.numberValue)
            for file in ["model.h5", "returns.svg"] { #expect(FileManager.default.fileExists(atPath: out + "/" + file), "\(file)") }
            guard case .array(let epochs)? = results["epochs"] else { Issue.record("no epochs"); return }
            #expect(epochs.count == 8)  // 4096 steps in updates of 4 × 128
            // The saved policy evaluated again on the same episodes gives the same mean.
            let (again, _) = try run(["cartpole", "--checkpoint", out + "/model.h5", "--episodes", "5", "--seed", String(1_000_003)])
            #expect(again["final"]?["evaluation_mean_return"]?.numberValue == evaluated)
            let (dqn, dqnOut) = try run(["gridworld", "--algorithm", "dqn", "--double", "--steps", "2000", "--episodes", "3"])
            #expect(dqn["final"]?["episodes"]?.numberValue ?? 0 > 0)
            let (reloaded, _) = try run(["gridworld", "--checkpoint", dqnOut + "/model.h5", "--episodes", "3"])
            #expect(reloaded["final"]?["evaluation_mean_return"]?.numberValue != nil)
        }

        @Test func misuseIsAUsageError() {
            for bad in [["pong"], ["cartpole", "--algorithm", "sarsa"], ["pendulum", "--algorithm", "dqn"],
                        ["cartpole", "--double"], ["cartpole", "--steps", "10"], ["cartpole", "--checkpoint", "/nonexistent.h5"],
                        ["cartpole", "--resume"]] {
                #expect(throws: UsageError.self, "\(bad)") { _ = try RLCommand(arguments: bad) }
            }
        }
    }
}

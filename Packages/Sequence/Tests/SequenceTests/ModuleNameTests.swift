import Testing
import SequenceModels

/// The module's name must not shadow the standard library: `Sequence` stays Swift's protocol
/// in code that imports the package, and the package's types can be qualified.
@Suite("The SequenceModels module name")
struct ModuleNameTests {
    /// Compiles only while `Sequence` means `Swift.Sequence` here.
    private func count<S: Sequence>(_ s: S) -> Int { s.reduce(0) { n, _ in n + 1 } }

    @Test func userCodeQualifiesItsTypesAndKeepsSwiftsSequence() {
        let qualified: SequenceModels.GPTConfiguration.Type = SequenceModels.GPTConfiguration.self
        #expect(String(reflecting: qualified) == "SequenceModels.GPTConfiguration")
        #expect(String(reflecting: SequenceModels.GPT.self) == "SequenceModels.GPT")
        #expect(count([3, 1, 4]) == 3)
    }
}

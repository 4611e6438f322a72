import Testing
import TensorCore
@testable import CUDABackend

/// The typed tables between Swift and the CUDA C kernels: op codes and kernel slots come from
/// one declaration each, so a case added on one side cannot silently miss the other.
@Suite("CUDA op codes and kernel tables")
struct KernelTableTests {
    @Test func everyUnaryOpMapsToTheCodeOfItsName() {
        for op in UnaryOp.representativeCases where op != .logicalNot {
            let code = CUDAOpCode.unary(op, dtype: .float32).code
            let name = String(describing: op).prefix { $0 != "(" }
            #expect(String(describing: UnaryCode(rawValue: code)!) == name, "\(op) -> code \(code)")
        }
        #expect(CUDAOpCode.unary(.logicalNot, dtype: .bool).code == -1)
    }

    @Test func everyBinaryOpMapsToTheCodeOfItsName() {
        for op in BinaryOp.allCases {
            #expect(String(describing: BinaryCode(rawValue: CUDAOpCode.binary(op))!) == String(describing: op))
        }
    }

    @Test func thePreludeDefinesEveryCodeAsItsNumber() {
        let definitions = CUDAOpCode.definitions
        #expect(cMacroName("UNARY", UnaryCode.leakyRelu) == "UNARY_LEAKY_RELU")
        #expect(definitions.contains("#define UNARY_LEAKY_RELU \(UnaryCode.leakyRelu.rawValue)\n"))
        #expect(definitions.contains("#define BINARY_GELU_TANH_BACKWARD \(BinaryCode.geluTanhBackward.rawValue)"))
        #expect(definitions.split(separator: "\n").count == UnaryCode.allCases.count + BinaryCode.allCases.count)
        // The kernels use the macros, never bare numbers.
        for module in KernelModule.allCases {
            #expect(module.source(for: module.dtypes.first!).hasPrefix(KernelPrelude.common + "\n" + definitions))
        }
        #expect(!ElementwiseKernels.source.contains("case 1:"))
    }

    @Test func kernelSlotsAreTheDeclarationOrder() {
        for (index, kernel) in BuiltinKernel.allCases.enumerated() { #expect(kernel.slot == index, "\(kernel)") }
        for module in KernelModule.allCases { #expect(!CUDAKernelNames.names(in: module).isEmpty) }
    }
}

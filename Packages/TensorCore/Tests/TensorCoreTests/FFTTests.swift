import Foundation
import Testing
@testable import TensorCore
import TensorCoreTesting

/// `FFT` against NumPy's pocketfft (Fixtures/generate_fft_fixtures.py writes fft_ops.json) and
/// its gradients against central differences.
@Suite("FFT matches NumPy")
struct FFTTests {
    static let fixtures: [String: [String: Any]] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/fft_ops.json")
        return try! JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: [String: Any]]
    }()

    static func tensor(_ name: String, _ key: String) -> Tensor {
        let json = fixtures[name]![key] as! [String: Any]
        return Tensor((json["data"] as! [NSNumber]).map { $0.doubleValue }, shape: json["shape"] as! [Int])
    }

    static func near(_ a: Tensor, _ e: Tensor, _ relative: Double = 1e-12, _ comment: Comment? = nil,
                     sourceLocation: SourceLocation = #_sourceLocation) {
        LinalgTests.expectNear(a, e, relative: relative, comment, sourceLocation: sourceLocation)
    }

    @Test(arguments: [1, 2, 3, 8, 12, 17, 30, 64, 100])
    func oneDimensional(_ n: Int) {
        let name = "n\(n)"
        let z = Self.tensor(name, "z"), x = Self.tensor(name, "x")
        Self.near(FFT.fft(z), Self.tensor(name, "fft"), 1e-12, "fft")
        Self.near(FFT.ifft(z), Self.tensor(name, "ifft"), 1e-12, "ifft")
        Self.near(FFT.fft(z, normalization: .ortho), Self.tensor(name, "ortho"), 1e-12, "ortho")
        Self.near(FFT.ifft(z, normalization: .forward), Self.tensor(name, "forward"), 1e-12, "forward")
        Self.near(FFT.rfft(x), Self.tensor(name, "rfft"), 1e-12, "rfft")
        Self.near(FFT.irfft(FFT.rfft(x), length: n), Self.tensor(name, "irfft"), 1e-12, "irfft")
        Self.near(FFT.rfft(x.cast(to: .float32)), Self.tensor(name, "rfft"), 1e-5, "rfft float32")
        Self.near(FFT.fft(z.cast(to: .float32)), Self.tensor(name, "fft"), 1e-5, "fft float32")
    }

    @Test func lengthsAndAxes() {
        let c = "padded_axis0"
        Self.near(FFT.fft(Self.tensor(c, "z"), length: 8, axis: 0), Self.tensor(c, "fft8"))
        Self.near(FFT.rfft(Self.tensor(c, "x"), length: 4, axis: 0), Self.tensor(c, "rfft4"))
        let s = Self.tensor("irfft_lengths", "s")
        Self.near(FFT.irfft(s, length: 7), Self.tensor("irfft_lengths", "n7"))
        Self.near(FFT.irfft(s), Self.tensor("irfft_lengths", "n8"))
        Self.near(FFT.irfft(s, length: 3), Self.tensor("irfft_lengths", "n3"))
    }

    @Test func twoDimensional() {
        let c = "two_d"
        let x = Self.tensor(c, "x")
        Self.near(FFT.rfft2(x), Self.tensor(c, "rfft2"))
        Self.near(FFT.irfft2(FFT.rfft2(x), width: 10), Self.tensor(c, "irfft2"))
        Self.near(FFT.fft2(Self.tensor(c, "z")), Self.tensor(c, "fft2"))
        Self.near(FFT.ifft2(Self.tensor(c, "z")), Self.tensor(c, "ifft2"))
    }

    @Test func convolutionEqualsTheDirectOne() {
        let a = Self.tensor("convolve", "a"), b = Self.tensor("convolve", "b")
        Self.near(FFT.convolve(a, b), Self.tensor("convolve", "full"))
        // And against Tessera's own direct convolution: conv1d of the flipped kernel, fully padded.
        let direct = a.unsqueezed(axis: 1).conv1d(weight: b.flipped(axes: [0]).reshaped(to: [1, 1, 13]), padding: 12)
            .squeezed(axis: 1)
        Self.near(FFT.convolve(a, b), direct)
    }

    @Test func largePrimeAndPowerOfTwoRoundTrip() {
        for n in [4099, 1 << 14] {
            let x = Tensor.randn([n], dtype: .float64, generator: RandomGenerator(seed: UInt64(n)))
            Self.near(FFT.irfft(FFT.rfft(x), length: n), x, 1e-12, "n = \(n)")
            // Parseval: Σ|x|² = Σ|X|² / n over the full spectrum.
            let z = FFT.complex(real: x, imaginary: Tensor.zeros([n], dtype: .float64))
            let energy = FFT.fft(z).squared().sum().item(as: Double.self) / Double(n)
            #expect(Swift.abs(energy - x.squared().sum().item(as: Double.self)) < 1e-9 * energy)
        }
    }

    @Test func gradients() {
        for n in [8, 7] {
            let z = sample([2, n, 2], seed: UInt64(n)), x = sample([2, n], seed: UInt64(n + 1))
            GradientCheck.check([z], "fft \(n)") { FFT.fft($0[0]) }
            GradientCheck.check([z], "ifft ortho \(n)") { FFT.ifft($0[0], normalization: .ortho) }
            GradientCheck.check([x], "rfft \(n)") { FFT.rfft($0[0]) }
            let spectrum = sample([2, n / 2 + 1, 2], seed: UInt64(n + 2))
            GradientCheck.check([spectrum], "irfft \(n)") { FFT.irfft($0[0], length: n) }
        }
        let img = sample([5, 6], seed: 3)
        GradientCheck.check([img], "rfft2 along both axes") { FFT.rfft2($0[0]) }
        GradientCheck.check([sample([9], seed: 4), sample([4], seed: 5)], "convolve") { FFT.convolve($0[0], $0[1]) }
    }
}

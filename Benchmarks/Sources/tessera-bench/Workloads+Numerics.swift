import TensorCore

/// Linear algebra at 512×512 float64 and a real FFT of 2²⁰ points, named as in
/// peers/torch_bench.py (issue 16's targets).
func numericsWorkloads(_ g: RandomGenerator) -> [Workload] {
    let n = 512
    func matrix() -> Tensor { Tensor.randn([n, n], dtype: .float64, generator: g) + Double(n).squareRoot() * Tensor.eye(n, dtype: .float64) }
    return [
        Workload(name: "solve_512_f64", unit: "op/s", workPerStep: 1) {
            let a = matrix(), b = Tensor.randn([n, 1], dtype: .float64, generator: g)
            return { _ = try! Linalg.solve(a, b) }
        },
        Workload(name: "svd_512_f64", unit: "op/s", workPerStep: 1) {
            let a = matrix()
            return { _ = Linalg.svd(a) }
        },
        Workload(name: "eigh_512_f64", unit: "op/s", workPerStep: 1) {
            let x = matrix(), a = x + x.transposed()
            return { _ = Linalg.eigh(a) }
        },
        Workload(name: "rfft_1M", unit: "Msample/s", workPerStep: Double(1 << 20) / 1e6) {
            let x = Tensor.randn([1 << 20], generator: g)
            return { _ = FFT.rfft(x) }
        },
    ]
}

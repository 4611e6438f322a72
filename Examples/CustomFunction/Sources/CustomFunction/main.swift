import TensorCore

/// `log(1 + exp(x))` with a hand-written, stable backward: `σ(x)` times the incoming gradient.
func softplus(_ x: Tensor) -> Tensor {
    Tensor.custom([x], forward: { x in (x[0].relu() + (-x[0].abs()).exp().log1p()) },
                  backward: { g, x, _ in [g * x[0].sigmoid()] })
}

let x = Tensor([-30, -1, 0, 0.5, 40] as [Double]).requiringGrad()
let y = softplus(x).sum()
y.backward()
// Central differences in float64 for each element.
let h = 1e-6
var worst = 0.0
for i in 0..<5 {
    var up = x.detached().scalars(as: Double.self), down = up
    up[i] += h; down[i] -= h
    let numeric = (softplus(Tensor(up)).sum().item(as: Double.self) - softplus(Tensor(down)).sum().item(as: Double.self)) / (2 * h)
    worst = max(worst, abs(numeric - x.grad!.scalars(as: Double.self)[i]))
}
print("softplus:", softplus(x.detached()).scalars(as: Double.self))
print("largest gradient error against central differences:", worst)
guard worst < 1e-6 else { fatalError("custom gradient differs from central differences by \(worst)") }

"""The GPU workloads of tessera-gpu-bench in PyTorch on CUDA, printing the same JSON lines.

    python3 Benchmarks/peers/torch_gpu_bench.py [--workload NAME[,NAME]] [--budget SECONDS]

Synchronises around every timed loop; the median of `--samples` loops is reported.
"""
import argparse
import json
import time

import torch


def workloads():
    dev = torch.device("cuda")
    gen = torch.Generator(device=dev).manual_seed(1)
    out = {}

    def gemm(n, dtype, tf32):
        def make():
            a = torch.randn(n, n, device=dev, generator=gen).to(dtype)
            b = torch.randn(n, n, device=dev, generator=gen).to(dtype)

            def step():
                torch.backends.cuda.matmul.allow_tf32 = tf32
                a @ b
            return step
        return make

    for n in (4096, 8192):
        for label, dtype, tf32 in (("f32", torch.float32, False), ("tf32", torch.float32, True), ("bf16", torch.bfloat16, False)):
            out[f"gemm_{label}_{n}"] = ("TFLOP/s", 2 * n ** 3 / 1e12, gemm(n, dtype, tf32))

    big = 64 * 1024 * 1024

    def add():
        a = torch.randn(big, device=dev, generator=gen)
        b = torch.randn(big, device=dev, generator=gen)
        return lambda: a + b
    out["add_64M"] = ("GB/s", 3 * 4 * big / 1e9, add)

    def softmax():
        x = torch.randn(8192, 4096, device=dev, generator=gen)
        return lambda: torch.softmax(x, dim=-1)
    out["softmax_8192x4096"] = ("GB/s", 2 * 4 * 8192 * 4096 / 1e9, softmax)

    def train(model, x, y, optimizer):
        def step():
            loss = torch.nn.functional.cross_entropy(model(x), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        return step

    def mlp():
        nn = torch.nn
        model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10)).to(dev)
        x = torch.randn(512, 784, device=dev, generator=gen)
        y = torch.randint(0, 10, (512,), device=dev, generator=gen)
        return train(model, x, y, torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9))
    out["mlp_train_step_b512"] = ("Ksample/s", 512e-3, mlp)

    def lenet():
        nn = torch.nn
        # Tessera's LeNet5: ReLU and max pooling.
        model = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
                              nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                              nn.Linear(84, 10)).to(dev)
        x = torch.rand(256, 1, 28, 28, device=dev, generator=gen)
        y = torch.randint(0, 10, (256,), device=dev, generator=gen)
        return train(model, x, y, torch.optim.Adam(model.parameters(), lr=1e-3))
    out["lenet_train_step_b256"] = ("Ksample/s", 256e-3, lenet)
    return out


def measure(step, samples, budget):
    step()
    torch.cuda.synchronize()
    iterations = 1
    while True:
        start = time.perf_counter()
        for _ in range(iterations):
            step()
        torch.cuda.synchronize()
        elapsed = time.perf_counter() - start
        if elapsed > budget / 4 or iterations > 1 << 20:
            break
        iterations *= 2
    per_sample = max(1, int(iterations * budget / max(elapsed, 1e-9)))
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        for _ in range(per_sample):
            step()
        torch.cuda.synchronize()
        times.append((time.perf_counter() - start) / per_sample)
    return sorted(times)[len(times) // 2]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--workload")
    parser.add_argument("--budget", type=float, default=0.5)
    parser.add_argument("--samples", type=int, default=5)
    parser.add_argument("--list", action="store_true")
    args = parser.parse_args()
    table = workloads()
    if args.list:
        print("\n".join(table))
        return
    names = args.workload.split(",") if args.workload else list(table)
    for name in names:
        unit, work, make = table[name]
        seconds = measure(make(), args.samples, args.budget)
        torch.backends.cuda.matmul.allow_tf32 = False
        print(json.dumps({"workload": name, "impl": "torch", "rate": work / seconds, "unit": unit,
                          "seconds_per_step": seconds, "device": torch.cuda.get_device_name()}), flush=True)


if __name__ == "__main__":
    main()

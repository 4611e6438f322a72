"""The Benchmarks workloads in PyTorch, printing the same JSON lines as tessera-bench.

    .venv-peers/bin/python Benchmarks/peers/torch_bench.py [--workload NAME[,NAME]] [--threads N]
"""
import argparse
import json
import math
import os
import resource
import tempfile
import time

import torch


class ResNet20(torch.nn.Module):
    """CIFAR ResNet-20 (He et al. 2016, option B shortcuts: 1×1 conv + BN when the shape
    changes), the same network as Tessera's ResNet.cifar(depth: 20)."""

    class Block(torch.nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            nn = torch.nn
            self.body = nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
                                      nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout))
            self.short = nn.Identity() if stride == 1 and cin == cout else \
                nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

        def forward(self, x):
            return torch.relu(self.body(x) + self.short(x))

    def __init__(self):
        super().__init__()
        nn = torch.nn
        layers, cin = [nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU()], 16
        for i, width in enumerate((16, 32, 64)):
            for b in range(3):
                layers.append(ResNet20.Block(cin, width, 2 if b == 0 and i > 0 else 1))
                cin = width
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        return self.fc(self.features(x).mean(dim=(2, 3)))


class TinyGPT(torch.nn.Module):
    """nanoGPT's model (pre-norm blocks, fused QKV, causal SDPA, tanh-GELU MLP, tied head),
    the same architecture as Tessera's GPT."""

    class Block(torch.nn.Module):
        def __init__(self, width, heads):
            super().__init__()
            self.heads = heads
            self.ln1, self.ln2 = torch.nn.LayerNorm(width), torch.nn.LayerNorm(width)
            self.qkv, self.proj = torch.nn.Linear(width, 3 * width), torch.nn.Linear(width, width)
            self.fc, self.out = torch.nn.Linear(width, 4 * width), torch.nn.Linear(4 * width, width)

        def forward(self, x):
            b, t, c = x.shape
            q, k, v = self.qkv(self.ln1(x)).view(b, t, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
            y = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
            x = x + self.proj(y.transpose(1, 2).reshape(b, t, c))
            return x + self.out(torch.nn.functional.gelu(self.fc(self.ln2(x)), approximate="tanh"))

    def __init__(self, vocab, block, layers, heads, width):
        super().__init__()
        self.wte, self.wpe = torch.nn.Embedding(vocab, width), torch.nn.Embedding(block, width)
        self.blocks = torch.nn.ModuleList([TinyGPT.Block(width, heads) for _ in range(layers)])
        self.ln = torch.nn.LayerNorm(width)

    def forward(self, idx):
        x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1]))
        for block in self.blocks:
            x = block(x)
        return self.ln(x) @ self.wte.weight.t()


class DiffusionUNet(torch.nn.Module):
    """Tessera's DiffusionUNet with DiffusionConfiguration's defaults: a 3×3 stem to 32 channels;
    levels of widths 32, 64, 64 with one residual block each (group norm, SiLU, conv, the
    embedding added per channel, group norm, SiLU, conv; 1×1 skip when the width changes),
    stride-2 3×3 convolutions between them; self-attention (group norm, 4-head attention over
    the positions, residual) after the blocks of the 7×7 level and in the middle between two
    blocks; two blocks per level on the way up over concatenated skips, nearest upsampling
    with a 3×3 conv; group norm, SiLU, a 3×3 output conv. Sinusoidal timesteps through a
    2-layer SiLU MLP to 128, plus a class embedding of 11 (10 classes and "none")."""

    class Block(torch.nn.Module):
        def __init__(self, cin, cout, emb):
            super().__init__()
            nn = torch.nn
            self.norm1, self.conv1 = nn.GroupNorm(DiffusionUNet.groups(cin), cin), nn.Conv2d(cin, cout, 3, padding=1)
            self.emb = nn.Linear(emb, cout)
            self.norm2, self.conv2 = nn.GroupNorm(DiffusionUNet.groups(cout), cout), nn.Conv2d(cout, cout, 3, padding=1)
            self.skip = nn.Identity() if cin == cout else nn.Conv2d(cin, cout, 1)

        def forward(self, x, e):
            h = self.conv1(torch.nn.functional.silu(self.norm1(x))) + self.emb(e)[:, :, None, None]
            return self.conv2(torch.nn.functional.silu(self.norm2(h))) + self.skip(x)

    class Attention(torch.nn.Module):
        def __init__(self, c, heads):
            super().__init__()
            self.norm = torch.nn.GroupNorm(DiffusionUNet.groups(c), c)
            self.attn = torch.nn.MultiheadAttention(c, heads, batch_first=True)

        def forward(self, x):
            n, c, h, w = x.shape
            t = self.norm(x).reshape(n, c, h * w).transpose(1, 2)
            return x + self.attn(t, t, t, need_weights=False)[0].transpose(1, 2).reshape(n, c, h, w)

    @staticmethod
    def groups(c):
        return next(g for g in (32, 16, 8, 4, 2, 1) if c % g == 0 and c // g >= 2)

    def __init__(self, base=32, mults=(1, 2, 2), classes=10, heads=4):
        super().__init__()
        nn = torch.nn
        emb = 4 * base
        self.base = base
        self.stem = nn.Conv2d(1, base, 3, padding=1)
        self.time = nn.Sequential(nn.Linear(base, emb), nn.SiLU(), nn.Linear(emb, emb))
        self.classes = nn.Embedding(classes + 1, emb)
        widths = [m * base for m in mults]
        self.down, skips, ch = nn.ModuleList(), [base], base
        for level, w in enumerate(widths):
            self.down.append(self.Block(ch, w, emb)); ch = w
            if level == len(widths) - 1: self.down.append(self.Attention(w, heads))
            skips.append(w)
            if level < len(widths) - 1:
                self.down.append(nn.Conv2d(ch, ch, 3, stride=2, padding=1)); skips.append(ch)
        self.middle = nn.ModuleList([self.Block(ch, ch, emb), self.Attention(ch, heads), self.Block(ch, ch, emb)])
        self.up = nn.ModuleList()
        for level in reversed(range(len(widths))):
            for _ in range(2):
                self.up.append(self.Block(ch + skips.pop(), widths[level], emb)); ch = widths[level]
                if level == len(widths) - 1: self.up.append(self.Attention(ch, heads))
            if level > 0:
                self.up.append(nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(ch, ch, 3, padding=1)))
        self.out_norm, self.out = nn.GroupNorm(self.groups(ch), ch), nn.Conv2d(ch, 1, 3, padding=1)

    def embedding(self, t):
        half = self.base // 2
        f = torch.exp(-torch.log(torch.tensor(10000.0)) * torch.arange(half) / half)
        a = t[:, None].float() * f[None]
        return torch.cat([a.sin(), a.cos()], dim=1)

    def forward(self, x, t, y):
        e = torch.nn.functional.silu(self.time(self.embedding(t)) + self.classes(y))
        h = self.stem(x)
        skips = [h]
        for m in self.down:
            if isinstance(m, self.Block): h = m(h, e); skips.append(h)
            elif isinstance(m, self.Attention): h = m(h); skips[-1] = h
            else: h = m(h); skips.append(h)
        for m in self.middle:
            h = m(h, e) if isinstance(m, self.Block) else m(h)
        for m in self.up:
            h = m(torch.cat([h, skips.pop()], dim=1), e) if isinstance(m, self.Block) else m(h)
        return self.out(torch.nn.functional.silu(self.out_norm(h)))


def workloads():
    g = torch.Generator().manual_seed(1)
    w = {}

    def randn(*shape, std=1.0):
        return torch.randn(*shape, generator=g) * std

    for n in (256, 1024, 2048):
        def gemm(n=n):
            a, b = randn(n, n), randn(n, n)
            return lambda: a @ b
        w[f"gemm_{n}"] = ("GFLOP/s", 2 * n ** 3 / 1e9, gemm)

    big = 16 * 1024 * 1024

    def add():
        a, b = randn(big), randn(big)
        return lambda: a + b
    w["add_16M"] = ("GB/s", 3 * 4 * big / 1e9, add)

    def muladd():
        a, b, c = randn(big), randn(big), randn(big)
        return lambda: a * b + c
    w["muladd_16M"] = ("Gelem/s", big / 1e9, muladd)

    def softmax():
        x = randn(4096, 1024)
        return lambda: torch.softmax(x, dim=-1)
    w["softmax_4096x1024"] = ("Gelem/s", 4096 * 1024 / 1e9, softmax)

    def sum1():
        x = randn(4096, 1024)
        return lambda: x.sum(dim=1)
    w["sum_axis1_4096x1024"] = ("GB/s", 4096 * 1024 * 4 / 1e9, sum1)

    def sum0():
        x = randn(4096, 1024)
        return lambda: x.sum(dim=0)
    w["sum_axis0_4096x1024"] = ("GB/s", 4096 * 1024 * 4 / 1e9, sum0)

    def tiny_add():
        a, b = torch.tensor([1.0, 2, 3, 4]), torch.tensor([5.0, 6, 7, 8])
        return lambda: a + b
    w["tiny_add"] = ("Mop/s", 1e-6, tiny_add)

    def tiny_autograd():
        x = torch.tensor([0.1, 0.2, 0.3, 0.4], requires_grad=True)
        wt, b = torch.tensor([1.0, -1, 0.5, 2]), torch.tensor([0.1, 0.1, 0.1, 0.1])

        def step():
            y = ((x * wt + b).tanh() * x).sum()
            y.backward()
            x.grad = None
        return step
    w["tiny_autograd_step"] = ("Kstep/s", 1e-3, tiny_autograd)

    def mlp():
        x = randn(128, 784)
        w1 = randn(784, 512, std=0.03).requires_grad_()
        w2 = randn(512, 256, std=0.05).requires_grad_()
        w3 = randn(256, 10, std=0.06).requires_grad_()

        def step():
            y = (x @ w1).relu() @ w2
            y = y.relu() @ w3
            y.sum().backward()
            w1.grad = None
            w2.grad = None
            w3.grad = None
        return step
    w["mlp3_fwd_bwd_b128"] = ("Ksample/s", 128e-3, mlp)

    def mlp_train():
        torch.manual_seed(1)
        x = randn(128, 784)
        y = torch.randint(0, 10, (128,), generator=g)
        model = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(), torch.nn.Linear(512, 256),
                                    torch.nn.ReLU(), torch.nn.Linear(256, 10))
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

        def step():
            loss = torch.nn.functional.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        return step
    w["mlp_train_step_b128"] = ("Ksample/s", 128e-3, mlp_train)

    def adam_update():
        p = torch.nn.Parameter(randn(10_000_000))
        p.grad = randn(10_000_000)
        opt = torch.optim.Adam([p], lr=1e-3)
        return opt.step
    w["adam_update_10M"] = ("Gparam/s", 10e6 / 1e9, adam_update)

    def lenet():
        x = torch.rand(64, 1, 28, 28, generator=g)
        y = torch.randint(0, 10, (64,), generator=g)
        model = torch.nn.Sequential(
            torch.nn.Conv2d(1, 6, 5, padding=2), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Conv2d(6, 16, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(),
            torch.nn.Linear(400, 120), torch.nn.ReLU(), torch.nn.Linear(120, 84), torch.nn.ReLU(), torch.nn.Linear(84, 10))
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)

        def step():
            loss = torch.nn.functional.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        return step
    w["lenet_train_step_b64"] = ("Ksample/s", 64e-3, lenet)

    def conv_lenet():
        x = randn(64, 6, 14, 14).requires_grad_()
        wt = (randn(16, 6, 5, 5) * 0.1).requires_grad_()

        def step():
            torch.nn.functional.conv2d(x, wt).sum().backward()
            x.grad = None
            wt.grad = None
        return step
    w["conv2d_fwd_bwd_lenet_b64"] = ("GFLOP/s", 3 * 2 * 64 * 16 * 10 * 10 * 6 * 25 / 1e9, conv_lenet)

    def resnet20():
        model = ResNet20()
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
        x = torch.rand(32, 3, 32, 32, generator=g)
        y = torch.randint(0, 10, (32,), generator=g)

        def step():
            loss = torch.nn.functional.cross_entropy(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        return step
    w["resnet20_train_step_b32"] = ("Ksample/s", 32e-3, resnet20)

    def conv():
        x = randn(32, 16, 32, 32).requires_grad_()
        wt = (randn(16, 16, 3, 3) * 0.1).requires_grad_()

        def step():
            torch.nn.functional.conv2d(x, wt, padding=1).sum().backward()
            x.grad = None
            wt.grad = None
        return step
    w["conv2d_fwd_bwd_resnet20_b32"] = ("GFLOP/s", 3 * 2 * 32 * 16 * 16 * 9 * 32 * 32 / 1e9, conv)

    # Kept in step with `convolutionShapes` in tessera-bench's Workloads.swift:
    # (name, n, c, h, o, k, stride, groups), padding k // 2.
    conv_shapes = [("resnet20_s2_b32", 32, 16, 32, 32, 3, 2, 1), ("resnet20_c32_b32", 32, 32, 16, 32, 3, 1, 1),
                   ("resnet20_c64_b32", 32, 64, 8, 64, 3, 1, 1), ("pointwise_b32", 32, 64, 16, 128, 1, 1, 1),
                   ("depthwise_b32", 32, 64, 32, 64, 3, 1, 64)]
    for name, n, c, h, o, k, stride, groups in conv_shapes:
        def shaped(n=n, c=c, h=h, o=o, k=k, stride=stride, groups=groups):
            x = randn(n, c, h, h).requires_grad_()
            wt = (randn(o, c // groups, k, k) * 0.1).requires_grad_()

            def step():
                torch.nn.functional.conv2d(x, wt, stride=stride, padding=k // 2, groups=groups).sum().backward()
                x.grad = None
                wt.grad = None
            return step
        out = (h + 2 * (k // 2) - k) // stride + 1
        w["conv2d_fwd_bwd_" + name] = ("GFLOP/s", 3 * 2 * n * o * out * out * (c // groups) * k * k / 1e9, shaped)

    def lstm_layer():
        lstm = torch.nn.LSTM(256, 256, batch_first=True)
        x = randn(32, 64, 256).requires_grad_()

        def step():
            out, _ = lstm(x)
            out.sum().backward()
            x.grad = None
            lstm.zero_grad(set_to_none=True)
        return step
    w["lstm_fwd_bwd_b32_t64_h256"] = ("Ktoken/s", 32 * 64 / 1e3, lstm_layer)

    def gpt_step():
        model = TinyGPT(vocab=65, block=128, layers=6, heads=6, width=192)
        decay = [p for p in model.parameters() if p.dim() >= 2]
        plain = [p for p in model.parameters() if p.dim() < 2]
        opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": plain, "weight_decay": 0.0}],
                                lr=1e-3, betas=(0.9, 0.99))
        x = torch.randint(0, 65, (16, 128), generator=g)
        y = torch.randint(0, 65, (16, 128), generator=g)

        def step():
            logits = model(x)
            loss = torch.nn.functional.cross_entropy(logits.view(-1, 65), y.view(-1))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
        return step
    w["gpt_train_step_16x128"] = ("Ktoken/s", 16 * 128 / 1e3, gpt_step)

    def ddpm_train():
        net, average = DiffusionUNet(), DiffusionUNet()
        average.load_state_dict(net.state_dict())
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
        x = torch.rand(32, 1, 28, 28, generator=g)
        labels = torch.randint(0, 10, (32,), generator=g)
        bars = torch.cumprod(1 - torch.tensor([min(1 - math.cos(((i + 1) / 1000 + 0.008) / 1.008 * math.pi / 2) ** 2
                                                   / math.cos((i / 1000 + 0.008) / 1.008 * math.pi / 2) ** 2, 0.999)
                                               for i in range(1000)]), 0)

        def step():
            # Tessera's Diffusion.loss: uniform timesteps, Gaussian noise, 10% of classes dropped, ε's MSE.
            x0 = x * 2 - 1
            t = torch.randint(0, 1000, (32,))
            noise = torch.randn(x0.shape)
            y = torch.where(torch.rand(32) < 0.1, torch.full((32,), 10), labels)
            a = bars[t][:, None, None, None]
            loss = ((net(a.sqrt() * x0 + (1 - a).sqrt() * noise, t, y) - noise) ** 2).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            with torch.no_grad():
                for p, q in zip(average.parameters(), net.parameters()):
                    p.mul_(0.999).add_(q, alpha=0.001)
        return step
    w["ddpm_unet_train_step_b32"] = ("Ksample/s", 32e-3, ddpm_train)

    def ddpm_sample():
        net = DiffusionUNet().eval()
        x = randn(32, 1, 28, 28)
        labels = torch.randint(0, 10, (32,), generator=g)
        t = torch.full((32,), 500)

        def step():
            with torch.no_grad():
                net(x, t, labels)
        return step
    w["ddpm_unet_sample_step_b32"] = ("Ksample/s", 32e-3, ddpm_sample)

    directory = os.environ.get("TESSERA_BENCH_DIR", tempfile.gettempdir())
    path = os.path.join(directory, "torch-bench-100M.pt")

    def state():
        return {f"layer{i}.weight": randn(1000, 10_000) for i in range(10)}

    def save_durably(model):
        # Same durability as Tessera's save: the bytes are on disk when it returns.
        torch.save(model, path)
        fd = os.open(path, os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)

    def checkpoint_save():
        model = state()
        return lambda: save_durably(model)
    w["checkpoint_save_100M"] = ("GB/s", 0.4, checkpoint_save)

    def checkpoint_load():
        save_durably(state())
        return lambda: torch.load(path, weights_only=True)
    w["checkpoint_load_100M"] = ("GB/s", 0.4, checkpoint_load)
    n = 512

    def matrix():
        return torch.randn(n, n, generator=g, dtype=torch.float64) + n ** 0.5 * torch.eye(n, dtype=torch.float64)

    def solve():
        a, b = matrix(), torch.randn(n, 1, generator=g, dtype=torch.float64)
        return lambda: torch.linalg.solve(a, b)
    w["solve_512_f64"] = ("op/s", 1, solve)

    def svd():
        a = matrix()
        return lambda: torch.linalg.svd(a, full_matrices=False)
    w["svd_512_f64"] = ("op/s", 1, svd)

    def eigh():
        x = matrix()
        a = x + x.T
        return lambda: torch.linalg.eigh(a)
    w["eigh_512_f64"] = ("op/s", 1, eigh)

    def rfft():
        x = randn(1 << 20)
        return lambda: torch.fft.rfft(x)
    w["rfft_1M"] = ("Msample/s", (1 << 20) / 1e6, rfft)

    return w


def measure(make, work, samples, budget):
    step = make()
    iterations = 1
    while True:
        start = time.perf_counter()
        for _ in range(iterations):
            step()
        elapsed = time.perf_counter() - start
        if elapsed > budget / 4 or iterations > 1 << 24:
            break
        iterations *= 2
    per_sample = max(1, int(iterations * budget / max(elapsed, 1e-9)))
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        for _ in range(per_sample):
            step()
        times.append((time.perf_counter() - start) / per_sample)
    times.sort()
    median = times[len(times) // 2]
    return work / median, median


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--workload")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--samples", type=int, default=5)
    parser.add_argument("--budget", type=float, default=0.25)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    all_workloads = workloads()
    names = args.workload.split(",") if args.workload else list(all_workloads)
    for name in names:
        unit, work, make = all_workloads[name]
        with torch.no_grad() if not any(k in name for k in ("autograd", "bwd", "train", "conv2d")) else torch.enable_grad():
            rate, seconds = measure(make, work, args.samples, args.budget)
        # Peak resident memory of the process so far (KiB on Linux): per workload when, as in
        # Benchmarks/compare, each workload runs in its own process.
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({"workload": name, "impl": "torch", "rate": rate, "unit": unit,
                          "seconds_per_step": seconds, "threads": args.threads, "version": torch.__version__,
                          "peak_rss_mb": peak}))


if __name__ == "__main__":
    main()

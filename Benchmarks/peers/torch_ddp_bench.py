"""The tessera-ddp-bench workloads in PyTorch DistributedDataParallel (gloo), printing the
same JSON lines from rank 0:

    .venv-peers/bin/python -m torch.distributed.run --standalone --nproc-per-node 2 Benchmarks/peers/torch_ddp_bench.py [--rounds R]

Each rank trains on its own batch (weak scaling); one process alone runs the same loop
without a process group when WORLD_SIZE is unset or 1.
"""
import argparse
import json
import os
import sys
import time

import torch
import torch.distributed as dist

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_bench import ResNet20  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--rounds", type=int, default=3)
parser.add_argument("--workload", default=None)
parser.add_argument("--threads", type=int, default=1)
args = parser.parse_args()
torch.set_num_threads(args.threads)

world = int(os.environ.get("WORLD_SIZE", "1"))
rank = int(os.environ.get("RANK", "0"))
if world > 1:
    dist.init_process_group("gloo")


def mlp(g):
    model = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(), torch.nn.Linear(512, 256), torch.nn.ReLU(),
                                torch.nn.Linear(256, 10))
    return model, torch.randn(128, 784, generator=g), torch.randint(0, 10, (128,), generator=g)


def resnet(g):
    return ResNet20(), torch.rand(32, 3, 32, 32, generator=g), torch.randint(0, 10, (32,), generator=g)


workloads = [("mlp_train_step_b128", 128, 100, mlp), ("resnet20_train_step_b32", 32, 6, resnet)]
only = args.workload.split(",") if args.workload else None
for name, batch, steps, make in workloads:
    if only and name not in only:
        continue
    torch.manual_seed(1)
    model, x, y = make(torch.Generator().manual_seed(1 + rank))
    wrapped = torch.nn.parallel.DistributedDataParallel(model) if world > 1 else model
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def step():
        loss = torch.nn.functional.cross_entropy(wrapped(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    for _ in range(max(2, steps // 5)):
        step()
    for _ in range(args.rounds):
        if world > 1:
            dist.barrier()
        start = time.perf_counter()
        for _ in range(steps):
            step()
        if world > 1:
            dist.barrier()
        seconds = time.perf_counter() - start
        if rank == 0:
            print(json.dumps({"name": name, "world_size": world, "unit": "Ksample/s",
                              "rate": batch * steps * world / seconds / 1000}), flush=True)
if world > 1:
    dist.destroy_process_group()

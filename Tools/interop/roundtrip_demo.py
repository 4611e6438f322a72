"""The README's round trip: a small MLP trained in PyTorch, converted to Tessera's format,
evaluated by Tessera on the same inputs, outputs compared.

    .venv-peers/bin/python Tools/interop/roundtrip_demo.py OUTDIR
Writes OUTDIR/model.pt, OUTDIR/model.h5, OUTDIR/inputs.h5 and OUTDIR/torch_outputs.npy;
then `Tools/tessera interop-check OUTDIR` (or the Swift test) loads them in Tessera.
"""
import os
import sys

import numpy as np
import torch

import tessera_h5

out = sys.argv[1] if len(sys.argv) > 1 else "runs/interop"
os.makedirs(out, exist_ok=True)
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(20, 32), torch.nn.ReLU(), torch.nn.Linear(32, 5))
x = torch.randn(64, 20)
y = (x[:, :5] * 2).argmax(dim=1)
opt = torch.optim.Adam(model.parameters(), lr=1e-2)
for _ in range(200):
    opt.zero_grad()
    torch.nn.functional.cross_entropy(model(x), y).backward()
    opt.step()
torch.save(model.state_dict(), f"{out}/model.pt")
tessera_h5.write(f"{out}/model.h5", {k: v.detach().numpy() for k, v in model.state_dict().items()})
tessera_h5.write(f"{out}/inputs.h5", {"x": x.numpy(), "torch_logits": model(x).detach().numpy()})
print(f"trained in PyTorch; wrote {out}/model.h5 and {out}/inputs.h5")

"""Forward-value fixtures for the NN package's losses and layers, from PyTorch.

Run from the repository root:
    .venv-peers/bin/python Packages/NN/Tests/NNTests/Fixtures/generate_fixtures.py
Writes nn_fixtures.json beside this script (float64 throughout).
"""
import json
import os

import torch
import torch.nn.functional as F

torch.manual_seed(7)
torch.set_default_dtype(torch.float64)
cases = {}


def t(x):
    return {"shape": list(x.shape), "data": x.detach().reshape(-1).tolist()}


logits = torch.randn(5, 4) * 2
targets = torch.tensor([0, 3, 1, 1, 2])
weights = torch.tensor([0.5, 2.0, 1.0, 1.5])
probs = torch.softmax(torch.randn(5, 4), dim=1)
cases["ce_inputs"] = {"logits": t(logits), "targets": targets.tolist(), "weights": t(weights), "probs": t(probs)}
cases["ce_mean"] = t(F.cross_entropy(logits, targets))
cases["ce_none"] = t(F.cross_entropy(logits, targets, reduction="none"))
cases["ce_weighted"] = t(F.cross_entropy(logits, targets, weight=weights))
cases["ce_ignore"] = t(F.cross_entropy(logits, torch.tensor([0, -100, 1, 1, -100]), ignore_index=-100))
cases["ce_smooth"] = t(F.cross_entropy(logits, targets, label_smoothing=0.1))
cases["ce_smooth_weighted"] = t(F.cross_entropy(logits, targets, weight=weights, label_smoothing=0.2))
cases["ce_probs"] = t(F.cross_entropy(logits, probs))
cases["ce_probs_smooth"] = t(F.cross_entropy(logits, probs, label_smoothing=0.1))
cases["nll"] = t(F.nll_loss(torch.log_softmax(logits, 1), targets, weight=weights))

p = torch.randn(3, 4)
q = torch.randn(3, 4)
cases["reg_inputs"] = {"p": t(p), "q": t(q)}
cases["mse"] = t(F.mse_loss(p, q))
cases["l1"] = t(F.l1_loss(p, q, reduction="sum"))
cases["smooth_l1"] = t(F.smooth_l1_loss(p, q, beta=0.5))
cases["huber"] = t(F.huber_loss(p, q, delta=0.7))
prob = torch.sigmoid(p)
target01 = (torch.rand(3, 4) > 0.5).double()
cases["bin_inputs"] = {"t": t(target01)}
cases["bce"] = t(F.binary_cross_entropy(prob, target01))
cases["bce_logits"] = t(F.binary_cross_entropy_with_logits(p * 10, target01))
cases["bce_logits_pos"] = t(F.binary_cross_entropy_with_logits(p, target01, pos_weight=torch.tensor([1.0, 2.0, 0.5, 3.0])))
logq = torch.log_softmax(q, 1)
pt = torch.softmax(p, 1)
cases["kl"] = t(F.kl_div(logq, pt, reduction="batchmean"))
cases["margin"] = t(F.multi_margin_loss(logits, targets))
cos_t = torch.tensor([1, -1, 1])
cases["cosine"] = t(F.cosine_embedding_loss(p, q, cos_t, margin=0.1))

x = torch.randn(4, 3, 5)
cases["norm_input"] = t(x)
ln = torch.nn.LayerNorm([3, 5])
with torch.no_grad():
    ln.weight.copy_(torch.randn(3, 5))
    ln.bias.copy_(torch.randn(3, 5))
cases["layernorm"] = {"weight": t(ln.weight), "bias": t(ln.bias), "out": t(ln(x))}
gn = torch.nn.GroupNorm(1, 3)
cases["groupnorm"] = t(gn(x))
rms = torch.nn.RMSNorm([5])
cases["rmsnorm"] = t(rms(x))
bn = torch.nn.BatchNorm1d(3)
y1 = bn(x)
y2 = bn(x * 2 + 1)
bn.eval()
y3 = bn(x)
cases["batchnorm"] = {"train1": t(y1), "train2": t(y2), "eval": t(y3),
                      "running_mean": t(bn.running_mean), "running_var": t(bn.running_var)}
bil = torch.nn.Bilinear(3, 5, 2)
x1 = torch.randn(2, 3)
x2 = torch.randn(2, 5)
cases["bilinear"] = {"x1": t(x1), "x2": t(x2), "weight": t(bil.weight), "bias": t(bil.bias), "out": t(bil(x1, x2))}

here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "nn_fixtures.json"), "w") as f:
    json.dump({"torch": torch.__version__, "cases": cases}, f)
print(f"wrote {len(cases)} entries")

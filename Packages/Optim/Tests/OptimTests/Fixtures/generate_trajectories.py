"""Optimizer trajectories and learning-rate schedules from PyTorch, for Optim's replay tests.

Run from the repository root:
    .venv-peers/bin/python Packages/Optim/Tests/OptimTests/Fixtures/generate_trajectories.py
The problem: w [3, 2], b [2], loss = mean((tanh(X w + b) - Y)^2) with fixed X [6, 3], Y [6, 2],
all float64. Each config records the parameters after every step.
"""
import json
import os

import torch

torch.set_default_dtype(torch.float64)
g = torch.Generator().manual_seed(3)
X = torch.randn(6, 3, generator=g)
Y = torch.randn(6, 2, generator=g)
W0 = torch.randn(3, 2, generator=g) * 0.5
B0 = torch.randn(2, generator=g) * 0.1


def loss_fn(w, b):
    return ((torch.tanh(X @ w + b) - Y) ** 2).mean()


configs = {
    "sgd": (torch.optim.SGD, dict(lr=0.1)),
    "sgd_momentum": (torch.optim.SGD, dict(lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    "sgd_nesterov": (torch.optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    "adam": (torch.optim.Adam, dict(lr=0.01)),
    "adam_amsgrad_l2": (torch.optim.Adam, dict(lr=0.01, weight_decay=0.1, amsgrad=True, betas=(0.8, 0.99))),
    "adamw": (torch.optim.AdamW, dict(lr=0.01, weight_decay=0.1)),
    "rmsprop": (torch.optim.RMSprop, dict(lr=0.01)),
    "rmsprop_centered": (torch.optim.RMSprop, dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.01)),
    "adagrad": (torch.optim.Adagrad, dict(lr=0.1, lr_decay=0.01, weight_decay=0.01, initial_accumulator_value=0.1)),
}

trajectories = {}
for name, (cls, kwargs) in configs.items():
    w = W0.clone().requires_grad_()
    b = B0.clone().requires_grad_()
    opt = cls([w, b], **kwargs)
    steps = []
    for _ in range(6):
        opt.zero_grad()
        loss_fn(w, b).backward()
        opt.step()
        steps.append(w.detach().reshape(-1).tolist() + b.detach().tolist())
    trajectories[name] = steps

for name, kwargs, calls in [("lbfgs", dict(lr=1, max_iter=5), 1),
                            ("lbfgs_wolfe", dict(lr=1, max_iter=4, line_search_fn="strong_wolfe"), 2)]:
    w = W0.clone().requires_grad_()
    b = B0.clone().requires_grad_()
    opt = torch.optim.LBFGS([w, b], **kwargs)

    def closure():
        opt.zero_grad()
        loss = loss_fn(w, b)
        loss.backward()
        return loss
    steps = []
    for _ in range(calls):
        opt.step(closure)
        steps.append(w.detach().reshape(-1).tolist() + b.detach().tolist())
    trajectories[name] = steps

schedules = {}
lin = torch.nn.Linear(1, 1)


def record(make, steps=12, metrics=None):
    opt = torch.optim.SGD(lin.parameters(), lr=0.1)
    sched = make(opt)
    rates = [opt.param_groups[0]["lr"]]
    for i in range(steps):
        opt.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[i])
        rates.append(opt.param_groups[0]["lr"])
    return rates


S = torch.optim.lr_scheduler
schedules["step"] = record(lambda o: S.StepLR(o, 3, 0.5))
schedules["multistep"] = record(lambda o: S.MultiStepLR(o, [2, 5], 0.1))
schedules["exponential"] = record(lambda o: S.ExponentialLR(o, 0.9))
schedules["cosine"] = record(lambda o: S.CosineAnnealingLR(o, 10, 0.001))
schedules["warm_restarts"] = record(lambda o: S.CosineAnnealingWarmRestarts(o, 3, 2, 0.001))
schedules["linear"] = record(lambda o: S.LinearLR(o, 0.25, 1.0, 4))
schedules["sequential"] = record(lambda o: S.SequentialLR(o, [S.LinearLR(o, 0.25, 1.0, 4), S.CosineAnnealingLR(o, 8, 0.001)],
                                                          milestones=[4]))
schedules["onecycle"] = record(lambda o: S.OneCycleLR(o, max_lr=1.0, total_steps=13, cycle_momentum=False))
plateau_metrics = [1.0, 0.9, 0.95, 0.96, 0.97, 0.8, 0.85, 0.86, 0.87, 0.88, 0.89, 0.9]
schedules["plateau"] = record(lambda o: S.ReduceLROnPlateau(o, factor=0.5, patience=2), metrics=plateau_metrics)

here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "trajectories.json"), "w") as f:
    json.dump({"torch": torch.__version__, "X": X.reshape(-1).tolist(), "Y": Y.reshape(-1).tolist(),
               "W0": W0.reshape(-1).tolist(), "B0": B0.tolist(), "trajectories": trajectories,
               "schedules": schedules, "plateau_metrics": plateau_metrics}, f)
print("wrote", len(trajectories), "trajectories and", len(schedules), "schedules")

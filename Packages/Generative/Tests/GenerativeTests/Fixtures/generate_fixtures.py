"""Writes generative_fixtures.json: the VAE objective's terms and the sample-quality measures
computed by PyTorch (torch.nn.functional, torch.distributions) and NumPy on fixed inputs.

    .venv-peers/bin/python Packages/Generative/Tests/GenerativeTests/Fixtures/generate_fixtures.py
"""
import json, math, os
import numpy as np
import torch
import torch.nn.functional as F
from torch.distributions import Normal, kl_divergence

torch.manual_seed(0)
rng = np.random.default_rng(0)


def t(x):
    x = torch.as_tensor(x, dtype=torch.float64)
    return {"shape": list(x.shape), "data": x.reshape(-1).tolist()}


cases = {}

# Bernoulli log-likelihood on intensities in [0, 1] (the MNIST VAE's), per example.
x = torch.rand(3, 1, 4, 4, dtype=torch.float64)
logits = torch.randn(3, 1, 4, 4, dtype=torch.float64) * 3
bce = F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(dim=(1, 2, 3))
cases["bernoulli"] = {"x": t(x), "logits": t(logits), "log_likelihood": t(-bce)}

# Gaussian log-likelihood with a scalar learned log-scale, per example.
mean = torch.randn(3, 2, 3, dtype=torch.float64)
xg = torch.randn(3, 2, 3, dtype=torch.float64)
log_scale = torch.tensor([-0.7], dtype=torch.float64)
ll = Normal(mean, log_scale.exp()).log_prob(xg).sum(dim=(1, 2))
cases["gaussian"] = {"x": t(xg), "mean": t(mean), "log_scale": t(log_scale), "log_likelihood": t(ll)}

# KL(N(mu, sigma^2) || N(0, 1)) and a diagonal Gaussian's log-density, per example.
mu = torch.randn(4, 5, dtype=torch.float64)
log_var = torch.randn(4, 5, dtype=torch.float64) * 0.5
kl = kl_divergence(Normal(mu, (0.5 * log_var).exp()), Normal(torch.zeros_like(mu), torch.ones_like(mu))).sum(dim=1)
z = torch.randn(4, 5, dtype=torch.float64)
log_q = Normal(mu, (0.5 * log_var).exp()).log_prob(z).sum(dim=1)
cases["gaussian_kl"] = {"mean": t(mu), "log_variance": t(log_var), "kl": t(kl), "z": t(z), "log_density": t(log_q)}

# The IWAE bound from given log-weights: -(logsumexp_k w - log k).
w = torch.randn(3, 7, dtype=torch.float64) * 4 - 50
cases["iwae"] = {"log_weights": t(w), "bound": t(-(torch.logsumexp(w, dim=1) - math.log(7)))}

# Unbiased squared MMD with a sum of Gaussian kernels (NumPy, written out).
a = rng.normal(size=(30, 2))
b = rng.normal(loc=0.5, size=(25, 2))
hs = [0.1, 0.2, 0.5, 1.0, 2.0]
def k(p, q):
    d = ((p[:, None, :] - q[None, :, :]) ** 2).sum(-1)
    return sum(np.exp(-d / (2 * h * h)) for h in hs)
kaa, kbb, kab = k(a, a), k(b, b), k(a, b)
n, m = len(a), len(b)
mmd = (kaa.sum() - np.trace(kaa)) / (n * (n - 1)) + (kbb.sum() - np.trace(kbb)) / (m * (m - 1)) - 2 * kab.mean()
cases["mmd"] = {"x": t(a), "y": t(b), "bandwidths": hs, "mmd2": float(mmd)}

# GAN losses on fixed discriminator scores (binary cross-entropy on logits for the
# non-saturating GAN, hinge, Wasserstein), means over the batch.
real = torch.randn(6, dtype=torch.float64) * 2
fake = torch.randn(6, dtype=torch.float64) * 2
ones, zeros = torch.ones(6, dtype=torch.float64), torch.zeros(6, dtype=torch.float64)
cases["gan_losses"] = {
    "real": t(real), "fake": t(fake),
    "non_saturating_d": float(F.binary_cross_entropy_with_logits(real, ones) + F.binary_cross_entropy_with_logits(fake, zeros)),
    "non_saturating_g": float(F.binary_cross_entropy_with_logits(fake, ones)),
    "hinge_d": float(F.relu(1 - real).mean() + F.relu(1 + fake).mean()),
    "hinge_g": float(-fake.mean()),
    "wasserstein_d": float(fake.mean() - real.mean()),
    "wasserstein_g": float(-fake.mean()),
}

# WGAN-GP's gradient penalty of a small critic (Linear 3->5, tanh, Linear 5->1) at given mixing
# weights, and its gradient with respect to the critic's parameters (double backward).
critic = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 1)).double()
xr = torch.randn(4, 3, dtype=torch.float64)
xf = torch.randn(4, 3, dtype=torch.float64)
eps = torch.rand(4, dtype=torch.float64)
points = (eps[:, None] * xr + (1 - eps[:, None]) * xf).requires_grad_(True)
g = torch.autograd.grad(critic(points).sum(), points, create_graph=True)[0]
gp = ((g.norm(2, dim=1) - 1) ** 2).mean()
# The output bias does not move the input gradient: its gradient is zero.
grads = [gr if gr is not None else torch.zeros_like(p) for gr, p in
         zip(torch.autograd.grad(gp, list(critic.parameters()), allow_unused=True), critic.parameters())]
cases["gradient_penalty"] = {
    "real": t(xr), "fake": t(xf), "mixing": t(eps),
    "w1": t(critic[0].weight), "b1": t(critic[0].bias), "w2": t(critic[2].weight), "b2": t(critic[2].bias),
    "penalty": float(gp),
    "grad_w1": t(grads[0]), "grad_b1": t(grads[1]), "grad_w2": t(grads[2]), "grad_b2": t(grads[3]),
}

# Noise schedules as diffusers' DDPMScheduler computes them (linear: np.linspace of the betas;
# "squaredcos_cap_v2": Nichol & Dhariwal's cosine with s = 0.008, betas capped at 0.999), the
# cumulative products and DDPM's posterior variance, for T = 50.
T = 50
lin = np.linspace(1e-4, 0.02, T)
def f(t):
    return math.cos((t / T + 0.008) / 1.008 * math.pi / 2) ** 2
cos_betas = np.array([min(1 - f(i + 1) / f(i), 0.999) for i in range(T)])
for name, betas in [("linear", lin), ("cosine", cos_betas)]:
    ab = np.cumprod(1 - betas)
    prev = np.concatenate([[1.0], ab[:-1]])
    cases["schedule_" + name] = {"betas": t(betas), "alpha_bars": t(ab), "posterior_variance": t(betas * (1 - prev) / (1 - ab))}

# Denoising score matching with Song & Ermon's weighting λ(σ) = σ²: for x̃ = x + σ z the target
# score is −z/σ, so the weighted loss is mean_n ½ ‖σ_n s_n + z_n‖².
score = rng.normal(size=(5, 2)) * 3
z = rng.normal(size=(5, 2))
sig = np.exp(rng.normal(size=5))
dsm = np.mean(0.5 * ((sig[:, None] ** 2) * ((score + z / sig[:, None]) ** 2)).sum(axis=1))
cases["dsm"] = {"score": t(score), "noise": t(z), "sigma": t(sig), "loss": float(dsm)}

# R1 (Mescheder et al. 2018) of the gradient-penalty case's critic at its real points: the mean
# squared norm of the input gradient, and its gradient in the critic's parameters.
points = xr.clone().requires_grad_(True)
scores = critic(points)
g = torch.autograd.grad(scores.sum(), points, create_graph=True)[0]
r1 = g.pow(2).sum(dim=1).mean()
grads = [gr if gr is not None else torch.zeros_like(p) for gr, p in
         zip(torch.autograd.grad(r1, list(critic.parameters()), allow_unused=True), critic.parameters())]
cases["r1_penalty"] = {"penalty": float(r1), "scores": t(scores.detach().reshape(-1)),
                       "grad_w1": t(grads[0]), "grad_b1": t(grads[1]), "grad_w2": t(grads[2]), "grad_b2": t(grads[3])}

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "generative_fixtures.json")
with open(out, "w") as f:
    json.dump({"generator": "generate_fixtures.py", "torch": torch.__version__, "cases": cases}, f)
print("wrote", out)

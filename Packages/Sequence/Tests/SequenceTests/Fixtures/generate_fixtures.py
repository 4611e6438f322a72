"""Forward values and gradients of PyTorch's recurrent layers and attention, for the
Sequence package's tests.

Run from the repository root:
    .venv-peers/bin/python Packages/Sequence/Tests/SequenceTests/Fixtures/generate_fixtures.py
Writes sequence_fixtures.json beside this script (float64 throughout). Gradients are of
sum(output * w) with w = arange(n) % 7 / 7 - 0.4 over the flattened output, and of the
final states summed.
"""
import json
import os

import torch
import torch.nn.functional as F

torch.manual_seed(11)
torch.set_default_dtype(torch.float64)
cases = {}


def t(x):
    return {"shape": list(x.shape), "data": x.detach().reshape(-1).tolist()}


def weights_like(y):
    n = y.numel()
    return (torch.arange(n, dtype=torch.float64) % 7 / 7 - 0.4).reshape(y.shape)


def recurrent_case(name, layer, x, state):
    x = x.clone().requires_grad_(True)
    params = dict(layer.named_parameters())
    out, final = layer(x, state)
    finals = list(final) if isinstance(final, tuple) else [final]
    loss = (out * weights_like(out)).sum() + sum(f.sum() for f in finals)
    loss.backward()
    cases[name] = {
        "params": {k: t(v) for k, v in params.items()},
        "input": t(x),
        "state": [t(s) for s in (state if isinstance(state, tuple) else [state])],
        "output": t(out),
        "final": [t(f) for f in finals],
        "grad_input": t(x.grad),
        "grad_params": {k: t(v.grad) for k, v in params.items()},
    }


# LSTM: 2 layers, batch first, [batch 3, time 5, features 4], hidden 6.
lstm = torch.nn.LSTM(4, 6, num_layers=2, batch_first=True)
recurrent_case("lstm", lstm, torch.randn(3, 5, 4), (torch.randn(2, 3, 6), torch.randn(2, 3, 6)))
# GRU: 2 layers, bidirectional, time-major [time 4, batch 2, features 3], hidden 5.
gru = torch.nn.GRU(3, 5, num_layers=2, bidirectional=True)
recurrent_case("gru", gru, torch.randn(4, 2, 3), torch.randn(4, 2, 5))
# RNN: relu, 1 layer, bidirectional, batch first.
rnn = torch.nn.RNN(3, 4, nonlinearity="relu", batch_first=True, bidirectional=True)
recurrent_case("rnn_relu", rnn, torch.randn(2, 4, 3), torch.randn(2, 2, 4))
# Bidirectional LSTM, one layer, no initial state given (zeros).
bilstm = torch.nn.LSTM(3, 4, bidirectional=True)
recurrent_case("bilstm", bilstm, torch.randn(5, 2, 3), (torch.zeros(2, 2, 4), torch.zeros(2, 2, 4)))

# Multi-head attention, batch first, embed 8, heads 2: self-attention with a causal mask
# and a key padding mask; weights averaged over heads.
mha = torch.nn.MultiheadAttention(8, 2, batch_first=True)
q = torch.randn(2, 5, 8)
kv = torch.randn(2, 6, 8)
padding = torch.tensor([[False] * 6, [False] * 4 + [True] * 2])
causal = torch.triu(torch.ones(5, 5, dtype=torch.bool), diagonal=1)
self_out, self_w = mha(q, q, q, attn_mask=causal, need_weights=True)
cross_out, cross_w = mha(q, kv, kv, key_padding_mask=padding, need_weights=True)
cases["mha"] = {
    "params": {k: t(v) for k, v in mha.named_parameters()},
    "query": t(q), "kv": t(kv),
    "self_out": t(self_out), "self_weights": t(self_w),
    "cross_out": t(cross_out), "cross_weights": t(cross_w),
}

# Scaled dot-product attention with a boolean mask, a float mask and causal.
sq, sk, sv = torch.randn(2, 3, 4, 5), torch.randn(2, 3, 6, 5), torch.randn(2, 3, 6, 7)
bool_mask = torch.rand(4, 6) > 0.3
bool_mask[:, 0] = True
float_mask = torch.randn(2, 1, 4, 6)
cases["sdpa"] = {
    "q": t(sq), "k": t(sk), "v": t(sv),
    "bool_mask": [[bool(b) for b in row] for row in bool_mask.tolist()],
    "float_mask": t(float_mask),
    "plain": t(F.scaled_dot_product_attention(sq, sk, sv)),
    "bool": t(F.scaled_dot_product_attention(sq, sk, sv, attn_mask=bool_mask)),
    "float": t(F.scaled_dot_product_attention(sq, sk, sv, attn_mask=float_mask)),
    "causal": t(F.scaled_dot_product_attention(sq, sk, sv, is_causal=True)),
    "scaled": t(F.scaled_dot_product_attention(sq, sk, sv, scale=0.3)),
}

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sequence_fixtures.json")
with open(path, "w") as f:
    json.dump({"torch": torch.__version__, "cases": cases}, f)
print("wrote", path)

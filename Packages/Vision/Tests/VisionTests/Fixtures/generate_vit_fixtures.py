"""Writes vit_fixtures.json for VisionTransformerTests: MAE's 2-D sine-cosine position
embedding (facebookresearch/mae, util/pos_embed.py, get_2d_sincos_pos_embed with the class
token's zero row), in NumPy.

    .venv-peers/bin/python Packages/Vision/Tests/VisionTests/Fixtures/generate_vit_fixtures.py
"""
import json
import os

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))


def get_1d_sincos_pos_embed_from_grid(embed_dim, pos):
    omega = np.arange(embed_dim // 2, dtype=np.float64) / (embed_dim / 2.0)
    omega = 1.0 / 10000 ** omega
    out = np.einsum("m,d->md", pos.reshape(-1), omega)
    return np.concatenate([np.sin(out), np.cos(out)], axis=1)


def get_2d_sincos_pos_embed(embed_dim, grid_size, cls_token=False):
    grid_h = np.arange(grid_size, dtype=np.float32)
    grid_w = np.arange(grid_size, dtype=np.float32)
    grid = np.meshgrid(grid_w, grid_h)  # here w goes first
    grid = np.stack(grid, axis=0).reshape([2, 1, grid_size, grid_size])
    emb_h = get_1d_sincos_pos_embed_from_grid(embed_dim // 2, grid[0])
    emb_w = get_1d_sincos_pos_embed_from_grid(embed_dim // 2, grid[1])
    pos_embed = np.concatenate([emb_h, emb_w], axis=1)
    if cls_token:
        pos_embed = np.concatenate([np.zeros([1, embed_dim]), pos_embed], axis=0)
    return pos_embed


out = {"sincos_grid3_width8": {"shape": [10, 8], "data": [repr(float(v)) for v in get_2d_sincos_pos_embed(8, 3, True).reshape(-1)]}}
with open(os.path.join(here, "vit_fixtures.json"), "w") as f:
    json.dump(out, f, indent=1)

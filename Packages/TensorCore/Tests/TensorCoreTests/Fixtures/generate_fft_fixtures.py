"""FFT fixtures from NumPy (pocketfft) for TensorCore's FFT tests.

Run from the repository root:
    .venv-peers/bin/python Packages/TensorCore/Tests/TensorCoreTests/Fixtures/generate_fft_fixtures.py
Writes fft_ops.json beside this script (float64). Complex arrays are stored as real arrays with
a trailing axis of 2 (real, imaginary), Tessera's representation.
"""
import json
import os

import numpy as np

rng = np.random.default_rng(17)


def t(x):
    x = np.asarray(x)
    if np.iscomplexobj(x):
        x = np.stack([x.real, x.imag], axis=-1)
    return {"shape": list(x.shape), "data": x.astype(np.float64).reshape(-1).tolist()}


cases = {}
for n in [1, 2, 3, 8, 12, 17, 30, 64, 100]:
    z = rng.standard_normal((2, n)) + 1j * rng.standard_normal((2, n))
    x = rng.standard_normal((2, n))
    cases[f"n{n}"] = {"z": t(z), "fft": t(np.fft.fft(z)), "ifft": t(np.fft.ifft(z)),
                      "x": t(x), "rfft": t(np.fft.rfft(x)), "irfft": t(np.fft.irfft(np.fft.rfft(x), n)),
                      "ortho": t(np.fft.fft(z, norm="ortho")), "forward": t(np.fft.ifft(z, norm="forward"))}
# a length different from the input's, and a transform along a non-last axis
z = rng.standard_normal((5, 3)) + 1j * rng.standard_normal((5, 3))
x = rng.standard_normal((6, 3))
cases["padded_axis0"] = {"z": t(z), "fft8": t(np.fft.fft(z, n=8, axis=0)), "x": t(x),
                         "rfft4": t(np.fft.rfft(x, n=4, axis=0))}
spectrum = rng.standard_normal((4, 5)) + 1j * rng.standard_normal((4, 5))
cases["irfft_lengths"] = {"s": t(spectrum), "n7": t(np.fft.irfft(spectrum, n=7)), "n8": t(np.fft.irfft(spectrum)),
                          "n3": t(np.fft.irfft(spectrum, n=3))}
img = rng.standard_normal((2, 6, 10))
zimg = rng.standard_normal((6, 5)) + 1j * rng.standard_normal((6, 5))
cases["two_d"] = {"x": t(img), "rfft2": t(np.fft.rfft2(img)), "irfft2": t(np.fft.irfft2(np.fft.rfft2(img), s=(6, 10))),
                  "z": t(zimg), "fft2": t(np.fft.fft2(zimg)), "ifft2": t(np.fft.ifft2(zimg))}
a = rng.standard_normal((3, 50)); b = rng.standard_normal(13)
cases["convolve"] = {"a": t(a), "b": t(b), "full": t(np.stack([np.convolve(r, b) for r in a]))}

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fft_ops.json")
with open(path, "w") as f:
    json.dump(cases, f)
print("wrote", path, len(cases), "cases")

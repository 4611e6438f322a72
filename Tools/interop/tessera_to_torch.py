"""Converts a Tessera checkpoint (.h5) to a PyTorch state dict (.pt).

    python Tools/interop/tessera_to_torch.py model.h5 model.pt
"""
import sys

import torch

import tessera_h5


def main(source, target):
    arrays = tessera_h5.read(source, "model")
    state = {name: torch.from_numpy(array.copy()) for name, array in arrays.items()}
    torch.save(state, target)
    print(f"wrote {len(state)} tensors to {target}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: tessera_to_torch.py MODEL.h5 MODEL.pt")
    main(sys.argv[1], sys.argv[2])

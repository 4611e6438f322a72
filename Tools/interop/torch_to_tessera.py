"""Converts a PyTorch state dict (.pt) to a Tessera checkpoint (.h5), keeping names and layouts.

    python Tools/interop/torch_to_tessera.py model.pt model.h5
Linear (and convolution) weights keep PyTorch's [out, in, ...] layout, which is Tessera's too.
"""
import sys

import torch

import tessera_h5


def main(source, target):
    state = torch.load(source, map_location="cpu", weights_only=True)
    if "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    arrays, dtypes = {}, {}
    for name, tensor in state.items():
        tensor = tensor.detach().contiguous()
        if tensor.dtype == torch.bfloat16:
            arrays[name] = tensor.view(torch.int16).numpy().view("uint16")
            dtypes[name] = "bfloat16"
        else:
            arrays[name] = tensor.numpy()
    tessera_h5.write(target, arrays, dtypes, metadata={"converted_from": source})
    print(f"wrote {len(arrays)} tensors to {target}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: torch_to_tessera.py MODEL.pt MODEL.h5")
    main(sys.argv[1], sys.argv[2])

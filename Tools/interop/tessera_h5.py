"""Read and write Tessera checkpoints (HDF5 with a CRC-sealed 512-byte user block) from Python.

The format: /model/<dotted name as groups>, /optimizer/..., a `tessera_dtype` attribute on
every dataset, root attribute `tessera_format` = 1, and a header in the user block:
magic b"TESSERA-CKPT\\0\\0\\0\\1", the length of the HDF5 part (u64 LE) and its CRC-32 (u32 LE).
"""
import os
import struct
import tempfile
import zlib

import h5py
import numpy as np

MAGIC = b"TESSERA-CKPT\x00\x00\x00\x01"
USERBLOCK = 512


def _seal(path):
    with open(path, "r+b") as f:
        f.seek(USERBLOCK)
        crc, length = 0, 0
        while True:
            chunk = f.read(8 << 20)
            if not chunk:
                break
            crc = zlib.crc32(chunk, crc)
            length += len(chunk)
        f.seek(0)
        f.write(MAGIC + struct.pack("<QI", length, crc & 0xFFFFFFFF))


def write(path, model, dtypes=None, metadata=None):
    """Writes {dotted name: numpy array} atomically. `dtypes` may name 'bfloat16' for uint16
    arrays holding bfloat16 bits."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".tmp-")
    os.close(fd)
    try:
        with h5py.File(tmp, "w", userblock_size=USERBLOCK) as f:
            f.attrs["tessera_format"] = np.float64(1)
            f.attrs["tessera_library"] = np.bytes_(b"tessera-interop 0.1")
            for key, value in (metadata or {}).items():
                f.attrs["meta." + key] = np.bytes_(str(value).encode()) if isinstance(value, str) else np.float64(value)
            for name, array in sorted(model.items()):
                array = np.ascontiguousarray(array)
                name_dtype = (dtypes or {}).get(name) or {
                    np.dtype("float32"): "float32", np.dtype("float64"): "float64", np.dtype("float16"): "float16",
                    np.dtype("int32"): "int32", np.dtype("int64"): "int64", np.dtype("uint8"): "uint8",
                    np.dtype("bool"): "bool"}[array.dtype]
                if array.dtype == np.bool_:
                    array = array.astype(np.uint8)
                dataset = f.create_dataset("model/" + name.replace(".", "/"), data=array)
                dataset.attrs["tessera_dtype"] = np.bytes_(name_dtype.encode())
        _seal(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def read(path, section="model"):
    """Returns {dotted name: numpy array}; bfloat16 tensors come back as float32."""
    with open(path, "rb") as f:
        header = f.read(len(MAGIC) + 12)
        if header[:len(MAGIC)] != MAGIC:
            raise ValueError(f"{path} is not a Tessera checkpoint")
        length, crc = struct.unpack("<QI", header[len(MAGIC):])
        f.seek(USERBLOCK)
        data = f.read()
        if len(data) != length or (zlib.crc32(data) & 0xFFFFFFFF) != crc:
            raise ValueError(f"{path} is corrupt (length or checksum mismatch)")
    result = {}
    with h5py.File(path, "r") as f:
        if section not in f:
            return result

        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                array = obj[()]
                kind = obj.attrs.get("tessera_dtype", b"").decode()
                if kind == "bfloat16":
                    array = (array.astype(np.uint32) << 16).view(np.float32)
                elif kind == "bool":
                    array = array.astype(np.bool_)
                result[name.replace("/", ".")] = array
        f[section].visititems(visit)
    return result

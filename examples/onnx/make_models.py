#!/usr/bin/python3
"""Make the ONNX example models with PyTorch (Debian's python3-torch):

    /usr/bin/python3 examples/onnx/make_models.py examples/onnx

writes, for each model NAME (mlp, transformer):
    NAME.onnx          the model, exported by torch.onnx.export (opset 17)
    NAME/x.npy         the input it was exported with (float32)
    NAME/y.npy         PyTorch's output for that input (float32)

rdumap maps, emulates and verifies them (rdumap examples/onnx/NAME.onnx
--data examples/onnx/NAME --out DIR), and tests/onnx compares DIR/y.npy
with NAME/y.npy.  The files are committed: the tests need no torch.  The
models are small enough that every tensor fits one PMU.
"""
import math
import os
import sys

import numpy as np
import torch
from torch import nn


class MLP(nn.Module):
    """Three layers with ReLU: 4 x 16 -> 32 -> 32 -> 8, softmax on top."""

    def __init__(self):
        super().__init__()
        self.l1 = nn.Linear(16, 32)
        self.l2 = nn.Linear(32, 32)
        self.l3 = nn.Linear(32, 8)

    def forward(self, x):
        h = torch.relu(self.l1(x))
        h = torch.relu(self.l2(h))
        return torch.softmax(self.l3(h), dim=-1)


class EncoderBlock(nn.Module):
    """One post-norm transformer encoder block (as nn.TransformerEncoderLayer
    computes it in eval mode): multi-head self-attention, residual,
    LayerNorm, a GELU feed-forward, residual, LayerNorm."""

    def __init__(self, d=16, heads=2, ff=32):
        super().__init__()
        self.d, self.h, self.dh = d, heads, d // heads
        self.q = nn.Linear(d, d)
        self.k = nn.Linear(d, d)
        self.v = nn.Linear(d, d)
        self.o = nn.Linear(d, d)
        self.ln1 = nn.LayerNorm(d)
        self.ff1 = nn.Linear(d, ff)
        self.ff2 = nn.Linear(ff, d)
        self.ln2 = nn.LayerNorm(d)
        self.act = nn.GELU()

    def forward(self, x):                       # x: [1, T, d]
        b, t, _ = x.shape
        def heads(z):                           # [1, T, d] -> [1, h, T, dh]
            return z.reshape(b, t, self.h, self.dh).transpose(1, 2)
        q, k, v = heads(self.q(x)), heads(self.k(x)), heads(self.v(x))
        s = torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(self.dh)
        a = torch.matmul(torch.softmax(s, dim=-1), v)       # [1, h, T, dh]
        a = a.transpose(1, 2).reshape(b, t, self.d)
        x = self.ln1(x + self.o(a))
        return self.ln2(x + self.ff2(self.act(self.ff1(x))))


def export(model, x, out_dir, name):
    model.eval()
    with torch.no_grad():
        y = model(x)
    path = os.path.join(out_dir, name + ".onnx")
    torch.onnx.export(model, (x,), path, input_names=["x"], output_names=["y"], opset_version=17,
                      do_constant_folding=True)
    data = os.path.join(out_dir, name)
    os.makedirs(data, exist_ok=True)
    np.save(os.path.join(data, "x.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(data, "y.npy"), y.numpy().astype(np.float32))
    print(f"{path}: input {tuple(x.shape)}, output {tuple(y.shape)}")


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    torch.manual_seed(12)
    export(MLP(), torch.randn(4, 16), out_dir, "mlp")
    export(EncoderBlock(), torch.randn(1, 8, 16), out_dir, "transformer")


if __name__ == "__main__":
    main()

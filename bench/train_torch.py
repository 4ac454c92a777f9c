"""PyTorch CPU twin of sae-edge's TopK trainer, for bench/train.mjs.

Same architecture and recipe (bench/sae_torch_common.py).
Prints one JSON line: samples/s and the final FVU on all rows.
"""
import argparse, json, time
import numpy as np
import torch
from sae_torch_common import TopKTrainer

p = argparse.ArgumentParser()
p.add_argument("data"); p.add_argument("--epochs", type=int, default=3); p.add_argument("--batch", type=int, default=256)
p.add_argument("--d-sae", type=int, default=1024); p.add_argument("--k", type=int, default=32); p.add_argument("--lr", type=float, default=2e-3)
p.add_argument("--threads", type=int, default=0); p.add_argument("--seed", type=int, default=0)
a = p.parse_args()
if a.threads: torch.set_num_threads(a.threads)
torch.manual_seed(a.seed)
x_all = torch.from_numpy(np.load(a.data)).float()
n, d = x_all.shape
gen = torch.Generator().manual_seed(a.seed)

first = x_all[torch.randperm(n, generator=gen)[: a.batch]]
sae = TopKTrainer(first, a.d_sae, a.k, a.lr)

start = time.perf_counter()
for epoch in range(a.epochs):
    order = torch.randperm(n, generator=gen)
    for i in range(0, n, a.batch):
        sae.step(x_all[order[i : i + a.batch]])
elapsed = time.perf_counter() - start
fvu = sae.fvu(x_all)
print(json.dumps({"engine": f"PyTorch {torch.__version__} CPU, {torch.get_num_threads()} threads", "samples_per_s": n * a.epochs / elapsed, "seconds": elapsed, "fvu": fvu}))

"""PyTorch CPU twin of sae-edge's TopK trainer, for bench/train.mjs.

Same architecture and recipe: W_dec rows random unit vectors, W_enc = W_dec^T,
b_dec = geometric median of the first batch, loss = sum ||x_hat - x||^2 / (n var)
+ AuxK (k_aux = d_in // 2 dead latents, alpha = 1/32, dead after 50 batches of rows),
Adam, decoder gradient's radial part removed and rows renormalized after each step.
Prints one JSON line: samples/s and the final FVU on all rows.
"""
import argparse, json, time
import numpy as np
import torch

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

def geometric_median(x, iters=32):
    y = x.mean(0)
    for _ in range(iters):
        w = 1 / (x - y).norm(dim=1).clamp_min(1e-8)
        y = (w[:, None] * x).sum(0) / w.sum()
    return y

first = x_all[torch.randperm(n, generator=gen)[: a.batch]]
W_dec = torch.randn(a.d_sae, d); W_dec /= W_dec.norm(dim=1, keepdim=True)
W_enc = W_dec.t().clone(); b_enc = torch.zeros(a.d_sae); b_dec = geometric_median(first)
params = [W_enc, b_enc, W_dec, b_dec]
for t in params: t.requires_grad_(True)
opt = torch.optim.Adam(params, lr=a.lr, betas=(0.9, 0.999), eps=1e-8)
var = ((first - first.mean(0)) ** 2).sum(1).mean().item()
k_aux, dead_after = d // 2, 50 * a.batch
last_fired = torch.zeros(a.d_sae); seen = 0

def encode(x):
    h = (x - b_dec) @ W_enc + b_enc
    vals, idx = h.topk(a.k, dim=1)
    return h, torch.zeros_like(h).scatter(1, idx, vals.relu())

start = time.perf_counter()
for epoch in range(a.epochs):
    order = torch.randperm(n, generator=gen)
    for i in range(0, n, a.batch):
        x = x_all[order[i : i + a.batch]]
        h, z = encode(x)
        x_hat = z @ W_dec + b_dec
        c = 1 / (x.shape[0] * var)
        loss = c * ((x_hat - x) ** 2).sum()
        fired = (z > 0).any(0)
        last_fired[fired] = seen + x.shape[0]
        seen += x.shape[0]
        dead = (seen - last_fired >= dead_after) & (seen >= dead_after)
        if dead.any():
            h_dead = h.masked_fill(~dead, float("-inf"))
            vals, idx = h_dead.topk(min(k_aux, int(dead.sum())), dim=1)
            z_aux = torch.zeros_like(h).scatter(1, idx, vals.relu())
            e_hat = z_aux @ W_dec
            loss = loss + (1 / 32) * c * ((e_hat - (x - x_hat).detach()) ** 2).sum()
        opt.zero_grad(); loss.backward()
        with torch.no_grad():
            W_dec.grad -= (W_dec.grad * W_dec).sum(1, keepdim=True) * W_dec
        opt.step()
        with torch.no_grad():
            W_dec /= W_dec.norm(dim=1, keepdim=True)
elapsed = time.perf_counter() - start
with torch.no_grad():
    _, z = encode(x_all)
    err = ((z @ W_dec + b_dec - x_all) ** 2).sum().item()
    fvu = err / ((x_all - x_all.mean(0)) ** 2).sum().item()
print(json.dumps({"engine": f"PyTorch {torch.__version__} CPU, {torch.get_num_threads()} threads", "samples_per_s": n * a.epochs / elapsed, "seconds": elapsed, "fvu": fvu}))

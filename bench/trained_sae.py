#!/usr/bin/python3
"""A trained 768 x 24576 TopK SAE (k = 32) on synthetic LLM-activation-like rows, for measuring
the int4 screen's candidate recall (issue 15) on a trained model rather than a planted one.

Data (seeded, generated fresh for every batch): a planted dictionary of unit atoms; each row holds
about --active atoms drawn with Zipf frequencies (p_i ~ 1/(i + 20)) and Pareto(3) magnitudes
(a power-law tail), plus a shared mean offset (norm 2x a typical row's), a rank-8 dense component
(~5% of the variance) and isotropic noise (~2%), the statistics residual-stream SAEs are fit to.

Training is bench/sae_torch_common.py's recipe (bench/train_torch.py's). The SAE is saved as users
save one, torch.save(state_dict), in the layout sae-edge's importers read for a plain-PyTorch TopK
SAE: dictionary_learning's AutoEncoderTopK (ae.pt + config.json). Also written: held-out rows
(eval.npy) and calibration rows (calib.npy), both float32 [2000, 768]. Prints one JSON line.
Reproduce (Debian's python3-torch with an optimized BLAS such as libopenblas0-serial: with the
reference libblas a step takes ~30x longer; --minutes caps the training time):
  /usr/bin/python3 bench/trained_sae.py --out /work/data/trained768 --steps 2000 --minutes 27 --batch 512
  node dist/cli.js quantize /work/data/trained768 -o /work/data/trained768/int8.safetensors --calib /work/data/trained768/calib.npy
  node dist/cli.js fidelity /work/data/trained768 /work/data/trained768/eval.npy --model /work/data/trained768/int8.safetensors
"""
import argparse, json, os, time
import numpy as np
import torch
from sae_torch_common import TopKTrainer


class Activations:
    """Synthetic rows: sparse Zipf/Pareto combinations of planted atoms + offset + low rank + noise."""

    def __init__(self, d, atoms, active, seed, rank=8):
        g = torch.Generator().manual_seed(seed)
        self.d, self.atoms, self.active = d, atoms, active
        self.D = torch.randn(atoms, d, generator=g); self.D /= self.D.norm(dim=1, keepdim=True)
        p = 1 / (torch.arange(atoms, dtype=torch.float64) + 20); self.p = (p / p.sum()).float()
        signal = (active * 3) ** 0.5  # E[m^2] = 3 for Pareto(3) from 1
        mu = torch.randn(d, generator=g); self.mu = mu / mu.norm() * 2 * signal
        self.U = torch.linalg.qr(torch.randn(d, rank, generator=g))[0].t() * (0.05 * active * 3 / rank) ** 0.5
        self.noise = (0.02 * active * 3 / d) ** 0.5

    def sample(self, n, g):
        m = n * self.active  # atoms land on random rows, so each row's count is ~Poisson(active)
        idx = torch.multinomial(self.p, m, replacement=True, generator=g)
        rows = torch.randint(n, (m,), generator=g)
        mag = torch.rand(m, generator=g).clamp_min(1e-6) ** (-1 / 3)
        C = torch.sparse_coo_tensor(torch.stack([rows, idx]), mag, (n, self.atoms))
        x = torch.sparse.mm(C, self.D) + self.mu
        x += torch.randn(n, self.U.shape[0], generator=g) @ self.U
        return x + self.noise * torch.randn(n, self.d, generator=g)


def write_atomic(path, save):
    tmp = f"{path}.tmp{os.getpid()}"
    save(tmp)
    os.replace(tmp, path)


def save_npy(path, x):
    def save(tmp):
        with open(tmp, "wb") as f: np.save(f, x.numpy().astype(np.float32))
    write_atomic(path, save)


def save_dictlearn(out, sae, a):
    """dictionary_learning AutoEncoderTopK: encoder = nn.Linear(d, F), decoder = nn.Linear(F, d, bias=False), b_dec, k."""
    state = {
        "k": torch.tensor(a.k), "threshold": torch.tensor(-1.0),
        "encoder.weight": sae.W_enc.detach().t().contiguous(), "encoder.bias": sae.b_enc.detach().clone(),
        "decoder.weight": sae.W_dec.detach().t().contiguous(), "b_dec": sae.b_dec.detach().clone(),
    }
    write_atomic(os.path.join(out, "ae.pt"), lambda tmp: torch.save(state, tmp))
    config = {"trainer": {"dict_class": "AutoEncoderTopK", "activation_dim": sae.W_dec.shape[1], "dict_size": a.d_sae, "k": a.k, "lr": a.lr,
                          "steps": a.steps_run, "batch": a.batch, "seed": a.seed, "lm_name": "synthetic (bench/trained_sae.py)"}}
    def save(tmp):
        with open(tmp, "w") as f: json.dump(config, f, indent=1)
    write_atomic(os.path.join(out, "config.json"), save)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True); p.add_argument("--steps", type=int, default=900); p.add_argument("--batch", type=int, default=1024)
    p.add_argument("--seed", type=int, default=0); p.add_argument("--threads", type=int, default=1); p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--minutes", type=float, default=0, help="stop after this much training time even if --steps are not done (0: no limit)")
    p.add_argument("--d-sae", type=int, default=24576); p.add_argument("--k", type=int, default=32)
    p.add_argument("--atoms", type=int, default=16384); p.add_argument("--active", type=int, default=40); p.add_argument("--eval-rows", type=int, default=2000)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    os.makedirs(a.out, exist_ok=True)
    data = Activations(768, a.atoms, a.active, a.seed)
    train_g, held_g = torch.Generator().manual_seed(a.seed + 1), torch.Generator().manual_seed(a.seed + 2)
    held, calib = data.sample(a.eval_rows, held_g), data.sample(a.eval_rows, held_g)
    save_npy(os.path.join(a.out, "eval.npy"), held); save_npy(os.path.join(a.out, "calib.npy"), calib)

    sae = TopKTrainer(data.sample(a.batch, train_g), a.d_sae, a.k, a.lr, sparse_decode=True)
    start, recent = time.perf_counter(), []
    for step in range(1, a.steps + 1):
        x = data.sample(a.batch, train_g)
        sae.step(x)
        recent = (recent + [x])[-4:]
        a.steps_run = step
        if a.minutes and time.perf_counter() - start > a.minutes * 60:
            break
        if step % 50 == 0 or step == 10:
            s = (time.perf_counter() - start) / step
            print(json.dumps({"step": step, "s_per_step": round(s, 3), "fvu_batch": round(sae.fvu(x), 4), "dead": round(sae.dead().float().mean().item(), 4)}), flush=True)
    seconds = time.perf_counter() - start
    save_dictlearn(a.out, sae, a)

    with torch.no_grad():
        train_rows = torch.cat(recent)
        l0 = (sae.encode(held)[1] > 0).sum(1).float().mean().item()
        # The best rank-k linear reconstruction (PCA of the held-out rows), a baseline that is not trivial.
        hc = held - held.mean(0)
        sv = torch.linalg.svdvals(hc) ** 2
        pca_fvu = (sv[a.k :].sum() / sv.sum()).item()
    print(json.dumps({
        "steps": a.steps_run, "batch": a.batch, "rows_seen": a.steps_run * a.batch, "seconds": round(seconds, 1), "s_per_step": round(seconds / a.steps_run, 3),
        "fvu_train": sae.fvu(train_rows), "fvu_heldout": sae.fvu(held), "fvu_pca_k": pca_fvu, "dead_fraction": sae.dead().float().mean().item(),
        "l0_heldout": l0, "out": a.out,
    }))


if __name__ == "__main__":
    main()

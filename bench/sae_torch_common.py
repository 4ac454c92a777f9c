"""The TopK SAE training recipe shared by bench/train_torch.py and bench/trained_sae.py.

W_dec rows random unit vectors, W_enc = W_dec^T, b_dec = geometric median of the first batch,
loss = sum ||x_hat - x||^2 / (n var) + AuxK (k_aux = d_in // 2 dead latents, alpha = 1/32,
dead after 50 batches of rows), Adam, decoder gradient's radial part removed and rows
renormalized after each step.
"""
import torch


def geometric_median(x, iters=32):
    y = x.mean(0)
    for _ in range(iters):
        w = 1 / (x - y).norm(dim=1).clamp_min(1e-8)
        y = (w[:, None] * x).sum(0) / w.sum()
    return y


class TopKTrainer:
    def __init__(self, first, d_sae, k, lr, sparse_decode=False):
        batch, d = first.shape
        # sparse_decode: decode from the k (and k_aux) gathered decoder rows instead of a dense
        # [batch, d_sae] code matmul: the same sums, several times less work when d_sae is wide.
        self.sparse_decode = sparse_decode
        self.k, self.d_sae = k, d_sae
        self.W_dec = torch.randn(d_sae, d); self.W_dec /= self.W_dec.norm(dim=1, keepdim=True)
        self.W_enc = self.W_dec.t().clone(); self.b_enc = torch.zeros(d_sae); self.b_dec = geometric_median(first)
        self.params = [self.W_enc, self.b_enc, self.W_dec, self.b_dec]
        for t in self.params: t.requires_grad_(True)
        self.opt = torch.optim.Adam(self.params, lr=lr, betas=(0.9, 0.999), eps=1e-8)
        self.var = ((first - first.mean(0)) ** 2).sum(1).mean().item()
        self.k_aux, self.dead_after = d // 2, 50 * batch
        self.last_fired = torch.zeros(d_sae); self.seen = 0

    def encode(self, x):
        h = (x - self.b_dec) @ self.W_enc + self.b_enc
        vals, idx = h.topk(self.k, dim=1)
        return h, torch.zeros_like(h).scatter(1, idx, vals.relu())

    def dead(self):
        """Latents that have not fired in the last dead_after rows."""
        return (self.seen - self.last_fired >= self.dead_after) & (self.seen >= self.dead_after)

    def decode(self, vals, idx):
        if self.sparse_decode:
            return torch.einsum("bk,bkd->bd", vals, self.W_dec[idx])
        return torch.zeros(vals.shape[0], self.d_sae).scatter(1, idx, vals) @ self.W_dec

    def step(self, x):
        h = (x - self.b_dec) @ self.W_enc + self.b_enc
        vals, idx = h.topk(self.k, dim=1)
        x_hat = self.decode(vals.relu(), idx) + self.b_dec
        c = 1 / (x.shape[0] * self.var)
        loss = c * ((x_hat - x) ** 2).sum()
        fired = torch.zeros(self.d_sae, dtype=torch.bool).index_fill_(0, idx[vals > 0], True)
        self.last_fired[fired] = self.seen + x.shape[0]
        self.seen += x.shape[0]
        dead = self.dead()
        if dead.any():
            h_dead = h.masked_fill(~dead, float("-inf"))
            vals, idx = h_dead.topk(min(self.k_aux, int(dead.sum())), dim=1)
            e_hat = self.decode(vals.relu(), idx)
            loss = loss + (1 / 32) * c * ((e_hat - (x - x_hat).detach()) ** 2).sum()
        self.opt.zero_grad(); loss.backward()
        with torch.no_grad():
            self.W_dec.grad -= (self.W_dec.grad * self.W_dec).sum(1, keepdim=True) * self.W_dec
        self.opt.step()
        with torch.no_grad():
            self.W_dec /= self.W_dec.norm(dim=1, keepdim=True)
        return loss.detach()

    @torch.no_grad()
    def fvu(self, x, chunk=1024):
        """Fraction of variance unexplained on x (rows in chunks, so d_sae-wide codes fit in memory)."""
        err = 0.0
        for i in range(0, x.shape[0], chunk):
            xs = x[i : i + chunk]
            _, z = self.encode(xs)
            err += ((z @ self.W_dec + self.b_dec - xs) ** 2).sum().item()
        return err / ((x - x.mean(0)) ** 2).sum().item()

#!/usr/bin/python3
# Before building int4 encoder weights (issue 15): what active-set recall/precision can int4 encoder weights reach against f32, with the candidates
# rescored exactly (15-bit activations) against (a) the int4 weights themselves, (b) int4 + an int4
# residual plane, (c) int8 per-latent weights? A planted dictionary (d_in 768, 4096 unit-norm atoms,
# ~40 active per row, encoder = decoder transpose, shared input offset), numpy only, about a minute:
#   python3 bench/int4_recall_sim.py
# With a trained TopK checkpoint (dictionary_learning's ae.pt, e.g. from bench/trained_sae.py) and
# held-out rows, the same question on it: int8 / int4 per latent / int4 groups of 32 and 16, every
# latent exact at those weights (15-bit activations), TopK recall against the f32 encoder:
#   /usr/bin/python3 bench/int4_recall_sim.py --checkpoint DIR/ae.pt --rows DIR/eval.npy
import sys
import numpy as np
rng=np.random.default_rng(0)
def q(Xin,bits):
    m=2**(bits-1)-1; sx=np.abs(Xin).max(1,keepdims=True)/m; return np.round(Xin/sx)*sx
def quant_group(We,bits,g):
    d,F=We.shape; G=We.reshape(d//g,g,F); m=2**(bits-1)-1
    sg=np.abs(G).max(1,keepdims=True)/m; sg[sg==0]=1
    return (np.round(G/sg)*sg).reshape(d,F), sg, m
def run(d=768,F=4096,n=512,offset=1.0,arch="jumprelu",k=32):
    D=rng.standard_normal((F,d)); D/=np.linalg.norm(D,axis=1,keepdims=True)
    We=D.T.copy(); mu=rng.standard_normal(d)*offset
    X=np.zeros((n,d))
    for i in range(n):
        idx=rng.choice(F,40,replace=False); X[i]=rng.lognormal(0,0.5,40)@D[idx]
    X+=0.05*rng.standard_normal((n,d)); X+=mu
    Xc=X-mu; pre=Xc@We
    if arch=="jumprelu":
        thr=np.maximum(np.quantile(pre,1-40/F,axis=0)*0.8,0); act=pre>thr
    else:
        kth=-np.sort(-pre,1)[:,k-1:k]; act=pre>=kth
    W4,s4,m4=quant_group(We,4,32)
    # residual plane in 4 bits: r = round((We-W4)/(s4/7... )) with step s4/m4/8
    step=(s4/ (2*m4+1)); R=(np.round((We-W4).reshape(d//32,32,F)/step).clip(-8,7)*step).reshape(d,F)
    W44=W4+R
    s8=np.abs(We).max(0)/127; W8=np.round(We/s8)*s8
    out={}
    for name,W in [("int4 g32",W4),("int4 g32 + int4 plane",W44),("int8/latent",W8)]:
        p=q(Xc,15)@W
        if arch=="jumprelu": a=p>thr
        else:
            kth=-np.sort(-p,1)[:,k-1:k]; a=p>=kth
        out[name]=(round((a&act).sum()/act.sum(),4), round((a&act).sum()/a.sum(),4))
    return out
def trained(ckpt, rows, k_rows=1000):
    import torch
    sd=torch.load(ckpt,map_location="cpu")
    W=sd["encoder.weight"].double().numpy().T; b=sd["encoder.bias"].double().numpy(); k=int(sd["k"])
    Xc=np.load(rows).astype(np.float64)[:k_rows]-sd["b_dec"].double().numpy()
    top=lambda p: np.argsort(-p,1)[:,:k]
    ref=top(Xc@W+b); Xq=q(Xc,15)
    per_latent=lambda bits: quant_group(W,bits,W.shape[0])[0]
    for name,Wq in [("int8 per latent",per_latent(8)),("int4 per latent",per_latent(4)),("int4 g32",quant_group(W,4,32)[0]),("int4 g16",quant_group(W,4,16)[0])]:
        got=top(Xq@Wq+b)
        print(f"{name}: TopK recall vs f32 {np.mean([len(set(a)&set(r))/k for a,r in zip(got,ref)]):.4f}")
if "--checkpoint" in sys.argv:
    trained(sys.argv[sys.argv.index("--checkpoint")+1], sys.argv[sys.argv.index("--rows")+1])
else:
    for arch in ("jumprelu","topk"):
        for off in (0,1,10): print(arch,"offset",off,run(offset=off,arch=arch))

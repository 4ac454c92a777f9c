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
# Can a smarter int4 quantizer close the gap to int8? Weight-only, symmetric codes in [-7,7] (m=7,
# as above), one f32 scale per (g consecutive d_in entries, latent); every method fits on calib rows
# only and is scored on the eval rows. Methods: rtn (absmax), mse (clip multiplier minimizing weight
# error), awq (clip minimizing e^T H e on the group's diagonal block of H = Xc^T Xc/n), gptq (error
# feedback through chol(H^-1), scale from the updated weights when a group starts), gptqc (gptq + awq's
# clip search per group), gptqa (act-order, decreasing diag H, static awq-clipped scales). --damp is
# the GPTQ dampening as a fraction of mean diag H: 1.0 was best on a 1000/1000 split of the calib
# rows (the usual 0.01 halves the calib loss but overfits 2000 rows of 768 and barely helps held out).
# "pool rescore": recall when the int4 top --pool (128) are rescored exactly; --f16 adds the recall
# with the scales rounded to f16 (one more scoring pass per row). "+bc" rows
# fit on the covariance (H - mu mu^T) instead and fold mu.(w - w_q) into the f32 bias, which is exact.
#   /usr/bin/python3 bench/int4_recall_sim.py --checkpoint DIR/ae.pt --rows DIR/eval.npy \
#       --calib DIR/calib.npy --methods rtn,mse,awq,gptq,gptqc,gptqa   # ~7 min on 2 cores; rtn,gptqc ~1.5
ALPHAS=np.linspace(0.5,1.0,11)  # absmax multipliers tried by the clip searches
def codes(G,s,m): return np.clip(np.round(G/s),-m,m)
def clip_search(G,m,Hb=None):
    # G (ng,g,F); Hb (ng,g,g) or None for plain weight MSE: best absmax multiplier per (group, latent)
    amax=np.abs(G).max(1,keepdims=True); amax[amax==0]=1; best=None
    for a in ALPHAS:
        s=a*amax/m; E=G-codes(G,s,m)*s
        c=(E*E).sum(1,keepdims=True) if Hb is None else (E*np.matmul(Hb,E)).sum(1,keepdims=True)
        if best is None: best,bs=c,s
        else: w=c<best; best=np.where(w,c,best); bs=np.where(w,s,bs)
    return bs
def blocks(H,g): return np.stack([H[i:i+g,i:i+g] for i in range(0,H.shape[0],g)]).astype(np.float32)
def quant_simple(W,g,m,how,H):
    d,F=W.shape; G=W.reshape(d//g,g,F)
    if how=="rtn": s=np.abs(G).max(1,keepdims=True)/m; s[s==0]=1
    else: s=clip_search(G,m,None if how=="mse" else blocks(H,g))
    return codes(G,s,m).reshape(d,F), np.repeat(s,g,1).reshape(d,F)
def quant_gptq(W,g,m,H,clip=False,act=False,bs=128,damp=1.0):
    # Frantar et al. 2022 over the d_in rows (H is shared by every latent), lazy block updates
    d,F=W.shape; W=W.astype(np.float32).copy(); H=H.copy(); H[np.diag_indices(d)]+=damp*np.mean(np.diag(H))
    if act:  # static scales from the original weights, groups stay consecutive in d_in
        Sfix=quant_simple(W,g,m,"awq" if clip else "rtn",H)[1]; perm=np.argsort(-np.diag(H))
    else: perm=np.arange(d)
    W=W[perm]; Hp=H[np.ix_(perm,perm)]; bs=max(bs//g,1)*g if g<d else bs
    U=np.linalg.cholesky(np.linalg.inv(Hp)).T.astype(np.float32)  # upper: H^-1 = U^T U
    Q=np.zeros_like(W); S=np.zeros_like(W); Hb=Hp.astype(np.float32)
    for i1 in range(0,d,bs):
        i2=min(i1+bs,d); W1=W[i1:i2]; E1=np.zeros_like(W1)
        for i in range(i2-i1):
            r=i1+i
            if act: s=Sfix[perm[r]]
            elif r%g==0:
                Gw=W[r:r+g] if r+g<=i2 else np.concatenate([W1[i:],W[i2:r+g]])
                if clip: s=clip_search(Gw[None],m,Hb[None,r:r+g,r:r+g])[0,0]
                else: s=np.abs(Gw).max(0)/m; s[s==0]=1
            c=codes(W1[i],s,m); Q[r]=c; S[r]=s
            e=(W1[i]-c*s)/U[r,r]; W1[i:]-=U[r,r:i2][:,None]*e[None]; E1[i]=e
        W[i2:]-=U[i1:i2,i2:].T@E1
    inv=np.argsort(perm); return Q[inv],S[inv]
def methods_table(ckpt,rows,calib,methods,k_rows=1000,pool=128,damp=1.0,f16=False):
    import torch,time
    sd=torch.load(ckpt,map_location="cpu")
    W=sd["encoder.weight"].double().numpy().T; b=sd["encoder.bias"].double().numpy(); k=int(sd["k"]); bd=sd["b_dec"].double().numpy()
    C=np.load(calib).astype(np.float64)-bd; Xc=np.load(rows).astype(np.float64)[:k_rows]-bd; n=len(Xc)
    H=C.T@C/len(C); mu=C.mean(0); Sig=H-np.outer(mu,mu)
    ref_pre=Xc@W+b; rms=np.sqrt((ref_pre**2).mean())
    ref=np.argpartition(-ref_pre,k,1)[:,:k]; refm=np.zeros(ref_pre.shape,bool); refm[np.arange(n)[:,None],ref]=True
    Xq=q(Xc,15).astype(np.float32); d=W.shape[0]; m=7; exact=Xq.astype(np.float64)@W+b
    def score(Wq,bias):
        p=(Xq@Wq.astype(np.float32)).astype(np.float64)+bias
        got=np.argpartition(-p,k,1)[:,:k]; cand=np.argpartition(-p,pool,1)[:,:pool]
        rs=np.take_along_axis(exact,cand,1)  # exact f32 rescoring of the int4 pool
        top=np.take_along_axis(cand,np.argpartition(-rs,k,1)[:,:k],1)
        hit=lambda I: refm[np.arange(n)[:,None],I].sum()/(n*k)
        return hit(got), np.sqrt(((p-ref_pre)**2).mean())/rms, hit(top)
    print(f"int4 codes [-{m},{m}], calib {len(C)} rows, eval {n} rows, k {k}, pool {pool}, gptq damp {damp}")
    print(f"{'method':12}{'g':>5}{'bits/w f32s':>12}{'f16s':>6}{'recall':>8}{'rel err':>9}{'rec f16s':>9}{'pool rescore':>13}{'s':>6}")
    for bits in (8,6,5):  # references: how much error per latent each recall costs
        r,e,pr=score(quant_group(W,bits,d)[0],b)
        print(f"{f'int{bits} latent':12}{d:5}{bits+32/d:12.3f}{bits+16/d:6.2f}{r:8.4f}{e:9.4f}{'':9}{pr:13.4f}")
    for meth in methods:
        for g in (d,32,16):
            for bc in (False,True):
                t=time.time(); Hm=Sig if bc else H
                if meth in ("rtn","mse","awq"): Qc,S=quant_simple(W,g,m,meth,Hm)
                else: Qc,S=quant_gptq(W,g,m,Hm,clip=meth!="gptq",act=meth=="gptqa",damp=damp)
                t=time.time()-t
                out=[]
                for Sx in (S,S.astype(np.float16).astype(np.float64))[:1+f16]:
                    Wq=Qc*Sx; out.append(score(Wq,b+(mu@(W-Wq) if bc else 0)))
                (r,e,pr),r16=out[0],(f"{out[1][0]:9.4f}" if f16 else f"{'-':>9}")
                print(f"{meth+('+bc' if bc else ''):12}{g:5}{4+32/g:12.3f}{4+16/g:6.2f}{r:8.4f}{e:9.4f}{r16}{pr:13.4f}{t:6.1f}",flush=True)
if "--calib" in sys.argv:
    a=lambda f,dflt=None: sys.argv[sys.argv.index(f)+1] if f in sys.argv else dflt
    methods_table(a("--checkpoint"),a("--rows"),a("--calib"),a("--methods","rtn,mse,awq,gptq,gptqc,gptqa").split(","),int(a("--eval-rows",1000)),damp=float(a("--damp",1.0)),pool=int(a("--pool",128)),f16="--f16" in sys.argv)
elif "--checkpoint" in sys.argv:
    trained(sys.argv[sys.argv.index("--checkpoint")+1], sys.argv[sys.argv.index("--rows")+1])
else:
    for arch in ("jumprelu","topk"):
        for off in (0,1,10): print(arch,"offset",off,run(offset=off,arch=arch))

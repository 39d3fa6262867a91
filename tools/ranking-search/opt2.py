from search import *
def comb2(S,w):
    t=sum(w.get(k,0)*S[k] for k in KEYS if k[0]=='t'); b=sum(w.get(k,0)*S[k] for k in KEYS if k[0]=='b')
    lam=w.get('lam',0.5)
    return np.maximum(t,b)+lam*np.minimum(t,b)
import search
search.comb=comb2
def obj(w,T):
    r=report(w,T); return (r['clinc60']+r['stack']+r['bank60'])/3, r
best={('t','ws'):1.0,('b','ws'):1.0,'lam':0.5}; T=0.3
bo,_=obj(best,T)
grid=[0,0.25,0.5,1,2]
for it in range(3):
    for k in KEYS+['lam']:
        for v in grid:
            w=dict(best); w[k]=v
            o,_=obj(w,T)
            if o>bo+1e-4: bo,best=o,w
    for t in (0.1,0.2,0.3,0.5,0.8):
        o,_=obj(best,t)
        if o>bo+1e-4: bo,T=o,t
    print(it,bo,T,{k:v for k,v in best.items() if v},report(best,T))

from common import COMPS
import pickle, numpy as np, itertools
cl,st,bk=pickle.load(open(COMPS,'rb'))
KEYS=[(f,a) for f in 't b'.split() for a in ('ws','w','bi','ch')]
def stack(lst): return {k:np.array([c[k] for c in lst]) for k in KEYS}
C={'cl_in':stack(cl['in']),'cl_oos':stack(cl['oos']),'st':stack(st['q']),'bk_in':stack(bk['in']),'bk_id':stack(bk['id']),'bk_ood':stack(bk['ood'])}
g_cl=np.array(cl['gold']); g_st=np.array(st['gold']); g_bk=np.array(bk['gold'])
def comb(S,w): return sum(w.get(k,0)*S[k] for k in KEYS)
def conf(s,T=0.3):
    e=np.exp((s-s.max(1,keepdims=True))/T); return (e/e.sum(1,keepdims=True)).max(1)
def mrr(s,g): return np.mean(1/((s>s[np.arange(len(g)),g][:,None]).sum(1)+1))
def acc60(si,so,g,T):
    right=si.argmax(1)==g; ci=conf(si,T); co=conf(so,T); th=np.quantile(co,0.6); return np.mean(right&(ci>th)), right.mean()
def report(w,T=0.3):
    a=acc60(comb(C['cl_in'],w),comb(C['cl_oos'],w),g_cl,T)
    si=comb(C['bk_in'],w); sid=comb(C['bk_id'],w); sod=comb(C['bk_ood'],w)
    right=si.argmax(1)==g_bk; th=np.quantile(conf(sod,T),0.6)
    b=(np.mean(right&(conf(si,T)>th)), right.mean(), np.mean(conf(sid,T)<=th))
    return dict(clinc60=round(a[0],3),clinc_raw=round(a[1],3),stack=round(mrr(comb(C['st'],w),g_st),3),bank60=round(b[0],3),bank_raw=round(b[1],3),bank_idrec=round(b[2],3))
for k in KEYS: print(k, report({k:1}))
print('cur-ish', report({('t','ws'):1.5,('b','ws'):1}))

# The bot's own classifier (src/knowledge/classifier.rs) mirrored: multinomial logistic
# regression by SGD over each document's title and sentences; words, word pairs and character
# 3-5-grams, sublinear tf-idf, each way and the whole scaled to length 1.
#   python3 learned.py 10 0.5 10 learned.pkl   # epochs, eta0, C -> dev-split probabilities
import sys, re, math, collections, time
from common import *
import numpy as np
def words(s): return terms(s,False)
def pairs(s):
    w=words(s); return [a+'_'+b for a,b in zip(w,w[1:])]
def grams(s,lo=3,hi=5):
    out=[]
    for w in re.findall(r'\w+', s.lower()):
        w='_'+fold(w)+'_'
        for n in range(lo,hi+1):
            out+= [w[i:i+n] for i in range(len(w)-n+1)]
    return out
def sents(body):
    out=[]
    for line in body.split('\n'):
        out+= [x for x in re.split(r'(?<=[.!?])\s+', line) if x.strip()]
    return out
WAYS=[words,pairs,grams]
class Clf:
    def __init__(self, docs, epochs=10, eta0=0.5, C=10):
        X=[];y=[]
        for i,(id_,title,body) in enumerate(docs):
            for s in [title]+sents(body): X.append(s); y.append(i)
        n=len(X); self.K=len(docs)
        self.vocab=[{} for _ in WAYS]; df=[collections.Counter() for _ in WAYS]
        for s in X:
            for w,f in enumerate(WAYS):
                for t in set(f(s)): df[w][t]+=1
        self.idf=[]
        for w in range(len(WAYS)):
            for t in sorted(df[w]): self.vocab[w][t]=len(self.vocab[w])
            self.idf.append({t:math.log((1+n)/(1+c))+1 for t,c in df[w].items()})
        self.off=np.cumsum([0]+[len(v) for v in self.vocab])
        F=self.off[-1]; K=self.K
        feats=[self.vec(s) for s in X]
        V=np.zeros((F,K)); b=np.zeros(K); scale=1.0; lam=1/(C*n); t=0
        rng=np.random.default_rng(7)
        for ep in range(epochs):
            order=rng.permutation(n); loss=0
            for i in order:
                j,x=feats[i]
                eta=eta0/(1+eta0*lam*t)
                z=b+scale*(x@V[j]); z-=z.max(); p=np.exp(z); p/=p.sum()
                loss-=math.log(p[y[i]]+1e-12)
                p[y[i]]-=1
                scale*=1-eta*lam
                V[j]-=eta*np.outer(x,p)/scale
                b-=eta*p; t+=1
            #print('epoch',ep,loss/n)
        self.W=V*scale; self.b=b
    def vec(self,s):
        js=[];xs=[]
        for w,f in enumerate(WAYS):
            c=collections.Counter(t for t in f(s) if t in self.vocab[w])
            if not c: continue
            v=np.array([(1+math.log(k))*self.idf[w][t] for t,k in c.items()])
            v/=np.linalg.norm(v)
            js+= [self.off[w]+self.vocab[w][t] for t in c]; xs+=list(v)
        x=np.array(xs); 
        if len(x): x/=np.linalg.norm(x)
        return np.array(js,dtype=int),x
    def prob(self,qs):
        out=[]
        for q in qs:
            j,x=self.vec(q); z=self.b+(x@self.W[j] if len(j) else 0); z=z-z.max(); p=np.exp(z); out.append(p/p.sum())
        return np.array(out)
if __name__=='__main__':
    import pickle
    ep=int(sys.argv[1]); eta0=float(sys.argv[2]); C=float(sys.argv[3])
    out={}
    d=clinc(); by=collections.defaultdict(list)
    for t,i in d['train']: by[i].append(t)
    docs=[(i,i.replace('_',' '),"\n".join(ts)) for i,ts in sorted(by.items())]
    t0=time.time(); m=Clf(docs,ep,eta0,C); print('fit',time.time()-t0, 'F',m.off[-1])
    out['cl_in']=m.prob([t for t,_ in d['val']]); out['cl_oos']=m.prob([t for t,_ in d['oos_val']])
    gold=[sorted(by).index(i) for _,i in d['val']]
    print('clinc top1', np.mean(out['cl_in'].argmax(1)==gold))
    faqs,qs=faq('stackfaq'); qs=[q for q in qs if q['group']=='A']
    docs=[(str(f['faq_id']),f['question'],f['answer']) for f in faqs]
    m=Clf(docs,ep,eta0,C); out['st']=m.prob([q['query'] for q in qs])
    tr=b77oos('train'); by=collections.defaultdict(list)
    for t,i in tr: by[i].append(t)
    docs=[(i,i.replace('_',' '),"\n".join(ts)) for i,ts in sorted(by.items())]
    m=Clf(docs,ep,eta0,C)
    out['bk_in']=m.prob([t for t,_ in b77oos('valid')]); out['bk_id']=m.prob([t for t,_ in b77oos('id-oos/valid')]); out['bk_ood']=m.prob([t for t,_ in b77oos('ood-oos/valid')])
    pickle.dump(out,open(sys.argv[4],'wb'))

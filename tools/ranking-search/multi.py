from feats import *
def wstop(text): return terms(text,True)
AN={'ws':wstop,'w':words,'bi':bigrams,'ch':chars}
class Field(BM):
    def __init__(self, texts, an, k1=1.2,b=0.75):
        super().__init__([(None,'',t) for t in texts], an, k1, b)
class Multi:
    """fields: title, body; components: (field, analyzer)"""
    def __init__(self, docs):
        self.f={}
        for fld,idx in (('t',1),('b',2)):
            for a,an in AN.items():
                self.f[(fld,a)]=Field([d[idx] for d in docs], an)
    def comps(self, q):
        out={}
        for k,m in self.f.items():
            out[k]=m.score(q)/m.selfscore(q)
        return out

from common import *
def words(text):
    out=[]
    for w in re.findall(r'\w+', text.lower()):
        if len(w)>40: continue
        out.append(stem(fold(w)))
    return out
def bigrams(text):
    w=words(text); return [a+'_'+b for a,b in zip(w,w[1:])]
def chars(text,lo=3,hi=5):
    out=[]
    for w in re.findall(r'\w+', fold(text.lower())):
        w=f' {w} '
        for n in range(lo,hi+1):
            out+= [w[i:i+n] for i in range(len(w)-n+1)]
    return out
class BM:
    def __init__(self, docs, an, k1=1.2,b=0.75, tboost=1.5):
        self.an=an; self.N=len(docs); self.k1=k1;self.b=b
        self.tf=[];self.L=[]
        for _,t,bd in docs:
            c=collections.Counter(an(bd))
            for w,n in collections.Counter(an(t)).items(): c[w]+=tboost*n
            self.tf.append(c); self.L.append(sum(c.values()))
        self.avg=np.mean(self.L)
        self.df=collections.Counter()
        for c in self.tf:
            for w in c: self.df[w]+=1
        self.inv=collections.defaultdict(list)
        for i,c in enumerate(self.tf):
            for w,n in c.items(): self.inv[w].append((i,n))
    def idf(self,w):
        df=self.df.get(w,0); return math.log(1+(self.N-df+0.5)/(df+0.5))
    def score(self,text):
        q=collections.Counter(self.an(text)); s=np.zeros(self.N)
        for w,qn in q.items():
            if w not in self.df: continue
            idf=self.idf(w)
            for i,tf in self.inv[w]:
                s[i]+=idf*tf*(self.k1+1)/(tf+self.k1*(1-self.b+self.b*self.L[i]/self.avg))
        return s
    def selfscore(self,text):
        # max attainable: sum over query terms of idf*(k1+1)
        q=set(self.an(text)); return sum(self.idf(w)*(self.k1+1) for w in q) or 1.0

import json, csv, re, math, unicodedata, collections, os
import numpy as np
import snowballstemmer
D=os.environ.get('BATON_EVAL_DATA','/work/shared/eval-data')
_HERE=os.path.dirname(os.path.abspath(__file__))
_INDEX=open(os.path.join(_HERE,'../../src/knowledge/index.rs')).read()
# The English stop words of the Rust index, read from its source so the two cannot drift.
STOP=set(re.findall(r'"([^"]+)"', re.search(r'const STOP_WORDS: &\[&str\] = &\[(.*?)\];', _INDEX, re.S).group(1)))
COMPS=os.path.join(_HERE,'comps.pkl')
stem=snowballstemmer.stemmer('english').stemWord
_cache={}
def fold(s):
    return unicodedata.normalize('NFKD',s).encode('ascii','ignore').decode() or s
def terms(text, stop=True):
    k=(text,stop)
    if k in _cache: return _cache[k]
    out=[]
    for w in re.findall(r'\w+', text.lower()):
        if len(w)>40: continue
        w=fold(w)
        if stop and w in STOP: continue
        out.append(stem(w))
    _cache[k]=out
    return out

def clinc():
    d=json.load(open(f'{D}/clinc150/data_full.json'))
    return d
def hint3(ver,bot,split):
    rows=list(csv.reader(open(f'{D}/hint3/{ver}/{split}/{bot}_{split}.csv',encoding='utf-8')))
    return [(r[0],r[1]) for r in rows[1:]]
def b77oos(split):
    base=f'{D}/banking77-oos/{split}'
    t=open(base+'/seq.in').read().split('\n'); l=open(base+'/label').read().split('\n')
    return [(a,b) for a,b in zip(t,l) if a]
def faq(folder):
    faqs=[json.loads(l) for l in open(f'{D}/{folder}/faqs.jsonl')]
    qs=[json.loads(l) for l in open(f'{D}/{folder}/queries.jsonl')]
    return faqs,qs

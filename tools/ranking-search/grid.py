from multi import *
import pickle,sys
# CLINC val
d=clinc()
by=collections.defaultdict(list)
for t,i in d['train']: by[i].append(t)
docs=[(i,i.replace('_',' '),"\n".join(ts)) for i,ts in sorted(by.items())]
ids=[x[0] for x in docs]
m=Multi(docs)
cl={'in':[m.comps(t) for t,_ in d['val']],'oos':[m.comps(t) for t,_ in d['oos_val']],'gold':[ids.index(i) for _,i in d['val']]}
faqs,qs=faq('stackfaq'); qs=[q for q in qs if q['group']=='A']
docs=[(str(f['faq_id']),f['question'],f['answer']) for f in faqs]; ids=[x[0] for x in docs]
m=Multi(docs)
st={'q':[m.comps(q['query']) for q in qs],'gold':[ids.index(str(q['faq_id'])) for q in qs]}
# banking valid
tr=b77oos('train'); by=collections.defaultdict(list)
for t,i in tr: by[i].append(t)
docs=[(i,i.replace('_',' '),"\n".join(ts)) for i,ts in sorted(by.items())]; ids=[x[0] for x in docs]
m=Multi(docs)
va=b77oos('valid'); idv=b77oos('id-oos/valid'); odv=b77oos('ood-oos/valid')
bk={'in':[m.comps(t) for t,_ in va],'id':[m.comps(t) for t,_ in idv],'ood':[m.comps(t) for t,_ in odv],'gold':[ids.index(i) for _,i in va]}
pickle.dump((cl,st,bk),open(COMPS,'wb'))

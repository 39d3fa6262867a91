from opt2 import *
w={('t', 'ws'): 2, ('b', 'ws'): 1.0, 'lam': 0.5, ('t', 'w'): 2, ('t', 'bi'): 0.5, ('t', 'ch'): 1, ('b', 'w'): 0.5, ('b', 'bi'): 2}
def confk(s,T,K=10):
    p=np.sort(s,1)[:,-K:]; e=np.exp((p-p.max(1,keepdims=True))/T); return (e/e.sum(1,keepdims=True)).max(1)
for K in (5,10,20,1000):
  for T in (0.3,0.5,0.8):
    si=comb2(C['cl_in'],w); so=comb2(C['cl_oos'],w); right=si.argmax(1)==g_cl
    ci=confk(si,T,K); co=confk(so,T,K)
    bi=comb2(C['bk_in'],w); bid=comb2(C['bk_id'],w); bod=comb2(C['bk_ood'],w); rb=bi.argmax(1)==g_bk
    for th in np.round(np.quantile(co,[0.6,0.65,0.7]),3):
        print(K,T,th,'clinc in',round(np.mean(right&(ci>th)),3),'oos',round(np.mean(co<=th),3),'| bank in',round(np.mean(rb&(confk(bi,T,K)>th)),3),'id',round(np.mean(confk(bid,T,K)<=th),3),'ood',round(np.mean(confk(bod,T,K)<=th),3))

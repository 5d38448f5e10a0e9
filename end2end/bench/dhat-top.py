"""The allocation sites holding the most bytes at the heap's peak in a dhat profile, per socket:
python3 end2end/bench/dhat-top.py dhat-heap.json 5000 (docs/BENCHMARKS.md)."""
import json,sys
d=json.load(open(sys.argv[1])); n=int(sys.argv[2]) if len(sys.argv)>2 else 5000
ft=d['ftbl']; pps=d['pps']
tot=sum(p.get('gb',0) for p in pps)
print(f"bytes at global max: {tot} ({tot/n:.0f} per socket over {n})")
def name(i):
    f=ft[i]
    return f
rows=sorted(pps,key=lambda p:-p.get('gb',0))[:20]
for p in rows:
    frames=[ft[i] for i in p['fs']]
    keep=[f for f in frames if ('server::' in f or 'tungstenite' in f or 'hyper' in f or 'tokio' in f or 'sqlx' in f or 'axum' in f) and 'alloc::' not in f][:4]
    print(f"{p.get('gb',0):>10} B  {p.get('gb',0)/n:7.0f}/sock  blocks {p.get('gbk',0)}")
    for f in keep: print("        ", f[:150])

import { estimateStepMemory } from '../src/train/memory.ts';
for (const [D,B,o,i,hw,c] of [[10,32,16,8,28,1],[10,32,64,32,32,3],[1,32,64,32,28,1]]) { const e = estimateStepMemory({kind:'conv',method:'learnt',maxDepth:D,outerWidth:o,innerWidth:i,width:20}, [hw,hw,c], B); console.log(D,o,i,hw,'plain',(e.plainBytes/2**20).toFixed(1),'rc',(e.recomputeBytes/2**20).toFixed(1)); }

cd /work/old && nice -n -5 node bin/vds.mjs bench --depth 50 --batch 128 --reps 3 --json 2>/dev/null | grep '{'
cd /work/main && nice -n -5 node bin/vds.mjs bench --depth 50 --batch 128 --reps 3 --json 2>/dev/null | grep '{'
cd /work/old && nice -n -5 node bin/vds.mjs bench --depth 50 --batch 128 --reps 3 --json 2>/dev/null | grep '{'
cd /work/main && nice -n -5 node bin/vds.mjs bench --depth 50 --batch 128 --reps 3 --json 2>/dev/null | grep '{'

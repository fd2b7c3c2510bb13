set -x
cd /work/main
nice -n -5 /usr/bin/python3 ../shared/bench/torch_anchor.py --depth 10
nice -n -5 npx vds bench --depth 10 --depth 50 --batch 128 --reps 5 --json
nice -n -5 /usr/bin/python3 ../shared/bench/torch_anchor.py --depth 50
nice -n -5 npx vds bench --depth 10 --batch 512 --reps 2 --recompute both --json
nice -n -5 npx vds bench --depth 50 --depth 100 --batch 512 --reps 1 --recompute on --json
nice -n -5 /usr/bin/python3 ../shared/bench/torch_anchor.py --depth 10

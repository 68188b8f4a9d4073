"""Reference computation for lab 6."""

import math
from statistics import NormalDist

from llmlab.evals import wilson_interval

for k, n in ((7, 10), (5, 10), (70, 100), (50, 100)):
    ci = wilson_interval(k, n)
    print(f"{k}/{n}: {ci.low:.4f}–{ci.high:.4f}")

pooled = 12 / 20
z = 0.2 / math.sqrt(pooled * (1 - pooled) * 2 / 10)
print("p =", 2 * (1 - NormalDist().cdf(z)))

za, zb = NormalDist().inv_cdf(0.975), NormalDist().inv_cdf(0.8)
top = za * math.sqrt(2 * 0.75 * 0.25) + zb * math.sqrt(0.7 * 0.3 + 0.8 * 0.2)
print("n =", math.ceil(top**2 / 0.1**2))

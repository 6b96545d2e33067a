"""Double-random draws (双随机): reproducible from published inputs, by anyone.

Given the seed and the inputs published before the draw, the result is a pure function:
enterprises are ranked by HMAC-SHA256(seed, "E:" + ref) and the first N taken; each is then
given inspectors from the pool, skipping conflicts, preferring those with fewer assignments
so far and breaking ties by HMAC-SHA256(seed, "I:" + ref + ":" + inspector). Verification is
running this again and comparing.
"""

import hashlib
import hmac
import json
from dataclasses import dataclass


class DrawError(ValueError):
    pass


@dataclass(frozen=True)
class Inputs:
    seed: str
    candidates: tuple[str, ...]
    pool: tuple[str, ...]
    conflicts: dict  # inspector → list of enterprise refs they may not inspect
    n: int
    per_enterprise: int = 2

    def canonical(self) -> str:
        return json.dumps(
            {
                "seed": self.seed,
                "candidates": sorted(self.candidates),
                "pool": sorted(self.pool),
                "conflicts": {k: sorted(v) for k, v in sorted(self.conflicts.items()) if v},
                "n": self.n,
                "per_enterprise": self.per_enterprise,
            },
            ensure_ascii=False,
            sort_keys=True,
            separators=(",", ":"),
        )

    def digest(self) -> str:
        return hashlib.sha256(self.canonical().encode()).hexdigest()


def _rank(seed: str, message: str) -> str:
    return hmac.new(seed.encode(), message.encode(), hashlib.sha256).hexdigest()


def run(inputs: Inputs) -> list[tuple[str, list[str]]]:
    """The draw: [(enterprise ref, [inspector, …]), …] in draw order."""
    if not inputs.seed:
        raise DrawError("no seed")
    if inputs.n < 1 or inputs.n > len(set(inputs.candidates)):
        raise DrawError(f"cannot draw {inputs.n} from {len(set(inputs.candidates))} candidates")
    if inputs.per_enterprise < 1 or inputs.per_enterprise > len(set(inputs.pool)):
        raise DrawError("the inspector pool is smaller than the inspectors per enterprise")
    conflicts = {k: set(v) for k, v in inputs.conflicts.items()}
    ranked = sorted(set(inputs.candidates), key=lambda ref: _rank(inputs.seed, "E:" + ref))
    load = dict.fromkeys(sorted(set(inputs.pool)), 0)
    result = []
    for ref in ranked[: inputs.n]:
        eligible = [u for u in load if ref not in conflicts.get(u, ())]
        if len(eligible) < inputs.per_enterprise:
            raise DrawError(f"too few inspectors without a conflict for {ref}")
        eligible.sort(key=lambda u: (load[u], _rank(inputs.seed, f"I:{ref}:{u}")))
        chosen = sorted(eligible[: inputs.per_enterprise])
        for u in chosen:
            load[u] += 1
        result.append((ref, chosen))
    return result

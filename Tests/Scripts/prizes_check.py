#!/usr/bin/env python3
"""Independent check of voucher's scratch-card prizes and draws, written from the DocC article
"Prizes" (Sources/voucher/voucher.docc/Prizes.md) with the standard library only (hashlib, hmac).

  prizes_check.py reveal FILE        FILE: `voucher prizes reveal --format json`. Checks each run's
                                     commitment and recomputes its winners; prints JSON
                                     {"commitments_ok": bool, "runs": [{"channel", "first", "last",
                                     "winners": [[serial, prize], ...]}]}.
  prizes_check.py draw FILE BEACON N PER [unclaimed]
                                     FILE: `voucher export --format jsonl` (the claims of the draw's
                                     campaign and window, in any order); BEACON in hex; N winners;
                                     PER `claim` or `profile`; `unclaimed`: the draw of unclaimed
                                     prizes, whose entries leave out every profile that won a
                                     prize. Prints JSON {"entries": [ids], "winners": [ids]}.
"""
import hashlib
import hmac
import json
import sys


def commitment(seed_hex, campaign, channel, first, last, tiers):
    text = "voucher-prize-commitment-v1\n"
    text += "seed: %s\n" % seed_hex.lower()
    text += "campaign: %s\nchannel: %s\n" % (campaign, channel)
    text += "serials: %d-%d\n" % (first, last)
    for tier in tiers:
        text += "tier: %s:%d\n" % (tier["name"], tier["count"])
    return hashlib.sha256(text.encode()).hexdigest()


def winners(seed_hex, campaign, channel, first, last, tiers):
    key = bytes.fromhex(seed_hex)
    prefix = b"voucher-prize\x00" + campaign.encode() + b"\x00" + channel.encode() + b"\x00"
    ranked = []
    for serial in range(first, last + 1):
        digest = hmac.new(key, prefix + serial.to_bytes(8, "big"), hashlib.sha256).digest()
        ranked.append((int.from_bytes(digest[:8], "big"), serial))
    ranked.sort()
    chosen, rank = [], 0
    for tier in tiers:
        for _ in range(tier["count"]):
            chosen.append([ranked[rank][1], tier["name"]])
            rank += 1
    return sorted(chosen)


def reveal(path):
    runs = json.load(open(path))
    ok = True
    out = []
    for run in runs:
        args = (run["seed"], run["campaign"], run["channel"], run["first"], run["last"], run["tiers"])
        ok = ok and commitment(*args) == run["commitment"]
        out.append({"channel": run["channel"], "first": run["first"], "last": run["last"],
                    "winners": winners(*args)})
    print(json.dumps({"commitments_ok": ok, "runs": out}))


def draw(path, beacon_hex, count, per, unclaimed=False):
    claims = [json.loads(line) for line in open(path) if line.strip()]
    claims = sorted((c for c in claims if c["event"] == "claimed"), key=lambda c: c["id"])
    entries, seen = [], set()
    if unclaimed:
        won = {c["profile"] for c in claims if c.get("prize") is not None}
        claims = [c for c in claims if c.get("prize") is None and c["profile"] not in won]
    for claim in claims:
        if per == "profile":
            if claim["profile"] is None or claim["profile"] in seen:
                continue
            seen.add(claim["profile"])
        entries.append(claim["id"])
    key = bytes.fromhex(beacon_hex)
    def score(entry):
        digest = hmac.new(key, b"voucher-draw\x00" + entry.to_bytes(8, "big"), hashlib.sha256).digest()
        return (int.from_bytes(digest[:8], "big"), entry)
    chosen = sorted(entries, key=score)[:count]
    print(json.dumps({"entries": entries, "winners": chosen}))


if __name__ == "__main__":
    if sys.argv[1] == "reveal":
        reveal(sys.argv[2])
    elif sys.argv[1] == "draw":
        draw(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5],
             len(sys.argv) > 6 and sys.argv[6] == "unclaimed")
    else:
        sys.exit("usage: prizes_check.py reveal FILE | draw FILE BEACON N PER")

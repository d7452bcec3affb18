#!/usr/bin/env python3
"""Reference data for KernelsTests, made with llama.cpp's own quantization code as gguf-py ships it.

    pip install gguf numpy
    python3 make_quant_fixtures.py        # rewrites quant_fixtures.json and quant_fixtures.bin beside it

What comes from where:
  * Weights of F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0: gguf.quants.quantize (llama.cpp's reference
    quantizers, ported to numpy bit for bit). gguf-py has no K-quant quantizer, so Q4_K, Q5_K and Q6_K weights
    are random but well-formed blocks (random quants and packed scales, realistic fp16 super-block scales).
  * Dequantized weights: gguf.quants.dequantize, for every type. The tests require our values to be bitwise equal.
  * Activations: Q8_0, F16 and BF16 by gguf.quants.quantize; Q8_1 and Q8_K (which gguf-py does not implement)
    by the numpy transcriptions of llama.cpp's quantize_row_q8_1_ref / quantize_row_q8_K_ref below, in float32
    throughout. The tests require our quantizers' bytes to be equal.
  * Expected dots: the integer arithmetic llama.cpp's vec_dot performs (exact integer sums per block, times the
    block scales), evaluated in float64 from the decoded integers; the decoders are checked against gguf-py's
    dequantize before anything is written. Also dot_abs (sum of |block terms|, the scale for error budgets) and
    dot_deq (dequantized weights . dequantized activations in float64).

Output: quant_fixtures.json (an index of cases with byte offsets) and quant_fixtures.bin (the bytes).
"""
import json
import os

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf.quants import dequantize, quantize

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 20240611

F16 = np.float16
F32 = np.float32


def vector(rng, n, dist):
    """Awkward float32 vectors: the shapes the kernels must get right."""
    if dist == "normal":
        v = rng.standard_normal(n)
    elif dist == "uniform":
        v = rng.uniform(-1.0, 1.0, n)
    elif dist == "outliers":
        v = rng.standard_normal(n) * 0.02
        spikes = rng.choice(n, size=max(2, n // 40), replace=False)
        v[spikes] = rng.choice([-1.0, 1.0], size=spikes.size) * rng.uniform(10.0, 60.0, spikes.size)
    elif dist == "zeros":
        v = rng.standard_normal(n)
        v[rng.random(n) < 0.5] = 0.0
        v[32:64] = 0.0  # one whole 32-block of zeros (d = 0 paths)
        if n >= 512:
            v[256:512] = 0.0  # one whole 256-block of zeros
    elif dist == "ties":
        # Every 32-block has magnitude 127 at its start, so Q8_0/Q8_1 get d = 1 and Q8_K gets iscale = -1 or +1,
        # and the other values are exact halves: rounding half away from zero (Q8_0/Q8_1) and half to even
        # (Q8_K) must both be done right.
        v = rng.integers(-126, 126, n).astype(np.float64) + 0.5
        v[::32] = 127.0 * rng.choice([-1.0, 1.0], size=n // 32)
        v[0], v[5] = -127.0, 127.0  # two maxima of opposite sign: Q8_K must take the first one's sign
    else:
        raise ValueError(dist)
    return v.astype(F32)


# ------------------------------------------------------------------ activation quantizers (llama.cpp reference)

def np_roundf(x):
    """C roundf: half away from zero."""
    a = np.abs(x)
    f = np.floor(a)
    r = f + (a - f >= F32(0.5)).astype(F32)
    return np.copysign(r, x)


def quant_q8_1(x):
    blocks = x.reshape(-1, 32)
    out = bytearray()
    for b in blocks:
        amax = np.max(np.abs(b))
        d = F32(amax / F32(127))
        idv = F32(1) / d if d != 0 else F32(0)
        qs = np_roundf((b * idv).astype(F32)).astype(np.int8)
        s = F32(F32(int(qs.astype(np.int64).sum())) * d)
        out += np.array([d], dtype=F16).tobytes() + np.array([s], dtype=F16).tobytes() + qs.tobytes()
    return bytes(out)


def quant_q8_K(x):
    blocks = x.reshape(-1, 256)
    out = bytearray()
    for b in blocks:
        a = np.abs(b)
        amax = a.max()
        if amax == 0:
            out += bytes(292)
            continue
        mx = b[int(np.argmax(a))]  # first element of largest magnitude
        iscale = F32(F32(-127) / mx)
        v = np.rint((iscale * b).astype(F32))  # nearest_int: half to even
        qs = np.minimum(v, 127).astype(np.int8)
        bsums = qs.astype(np.int32).reshape(16, 16).sum(axis=1).astype(np.int16)
        d = F32(F32(1) / iscale)
        out += np.array([d], dtype=F32).tobytes() + qs.tobytes() + bsums.tobytes()
    return bytes(out)


def quantize_act(x, act):
    if act in (T.Q8_0, T.F16, T.BF16):
        return quantize(x, act).tobytes()
    if act == T.Q8_1:
        return quant_q8_1(x)
    if act == T.Q8_K:
        return quant_q8_K(x)
    if act == T.F32:
        return x.astype(F32).tobytes()
    raise ValueError(act)


ACT_BLOCK = {T.Q8_0: 32, T.Q8_1: 32, T.Q8_K: 256, T.F16: 1, T.BF16: 1, T.F32: 1}

# ------------------------------------------------------------------ decoders to integers (checked against gguf-py)


def f16(raw):
    return np.frombuffer(bytes(raw), dtype=F16).astype(np.float64)


def k_scales(s):
    """The 8 six-bit scales and mins packed in 12 bytes (Q4_K / Q5_K)."""
    sc = [0] * 8
    m = [0] * 8
    for j in range(8):
        if j < 4:
            sc[j] = s[j] & 63
            m[j] = s[j + 4] & 63
        else:
            sc[j] = (s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4)
            m[j] = (s[j + 4] >> 4) | ((s[j] >> 6) << 4)
    return np.array(sc, np.int64), np.array(m, np.int64)


def decode_weight(wtype, raw, n):
    """Per block: (d, [m or dmin], integer quants, per-element integer scale, per-element integer min)."""
    raw = np.frombuffer(raw, dtype=np.uint8)
    blocks = []
    if wtype in (T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q8_0):
        size = {T.Q4_0: 18, T.Q4_1: 20, T.Q5_0: 22, T.Q5_1: 24, T.Q8_0: 34}[wtype]
        for b in raw.reshape(-1, size):
            d = f16(b[0:2])[0]
            m = 0.0
            off = 2
            if wtype in (T.Q4_1, T.Q5_1):
                m = f16(b[2:4])[0]
                off = 4
            if wtype == T.Q8_0:
                q = b[2:].view(np.int8).astype(np.int64)
            else:
                qh = 0
                if wtype in (T.Q5_0, T.Q5_1):
                    qh = int(np.frombuffer(bytes(b[off:off + 4]), np.uint32)[0])
                    off += 4
                qs = b[off:off + 16].astype(np.int64)
                q = np.concatenate([qs & 15, qs >> 4])
                if wtype in (T.Q5_0, T.Q5_1):
                    q = q | (np.array([(qh >> j) & 1 for j in range(32)], np.int64) << 4)
                if wtype == T.Q4_0:
                    q = q - 8
                if wtype == T.Q5_0:
                    q = q - 16
            blocks.append(dict(d=d, m=m, q=q))
    elif wtype in (T.Q4_K, T.Q5_K):
        size = 144 if wtype == T.Q4_K else 176
        for b in raw.reshape(-1, size):
            d, dmin = f16(b[0:4])
            sc, mn = k_scales([int(v) for v in b[4:16]])
            if wtype == T.Q4_K:
                qh, qs = None, b[16:144].astype(np.int64)
            else:
                qh, qs = b[16:48].astype(np.int64), b[48:176].astype(np.int64)
            q = np.zeros(256, np.int64)
            for k in range(4):
                chunk = qs[32 * k:32 * k + 32]
                lo, hi = chunk & 15, chunk >> 4
                if qh is not None:
                    lo = lo | (((qh >> (2 * k)) & 1) << 4)
                    hi = hi | (((qh >> (2 * k + 1)) & 1) << 4)
                q[64 * k:64 * k + 32] = lo
                q[64 * k + 32:64 * k + 64] = hi
            blocks.append(dict(d=d, dmin=dmin, q=q, sc=np.repeat(sc, 32), mn=np.repeat(mn, 32)))
    elif wtype == T.Q6_K:
        for b in raw.reshape(-1, 210):
            ql, qh = b[0:128].astype(np.int64), b[128:192].astype(np.int64)
            sc = b[192:208].view(np.int8).astype(np.int64)
            d = f16(b[208:210])[0]
            q = np.zeros(256, np.int64)
            for h in range(2):
                L, H = ql[64 * h:64 * h + 64], qh[32 * h:32 * h + 32]
                for s in range(4):
                    nib = (L[32 * (s & 1):32 * (s & 1) + 32] >> (4 * (s >> 1))) & 15
                    q[128 * h + 32 * s:128 * h + 32 * s + 32] = nib | (((H >> (2 * s)) & 3) << 4)
            blocks.append(dict(d=d, q=q - 32, sc=np.repeat(sc, 16)))
    else:
        raise ValueError(wtype)
    return blocks


def decoded_values(wtype, blocks):
    out = []
    for b in blocks:
        if wtype in (T.Q4_K, T.Q5_K):
            out.append(b["d"] * b["sc"] * b["q"] - b["dmin"] * b["mn"])
        elif wtype == T.Q6_K:
            out.append(b["d"] * b["sc"] * b["q"])
        else:
            out.append(b["d"] * b["q"] + b["m"])
    return np.concatenate(out)


def decode_act(act, raw):
    raw = np.frombuffer(raw, dtype=np.uint8)
    if act == T.Q8_0:
        return [dict(d=f16(b[0:2])[0], q=b[2:].view(np.int8).astype(np.int64)) for b in raw.reshape(-1, 34)]
    if act == T.Q8_1:
        return [dict(d=f16(b[0:2])[0], s=f16(b[2:4])[0], q=b[4:].view(np.int8).astype(np.int64))
                for b in raw.reshape(-1, 36)]
    if act == T.Q8_K:
        return [dict(d=float(np.frombuffer(bytes(b[0:4]), F32)[0]), q=b[4:260].view(np.int8).astype(np.int64),
                     bsums=np.frombuffer(bytes(b[260:292]), np.int16).astype(np.int64))
                for b in raw.reshape(-1, 292)]
    raise ValueError(act)


def integer_dot(wtype, act, wraw, xraw, wdeq, xdeq):
    """llama.cpp's vec_dot arithmetic in float64: (result, sum of |block terms|)."""
    if wtype in (T.F32, T.F16, T.BF16):
        p = wdeq.astype(np.float64) * xdeq.astype(np.float64)
        return float(p.sum()), float(np.abs(p).sum())
    wb = decode_weight(wtype, wraw, None)
    xb = decode_act(act, xraw)
    total, scale = 0.0, 0.0
    for w, x in zip(wb, xb):
        if wtype in (T.Q4_K, T.Q5_K):
            isum = int((w["sc"] * w["q"] * x["q"]).sum())
            msum = int((w["mn"][::16] * x["bsums"]).sum())
            terms = [w["d"] * x["d"] * isum, -w["dmin"] * x["d"] * msum]
        elif wtype == T.Q6_K:
            terms = [w["d"] * x["d"] * int((w["sc"] * w["q"] * x["q"]).sum())]
        else:
            terms = [w["d"] * x["d"] * int((w["q"] * x["q"]).sum())]
            if wtype in (T.Q4_1, T.Q5_1):
                terms.append(w["m"] * x["s"])
        total += sum(terms)
        scale += sum(abs(t) for t in terms)
    return total, scale


# ------------------------------------------------------------------ random K-quant blocks


def k_blocks(rng, wtype, n, dist):
    nb = n // 256
    out = bytearray()
    for i in range(nb):
        zero = dist == "zeros" and i == 0
        d = 0.0 if zero else rng.uniform(0.0005, 0.02) * rng.choice([1.0, 1.0, 1.0, -1.0])
        if wtype == T.Q6_K:
            ql = rng.integers(0, 256, 128, dtype=np.uint8)
            qh = rng.integers(0, 256, 64, dtype=np.uint8)
            sc = rng.integers(-128, 128, 16).astype(np.int8)
            if dist == "outliers":
                sc[rng.integers(0, 16)] = 127
            out += ql.tobytes() + qh.tobytes() + sc.tobytes() + np.array([d], F16).tobytes()
        else:
            dmin = 0.0 if zero else rng.uniform(0.0, 0.02)
            scales = rng.integers(0, 256, 12, dtype=np.uint8)
            head = np.array([d, dmin], F16).tobytes() + scales.tobytes()
            if wtype == T.Q5_K:
                head += rng.integers(0, 256, 32, dtype=np.uint8).tobytes()
            out += head + rng.integers(0, 256, 128, dtype=np.uint8).tobytes()
    return bytes(out)


# ------------------------------------------------------------------ assembly

VEC_DOT_TYPE = {
    T.F32: T.F32, T.F16: T.F16, T.BF16: T.BF16,
    T.Q4_0: T.Q8_0, T.Q5_0: T.Q8_0, T.Q8_0: T.Q8_0, T.Q4_1: T.Q8_1, T.Q5_1: T.Q8_1,
    T.Q4_K: T.Q8_K, T.Q5_K: T.Q8_K, T.Q6_K: T.Q8_K,
}
SHAPES_32 = [(32, "normal"), (96, "outliers"), (256, "zeros"), (256, "ties"), (2304, "uniform")]
SHAPES_K = [(256, "normal"), (512, "outliers"), (256, "zeros"), (256, "ties"), (2304, "uniform")]
SHAPES_FLOAT = [(32, "normal"), (96, "outliers"), (2304, "uniform")]


def main():
    rng = np.random.default_rng(SEED)
    blob = bytearray()

    def put(data):
        off = len(blob)
        blob.extend(data)
        while len(blob) % 4:
            blob.append(0)
        return {"offset": off, "length": len(data)}

    # activation vectors, one per (n, dist), and their quantizations in every format that fits
    acts = {}
    act_records = []
    for n, dist in sorted(set(SHAPES_32 + SHAPES_K + SHAPES_FLOAT)):
        key = f"{dist}_{n}"
        x = vector(rng, n, dist)
        acts[key] = {"x": x, "q": {}}
        rec = {"name": key, "count": n, "values": put(x.tobytes()), "formats": []}
        for act in (T.Q8_0, T.Q8_1, T.Q8_K, T.F16, T.BF16):
            if n % ACT_BLOCK[act]:
                continue
            q = quantize_act(x, act)
            acts[key]["q"][act] = q
            rec["formats"].append({"type": int(act), "bytes": put(q)})
        act_records.append(rec)

    cases = []
    for wtype in (T.F32, T.F16, T.BF16, T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q8_0, T.Q4_K, T.Q5_K, T.Q6_K):
        if wtype in (T.F32, T.F16, T.BF16):
            shapes = SHAPES_FLOAT
        elif wtype in (T.Q4_K, T.Q5_K, T.Q6_K):
            shapes = SHAPES_K
        else:
            shapes = SHAPES_32
        act = VEC_DOT_TYPE[wtype]
        for n, dist in shapes:
            key = f"{dist}_{n}"
            if wtype in (T.Q4_K, T.Q5_K, T.Q6_K):
                wraw = k_blocks(rng, wtype, n, dist)
            else:
                src = vector(rng, n, "normal" if dist == "ties" else dist)
                wraw = quantize(src, wtype).tobytes()
            wdeq = dequantize(np.frombuffer(wraw, np.uint8).copy(), wtype).reshape(-1).astype(F32)
            assert wdeq.size == n
            if wtype not in (T.F32, T.F16, T.BF16):
                check = decoded_values(wtype, decode_weight(wtype, wraw, n))
                assert np.allclose(check, wdeq, rtol=1e-6, atol=1e-7), (wtype.name, dist)
            x = acts[key]["x"]
            if act == T.F32:
                xraw, xdeq = x.tobytes(), x
            else:
                xraw = acts[key]["q"][act]
                if act in (T.F16, T.BF16):
                    xdeq = dequantize(np.frombuffer(xraw, np.uint8).copy(), act).reshape(-1)
                else:
                    xdeq = np.concatenate([b["d"] * b["q"] for b in decode_act(act, xraw)])
            dot_int, dot_abs = integer_dot(wtype, act, wraw, xraw, wdeq, xdeq)
            dot_deq = float((wdeq.astype(np.float64) * xdeq.astype(np.float64)).sum())
            cases.append({
                "type": int(wtype), "name": f"{wtype.name} {dist} {n}", "count": n, "activation": key,
                "weights": put(wraw), "dequantized": put(wdeq.tobytes()),
                "dot": dot_int, "dotAbs": dot_abs, "dotDequantized": dot_deq,
            })

    with open(os.path.join(HERE, "quant_fixtures.bin"), "wb") as f:
        f.write(blob)
    with open(os.path.join(HERE, "quant_fixtures.json"), "w") as f:
        json.dump({"seed": SEED, "activations": act_records, "cases": cases}, f, indent=1)
        f.write("\n")
    print(f"{len(cases)} cases, {len(act_records)} activation vectors, {len(blob)} bytes of data")


if __name__ == "__main__":
    main()

"""Records every client script produces and checks, the same for each codec.

Each phase runs with a bound on time; a failed check raises, so the script
exits non-zero and the Rust test that started it fails.
"""
import argparse
import sys
import time

CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]
COUNT = 60
BIG = COUNT // 2 + 1  # the index of the ~900 KB record
BASE_TS = 1_700_000_000_000
DEADLINE_S = 60


def records(codec, null_header_values=True):
    """(key, value, headers, timestamp_ms) for each offset: null keys, null
    values (never both: aiokafka refuses that), headers (with a null value
    where the client can send one), one record near 1 MB."""
    out = []
    for i in range(COUNT):
        key = None if i % 5 == 0 else f"key-{codec}-{i}".encode()
        value = f"{codec}:{i}:".encode() * (1 + i % 40)
        if i % 7 == 3 and key is not None:
            value = None
        if i == BIG:
            value = bytes(range(256)) * 3500
        null = None if null_header_values else b""
        headers = [("h-one", str(i).encode()), ("h-null", null)] if i % 3 == 0 else []
        out.append((key, value, headers, BASE_TS + i * 1000))
    return out


def topic(prefix, codec):
    return f"{prefix}-{codec}"


def normalise_headers(headers):
    return [(k, None if v is None else bytes(v)) for k, v in (headers or [])]


def check(codec, got, start=0, null_header_values=True):
    """got: [(offset, key, value, headers, timestamp_ms)] from `start` on."""
    want = records(codec, null_header_values)[start:]
    offsets = [g[0] for g in got]
    assert offsets == list(range(start, COUNT)), f"{codec}: offsets {offsets[:5]}..{offsets[-5:]}"
    for (offset, key, value, headers, ts), (wkey, wvalue, wheaders, wts) in zip(got, want):
        assert key == wkey, f"{codec}@{offset}: key {key!r} != {wkey!r}"
        assert value == wvalue, f"{codec}@{offset}: value of {len(value or b'')} bytes differs"
        assert normalise_headers(headers) == wheaders, f"{codec}@{offset}: headers {headers!r}"
        assert ts == wts, f"{codec}@{offset}: timestamp {ts} != {wts}"


def check_offsets(codec, earliest, latest, by_time, past_end):
    """ListOffsets: earliest, latest, the first offset at BASE_TS + 10.5 s,
    and nothing past the last timestamp."""
    assert (earliest, latest) == (0, COUNT), f"{codec}: earliest/latest {earliest}/{latest}"
    assert by_time == 11, f"{codec}: offset for time {by_time}"
    assert past_end in (None, -1), f"{codec}: offset past the end {past_end}"


def args():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--phase", choices=["produce", "consume"], required=True)
    parser.add_argument("--prefix", required=True)
    return parser.parse_args()


def deadline():
    return time.monotonic() + DEADLINE_S


def done(name, phase):
    print(f"{name} {phase}: ok for {', '.join(CODECS)}")
    sys.stdout.flush()

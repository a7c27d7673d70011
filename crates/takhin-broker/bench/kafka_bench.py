"""Produce and fetch throughput against a running broker, with librdkafka
(confluent-kafka) in this process, the broker in another.

    python kafka_bench.py --bootstrap 127.0.0.1:9092 --size 100 --codec lz4 --megabytes 100

Prints one Markdown row: size, codec, records, produce records/s and MB/s,
fetch records/s and MB/s (MB = 10^6 bytes of record values). Every record is
read back and counted; each phase is bounded in time.
"""
import argparse
import os
import time

import confluent_kafka as ck

p = argparse.ArgumentParser()
p.add_argument("--bootstrap", required=True)
p.add_argument("--size", type=int, default=100)
p.add_argument("--codec", default="none")
p.add_argument("--megabytes", type=int, default=100)
p.add_argument("--topic", default=None)
a = p.parse_args()

LIMIT_S = 300
topic = a.topic or f"bench-{a.size}-{a.codec}-{os.getpid()}"
count = a.megabytes * 1_000_000 // a.size
# Half random, half repeated: compressible like real payloads, not trivially.
values = [os.urandom(a.size // 2) + bytes(a.size - a.size // 2) for _ in range(1024)]

producer = ck.Producer({"bootstrap.servers": a.bootstrap, "compression.type": a.codec,
                        "linger.ms": 5, "batch.size": 1_000_000, "acks": "all",
                        "queue.buffering.max.messages": 1_000_000})
failed = []
start = time.monotonic()
for i in range(count):
    while True:
        try:
            producer.produce(topic, values[i & 1023], partition=0,
                             on_delivery=(lambda e, _m: failed.append(e) if e else None))
            break
        except BufferError:
            producer.poll(0.01)
    if i & 0xFFFF == 0:
        producer.poll(0)
        assert time.monotonic() - start < LIMIT_S, "produce ran out of time"
assert producer.flush(LIMIT_S) == 0 and not failed, f"delivery failed: {failed[:3]}"
produce_s = time.monotonic() - start

consumer = ck.Consumer({"bootstrap.servers": a.bootstrap, "group.id": "unused",
                        "enable.auto.commit": False, "fetch.wait.max.ms": 100})
consumer.assign([ck.TopicPartition(topic, 0, 0)])
got = 0
start = time.monotonic()
while got < count:
    assert time.monotonic() - start < LIMIT_S, f"fetch ran out of time at {got}/{count}"
    for m in consumer.consume(num_messages=min(10_000, count - got), timeout=1.0):
        assert not m.error(), m.error()
        got += 1
fetch_s = time.monotonic() - start
consumer.close()
mb = count * a.size / 1e6
print(f"| {a.size} | {a.codec} | {count} | {count / produce_s:,.0f} | {mb / produce_s:.1f} "
      f"| {count / fetch_s:,.0f} | {mb / fetch_s:.1f} |", flush=True)

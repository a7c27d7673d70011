"""Load: librdkafka producers push --megabytes MB (10 KiB records, each
carrying its sequence number) into --partitions partitions over several
connections at once, then one consumer reads every record back and checks
that none is lost or duplicated. Bounded in time."""
import argparse
import struct
import time

import confluent_kafka as ck

p = argparse.ArgumentParser()
p.add_argument("--bootstrap", required=True)
p.add_argument("--megabytes", type=int, default=200)
p.add_argument("--partitions", type=int, default=4)
p.add_argument("--producers", type=int, default=8)
a = p.parse_args()

TOPIC, SIZE, LIMIT_S = "load", 10 * 1024, 300
count = a.megabytes * 1_000_000 // SIZE + 1
filler = bytes(range(256)) * (SIZE // 256)
start = time.monotonic()
producers = [ck.Producer({"bootstrap.servers": a.bootstrap, "acks": "all", "linger.ms": 1000,
                          "batch.size": 8_000_000, "message.max.bytes": 10_000_000,
                          "queue.buffering.max.kbytes": 256_000})
             for _ in range(a.producers)]
failed = []


def report(err, _msg):
    if err is not None:
        failed.append(err)


for i in range(count):
    producer = producers[i % len(producers)]
    value = struct.pack(">Q", i) + filler[8:]
    while True:
        try:
            producer.produce(TOPIC, value=value, partition=i % a.partitions, on_delivery=report)
            break
        except BufferError:
            producer.poll(0.05)
    if i % 1000 == 0:
        producer.poll(0)
    assert time.monotonic() - start < LIMIT_S, "produce ran out of time"
for producer in producers:
    assert producer.flush(LIMIT_S) == 0, "not all delivered"
assert not failed, f"{len(failed)} failed deliveries: {failed[:3]}"
produced_s = time.monotonic() - start

consumer = ck.Consumer({"bootstrap.servers": a.bootstrap, "group.id": "unused", "enable.auto.commit": False})
consumer.assign([ck.TopicPartition(TOPIC, part, 0) for part in range(a.partitions)])
seen = bytearray(count)
got = 0
while got < count:
    assert time.monotonic() - start < 2 * LIMIT_S, f"consume ran out of time at {got}/{count}"
    for m in consumer.consume(num_messages=min(1000, count - got), timeout=1.0):
        assert not m.error(), m.error()
        value = m.value()
        assert len(value) == SIZE and value[8:] == filler[8:], "a value changed"
        (i,) = struct.unpack(">Q", value[:8])
        assert not seen[i], f"record {i} twice"
        seen[i] = 1
        got += 1
consumer.close()
print(f"load: ok {count} records, {count * SIZE / 1e6:.0f} MB, produced in {produced_s:.1f} s, "
      f"read back in {time.monotonic() - start - produced_s:.1f} s")

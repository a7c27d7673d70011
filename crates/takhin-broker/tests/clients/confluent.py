"""librdkafka through confluent-kafka: produce every codec, read back with
manual assignment, seek, ListOffsets."""
import time

import confluent_kafka as ck

import common as c

a = c.args()
if a.phase == "produce":
    for codec in c.CODECS:
        producer = ck.Producer({"bootstrap.servers": a.bootstrap, "compression.type": codec,
                                "linger.ms": 5, "acks": "all"})
        delivered = []

        def report(err, msg):
            assert err is None, f"{codec}: delivery failed: {err}"
            delivered.append(msg.offset())

        for key, value, headers, ts in c.records(codec):
            producer.produce(c.topic(a.prefix, codec), value=value, key=key, headers=headers,
                             partition=0, timestamp=ts, on_delivery=report)
        assert producer.flush(30) == 0, f"{codec}: not all delivered"
        assert sorted(delivered) == list(range(c.COUNT)), f"{codec}: offsets {delivered}"
else:
    for codec in c.CODECS:
        name = c.topic(a.prefix, codec)
        consumer = ck.Consumer({"bootstrap.servers": a.bootstrap, "group.id": "unused",
                                "enable.auto.commit": False, "check.crcs": True})

        def read(start, want):
            consumer.assign([ck.TopicPartition(name, 0, start)])
            got, end = [], c.deadline()
            while len(got) < want and time.monotonic() < end:
                m = consumer.poll(0.5)
                if m is None:
                    continue
                assert not m.error(), f"{codec}: {m.error()}"
                got.append((m.offset(), m.key(), m.value(), m.headers(), m.timestamp()[1]))
            return got

        c.check(codec, read(0, c.COUNT))
        c.check(codec, read(c.COUNT // 2, c.COUNT - c.COUNT // 2), start=c.COUNT // 2)
        tp = ck.TopicPartition(name, 0)
        earliest, latest = consumer.get_watermark_offsets(tp, timeout=10, cached=False)
        by_time, past = consumer.offsets_for_times(
            [ck.TopicPartition(name, 0, c.BASE_TS + 10_500)], timeout=10) + consumer.offsets_for_times(
            [ck.TopicPartition(name, 0, c.BASE_TS + c.COUNT * 1000)], timeout=10)
        c.check_offsets(codec, earliest, latest, by_time.offset, past.offset)
        consumer.close()
    # No offset given: librdkafka asks OffsetFetch for the group's (there is
    # none: -1) and starts from auto.offset.reset; commits fail client-side.
    name = c.topic(a.prefix, "none")
    consumer = ck.Consumer({"bootstrap.servers": a.bootstrap, "group.id": "stored",
                            "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    consumer.assign([ck.TopicPartition(name, 0)])
    got, end = [], c.deadline()
    while len(got) < c.COUNT and time.monotonic() < end:
        m = consumer.poll(0.5)
        if m is not None:
            assert not m.error(), f"stored offset: {m.error()}"
            got.append(m.offset())
    assert got == list(range(c.COUNT)), f"stored offset: read {got}"
    [committed] = consumer.committed([ck.TopicPartition(name, 0)], timeout=10)
    assert committed.offset == ck.OFFSET_INVALID and committed.error is None, committed
    consumer.close()
c.done("confluent-kafka", a.phase)

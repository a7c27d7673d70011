"""kafka-python (3.x: idempotent producer by default, so InitProducerId):
produce every codec, read back with manual assignment, seek, ListOffsets."""
import time

import kafka
from kafka import TopicPartition

import common as c

a = c.args()
if a.phase == "produce":
    for codec in c.CODECS:
        producer = kafka.KafkaProducer(bootstrap_servers=a.bootstrap, acks="all", linger_ms=5,
                                       compression_type=None if codec == "none" else codec)
        futures = [producer.send(c.topic(a.prefix, codec), value=value, key=key, headers=headers,
                                 partition=0, timestamp_ms=ts)
                   for key, value, headers, ts in c.records(codec, null_header_values=False)]
        producer.flush(30)
        offsets = [f.get(timeout=30).offset for f in futures]
        assert offsets == list(range(c.COUNT)), f"{codec}: offsets {offsets}"
        producer.close()
else:
    for codec in c.CODECS:
        tp = TopicPartition(c.topic(a.prefix, codec), 0)
        consumer = kafka.KafkaConsumer(bootstrap_servers=a.bootstrap, group_id=None,
                                       enable_auto_commit=False, check_crcs=True)
        consumer.assign([tp])

        def read(start, want):
            consumer.seek(tp, start)
            got, end = [], c.deadline()
            while len(got) < want and time.monotonic() < end:
                for batch in consumer.poll(timeout_ms=500).values():
                    got.extend((m.offset, m.key, m.value, m.headers, m.timestamp) for m in batch)
            return got[:want]

        c.check(codec, read(0, c.COUNT), null_header_values=False)
        c.check(codec, read(c.COUNT // 2, c.COUNT - c.COUNT // 2), start=c.COUNT // 2,
                null_header_values=False)
        earliest = consumer.beginning_offsets([tp])[tp]
        latest = consumer.end_offsets([tp])[tp]
        by_time = consumer.offsets_for_times({tp: c.BASE_TS + 10_500})[tp]
        past = consumer.offsets_for_times({tp: c.BASE_TS + c.COUNT * 1000})[tp]
        c.check_offsets(codec, earliest, latest, by_time.offset, past)
        consumer.close()
c.done("kafka-python", a.phase)

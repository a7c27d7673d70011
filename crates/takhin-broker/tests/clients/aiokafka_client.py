"""aiokafka (non-flexible versions only: ApiVersions v2, Metadata v5,
Produce v8, Fetch v11, ListOffsets v5): produce every codec, read back with
manual assignment, seek, ListOffsets."""
import asyncio
import time

import aiokafka
from aiokafka import TopicPartition

import common as c


async def produce(a):
    for codec in c.CODECS:
        producer = aiokafka.AIOKafkaProducer(bootstrap_servers=a.bootstrap, acks="all", linger_ms=5,
                                             max_request_size=2 << 20,
                                             compression_type=None if codec == "none" else codec)
        await producer.start()
        try:
            futures = [await producer.send(c.topic(a.prefix, codec), value=value, key=key,
                                           headers=headers, partition=0, timestamp_ms=ts)
                       for key, value, headers, ts in c.records(codec)]
            offsets = [(await asyncio.wait_for(f, 30)).offset for f in futures]
            assert offsets == list(range(c.COUNT)), f"{codec}: offsets {offsets}"
        finally:
            await producer.stop()


async def consume(a):
    for codec in c.CODECS:
        tp = TopicPartition(c.topic(a.prefix, codec), 0)
        consumer = aiokafka.AIOKafkaConsumer(bootstrap_servers=a.bootstrap, group_id=None,
                                             enable_auto_commit=False, check_crcs=True)
        await consumer.start()
        try:
            consumer.assign([tp])

            async def read(start, want):
                consumer.seek(tp, start)
                got, end = [], c.deadline()
                while len(got) < want and time.monotonic() < end:
                    for batch in (await consumer.getmany(timeout_ms=500)).values():
                        got.extend((m.offset, m.key, m.value, m.headers, m.timestamp) for m in batch)
                return got[:want]

            c.check(codec, await read(0, c.COUNT))
            c.check(codec, await read(c.COUNT // 2, c.COUNT - c.COUNT // 2), start=c.COUNT // 2)
            earliest = (await consumer.beginning_offsets([tp]))[tp]
            latest = (await consumer.end_offsets([tp]))[tp]
            by_time = (await consumer.offsets_for_times({tp: c.BASE_TS + 10_500}))[tp]
            past = (await consumer.offsets_for_times({tp: c.BASE_TS + c.COUNT * 1000}))[tp]
            c.check_offsets(codec, earliest, latest, by_time.offset, past)
        finally:
            await consumer.stop()


a = c.args()
asyncio.run(produce(a) if a.phase == "produce" else consume(a))
c.done("aiokafka", a.phase)

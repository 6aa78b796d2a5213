// Enhanced fan-out through the AWS SDK for JavaScript v3, which sends SubscribeToShard (and, on
// the same client, every other call) over HTTP/2; on an http:// endpoint that is cleartext h2
// with prior knowledge. Registers a consumer, subscribes, puts records after subscribing and
// checks they arrive through the event stream. Usage: node subscribe.mjs <endpoint>.
// Prints one JSON line with what it saw; exits non-zero on any failure.
import {
  KinesisClient,
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  RegisterStreamConsumerCommand,
  DescribeStreamConsumerCommand,
  SubscribeToShardCommand,
  PutRecordCommand,
} from "@aws-sdk/client-kinesis";

const endpoint = process.argv[2];
if (!endpoint) {
  console.error("usage: node subscribe.mjs <endpoint>");
  process.exit(2);
}
const client = new KinesisClient({
  endpoint,
  region: "us-east-1",
  credentials: { accessKeyId: "AKIDSPATE", secretAccessKey: "spate" },
  maxAttempts: 1,
});
const streamName = `js-efo-${Date.now()}`;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(describe, isReady, what) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (isReady(await describe())) return;
    if (Date.now() > deadline) throw new Error(`${what} did not become ACTIVE`);
    await sleep(50);
  }
}

async function main() {
  const timer = setTimeout(() => {
    console.error("timed out");
    process.exit(1);
  }, 30_000);
  await client.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: 1 }));
  await waitFor(
    () => client.send(new DescribeStreamSummaryCommand({ StreamName: streamName })),
    (out) => out.StreamDescriptionSummary.StreamStatus === "ACTIVE",
    "stream",
  );
  const summary = await client.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
  const streamARN = summary.StreamDescriptionSummary.StreamARN;
  const registered = await client.send(
    new RegisterStreamConsumerCommand({ StreamARN: streamARN, ConsumerName: "js" }),
  );
  const consumerARN = registered.Consumer.ConsumerARN;
  await waitFor(
    () => client.send(new DescribeStreamConsumerCommand({ ConsumerARN: consumerARN })),
    (out) => out.ConsumerDescription.ConsumerStatus === "ACTIVE",
    "consumer",
  );

  const subscription = await client.send(
    new SubscribeToShardCommand({
      ConsumerARN: consumerARN,
      ShardId: "shardId-000000000000",
      StartingPosition: { Type: "LATEST" },
    }),
  );
  const sent = ["one", "two", "three"];
  const putStarted = new Map();
  const producer = (async () => {
    await sleep(200);
    for (const data of sent) {
      putStarted.set(data, performance.now());
      await client.send(
        new PutRecordCommand({
          StreamName: streamName,
          PartitionKey: "k",
          Data: new TextEncoder().encode(data),
        }),
      );
    }
  })();

  const received = [];
  const latenciesMs = [];
  let events = 0;
  for await (const event of subscription.EventStream) {
    const shardEvent = event.SubscribeToShardEvent;
    if (!shardEvent) throw new Error(`unexpected event ${JSON.stringify(event)}`);
    events += 1;
    if (!shardEvent.ContinuationSequenceNumber) throw new Error("event without continuation");
    for (const record of shardEvent.Records) {
      const data = new TextDecoder().decode(record.Data);
      received.push(data);
      latenciesMs.push(Math.round((performance.now() - putStarted.get(data)) * 10) / 10);
    }
    if (received.length >= sent.length) break;
  }
  await producer;
  clearTimeout(timer);
  if (JSON.stringify(received) !== JSON.stringify(sent)) {
    throw new Error(`received ${JSON.stringify(received)}, expected ${JSON.stringify(sent)}`);
  }
  console.log(JSON.stringify({ stream: streamName, consumerARN, events, received, latenciesMs }));
  client.destroy();
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

/**
 * Tracing end to end: the sandbox with the stack's tracing section on (Jaeger v2 receiving OTLP, the worker with the
 * OpenTelemetry SDK Strimzi's tracing agent would give it, the source connectors with Debezium's ActivateTracingSpan
 * as rendered). A row inserted into the PostgreSQL source must reach its topic with a trace context in its headers,
 * and that trace must be in Jaeger: a `db-log-write` span tagged with the row's table and source, and its
 * `debezium-read` child. Its own sandbox ("tracing"), so it does not use the e2e fixture's.
 */
import { expect } from "chai";
import { Client } from "pg";
import { renderConnectors } from "../../connectors/render";
import { ACTIVATE_TRACING_SPAN, TRACING_TRANSFORM } from "../../connectors/tracing";
import { dataTopicName } from "../../model/naming";
import { waitUntil } from "../../model/wait";
import { KafkaClient } from "../../ops/kafka-client";
import { applyConnectors } from "../../sandbox/apply";
import { JaegerSpan, jaegerTrace } from "../../sandbox/jaeger";
import { Sandbox, startSandbox } from "../../sandbox/sandbox";

/** The spec's own sandbox holds no other rows, so any key outside the seed data's serial range does. */
const CUSTOMER_ID = 980_001;
/** W3C trace context, as OpenTelemetry's default propagator writes it: version 00, trace id, parent span id, flags. */
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

const tag = (span: JaegerSpan, key: string) => span.tags.find((t) => t.key === key)?.value;

describe("tracing: a change in the source database becomes a trace in Jaeger", function () {
    this.timeout(15 * 60_000);
    let sb: Sandbox;

    before(async function () {
        const t0 = Date.now();
        const log = (line: string) => process.stderr.write(`      [sandbox ${((Date.now() - t0) / 1000).toFixed(0)}s] ${line}\n`);
        sb = await startSandbox({ name: "tracing", log, tracing: true });
        await applyConnectors(renderConnectors(sb.spec, sb.ctx), sb.client, log);
    });

    after(async function () {
        this.timeout(120_000);
        await sb?.stop();
    });

    it("runs the sandbox's stack with tracing on: every source connector has the tracing transform", () => {
        expect(sb.spec.tracing?.otlpEndpoint).to.equal(sb.jaeger!.otlpHttpEndpoint);
        const sources = renderConnectors(sb.spec, sb.ctx).filter((c) => c.role === "source");
        expect(sources).to.have.length(2);
        for (const c of sources) expect(c.config[`transforms.${TRACING_TRANSFORM}.type`], c.name).to.equal(ACTIVATE_TRACING_SPAN);
    });

    it("an inserted row's change event carries a trace context, and Jaeger has that trace's db-log-write and debezium-read spans", async () => {
        const pipeline = sb.spec.pipelines.find((p) => p.source.kind === "postgres")!;
        const pg = new Client({ connectionString: sb.postgresSource.url });
        await pg.connect();
        try {
            await pg.query(
                `INSERT INTO customers (customer_id, email, first_name, last_name, registration_date, last_updated)
                 VALUES ($1, $2, 'Trace', 'Me', now(), now())`,
                [CUSTOMER_ID, `trace-${CUSTOMER_ID}@example.com`],
            );
        } finally {
            await pg.end();
        }

        const topic = dataTopicName(
            pipeline.source,
            pipeline.source.tables.find((t) => t.table === "customers")!,
        );
        const kafka = new KafkaClient({ bootstrapServers: [sb.kafka.bootstrapServers] });
        let traceparent: string;
        try {
            traceparent = await waitUntil(`the change event of customer ${CUSTOMER_ID} on ${topic}`, 120_000, async () => {
                const event = (await kafka.read(topic, 0, 0n)).find((r) => r.key?.toString().includes(`"customer_id":${CUSTOMER_ID}`));
                return event && (event.headers.find(([name]) => name === "traceparent")?.[1]?.toString() ?? "none");
            });
        } finally {
            await kafka.close();
        }
        expect(traceparent, `the event's traceparent header ${JSON.stringify(traceparent)}`).to.match(TRACEPARENT);
        const [, traceId, parentSpanId, flags] = TRACEPARENT.exec(traceparent)!;
        // Bit 0 is "sampled" (the SDK's default sampler keeps every trace); the SDK also sets bit 1, "random trace id".
        expect(parseInt(flags, 16) & 1, `sampled flag of ${traceparent}`).to.equal(1);

        const trace = await waitUntil(
            `trace ${traceId} in Jaeger at ${sb.jaeger!.queryUrl} with its two spans (log ${sb.jaeger!.logFile})`,
            60_000,
            async () => {
                const found = await jaegerTrace(sb.jaeger!.queryUrl, traceId);
                return found && found.spans.length >= 2 ? found : undefined;
            },
            { intervalMs: 1_000 },
        );
        const write = trace.spans.find((s) => s.operationName === "db-log-write");
        const read = trace.spans.find((s) => s.operationName === "debezium-read");
        expect(write, "the db-log-write span").to.not.equal(undefined);
        expect(read, "the debezium-read span").to.not.equal(undefined);
        expect(trace.processes[write!.processID].serviceName).to.equal(sb.spec.connect.name);
        // The header carries the db-log-write span's context: that is the span a consumer's span would continue.
        expect(write!.spanID).to.equal(parentSpanId);
        expect({
            table: tag(write!, "db.table"),
            schema: tag(write!, "db.schema"),
            type: tag(write!, "db.type"),
            name: tag(write!, "db.cdc-name"),
        }).to.deep.equal({
            table: "customers",
            schema: "public",
            type: "postgresql",
            name: pipeline.source.topicPrefix,
        });
        expect(read!.references).to.deep.include({ refType: "CHILD_OF", traceID: trace.traceID, spanID: write!.spanID });
        expect(tag(read!, "op")).to.equal("c");
    });
});

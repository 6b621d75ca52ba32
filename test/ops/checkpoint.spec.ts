/**
 * The checkpoint (ops/checkpoint.ts, ops/status.ts pipelineCheckpoints) over offsets Kafka Connect really returned
 * for the sandbox's Debezium sources and JDBC sinks through a snapshot and into streaming
 * (test/fixtures/ops/offsets.json, recorded by test/fixtures/ops/capture-offsets.ts). The expectations come from the
 * order the samples were taken in and from PostgreSQL's and Kafka's own definitions, not from the code under test.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { PIPELINES } from "../../sandbox/stack";
import {
    comparePositions,
    connectorOffset,
    formatPgLsn,
    formatPosition,
    incrementalSnapshotTables,
    isStreamedEvent,
    parsePgLsn,
    REPLICATION_STATES,
    sinkOffsets,
    sourcePosition,
    tableState,
} from "../../ops/checkpoint";
import { defaultPartition, murmur2 } from "../../ops/kafka-client";
import type { ConnectorOffset } from "../../ops/connect-client";

interface Sample {
    connector: string;
    kind: string;
    atMs: number;
    stage: "snapshot" | "after-change";
    status: { connector: string; tasks: string[] };
    offsets: ConnectorOffset[];
}

const samples = (
    JSON.parse(fs.readFileSync(path.join(__dirname, "..", "fixtures", "ops", "offsets.json"), "utf8")) as { samples: Sample[] }
).samples;
const sourceSamples = (kind: string) => samples.filter((s) => s.kind === `source:${kind}`).sort((a, b) => a.atMs - b.atMs);

describe("replication checkpoint (ops/checkpoint.ts)", () => {
    it("prints and parses LSNs the way PostgreSQL does", () => {
        // PostgreSQL's documentation example: 16/B374D848 is 0x16B374D848.
        expect(formatPgLsn(0x16b374d848n)).to.equal("16/B374D848");
        expect(parsePgLsn("16/B374D848")).to.equal(0x16b374d848n);
        expect(parsePgLsn("0/0")).to.equal(0n);
        expect(() => parsePgLsn("16-B374D848")).to.throw("not a PostgreSQL LSN");
    });

    it("orders binlog positions by file sequence, then position, then row", () => {
        const at = (file: string, pos: bigint, row = 0n) => ({ kind: "binlog" as const, file, pos, row });
        expect(comparePositions(at("mariadb-bin.000002", 4n), at("mariadb-bin.000001", 900_000n))).to.equal(1);
        expect(comparePositions(at("mariadb-bin.000001", 15n), at("mariadb-bin.000001", 16n))).to.equal(-1);
        expect(comparePositions(at("mariadb-bin.000001", 16n, 2n), at("mariadb-bin.000001", 16n, 1n))).to.equal(1);
        expect(() => comparePositions(at("b.000001", 1n), { kind: "postgres", lsn: 1n })).to.throw("cannot compare");
    });

    for (const kind of ["postgres", "mariadb"]) {
        it(`moves ${kind} tables through the states in order, from no offset to streaming, over the captured offsets`, () => {
            const taken = sourceSamples(kind);
            expect(taken.length, "captured samples").to.be.at.least(3);
            // The capture did not record topic ends; a committed offset means the snapshot had written events.
            const states = taken.map((s) =>
                tableState(
                    kind as "postgres" | "mariadb",
                    connectorOffset(s.offsets),
                    "t.t",
                    s.offsets.length > 0 ? 1n : 0n,
                    s.status.connector === "RUNNING",
                ),
            );
            const order = states.map((s) => REPLICATION_STATES.indexOf(s));
            expect(order, states.join(" → ")).to.deep.equal([...order].sort());
            expect(states[0]).to.equal("NULL");
            expect(states).to.include("SNAPSHOT_START");
            // The capture waited for the snapshot's end to be committed before it changed a row.
            expect(states).to.include("SNAPSHOT_COMPLETE");
            // After the capture changed a row and waited for it, the committed offset is a streaming one.
            expect(states[states.length - 1]).to.equal("STREAMING");
            const lastBeforeChange = taken.filter((s) => s.stage === "snapshot").length - 1;
            expect(states.slice(0, lastBeforeChange + 1)).to.not.include("STREAMING");
        });
    }

    it("prints the last committed position: PostgreSQL's LSN notation, the binlog file and position", () => {
        const last = (kind: "postgres" | "mariadb") => {
            const taken = sourceSamples(kind);
            return formatPosition(sourcePosition(kind, connectorOffset(taken[taken.length - 1].offsets)));
        };
        // The captured offsets: PostgreSQL lsn_proc 58185944 (0x377D8D8), MariaDB file mariadb-bin.000001, pos 5069853.
        expect(last("postgres")).to.equal("0/377D8D8");
        expect(last("mariadb")).to.equal("mariadb-bin.000001:5069853");
        expect(
            formatPosition(sourcePosition("sqlserver", { commit_lsn: "0000002a:00000c70:0003", change_lsn: "0000002a:00000c70:0002" })),
        ).to.equal("0000002a:00000c70:0003");
        expect(sourcePosition("postgres", null)).to.equal(undefined);
    });

    it("reads a sink's committed Kafka offsets from its KIP-875 answer", () => {
        const sink = samples.filter((s) => s.kind.startsWith("sink:")).at(-1)!;
        const read = sinkOffsets(sink.offsets);
        expect(read).to.have.length(sink.offsets.length);
        for (const [i, o] of sink.offsets.entries()) {
            expect(read[i]).to.deep.equal({
                topic: o.partition.kafka_topic,
                partition: o.partition.kafka_partition,
                offset: BigInt(o.offset!.kafka_offset as number),
            });
        }
    });

    it("treats MariaDB's empty first offset as no offset, and picks SQL Server's database partition", () => {
        expect(connectorOffset([{ partition: { server: PIPELINES.mysql }, offset: {} }])).to.equal(null);
        const sales = { commit_lsn: "0000002a:00000c70:0003" };
        const hr = { commit_lsn: "0000002b:00000010:0001" };
        const offsets = [
            { partition: { server: "erp", database: "hr" }, offset: hr },
            { partition: { server: "erp", database: "sales" }, offset: sales },
        ];
        expect(connectorOffset(offsets, "sales")).to.equal(sales);
        expect(connectorOffset(offsets, "hr")).to.equal(hr);
    });

    it("puts a table an incremental snapshot works on back to SNAPSHOT_START", () => {
        // Shaped with the key names of Debezium 3.6's AbstractIncrementalSnapshotContext (not captured: the sandbox's
        // incremental snapshots finish before a commit is taken).
        const offset = {
            lsn: 109271648,
            lsn_proc: 109271648,
            incremental_snapshot_collections: JSON.stringify([
                {
                    incremental_snapshot_collections_id: "public.orders",
                    incremental_snapshot_collections_additional_condition: "order_id > 5",
                },
            ]),
            incremental_snapshot_primary_key: "aced0005",
        };
        expect(incrementalSnapshotTables(offset)).to.deep.equal(["public.orders"]);
        expect(tableState("postgres", offset, "public.orders", 10n, true)).to.equal("SNAPSHOT_START");
        expect(tableState("postgres", offset, "public.customers", 10n, true)).to.equal("STREAMING");
        expect(
            tableState(
                "sqlserver",
                { commit_lsn: "1", incremental_snapshot_collections: '[{"incremental_snapshot_collections_id":"sales.dbo.orders"}]' },
                "dbo.orders",
                1n,
                true,
            ),
        ).to.equal("SNAPSHOT_START");
    });

    it("partitions keys the way Kafka's default partitioner does (vectors from Kafka 4.3.1's Utils.murmur2)", () => {
        // Printed by org.apache.kafka.common.utils.Utils.murmur2 / toPositive(..) % 25 from .cache/kafka-4.3.1/libs.
        expect(murmur2(Buffer.from("21"))).to.equal(-973932308);
        expect(murmur2(Buffer.from("foobar"))).to.equal(-790332482);
        expect(murmur2(Buffer.from("abc"))).to.equal(479470107);
        expect(murmur2(Buffer.from("a-little-bit-longer-string"))).to.equal(-1486304829);
        expect(defaultPartition(Buffer.from('["shop-source",{"server":"shop"}]'), 25)).to.equal(9);
    });
});

describe("replication checkpoint: a streamed change event as evidence of STREAMING", () => {
    // A MariaDB change event captured from the sandbox (test/fixtures/schema-events), streamed from the binlog.
    const captured = (
        JSON.parse(
            fs.readFileSync(path.join(__dirname, "..", "fixtures", "schema-events", "inventory.inventory.products.json"), "utf8"),
        ) as {
            value: string;
        }[]
    )[0].value;
    const asSnapshot = (marker: string) => Buffer.from(captured.replace('"snapshot":"false"', `"snapshot":"${marker}"`));

    it("tells a streamed event from every kind of snapshot event, a tombstone and a record that is not JSON", () => {
        expect(captured).to.contain('"snapshot":"false"');
        expect(isStreamedEvent(Buffer.from(captured))).to.equal(true);
        for (const marker of ["true", "first", "last", "first_in_data_collection", "last_in_data_collection", "incremental"]) {
            expect(isStreamedEvent(asSnapshot(marker)), marker).to.equal(false);
        }
        expect(isStreamedEvent(null)).to.equal(false);
        expect(isStreamedEvent(Buffer.from("{not json"))).to.equal(false);
    });

    it("a MariaDB offset flushed after the transaction committed (no row/event) still reads STREAMING once a streamed event is on the topic", () => {
        const afterCommit = { ts_sec: 1796144600, file: "mariadb-bin.000001", pos: 5071234, gtids: "0-1-70" };
        expect(tableState("mariadb", afterCommit, "inventory.products", 5n, true, false)).to.equal("SNAPSHOT_COMPLETE");
        expect(tableState("mariadb", afterCommit, "inventory.products", 5n, true, true)).to.equal("STREAMING");
        // Evidence from the topic never overrides a snapshot still running.
        expect(tableState("mariadb", { ...afterCommit, snapshot: "INITIAL" }, "inventory.products", 5n, true, true)).to.equal(
            "SNAPSHOT_START",
        );
    });
});

import { expect } from "chai";
import { createHash } from "crypto";
import { BucketVector, checksumHex, mismatchedBuckets } from "../../reconciler/buckets";
import { canonicalJson, compareRow, floatsEqual } from "../../reconciler/compare";
import { classify } from "../../reconciler/confirm";
import { batchByRows, diffKeyHashes, KEY_SEP } from "../../reconciler/drill";
import { ColumnPlan, NativeColumn } from "../../reconciler/model";
import { hashPartitioning, planTable, rangePartitioning } from "../../reconciler/plan";
import { nextChunkSize } from "../../reconciler/scan";
import { chooseBucketHash } from "../../reconciler/bucket-hash";
import { Db } from "../../reconciler/db";
import { postgres } from "../../reconciler/dialects/postgres";
import { mysqlDialect } from "../../reconciler/dialects/mysql";
import { TableInfo } from "../../reconciler/model";

const h48 = (s: string) => BigInt("0x" + createHash("md5").update(s, "utf8").digest("hex").slice(0, 12));

describe("reconciler algorithm (pure parts)", () => {
    describe("bucket vectors", () => {
        it("add up to the same vector whatever the chunking, and expose the exact table sum", () => {
            const rows = Array.from({ length: 50 }, (_, i) => ({ b: i % 7, h: h48(`row ${i}`) }));
            const whole = new BucketVector(7);
            const chunked = new BucketVector(7);
            for (const r of rows) whole.add(r.b, 1, r.h);
            // Two chunks, each pre-aggregated per bucket the way a GROUP BY returns them.
            for (const part of [rows.slice(0, 23), rows.slice(23)]) {
                const agg = new Map<number, { c: number; s: bigint }>();
                for (const r of part) agg.set(r.b, { c: (agg.get(r.b)?.c ?? 0) + 1, s: (agg.get(r.b)?.s ?? 0n) + r.h });
                chunked.addRows([...agg].map(([b, v]) => [String(b), String(v.c), v.s.toString()]));
            }
            expect(mismatchedBuckets(whole, chunked)).to.deep.equal([]);
            expect(chunked.total).to.equal(rows.reduce((a, r) => a + r.h, 0n));
            expect(chunked.rows).to.equal(50);
        });

        it("finds exactly the buckets whose count or sum differ", () => {
            const a = new BucketVector(4);
            const b = new BucketVector(4);
            [a, b].forEach((v) => [0, 1, 2, 3].forEach((i) => v.add(i, 1, 100n)));
            b.add(1, 0, 1n);
            b.add(3, 1, 0n);
            expect(mismatchedBuckets(a, b)).to.deep.equal([1, 3]);
        });

        it("rejects a bucket outside the planned range instead of miscounting", () => {
            expect(() => new BucketVector(2).add(2, 1, 1n)).to.throw(/outside/);
        });

        it("prints the checksum as 32 hex digits", () => {
            expect(checksumHex(255n)).to.equal("0".repeat(30) + "ff");
            expect(checksumHex((1n << 100n) + 1n)).to.have.length(32);
        });
    });

    describe("partitioning", () => {
        it("sizes range buckets from the row estimate and covers the whole key span", () => {
            const p = rangePartitioning(1n, 1_000_000n, 1_000_000, 128);
            if (p.kind !== "range") throw new Error("expected range");
            expect(Number(p.width)).to.be.within(100, 140);
            expect(BigInt(p.buckets) * p.width >= 1_000_000n).to.equal(true);
            const sparse = rangePartitioning(1n, 10n ** 12n, 1000, 128);
            if (sparse.kind !== "range") throw new Error("expected range");
            expect(sparse.buckets).to.be.lessThan(20);
        });

        it("uses a power of two of hash buckets near rows / bucketRows, capped so scan results stay small", () => {
            expect(hashPartitioning(1_000_000, 128)).to.deep.equal({ kind: "hash", buckets: 8192, hash: "md5" });
            expect(hashPartitioning(null, 128, "native")).to.deep.equal({ kind: "hash", buckets: 256, hash: "native" });
            expect(hashPartitioning(10_000_000, 128)).to.deep.equal({ kind: "hash", buckets: 8192, hash: "md5" });
        });
    });

    describe("bucket hash choice", () => {
        const fake = (engine: "postgres" | "mysql", answer: string[], log: string[]): Db =>
            ({
                engine,
                dialect: engine === "postgres" ? postgres : mysqlDialect(true),
                query: async (q: { sql: string }) => (log.push(q.sql), [answer]),
            }) as unknown as Db;

        it("uses the engine's own hash only when both sides return the same probe values", async () => {
            const log: string[] = [];
            expect(await chooseBucketHash(fake("postgres", ["1", "2"], log), fake("postgres", ["1", "2"], log))).to.equal("native");
            expect(log[0]).to.contain(`hashtextextended(('Zürich ✓ 😀') COLLATE "C", 0)`);
            expect(await chooseBucketHash(fake("postgres", ["1", "2"], log), fake("postgres", ["1", "3"], log))).to.equal("md5");
            const before = log.length;
            expect(await chooseBucketHash(fake("mysql", ["1"], log), fake("postgres", ["1"], log))).to.equal("md5");
            expect(log.length).to.equal(before);
        });
    });

    describe("planning", () => {
        const c = (name: string, type: string): NativeColumn => ({
            name,
            type,
            fullType: type,
            precision: null,
            scale: null,
            fsp: null,
            unsigned: false,
            charset: null,
            nullable: true,
            json: false,
        });
        const table = (engine: TableInfo["engine"], cols: NativeColumn[], pk: string[]): TableInfo => ({
            engine,
            name: { schema: "s", table: "t" },
            columns: cols,
            primaryKey: pk,
            estimatedRows: null,
        });

        it("puts key columns first, ignores Debezium metadata columns, warns about the rest, and filters __deleted", () => {
            const p = planTable(
                table("mysql", [c("name", "varchar"), c("id", "bigint"), c("gone", "int")], ["id"]),
                table("postgres", [c("id", "bigint"), c("name", "text"), c("__deleted", "text"), c("extra", "int")], ["id"]),
            );
            expect(p.columns.map((x) => x.source.name)).to.deep.equal(["id", "name"]);
            expect(p.keyMode).to.equal("range");
            expect(p.deletedColumn).to.equal("__deleted");
            expect(p.excludedColumns).to.deep.equal(["gone"]);
            expect(p.warnings.join("\n"))
                .to.match(/gone is missing in the target/)
                .and.match(/extra exists only in the target/)
                .and.not.match(/__deleted/);
        });

        it("uses hash buckets for text, UUID and composite keys", () => {
            expect(planTable(table("postgres", [c("k", "text")], ["k"]), table("postgres", [c("k", "text")], ["k"])).keyMode).to.equal(
                "hash",
            );
            expect(
                planTable(
                    table("postgres", [c("a", "integer"), c("b", "integer")], ["a", "b"]),
                    table("postgres", [c("a", "integer"), c("b", "integer")], ["a", "b"]),
                ).keyMode,
            ).to.equal("hash");
        });

        it("refuses tables without a primary key, excluded key columns and float keys", () => {
            expect(() => planTable(table("postgres", [c("a", "integer")], []), table("postgres", [c("a", "integer")], []))).to.throw(
                /no primary key/,
            );
            expect(() =>
                planTable(table("postgres", [c("a", "integer")], ["a"]), table("postgres", [c("a", "integer")], ["a"]), {
                    excludeColumns: ["A"],
                }),
            ).to.throw(/cannot be excluded/);
            expect(() => planTable(table("postgres", [c("a", "real")], ["a"]), table("postgres", [c("a", "real")], ["a"]))).to.throw(
                /cannot be matched exactly/,
            );
        });
    });

    describe("drill-down", () => {
        it("classifies keys present on one side only and keys whose hashes differ", () => {
            const k = (...p: string[]) => p.join(KEY_SEP);
            const s = new Map([
                [k("1", "a"), "h1"],
                [k("2", "b"), "h2"],
                [k("3", "c"), "h3"],
            ]);
            const t = new Map([
                [k("1", "a"), "h1"],
                [k("2", "b"), "hX"],
                [k("4", "d"), "h4"],
            ]);
            expect(diffKeyHashes(s, t)).to.have.deep.members([
                { key: ["2", "b"], type: "value_mismatch" },
                { key: ["3", "c"], type: "missing_in_target" },
                { key: ["4", "d"], type: "missing_in_source" },
            ]);
        });

        it("batches buckets under a row budget, letting an oversized one go alone", () => {
            expect(batchByRows([5, 5, 20, 1, 1], (x) => x, 10, 100)).to.deep.equal([[5, 5], [20], [1, 1]]);
            expect(batchByRows([1, 1, 1], (x) => x, 100, 2)).to.deep.equal([[1, 1], [1]]);
        });

        it("adapts chunk size towards the target time within ×0.5 … ×4", () => {
            expect(nextChunkSize(1000, 500, 2000)).to.equal(4000);
            expect(nextChunkSize(1000, 1, 2000)).to.equal(4000);
            expect(nextChunkSize(1000, 8000, 2000)).to.equal(500);
            expect(nextChunkSize(1000, 2000, 2000)).to.equal(1000);
        });
    });

    describe("confirmation", () => {
        const r = (hash: string) => ({ hash, values: [] });
        it("confirms only what stayed the same on the source and still differs on the target", () => {
            expect(classify(r("a"), r("b"), r("a"))).to.equal("value_mismatch");
            expect(classify(r("a"), undefined, r("a"))).to.equal("missing_in_target");
            expect(classify(undefined, r("b"), undefined)).to.equal("missing_in_source");
            expect(classify(r("a"), r("a"), r("a"))).to.equal("resolved");
            expect(classify(undefined, undefined, undefined)).to.equal("resolved");
            expect(classify(r("a"), r("b"), r("c"))).to.equal("unstable");
            expect(classify(undefined, undefined, r("c"))).to.equal("unstable");
        });
    });

    describe("typed comparison", () => {
        const col = (kind: ColumnPlan["canonical"], name = "c"): ColumnPlan => {
            const n: NativeColumn = {
                name,
                type: "x",
                fullType: "x",
                precision: null,
                scale: null,
                fsp: null,
                unsigned: false,
                charset: null,
                nullable: true,
                json: false,
            };
            return { source: n, target: n, canonical: kind, hashed: true, isKey: false };
        };
        it("treats JSON equal after parsing, whatever the key order or number spelling", () => {
            expect(canonicalJson('{"b": 1.0, "a": [1, {"y": 2, "x": 1}]}')).to.equal(canonicalJson('{"a":[1,{"x":1,"y":2}],"b":1}'));
            expect(canonicalJson("not json")).to.equal(null);
        });
        it("compares floats with a relative tolerance of half a unit in the last compared digit", () => {
            expect(floatsEqual("0.1", "0.10000000149011612", 6)).to.equal(true);
            expect(floatsEqual("0.1", "0.1001", 6)).to.equal(false);
            expect(floatsEqual("1e+30", "1e30", 15)).to.equal(true);
        });
        it("keeps NULL and '' apart and names the differing columns", () => {
            const cols = [
                col({ kind: "text", trimTrailingSpaces: false }, "a"),
                col({ kind: "json" }, "j"),
                col({ kind: "float", digits: 15 }, "f"),
            ];
            expect(compareRow(cols, ["", '{"a":1,"b":2}', "1.5"], [null, '{"b":2,"a":1}', "1.5"]).differing).to.deep.equal(["a"]);
            expect(compareRow(cols, ["x", "[1]", "2"], ["x", "[1]", "2.5"]).differing).to.deep.equal(["f"]);
        });
    });
});

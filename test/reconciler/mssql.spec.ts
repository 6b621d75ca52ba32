/**
 * SQL Server: no server runs here (no Docker, no SQL Server package for this OS), so the dialect's T-SQL is
 * checked as text against the rules it must follow (README "SQL Server"). Each assertion encodes a documented
 * false-positive cause that the generated SQL has to avoid.
 */
import { expect } from "chai";
import { mssql } from "../../reconciler/dialects/mssql";
import { postgres } from "../../reconciler/dialects/postgres";
import { CanonicalKind, ColumnPlan, NativeColumn } from "../../reconciler/model";
import { buildSide, keysetCond, lookupQuery, scanQuery } from "../../reconciler/queries";

const col = (name: string, type: string, extra: Partial<NativeColumn> = {}): NativeColumn => ({
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
    ...extra,
});
const canon = (c: NativeColumn, k: CanonicalKind) => mssql.canonical(c, k, false);

describe("reconciler SQL Server dialect (text only; no server in CI)", () => {
    it("hashes UTF-8 bytes: HASHBYTES over a varchar in a UTF-8 collation, first 6 bytes as an unsigned integer", () => {
        const h = mssql.hash48("N'x'");
        expect(h).to.contain("HASHBYTES('MD5', CONVERT(VARCHAR(MAX), N'x' COLLATE Latin1_General_100_BIN2_UTF8))");
        expect(h).to.match(/^CONVERT\(BIGINT, SUBSTRING\(HASHBYTES\(.*\), 1, 6\)\)$/);
        expect(mssql.sum("h")).to.equal("SUM(CONVERT(DECIMAL(38, 0), h))");
    });

    it("never uses culture-sensitive FORMAT() or a lossy nvarchar→varchar conversion before hashing", () => {
        const kinds: [NativeColumn, CanonicalKind][] = [
            [col("a", "decimal", { scale: 2 }), { kind: "decimal", scale: 2 }],
            [col("b", "datetime2", { fsp: 7 }), { kind: "timestamp", precision: 6 }],
            [col("c", "nvarchar"), { kind: "text", trimTrailingSpaces: false }],
            [col("d", "float"), { kind: "float", digits: 15 }],
            [col("e", "money", { scale: 4 }), { kind: "decimal", scale: 4 }],
        ];
        for (const [c, k] of kinds) {
            const sql = canon(c, k);
            expect(sql).not.to.match(/FORMAT\(/i);
            expect(sql).not.to.match(/CONVERT\(VARCHAR/i);
        }
        expect(canon(col("c", "nvarchar"), { kind: "text", trimTrailingSpaces: false })).to.equal("[c]");
    });

    it("rounds datetime2(7) to microseconds, prints ISO with 6 digits, and moves datetimeoffset to UTC first", () => {
        const ts = canon(col("t", "datetime2", { fsp: 7 }), { kind: "timestamp", precision: 6 });
        expect(ts).to.contain("CONVERT(DATETIME2(6), [t])").and.contain(", 121)");
        const off = canon(col("o", "datetimeoffset", { fsp: 7 }), { kind: "timestamp", precision: 6 });
        expect(off).to.contain("SWITCHOFFSET([o], '+00:00')");
        const dt = canon(col("d", "datetime", { fsp: 3 }), { kind: "timestamp", precision: 3 });
        expect(dt).to.contain("CONVERT(DATETIME2(3), [d])");
    });

    it("renders uniqueidentifier in lower case, bit as 0/1, decimals at a fixed scale, char without padding", () => {
        expect(canon(col("u", "uniqueidentifier"), { kind: "uuid" })).to.match(/^LOWER\(CONVERT\(NCHAR\(36\), \[u\]\)\)$/);
        expect(canon(col("b", "bit"), { kind: "bool" })).to.equal("CONVERT(NVARCHAR(1), [b])");
        expect(canon(col("m", "money", { scale: 4 }), { kind: "decimal", scale: 2 })).to.contain("CONVERT(DECIMAL(38, 2), [m])");
        expect(canon(col("c", "nchar"), { kind: "text", trimTrailingSpaces: true })).to.equal("RTRIM([c])");
    });

    it("builds the same row framing as PostgreSQL: '.' prefix for values, empty for NULL, U+001F between fields", () => {
        expect(mssql.frame(["a", "b"])).to.equal("ISNULL(N'.' + a, N'') + NCHAR(31) + ISNULL(N'.' + b, N'')");
        expect(postgres.frame(["a", "b"])).to.equal("COALESCE('.' || a, '') || chr(31) || COALESCE('.' || b, '')");
    });

    it("pages composite keys with the expanded OR form and numbered @p parameters, and looks keys up through OPENJSON", () => {
        const key = (name: string, type: string): ColumnPlan => {
            const c = col(name, type, { fullType: type === "nvarchar" ? "nvarchar(50)" : type });
            return {
                source: c,
                target: c,
                canonical: type === "int" ? { kind: "int" } : { kind: "text", trimTrailingSpaces: false },
                hashed: true,
                isKey: true,
            };
        };
        const s = buildSide(mssql, { schema: "dbo", table: "orders" }, [key("region", "nvarchar"), key("id", "int")], "source", null);
        const cond = keysetCond(mssql, s, ["eu", "10"], null);
        expect(cond.sql).to.equal(
            "(([region] > CONVERT(nvarchar(50), $?)) OR ([region] = CONVERT(nvarchar(50), $?) AND [id] > CONVERT(int, $?)))",
        );
        expect(cond.params).to.deep.equal(["eu", "eu", "10"]);
        const scan = scanQuery(mssql, s, mssql.hashBucket(s.keyString, 1024), cond);
        expect(scan.sql).to.contain("@p1").and.contain("@p3").and.not.contain("$?");
        expect(scan.sql).to.contain("FROM [dbo].[orders]");
        const lookup = lookupQuery(mssql, s, [
            ["eu", "10"],
            ["us", "11"],
        ]);
        expect(lookup.sql).to.contain("OPENJSON(@p1)");
        expect(JSON.parse(String(lookup.params[0]))).to.deep.equal([
            ["eu", "10"],
            ["us", "11"],
        ]);
    });
});

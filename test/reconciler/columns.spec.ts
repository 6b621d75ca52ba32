import { expect } from "chai";
import { familyOf, negotiate, parsePgType } from "../../reconciler/columns";
import { Engine, NativeColumn } from "../../reconciler/model";

const col = (type: string, extra: Partial<NativeColumn> = {}): NativeColumn => ({
    name: "c",
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
const pair = (se: Engine, s: NativeColumn, te: Engine, t: NativeColumn) => negotiate(se, s, te, t);

describe("reconciler column rules", () => {
    it("reads PostgreSQL format_type() spellings", () => {
        expect(parsePgType("numeric(12,2)")).to.include({ type: "numeric", precision: 12, scale: 2 });
        expect(parsePgType("numeric")).to.include({ type: "numeric", precision: null, scale: null });
        expect(parsePgType("timestamp(3) with time zone")).to.include({ type: "timestamp with time zone", fsp: 3 });
        expect(parsePgType("timestamp without time zone")).to.include({ type: "timestamp without time zone", fsp: 6 });
        expect(parsePgType("character varying(20)")).to.include({ type: "character varying", precision: 20 });
        expect(parsePgType("integer[]").type).to.equal("integer[]");
    });

    it("compares decimals at the smaller declared scale, and unconstrained numerics by value", () => {
        expect(pair("mysql", col("decimal", { scale: 2 }), "postgres", col("numeric", { scale: 4 })).canonical).to.deep.equal({
            kind: "decimal",
            scale: 2,
        });
        expect(pair("postgres", col("numeric"), "postgres", col("numeric", { scale: 3 })).canonical).to.deep.equal({
            kind: "decimal",
            scale: 3,
        });
        expect(pair("postgres", col("numeric"), "postgres", col("numeric")).canonical).to.deep.equal({ kind: "decimal", scale: null });
        expect(pair("mssql", col("money", { scale: 4 }), "postgres", col("numeric", { scale: 4 })).canonical).to.deep.equal({
            kind: "decimal",
            scale: 4,
        });
    });

    it("treats bit, tinyint(1) and boolean as 0/1 and plain integer pairs as integers", () => {
        expect(pair("mssql", col("bit"), "postgres", col("boolean")).canonical.kind).to.equal("bool");
        expect(pair("mysql", col("bit", { precision: 1 }), "postgres", col("boolean")).canonical.kind).to.equal("bool");
        expect(pair("mysql", col("tinyint", { fullType: "tinyint(1)" }), "postgres", col("boolean")).canonical.kind).to.equal("bool");
        // Debezium's default for tinyint(1) is INT16: the sink then creates smallint, compared as integers.
        expect(pair("mysql", col("tinyint", { fullType: "tinyint(1)" }), "postgres", col("smallint")).canonical.kind).to.equal("int");
        expect(familyOf("mysql", col("bit", { precision: 8 }))).to.equal("bytes");
    });

    it("keeps 6 significant digits for 4-byte floats and 15 for doubles, and flags decimal→double pipelines", () => {
        expect(pair("mysql", col("float"), "postgres", col("real")).canonical).to.deep.equal({ kind: "float", digits: 6 });
        expect(pair("postgres", col("double precision"), "postgres", col("double precision")).canonical).to.deep.equal({
            kind: "float",
            digits: 15,
        });
        const d = pair("mssql", col("decimal", { scale: 2 }), "postgres", col("double precision"));
        expect(d.canonical).to.deep.equal({ kind: "float", digits: 15 });
        expect(d.warning).to.match(/decimal\.handling\.mode=double/);
    });

    it("compares temporal values at the lower precision, time zones as UTC, and says so when naive meets aware", () => {
        expect(
            pair("mssql", col("datetime2", { fsp: 7 }), "postgres", col("timestamp without time zone", { fsp: 6 })).canonical,
        ).to.deep.equal({ kind: "timestamp", precision: 6 });
        expect(
            pair("mssql", col("datetime", { fsp: 3 }), "postgres", col("timestamp without time zone", { fsp: 6 })).canonical,
        ).to.deep.equal({ kind: "timestamp", precision: 3 });
        expect(pair("mysql", col("timestamp", { fsp: 3 }), "postgres", col("timestamp with time zone", { fsp: 6 })).warning).to.equal(
            undefined,
        );
        expect(pair("mysql", col("datetime", { fsp: 6 }), "postgres", col("timestamp with time zone", { fsp: 6 })).warning).to.match(
            /UTC wall-clock/,
        );
        expect(pair("mysql", col("time", { fsp: 6 }), "postgres", col("time without time zone", { fsp: 3 })).canonical).to.deep.equal({
            kind: "time",
            precision: 3,
        });
    });

    it("lower-cases UUIDs when either side is a UUID type, and trims padding only when a side is fixed-width", () => {
        expect(pair("mssql", col("uniqueidentifier"), "postgres", col("text")).canonical.kind).to.equal("uuid");
        expect(pair("postgres", col("text"), "postgres", col("text")).canonical).to.deep.equal({ kind: "text", trimTrailingSpaces: false });
        expect(pair("mssql", col("nchar"), "postgres", col("text")).canonical).to.deep.equal({ kind: "text", trimTrailingSpaces: true });
    });

    it("hashes JSON only between two PostgreSQL servers and warns otherwise", () => {
        expect(pair("postgres", col("jsonb"), "postgres", col("json"))).to.deep.include({ hashed: true });
        const cross = pair("mysql", col("longtext", { json: true }), "postgres", col("jsonb"));
        expect(cross.hashed).to.equal(false);
        expect(cross.warning).to.match(/not hashed/);
    });

    it("uses the engine's own text for identical PostgreSQL types it has no rule for, and refuses anything else", () => {
        expect(
            pair("postgres", col("interval", { fullType: "interval" }), "postgres", col("interval", { fullType: "interval" })).canonical
                .kind,
        ).to.equal("native_text");
        expect(() => pair("mysql", col("geometry"), "postgres", col("geometry"))).to.throw(/no comparison rule.*excludeColumns/);
    });
});

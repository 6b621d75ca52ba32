/**
 * Reconciler benchmark: ours vs the floor vs a naive full compare vs reladiff, on PostgreSQL→PostgreSQL and
 * MariaDB→PostgreSQL tables of 10 columns with an integer or a text key, at 0, 100 and 10,000 differences.
 *
 *   flock /tmp/cdc-heavy.lock npx ts-node --transpile-only bench/reconcile/run.ts \
 *     --sizes 1000000,10000000 --out bench/reconcile/results.json
 *
 * Options: --sizes, --variants int,text, --pairs pg,maria, --diffs 0,100,10000, --methods ours,floor,naive,reladiff,
 * --repeat 3 (ours and floor; naive and reladiff run once), --slow-diffs 100 (diff levels where naive and reladiff
 * run), --reladiff <path to the reladiff executable>, --reladiff-timeout <s>.
 * Results are appended as JSON lines to --out and printed as a Markdown table.
 */
import { execFile, spawn } from "child_process";
import { appendFileSync } from "fs";
import * as path from "path";
import { promisify } from "util";
import { Client } from "pg";
import * as mysql from "mysql2/promise";
import { FlagSpec, parseFlags, UsageError } from "../../model/args";
import { startMariaDb, startPostgres } from "../../sandbox/databases";
import { KeyVariant, MAX_DIFFS, mariaCreate, mariaFill, pgCreate, pgDiffs, pgFill, TABLE } from "./data";

const run = promisify(execFile);

const SYNOPSIS =
    "npx ts-node --transpile-only bench/reconcile/run.ts [--sizes N,...] [--variants int,text] [--pairs pg,maria] [--diffs N,...] " +
    "[--methods ours,floor,naive,reladiff] [--repeat N] [--slow-diffs N,...] [--reladiff <path>] [--reladiff-timeout <s>] [--out <file>]";

const FLAGS = {
    sizes: { type: "string" },
    variants: { type: "string" },
    pairs: { type: "string" },
    diffs: { type: "string" },
    methods: { type: "string" },
    repeat: { type: "number", integer: true, min: 1 },
    "slow-diffs": { type: "string" },
    reladiff: { type: "string" },
    "reladiff-timeout": { type: "number", min: 0 },
    out: { type: "string" },
} as const satisfies Record<string, FlagSpec>;

const list = (s: string) => s.split(",").filter(Boolean);

function wholeNumbers(flag: string, s: string): number[] {
    return list(s).map((item) => {
        if (!/^\d+$/.test(item)) throw new UsageError(`--${flag} needs comma-separated whole numbers, got ${JSON.stringify(s)}`, SYNOPSIS);
        return Number(item);
    });
}

/** Read in main, not at load: table.ts imports this module with arguments of its own. */
function parseBenchArgs(argv: readonly string[]) {
    const f = parseFlags(argv, FLAGS, SYNOPSIS);
    return {
        sizes: wholeNumbers("sizes", f.sizes ?? "1000000"),
        variants: list(f.variants ?? "int,text") as KeyVariant[],
        pairs: list(f.pairs ?? "pg,maria"),
        diffLevels: wholeNumbers("diffs", f.diffs ?? "0,100,10000"),
        methods: list(f.methods ?? "ours,floor,naive,reladiff"),
        repeat: f.repeat ?? 3,
        slowDiffs: wholeNumbers("slow-diffs", f["slow-diffs"] ?? "100"),
        reladiff: f.reladiff ?? "reladiff",
        reladiffTimeout: f["reladiff-timeout"] ?? 900,
        out: f.out ?? "bench/reconcile/results.json",
    };
}

interface Row {
    size: number;
    variant: KeyVariant;
    pair: string;
    diffs: number;
    method: string;
    ms: number | null;
    differences: number | null;
    peakRssMb: number | null;
    note?: string;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const BUILD = "bench/out/build";

/** Methods run as compiled JavaScript, as a CronJob image would: ts-node's compiler would dominate the RSS. */
async function compileChild(): Promise<void> {
    const tsc = path.join("node_modules", ".bin", "tsc");
    await run(tsc, [
        path.join(__dirname, "child.ts"),
        "--outDir",
        BUILD,
        "--rootDir",
        ".",
        "--module",
        "commonjs",
        "--target",
        "ES2022",
        "--esModuleInterop",
        "--resolveJsonModule",
        "--skipLibCheck",
    ]);
}

async function child(method: string, src: string, tgt: string): Promise<{ ms: number; differences: number; peakRssMb: number }> {
    // The reconciler runs with the heap cap its CronJob uses (README "Memory"): V8 otherwise defers collection
    // and the peak RSS measures garbage, not what the run holds.
    const heap = method === "ours" ? ["--max-old-space-size=96"] : [];
    const { stdout } = await run(process.execPath, [...heap, path.join(BUILD, "bench", "reconcile", "child.js"), method, src, tgt], {
        maxBuffer: 1 << 20,
        timeout: 3_600_000,
    });
    return JSON.parse(stdout.trim().split("\n").pop()!);
}

function runReladiff(
    reladiff: string,
    reladiffTimeout: number,
    src: string,
    tgt: string,
    key: string,
    columns: string[],
): Promise<{ ms: number; differences: number | null; note?: string }> {
    return new Promise((resolve) => {
        const args = [src, TABLE, tgt, TABLE, "-k", key, ...columns.flatMap((c) => ["-c", c]), "-s", "--json"];
        const t0 = Date.now();
        const p = spawn(reladiff, args, { stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        p.stdout.on("data", (d) => (stdout += d));
        p.stderr.on("data", (d) => (stderr = (stderr + d).slice(-2000)));
        const timer = setTimeout(() => p.kill("SIGKILL"), reladiffTimeout * 1000);
        p.on("exit", (code, signal) => {
            clearTimeout(timer);
            const ms = Date.now() - t0;
            if (signal) return resolve({ ms, differences: null, note: `killed after ${reladiffTimeout} s` });
            if (code !== 0) return resolve({ ms, differences: null, note: `failed: ${stderr.trim().split("\n").pop()}` });
            try {
                const s = JSON.parse(stdout);
                resolve({ ms, differences: s.exclusive_A + s.exclusive_B + s.updated });
            } catch {
                resolve({ ms, differences: null, note: `no result: ${(stdout || stderr).trim().split("\n").pop()?.slice(0, 200)}` });
            }
        });
    });
}

/** The same rows in every PostgreSQL database and in MariaDB, a million per statement, then fresh statistics. */
async function loadTables(pgClients: Client[], mc: mysql.Connection, variant: KeyVariant, size: number): Promise<void> {
    const step = 1_000_000;
    await Promise.all([
        ...pgClients.map(async (c) => {
            await c.query(`DROP TABLE IF EXISTS ${TABLE}`);
            await c.query(pgCreate(variant));
            for (let from = 1; from <= size; from += step) await c.query(pgFill(variant, from, Math.min(size, from + step - 1)));
            await c.query(`VACUUM ANALYZE ${TABLE}`);
        }),
        (async () => {
            await mc.query(`DROP TABLE IF EXISTS ${TABLE}`);
            await mc.query(mariaCreate(variant));
            for (let from = 1; from <= size; from += step) await mc.query(mariaFill(variant, from, Math.min(size, from + step - 1)));
            await mc.query(`ANALYZE TABLE ${TABLE}`);
        })(),
    ]);
}

/** One reladiff run over the benchmark table's columns (it takes postgresql:// URLs). */
async function reladiffRun(
    reladiff: string,
    timeoutSeconds: number,
    variant: KeyVariant,
    src: string,
    tgt: string,
): Promise<{ ms: number; differences: number | null; peakRssMb: null; note?: string }> {
    const key = variant === "int" ? "id" : "k";
    const cols = [
        "c_int",
        "c_big",
        "c_dec",
        "c_dbl",
        "c_hash",
        "c_name",
        "c_ts",
        "c_date",
        "c_flag",
        ...(variant === "text" ? ["id"] : []),
    ];
    const pgUrl = (url: string) => url.replace(/^postgres:/, "postgresql:");
    return { ...(await runReladiff(reladiff, timeoutSeconds, pgUrl(src), pgUrl(tgt), key, cols)), peakRssMb: null };
}

/** PostgreSQL (source and two targets) and MariaDB tuned for bulk loads, with a client on each database. */
async function startServers() {
    const pg = await startPostgres({
        settings: {
            shared_buffers: "4GB",
            work_mem: "64MB",
            maintenance_work_mem: "1GB",
            max_wal_size: "8GB",
            jit: "off",
            synchronous_commit: "off",
        },
    });
    const maria = await startMariaDb({
        settings: { "innodb-buffer-pool-size": "6G", "innodb-log-file-size": "1G", "max-allowed-packet": "64M" },
    });
    const base = pg.url.replace(/\/postgres$/, "");
    const admin = new Client(pg.url);
    await admin.connect();
    for (const db of ["src", "tgt_pg", "tgt_maria"]) await admin.query(`CREATE DATABASE ${db}`);
    await admin.end();
    const urls = { src: `${base}/src`, tgt_pg: `${base}/tgt_pg`, tgt_maria: `${base}/tgt_maria`, maria: maria.url };
    const pgc = Object.fromEntries(
        await Promise.all(
            ["src", "tgt_pg", "tgt_maria"].map(async (d) => {
                const c = new Client(urls[d as keyof typeof urls]);
                await c.connect();
                return [d, c] as const;
            }),
        ),
    ) as Record<string, Client>;
    const mc = await mysql.createConnection(maria.url);
    return { pg, maria, urls, pgc, mc };
}

async function main(): Promise<void> {
    const { sizes, variants, pairs, diffLevels, methods, repeat, slowDiffs, reladiff, reladiffTimeout, out } = parseBenchArgs(
        process.argv.slice(2),
    );
    await compileChild();
    const { pg, maria, urls, pgc, mc } = await startServers();
    const rows: Row[] = [];
    const record = (r: Row) => {
        rows.push(r);
        appendFileSync(out, JSON.stringify(r) + "\n");
        process.stderr.write(`${JSON.stringify(r)}\n`);
    };
    try {
        for (const size of sizes) {
            for (const variant of variants) {
                const t0 = Date.now();
                await loadTables(Object.values(pgc), mc, variant, size);
                process.stderr.write(`loaded ${size} rows (${variant} key) in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
                let applied = 0;
                for (const diffs of diffLevels) {
                    if (diffs > MAX_DIFFS) throw new Error(`at most ${MAX_DIFFS} differences`);
                    for (const stmt of pgDiffs(variant, size, diffs, applied)) {
                        await pgc.tgt_pg.query(stmt);
                        await pgc.tgt_maria.query(stmt);
                    }
                    applied = Math.max(applied, diffs);
                    for (const pair of pairs) {
                        const src = pair === "pg" ? urls.src : urls.maria;
                        const tgt = pair === "pg" ? urls.tgt_pg : urls.tgt_maria;
                        await child("floor", src, tgt);
                        for (const method of methods) {
                            const slow = method === "naive" || method === "reladiff";
                            if (slow && !slowDiffs.includes(diffs)) continue;
                            const results: { ms: number; differences: number | null; peakRssMb: number | null; note?: string }[] = [];
                            for (let i = 0; i < (slow ? 1 : repeat); i++) {
                                results.push(
                                    method === "reladiff"
                                        ? await reladiffRun(reladiff, reladiffTimeout, variant, src, tgt)
                                        : await child(method, src, tgt),
                                );
                            }
                            const ok = results.filter((r) => r.note === undefined);
                            record({
                                size,
                                variant,
                                pair,
                                diffs,
                                method,
                                ms: ok.length ? median(ok.map((r) => r.ms)) : null,
                                differences: ok.length ? ok[0].differences : null,
                                peakRssMb: ok.length && ok[0].peakRssMb !== null ? Math.max(...ok.map((r) => r.peakRssMb ?? 0)) : null,
                                note: results.find((r) => r.note)?.note,
                            });
                        }
                    }
                }
            }
        }
    } finally {
        await Promise.all(Object.values(pgc).map((c) => c.end()));
        await mc.end();
        await Promise.all([pg.stop(), maria.stop()]);
    }
    process.stdout.write(markdown(rows));
}

export function markdown(rows: Row[]): string {
    const lines = [
        "| rows | key | pair | diffs | ours s | floor s | ours/floor | naive s | naive/ours | reladiff s | ours peak RSS MB | found |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ];
    const groups = new Map<string, Row[]>();
    for (const r of rows) {
        const k = `${r.size}|${r.variant}|${r.pair}|${r.diffs}`;
        groups.set(k, [...(groups.get(k) ?? []), r]);
    }
    const s = (r?: Row) => (r?.ms != null ? (r.ms / 1000).toFixed(1) : r?.note ? `— (${r.note})` : "—");
    for (const g of groups.values()) {
        const by = (m: string) => g.find((r) => r.method === m);
        const [o, f, n, rd] = ["ours", "floor", "naive", "reladiff"].map(by);
        const ratio = (a?: Row, b?: Row) => (a?.ms && b?.ms ? (a.ms / b.ms).toFixed(2) : "—");
        const found = [o, n, rd].map((r) => r?.differences ?? "—").join(" / ");
        lines.push(
            `| ${g[0].size.toLocaleString("en")} | ${g[0].variant} | ${g[0].pair} | ${g[0].diffs} | ${s(o)} | ${s(f)} | ${ratio(o, f)} | ${s(n)} | ${ratio(n, o)} | ${s(rd)} | ${o?.peakRssMb ?? "—"} | ${found} |`,
        );
    }
    return lines.join("\n") + "\n";
}

if (require.main === module) {
    main().catch((e) => {
        process.stderr.write(`${e instanceof UsageError ? e.message : (e as Error).stack}\n`);
        process.exitCode = 1;
    });
}

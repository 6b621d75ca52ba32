/**
 * Throwaway database servers for tests, benchmarks and the local CDC sandbox.
 *
 *   const pg = await startPostgres({ settings: postgresLogicalReplication() });
 *   const maria = await startMariaDb({ settings: mariaDbBinlog(1) });
 *   ... pg.url / maria.url ...
 *   await Promise.all([pg.stop(), maria.stop()]);
 *
 * Each server gets a fresh data directory under the OS temp dir and a free TCP port on 127.0.0.1.
 * `start*` resolves only once a real client connection succeeds, and rejects with the server's log
 * tail when the server exits or does not answer before `startTimeoutMs`. `stopServer()`/`startServer()`
 * take the server down and up again with its data (fault tests); `stop()` is idempotent and deletes the
 * data directory unless `keepDataDir` is set.
 *
 * PostgreSQL refuses to run as root, so when this process is root the server runs as the `postgres`
 * OS user (Debian's packages create it). MariaDB runs as the current user (`--user=root` when root).
 * With `tls`, both also accept TLS connections with the given certificate (the TLS tests make their own CA).
 */
import { ChildProcess, execFile, spawn } from "child_process";
import { existsSync, promises as fs, readdirSync } from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { Client } from "pg";
import * as mysql from "mysql2/promise";
import { waitUntil } from "../model/wait";

const run = promisify(execFile);

export type ServerSettings = Record<string, string | number | boolean>;

export interface StartOptions {
    /** TCP port; a free one is picked when omitted. */
    port?: number;
    /** Server settings: PostgreSQL `-c key=value`, MariaDB `--key=value` (`true` → bare `--key`). */
    settings?: ServerSettings;
    /** Database created after start and used in the returned URL. */
    database?: string;
    startTimeoutMs?: number;
    /** Keep the data directory after stop (for post-mortems). */
    keepDataDir?: boolean;
    /** Serve TLS with this certificate and key (PEM files; copied into the server's directory). Plaintext stays allowed. */
    tls?: { certFile: string; keyFile: string };
}

export interface RunningDatabase {
    engine: "postgres" | "mariadb";
    /** Connection URL: `postgres://postgres@127.0.0.1:PORT/DB` or `mysql://sandbox:sandbox@127.0.0.1:PORT/DB`. */
    url: string;
    host: string;
    port: number;
    user: string;
    password: string;
    database: string;
    dataDir: string;
    /** With `tls`: the files the server reads its certificate from; overwrite them and reload (FLUSH SSL, pg_reload_conf()) to serve another. */
    tlsFiles?: { cert: string; key: string };
    /** Stops the server process but keeps its data and port, as an outage or a restart would. */
    stopServer(): Promise<void>;
    /** Starts the server stopped by `stopServer` again; resolves once it accepts connections. */
    startServer(): Promise<void>;
    /** Stops the server for good and deletes its data directory. */
    stop(): Promise<void>;
}

/** Settings a Debezium PostgreSQL connector needs on its source server. */
export function postgresLogicalReplication(): ServerSettings {
    return { wal_level: "logical", max_wal_senders: 4, max_replication_slots: 4 };
}

/** Settings a Debezium MySQL/MariaDB connector needs on its source server. */
export function mariaDbBinlog(serverId: number): ServerSettings {
    return { log_bin: "mariadb-bin", binlog_format: "ROW", binlog_row_image: "FULL", server_id: serverId };
}

const DEFAULT_TIMEOUT_MS = 60_000;
const isRoot = () => typeof process.getuid === "function" && process.getuid() === 0;

export async function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.unref();
        srv.on("error", reject);
        srv.listen(0, "127.0.0.1", () => {
            const addr = srv.address();
            srv.close(() => (typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port"))));
        });
    });
}

export function postgresBinDir(): string {
    const fromEnv = process.env.PG_BIN_DIR;
    if (fromEnv) return fromEnv;
    const root = "/usr/lib/postgresql";
    const versions = existsSync(root)
        ? readdirSync(root)
              .filter((v) => existsSync(path.join(root, v, "bin", "initdb")))
              .sort((a, b) => Number(b) - Number(a))
        : [];
    if (versions.length === 0) {
        throw new Error("PostgreSQL server binaries not found under /usr/lib/postgresql (run scripts/setup.sh, or set PG_BIN_DIR)");
    }
    return path.join(root, versions[0], "bin");
}

function mariaDbBinary(name: "mariadbd" | "mariadb-install-db"): string {
    for (const dir of ["/usr/sbin", "/usr/bin", "/usr/local/bin", "/usr/local/sbin"]) {
        const p = path.join(dir, name);
        if (existsSync(p)) return p;
    }
    throw new Error(`${name} not found (run scripts/setup.sh to install mariadb-server)`);
}

async function tail(file: string, lines = 30): Promise<string> {
    try {
        return (await fs.readFile(file, "utf8")).split("\n").slice(-lines).join("\n");
    } catch {
        return "(no log)";
    }
}

/** Waits for the server to answer `probe`; a server process that exits meanwhile ends the wait at once with its reason. */
async function pollUntil(what: string, timeoutMs: number, probe: () => Promise<void>, dead: () => string | null): Promise<void> {
    const abortIf = () => {
        const died = dead();
        return died ? `${what} exited during start-up: ${died}` : undefined;
    };
    await waitUntil(
        `${what} to accept connections`,
        timeoutMs,
        async () => {
            await probe();
            return true;
        },
        { intervalMs: 200, abortIf },
    );
}

async function postgresOwner(): Promise<{ uid: number; gid: number }> {
    const { stdout } = await run("id", ["-u", "postgres"]).catch(() => {
        throw new Error("running as root but there is no `postgres` OS user to run PostgreSQL as");
    });
    const { stdout: gid } = await run("id", ["-g", "postgres"]);
    return { uid: Number(stdout.trim()), gid: Number(gid.trim()) };
}

/** Copies the certificate and key where the server can read them (PostgreSQL refuses a key others can read). */
async function installTlsFiles(
    dir: string,
    tls: NonNullable<StartOptions["tls"]>,
    owner?: { uid: number; gid: number },
): Promise<{ cert: string; key: string }> {
    const files = { cert: path.join(dir, "server.crt"), key: path.join(dir, "server.key") };
    await fs.copyFile(tls.certFile, files.cert);
    await fs.copyFile(tls.keyFile, files.key);
    await fs.chmod(files.key, 0o600);
    if (owner) for (const f of Object.values(files)) await fs.chown(f, owner.uid, owner.gid);
    return files;
}

/** Runs a command as the `postgres` OS user when we are root, otherwise as ourselves. */
function asPostgres(cmd: string, args: string[]): [string, string[]] {
    return isRoot() ? ["runuser", ["-u", "postgres", "--", cmd, ...args]] : [cmd, args];
}

/** Connects as postgres and creates `database` unless it is postgres itself. */
async function connectAndCreate(baseUrl: string, database: string | undefined): Promise<void> {
    const c = new Client({ connectionString: `${baseUrl}/postgres`, connectionTimeoutMillis: 2000 });
    await c.connect();
    try {
        if (database && database !== "postgres") await c.query(`CREATE DATABASE "${database.replace(/"/g, '""')}"`);
    } finally {
        await c.end();
    }
}

export async function startPostgres(opts: StartOptions = {}): Promise<RunningDatabase> {
    const bin = postgresBinDir();
    const port = opts.port ?? (await freePort());
    const base = await fs.mkdtemp(path.join(os.tmpdir(), "cdc-pg-"));
    const dataDir = path.join(base, "data");
    const logFile = path.join(base, "server.log");
    const owner = isRoot() ? await postgresOwner() : undefined;
    if (owner) await fs.chown(base, owner.uid, owner.gid);
    const tls = opts.tls ? await installTlsFiles(base, opts.tls, owner) : undefined;
    const exec = async (cmd: string, args: string[], step: string) => {
        const [c, a] = asPostgres(cmd, args);
        try {
            await run(c, a, { maxBuffer: 16 * 1024 * 1024 });
        } catch (e) {
            const err = e as { stderr?: string; message: string };
            throw new Error(`PostgreSQL ${step} failed: ${err.stderr?.trim() || err.message}\nserver log:\n${await tail(logFile)}`);
        }
    };
    const settings: ServerSettings = {
        listen_addresses: "127.0.0.1",
        port,
        unix_socket_directories: base,
        fsync: "off",
        ...(tls ? { ssl: true, ssl_cert_file: tls.cert, ssl_key_file: tls.key } : {}),
        ...opts.settings,
    };
    const serverOpts = Object.entries(settings)
        .map(([k, v]) => `-c ${k}=${typeof v === "boolean" ? (v ? "on" : "off") : v}`)
        .join(" ");
    const timeoutMs = opts.startTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    // pg_ctl -w returns once the server accepts connections; a fast stop disconnects every client at once.
    const startServer = () =>
        exec(
            path.join(bin, "pg_ctl"),
            ["-D", dataDir, "-l", logFile, "-o", serverOpts, "-w", "-t", String(Math.ceil(timeoutMs / 1000)), "start"],
            "start",
        );
    const stopServer = () => exec(path.join(bin, "pg_ctl"), ["-D", dataDir, "-m", "fast", "-w", "stop"], "stop");
    try {
        await exec(
            path.join(bin, "initdb"),
            ["-D", dataDir, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8"],
            "initdb",
        );
        await startServer();
    } catch (e) {
        await fs.rm(base, { recursive: true, force: true });
        throw e;
    }
    let stopped = false;
    const stop = async () => {
        if (stopped) return;
        stopped = true;
        await stopServer().catch(() => undefined);
        if (!opts.keepDataDir) await fs.rm(base, { recursive: true, force: true });
    };
    const baseUrl = `postgres://postgres@127.0.0.1:${port}`;
    try {
        await pollUntil(
            "PostgreSQL",
            timeoutMs,
            () => connectAndCreate(baseUrl, opts.database),
            () => null,
        );
    } catch (e) {
        const log = await tail(logFile);
        await stop();
        throw new Error(`${(e as Error).message}\nserver log:\n${log}`);
    }
    const database = opts.database ?? "postgres";
    return {
        engine: "postgres",
        url: `${baseUrl}/${database}`,
        host: "127.0.0.1",
        port,
        user: "postgres",
        password: "",
        database,
        dataDir,
        tlsFiles: tls,
        stopServer,
        startServer,
        stop,
    };
}

async function installMariaDb(base: string, dataDir: string, userArg: string[]): Promise<void> {
    try {
        await run(
            mariaDbBinary("mariadb-install-db"),
            ["--no-defaults", `--datadir=${dataDir}`, "--skip-test-db", "--auth-root-authentication-method=normal", ...userArg],
            { maxBuffer: 16 * 1024 * 1024 },
        );
    } catch (e) {
        const err = e as { stderr?: string; message: string };
        await fs.rm(base, { recursive: true, force: true });
        throw new Error(`MariaDB mariadb-install-db failed: ${err.stderr?.trim() || err.message}`);
    }
}

/** The init file runs on every start: it creates the sandbox user with TCP access and the database. */
async function writeMariaDbInitFile(base: string, user: string, password: string, database: string): Promise<string> {
    const initFile = path.join(base, "init.sql");
    await fs.writeFile(
        initFile,
        [
            `CREATE USER IF NOT EXISTS '${user}'@'%' IDENTIFIED BY '${password}';`,
            `GRANT ALL PRIVILEGES ON *.* TO '${user}'@'%' WITH GRANT OPTION;`,
            `CREATE DATABASE IF NOT EXISTS \`${database.replace(/`/g, "``")}\`;`,
            "",
        ].join("\n"),
    );
    return initFile;
}

interface ServerProcess {
    child: ChildProcess;
    /** Why the process ended (exit code, signal, stderr tail); null while it runs. */
    exit: string | null;
    exited: Promise<void>;
}

function spawnServer(binary: string, args: string[]): ServerProcess {
    const child: ChildProcess = spawn(binary, args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr?.on("data", (d) => (stderr = (stderr + String(d)).slice(-4000)));
    const s: ServerProcess = {
        child,
        exit: null,
        exited: new Promise<void>((resolve) => {
            child.on("exit", (code, signal) => {
                s.exit = `code ${code} signal ${signal} ${stderr.trim()}`;
                resolve();
            });
        }),
    };
    return s;
}

/** SIGTERM is mariadbd's normal shutdown: clients are disconnected and InnoDB is flushed; SIGKILL after 20 s. */
async function terminate(s: ServerProcess | undefined): Promise<void> {
    if (!s || s.exit !== null) return;
    s.child.kill("SIGTERM");
    const timer = setTimeout(() => s.child.kill("SIGKILL"), 20_000);
    await s.exited;
    clearTimeout(timer);
}

export async function startMariaDb(opts: StartOptions = {}): Promise<RunningDatabase> {
    const port = opts.port ?? (await freePort());
    const base = await fs.mkdtemp(path.join(os.tmpdir(), "cdc-mariadb-"));
    const dataDir = path.join(base, "data");
    const logFile = path.join(base, "server.log");
    const socket = path.join(base, "mariadb.sock");
    const user = "sandbox";
    const password = "sandbox";
    const database = opts.database ?? "app";
    const userArg = isRoot() ? ["--user=root"] : [];
    await installMariaDb(base, dataDir, userArg);
    const tls = opts.tls ? await installTlsFiles(base, opts.tls) : undefined;
    const initFile = await writeMariaDbInitFile(base, user, password, database);
    const settings: ServerSettings = {
        datadir: dataDir,
        socket,
        port,
        "bind-address": "127.0.0.1",
        "log-error": logFile,
        "pid-file": path.join(base, "mariadb.pid"),
        "init-file": initFile,
        "innodb-flush-log-at-trx-commit": 2,
        "skip-name-resolve": true,
        ...(tls ? { "ssl-cert": tls.cert, "ssl-key": tls.key } : {}),
        ...opts.settings,
    };
    const args = [
        "--no-defaults",
        ...userArg,
        ...Object.entries(settings).flatMap(([k, v]) => (v === true ? [`--${k}`] : v === false ? [] : [`--${k}=${v}`])),
    ];
    let server: ServerProcess | undefined;
    const launch = () => (server = spawnServer(mariaDbBinary("mariadbd"), args));
    const stopServer = () => terminate(server);
    let stopped = false;
    const stop = async () => {
        if (stopped) return;
        stopped = true;
        await stopServer();
        if (!opts.keepDataDir) await fs.rm(base, { recursive: true, force: true });
    };
    const timeoutMs = opts.startTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    const startServer = async () => {
        const s = launch();
        await pollUntil(
            "MariaDB",
            timeoutMs,
            async () => {
                const c = await mysql.createConnection({ host: "127.0.0.1", port, user, password, database, connectTimeout: 2000 });
                await c.end();
            },
            () => s.exit,
        );
    };
    try {
        await startServer();
    } catch (e) {
        const log = await tail(logFile);
        await stop();
        throw new Error(`${(e as Error).message}\nserver log:\n${log}`);
    }
    return {
        engine: "mariadb",
        url: `mysql://${user}:${password}@127.0.0.1:${port}/${encodeURIComponent(database)}`,
        host: "127.0.0.1",
        port,
        user,
        password,
        database,
        dataDir,
        tlsFiles: tls,
        stopServer,
        startServer,
        stop,
    };
}

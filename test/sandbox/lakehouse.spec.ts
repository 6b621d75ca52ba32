import { expect } from "chai";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { lakehousePipelines, renderWriterConfig, writerConfigFile } from "../../plan/lakehouse";
import type { RunningDatabase } from "../../sandbox/databases";
import { localWriterConfig, VENV_PYTHON } from "../../sandbox/lakehouse";
import { SANDBOX_WAREHOUSE_URI, sandboxStackSpec } from "../../sandbox/stack";

const db = (database: string): RunningDatabase =>
    ({
        engine: "postgres",
        host: "127.0.0.1",
        port: 5432,
        database,
        user: "postgres",
        password: "pw",
        url: "",
        dataDir: "",
        stop: async () => undefined,
    }) as unknown as RunningDatabase;

describe("sandbox lakehouse writer config", () => {
    const spec = sandboxStackSpec({
        bootstrapServers: "127.0.0.1:9092",
        postgresSource: db("shop"),
        mariaDbSource: db("inventory"),
        target: db("warehouse"),
    });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sandbox-lakehouse-"));
    after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const local = { warehouseDir: path.join(dir, "warehouse"), catalogPasswordFile: path.join(dir, "pw"), healthPort: 18080 };

    it("runs a writer for both seed-004 pipelines with the dev stack's destinations", () => {
        expect(lakehousePipelines(spec).map((p) => [p.name, p.destinations.map((d) => d.name)])).to.deep.equal([
            ["shop", ["customers_cdc", "orders_cdc", "customers_analytics"]],
            ["inventory", ["products_cdc"]],
        ]);
    });

    it("keeps nothing of the object-storage warehouse and swaps in the local endpoints", () => {
        for (const p of lakehousePipelines(spec)) {
            const file = localWriterConfig(writerConfigFile(spec, p), local);
            const text = renderWriterConfig(file);
            expect(text).to.not.contain(SANDBOX_WAREHOUSE_URI);
            expect(file.kafka).to.deep.equal({ bootstrap_servers: "127.0.0.1:9092", security_protocol: "PLAINTEXT" });
            expect(file.pipelines[0].observability.health_check_port).to.equal(18080);
            for (const d of file.pipelines[0].destinations)
                if (d.location) expect(d.location.startsWith(local.warehouseDir), d.name).to.equal(true);
            for (const c of Object.values(file.catalogs ?? {})) {
                expect(c.warehouse).to.equal(`file://${local.warehouseDir}/iceberg`);
                expect(c.password_file).to.equal(local.catalogPasswordFile);
            }
        }
    });

    it("is a file the writer accepts", function () {
        if (!fs.existsSync(VENV_PYTHON))
            throw new Error(`${VENV_PYTHON} is missing: run scripts/setup.sh --unit (it builds the writer's venv)`);
        for (const p of lakehousePipelines(spec)) {
            const configFile = path.join(dir, `${p.name}.json`);
            fs.writeFileSync(configFile, renderWriterConfig(localWriterConfig(writerConfigFile(spec, p), local)));
            execFileSync(VENV_PYTHON, ["-m", "cdc_lakehouse", "check-config", "--config", configFile], { stdio: "pipe" });
        }
    });
});

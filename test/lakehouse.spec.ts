/**
 * The lakehouse writers the shipped stacks render: the writer's configuration file against the writer's own
 * contract (lakehouse/schema/writer-config.schema.json with ajv, and the writer's `check-config`), and the
 * Kubernetes, Vault and PostgreSQL objects that run it.
 */
import { expect } from "chai";
import { execFileSync } from "child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import Ajv2020 from "ajv/dist/2020";
import { parseStackSpec } from "../plan/stack-spec";
import type { StackSpec } from "../model/spec";
import {
    CATALOG_SECRET_DIR,
    CONFIG_HASH_ANNOTATION,
    HEALTH_PATH,
    KAFKA_SECRET_DIR,
    LAKEHOUSE_CONFIG_DIR,
    LAKEHOUSE_CONFIG_FILE,
    lakehouseConfigMapBody,
    lakehouseDeploymentBody,
    lakehouseDisruptionBudgetBody,
    lakehouseKafkaAccessBody,
    lakehouseMaintenanceCronJobBody,
    lakehousePipelines,
    lakehousePodMonitorBody,
    lakehouseServiceAccountBody,
    REGISTRY_CA_DIR,
    REGISTRY_SECRET_DIR,
    renderWriterConfig,
    writerConfigFile,
} from "../plan/lakehouse";
import { registryCredentialsSecretName } from "../model/schema-registry";
import { WORKLOAD_UID } from "../plan/workload-security";
import { lakehouseKafkaUserBody } from "../plan/kafka-users";
import { planPostgresTargets } from "../plan/postgres-target";
import { planTopics } from "../plan/topics";
import { planSecretSyncs, planVaultPolicies, planVaultSecrets } from "../plan/vault";
import { validateManifest } from "./helpers/k8s-schemas";
import { rawProjectConfig, REPO_ROOT, SHIPPED_STACKS, ShippedStack } from "./helpers/stack-files";

type Raw = Record<string, any>;

const WRITER_SCHEMA = path.join(REPO_ROOT, "lakehouse", "schema", "writer-config.schema.json");
const VENV_PYTHON = path.join(REPO_ROOT, ".cache", "lakehouse-venv", "bin", "python");

const raw = (stack: ShippedStack): Raw => structuredClone(rawProjectConfig(stack));
const specOf = (config: Raw): StackSpec => parseStackSpec(config).spec;

const validateWriterConfig = new Ajv2020({ allErrors: true, strict: false }).compile(JSON.parse(readFileSync(WRITER_SCHEMA, "utf8")));

/** Runs the writer's own validation on rendered files; its exit code and output. */
function checkConfig(files: string[]): { status: number; output: string }[] {
    if (!existsSync(VENV_PYTHON))
        throw new Error(`${VENV_PYTHON} is missing: run scripts/setup.sh (it creates the lakehouse writer's virtualenv)`);
    return files.map((file) => {
        try {
            const output = execFileSync(VENV_PYTHON, ["-m", "cdc_lakehouse", "check-config", "--config", file], {
                encoding: "utf8",
                stdio: ["ignore", "pipe", "pipe"],
            });
            return { status: 0, output };
        } catch (e) {
            const failed = e as { status: number; stdout: string; stderr: string };
            return { status: failed.status, output: `${failed.stdout}${failed.stderr}` };
        }
    });
}

describe("lakehouse writers of the shipped stacks", () => {
    const specs = Object.fromEntries(SHIPPED_STACKS.map((stack) => [stack, specOf(raw(stack))])) as Record<ShippedStack, StackSpec>;

    it("run one writer per pipeline with destinations: seed 004's pipelines in dev, the customers change log in prod", () => {
        const destinations = (spec: StackSpec) =>
            lakehousePipelines(spec).map((p) => [p.name, p.destinations.map((d) => `${d.format}:${d.name}`)]);
        expect(destinations(specs.dev)).to.deep.equal([
            ["shop", ["deltalake:customers_cdc", "deltalake:orders_cdc", "iceberg:customers_analytics"]],
            ["inventory", ["iceberg:products_cdc"]],
        ]);
        expect(destinations(specs.prod)).to.deep.equal([["sales", ["deltalake:customers_cdc"]]]);
    });

    describe("the configuration file, against the writer's contract", function () {
        // Each check-config starts a Python interpreter (about half a second here).
        this.timeout(30000);
        const dir = mkdtempSync(path.join(tmpdir(), "lakehouse-config-"));
        after(() => rmSync(dir, { recursive: true, force: true }));

        const rendered = SHIPPED_STACKS.flatMap((stack) =>
            lakehousePipelines(specs[stack]).map((pipeline) => ({
                stack,
                pipeline: pipeline.name,
                file: writerConfigFile(specs[stack], pipeline),
            })),
        );

        it("validates against lakehouse/schema/writer-config.schema.json (ajv, draft 2020-12)", () => {
            expect(rendered.length).to.equal(3);
            for (const r of rendered) {
                const valid = validateWriterConfig(r.file);
                expect(valid ? [] : validateWriterConfig.errors, `${r.stack} ${r.pipeline}`).to.deep.equal([]);
            }
        });

        it("is accepted by the writer's own check-config, cross-field rules included", () => {
            const files = rendered.map((r) => {
                const file = path.join(dir, `${r.stack}-${r.pipeline}.json`);
                writeFileSync(file, renderWriterConfig(r.file));
                return file;
            });
            const results = checkConfig(files);
            results.forEach((result, i) =>
                expect(result, files[i]).to.deep.equal({ status: 0, output: `${files[i]}: valid (1 pipeline(s))\n` }),
            );
        });

        it("is refused by check-config when it breaks a rule the stack also enforces, so both sides really check", () => {
            const file = path.join(dir, "broken.json");
            const broken = writerConfigFile(specs.dev, lakehousePipelines(specs.dev)[0]);
            broken.pipelines[0].destinations[0].sort_by = ["customer_id"];
            writeFileSync(file, renderWriterConfig(broken));
            const [result] = checkConfig([file]);
            expect(result.status).to.equal(2);
            expect(result.output).to.include(
                "pipelines[0].destinations[0].sort_by: Delta tables have no sort order (Iceberg only); remove it",
            );
        });

        it("renders the seed's tables with their properties, and credentials only as file paths", () => {
            const [shop, inventory] = lakehousePipelines(specs.dev).map((p) => writerConfigFile(specs.dev, p));
            const customers = shop.pipelines[0].destinations[0];
            expect(customers).to.deep.include({
                topic: "shop.public.customers",
                location: "s3://cdc-lakehouse-dev/warehouse/delta/shop/customers_cdc",
                write_mode: "append",
                primary_key: ["customer_id"],
                partition_by: "day(last_updated)",
                table_properties: { "delta.enableChangeDataFeed": "true" },
            });
            expect(customers.quality_checks).to.deep.equal([
                { type: "row_count", enabled: true, tolerance: 0.01 },
                { type: "checksum", enabled: true, columns: ["customer_id", "email"] },
                { type: "lag_monitoring", enabled: true, threshold_seconds: 5 },
            ]);
            expect(shop.pipelines[0].destinations[2]).to.deep.include({
                catalog: "lakehouse",
                namespace: "shop",
                write_mode: "upsert",
                derive: { kind: "customers_analytics", orders_table: "orders_cdc" },
            });
            expect(inventory.pipelines[0].destinations[0]).to.deep.include({
                topic: "inventory.inventory.products",
                partition_by: "month(updated_at)",
                sort_by: ["product_id", "updated_at"],
            });
            expect(shop.catalogs).to.deep.equal({
                lakehouse: {
                    uri: "postgresql+psycopg2://iceberg_catalog@warehouse-dev.postgres.svc:5432/iceberg_catalog?sslmode=prefer",
                    password_file: `${CATALOG_SECRET_DIR}/password`,
                    warehouse: "s3://cdc-lakehouse-dev/warehouse/iceberg",
                    properties: { "s3.region": "us-east-1", "s3.endpoint": "http://minio.storage-dev.svc:9000" },
                },
            });
            expect(shop.pipelines[0]).to.deep.include({
                dead_letter_topic: "dlq-lakehouse-shop",
                observability: { logging_level: "INFO", metrics_enabled: true, health_check_port: 8080 },
                validation_results: {
                    format: "deltalake",
                    location: "s3://cdc-lakehouse-dev/warehouse/delta/shop/validation_results",
                    interval_seconds: 60,
                },
            });
            // The pipeline without quality checks writes no validation_results, where no check would run.
            expect(inventory.pipelines[0]).to.not.have.property("validation_results");
        });

        it("connects prod's writer to Kafka over TLS as its own SCRAM user, from the KafkaAccess binding Secret", () => {
            const [sales] = lakehousePipelines(specs.prod).map((p) => writerConfigFile(specs.prod, p));
            expect(sales.kafka).to.deep.equal({
                bootstrap_servers: "cdc-kafka-kafka-bootstrap.kafka.svc:9093",
                security_protocol: "SASL_SSL",
                tls: { ca_file: `${KAFKA_SECRET_DIR}/ssl.truststore.crt` },
                sasl: { mechanism: "SCRAM-SHA-512", username: "cdc-lakehouse-sales", password_file: `${KAFKA_SECRET_DIR}/password` },
            });
            expect(specs.dev.lakehouse && writerConfigFile(specs.dev, lakehousePipelines(specs.dev)[0]).kafka).to.deep.equal({
                bootstrap_servers: "cdc-kafka-kafka-bootstrap.kafka.svc:9092",
                security_protocol: "PLAINTEXT",
            });
        });

        it("reads Avro through the registry's Confluent-compatible API: prod over https with the readers' login and CA mounted, dev plain", () => {
            const [sales] = lakehousePipelines(specs.prod);
            expect(writerConfigFile(specs.prod, sales)).to.deep.include({
                serialization: "avro",
                schema_registry: {
                    url: "https://apicurio-registry.registry.svc:8443/apis/ccompat/v7",
                    tls: { ca_file: `${REGISTRY_CA_DIR}/ca.crt` },
                    basic_auth: { username_file: `${REGISTRY_SECRET_DIR}/username`, password_file: `${REGISTRY_SECRET_DIR}/password` },
                },
            });
            const pod = lakehouseDeploymentBody(specs.prod, sales).spec.template.spec;
            const volumes = pod.volumes as { name: string; secret?: { secretName: string; items: { key: string }[] } }[];
            expect(volumes.find((v) => v.name === "schema-registry")?.secret).to.deep.include({
                secretName: registryCredentialsSecretName(specs.prod.connect.name, "reader"),
            });
            expect(volumes.find((v) => v.name === "schema-registry-ca")?.secret?.items.map((i) => i.key)).to.deep.equal(["ca.crt"]);
            const dev = writerConfigFile(specs.dev, lakehousePipelines(specs.dev)[0]);
            expect([dev.serialization, dev.schema_registry]).to.deep.equal([
                "avro",
                { url: "http://apicurio-registry.registry-dev.svc:8080/apis/ccompat/v7" },
            ]);
        });

        it("takes the maintenance retention and schedule from the environment profile (seed §9.3: 1 hour for a demo, 7 days)", () => {
            const retention = (spec: StackSpec) => writerConfigFile(spec, lakehousePipelines(spec)[0]).pipelines[0].maintenance;
            expect(retention(specs.dev)).to.deep.equal({
                vacuum_retention_hours: 1,
                change_data_feed_retention_hours: 1,
                snapshot_retention_hours: 1,
                orphan_file_retention_hours: 1,
            });
            expect(retention(specs.prod)).to.deep.equal({
                vacuum_retention_hours: 168,
                change_data_feed_retention_hours: 168,
                snapshot_retention_hours: 168,
                orphan_file_retention_hours: 168,
            });
            expect(lakehouseMaintenanceCronJobBody(specs.dev, lakehousePipelines(specs.dev)[0]).spec.schedule).to.equal("20 * * * *");
            expect(lakehouseMaintenanceCronJobBody(specs.prod, lakehousePipelines(specs.prod)[0]).spec.schedule).to.equal("20 3 * * *");
        });

        it("verifies the catalog database against the mounted CA where the profile requires encryption", () => {
            const config = raw("prod");
            config.pipelines[0].destinations.push({ name: "orders_state", format: "iceberg", table: "dbo.orders", writeMode: "upsert" });
            config.lakehouse.catalog = { host: "warehouse.postgres.svc" };
            const spec = specOf(config);
            expect(writerConfigFile(spec, spec.pipelines[0]).catalogs!.lakehouse.uri).to.equal(
                "postgresql+psycopg2://iceberg_catalog@warehouse.postgres.svc:5432/iceberg_catalog?sslmode=verify-full&sslrootcert=/var/run/secrets/cdc/database-ca/ca.crt",
            );
            const pod = lakehouseDeploymentBody(spec, spec.pipelines[0]).spec.template.spec;
            expect(pod.volumes.find((v) => v.name === "database-ca")).to.deep.equal({
                name: "database-ca",
                secret: { secretName: "database-ca", items: [{ key: "ca.crt", path: "ca.crt" }], defaultMode: 0o440 },
            });
        });
    });

    for (const stack of SHIPPED_STACKS) {
        describe(`Kubernetes objects (${stack})`, () => {
            const spec = specs[stack];
            const pipelines = lakehousePipelines(spec);
            const bodies = () => [
                lakehouseServiceAccountBody(spec),
                ...pipelines.flatMap((p) => [
                    ...(lakehouseKafkaAccessBody(spec, p) ? [lakehouseKafkaAccessBody(spec, p)!] : []),
                    ...(lakehouseKafkaUserBody(spec, p) ? [lakehouseKafkaUserBody(spec, p)!] : []),
                    lakehouseConfigMapBody(spec, p),
                    lakehouseDeploymentBody(spec, p),
                    lakehouseMaintenanceCronJobBody(spec, p),
                    lakehousePodMonitorBody(spec, p)!,
                    lakehouseDisruptionBudgetBody(spec, p),
                ]),
            ];

            it("validate strictly against the Kubernetes, Strimzi, Access Operator and prometheus-operator schemas", () => {
                for (const body of bodies()) expect(validateManifest(body as any), `${body.kind} ${body.metadata.name}`).to.deep.equal([]);
            });

            it("run the writer as one non-root replica with a read-only root, /tmp on an emptyDir, probes on /healthz and bounded resources", () => {
                for (const p of pipelines) {
                    const deployment = lakehouseDeploymentBody(spec, p);
                    expect(deployment.spec).to.deep.include({ replicas: 1, strategy: { type: "Recreate" } });
                    const pod = deployment.spec.template.spec;
                    expect(pod.securityContext).to.include({ runAsNonRoot: true, runAsUser: WORKLOAD_UID, runAsGroup: WORKLOAD_UID });
                    expect(pod.automountServiceAccountToken).to.equal(false);
                    const [container] = pod.containers;
                    expect(container.securityContext).to.deep.equal({
                        allowPrivilegeEscalation: false,
                        readOnlyRootFilesystem: true,
                        runAsNonRoot: true,
                        capabilities: { drop: ["ALL"] },
                    });
                    expect(container.args).to.deep.equal([
                        "run",
                        "--config",
                        `${LAKEHOUSE_CONFIG_DIR}/${LAKEHOUSE_CONFIG_FILE}`,
                        "--pipeline",
                        p.name,
                    ]);
                    expect(container.ports).to.deep.equal([
                        { name: "http", containerPort: p.lakehouse!.observability.healthCheckPort, protocol: "TCP" },
                    ]);
                    for (const probe of [container.startupProbe, container.readinessProbe, container.livenessProbe])
                        expect(probe.httpGet).to.deep.equal({ path: HEALTH_PATH, port: "http" });
                    expect(container.resources).to.deep.equal(spec.lakehouse!.resources);
                    expect(container.resources.limits).to.include.keys("cpu", "memory");
                    expect(container.volumeMounts.find((m) => m.mountPath === "/tmp")).to.deep.equal({ name: "tmp", mountPath: "/tmp" });
                    expect(pod.volumes.find((v) => v.name === "tmp")!.emptyDir).to.deep.equal({ sizeLimit: "1Gi" });
                    expect(pod.volumes.find((v) => v.name === "config")!.configMap!.name).to.equal(
                        lakehouseConfigMapBody(spec, p).metadata.name,
                    );
                }
            });

            it("restarts a writer whose file changed: the pod template carries the file's hash", () => {
                const [p] = pipelines;
                const hash = lakehouseDeploymentBody(spec, p).spec.template.metadata.annotations[CONFIG_HASH_ANNOTATION];
                const config = raw(stack);
                config.pipelines.find((x: Raw) => x.name === p.name).lakehouse = { observability: { loggingLevel: "DEBUG" } };
                const changed = specOf(config);
                expect(
                    lakehouseDeploymentBody(changed, lakehousePipelines(changed)[0]).spec.template.metadata.annotations[
                        CONFIG_HASH_ANNOTATION
                    ],
                ).to.not.equal(hash);
            });

            it("give credentials only through Secrets: object-storage keys as env from the synced Secret, passwords as mounted files", () => {
                for (const p of pipelines) {
                    const [container] = lakehouseDeploymentBody(spec, p).spec.template.spec.containers;
                    const secretEnv = container.env.filter((e) => "valueFrom" in e).map((e) => [e.name, (e as any).valueFrom.secretKeyRef]);
                    expect(secretEnv).to.deep.equal([
                        ["AWS_ACCESS_KEY_ID", { name: "cdc-lakehouse-object-storage", key: "access_key_id" }],
                        ["AWS_SECRET_ACCESS_KEY", { name: "cdc-lakehouse-object-storage", key: "secret_access_key" }],
                    ]);
                    const text = lakehouseConfigMapBody(spec, p).data[LAKEHOUSE_CONFIG_FILE];
                    expect(text).to.not.match(/"password"\s*:/);
                }
            });

            it("maintain the tables from a CronJob that never overlaps and holds no Kafka credentials", () => {
                for (const p of pipelines) {
                    const cronJob = lakehouseMaintenanceCronJobBody(spec, p);
                    expect(cronJob.spec.concurrencyPolicy).to.equal("Forbid");
                    const pod = cronJob.spec.jobTemplate.spec.template.spec;
                    expect(pod.containers[0].args).to.deep.equal([
                        "maintain",
                        "--config",
                        `${LAKEHOUSE_CONFIG_DIR}/${LAKEHOUSE_CONFIG_FILE}`,
                        "--pipeline",
                        p.name,
                    ]);
                    expect(pod.volumes.map((v) => v.name)).to.not.include("kafka");
                    expect(cronJob.metadata.name.length).to.be.at.most(52);
                    // Its pods are not the writer's: the Deployment and the PodMonitor select on the component.
                    expect(cronJob.spec.jobTemplate.spec.template.metadata.labels["app.kubernetes.io/component"]).to.equal("maintenance");
                    expect(lakehouseDeploymentBody(spec, p).spec.selector.matchLabels["app.kubernetes.io/component"]).to.equal("writer");
                }
            });

            it("scrape /metrics on the health port's named port", () => {
                for (const p of pipelines) {
                    expect(lakehousePodMonitorBody(spec, p)!.spec).to.deep.equal({
                        selector: { matchLabels: lakehouseDeploymentBody(spec, p).spec.selector.matchLabels },
                        podMetricsEndpoints: [{ port: "http", path: "/metrics", interval: "30s" }],
                    });
                }
            });

            it("give each single-replica writer a budget that lets a node drain evict it instead of blocking the drain", () => {
                for (const p of pipelines) {
                    const budget = lakehouseDisruptionBudgetBody(spec, p);
                    const deployment = lakehouseDeploymentBody(spec, p);
                    expect(budget.spec.maxUnavailable).to.equal(deployment.spec.replicas);
                    expect(budget.spec.selector).to.deep.equal(deployment.spec.selector);
                    expect(budget.metadata.namespace).to.equal(deployment.metadata.namespace);
                }
            });

            it("create the writers' dead letter topics with the pipeline's replication", () => {
                for (const p of pipelines) {
                    const topic = planTopics(spec).find((t) => t.name === `dlq-lakehouse-${p.name}`);
                    expect(topic).to.deep.include({
                        role: "lakehouse-dlq",
                        pipeline: p.name,
                        partitions: 1,
                        replicationFactor: p.topics.replicationFactor,
                    });
                }
            });
        });
    }

    it("mounts each writer's own KafkaAccess binding Secret only where Kafka needs TLS or authentication (prod)", () => {
        for (const p of lakehousePipelines(specs.dev)) expect(lakehouseKafkaAccessBody(specs.dev, p)).to.equal(undefined);
        const sales = lakehousePipelines(specs.prod)[0];
        const access = lakehouseKafkaAccessBody(specs.prod, sales)!;
        expect(access.spec).to.deep.equal({
            kafka: { name: "cdc-kafka", namespace: "kafka", listener: "tls" },
            user: { kind: "KafkaUser", apiGroup: "kafka.strimzi.io", name: "cdc-lakehouse-sales", namespace: "kafka" },
            secretName: "cdc-lakehouse-sales-kafka-access",
        });
        const pod = lakehouseDeploymentBody(specs.prod, sales).spec.template.spec;
        expect(pod.volumes.find((v) => v.name === "kafka")).to.deep.equal({
            name: "kafka",
            secret: {
                secretName: "cdc-lakehouse-sales-kafka-access",
                items: [
                    { key: "ssl.truststore.crt", path: "ssl.truststore.crt" },
                    { key: "password", path: "password" },
                ],
                defaultMode: 0o440,
            },
        });
    });

    it("authenticates a writer with its own client certificate under mutual TLS", () => {
        const config = raw("prod");
        config.kafka.authentication = "tls";
        const spec = specOf(config);
        const sales = lakehousePipelines(spec)[0];
        expect(writerConfigFile(spec, sales).kafka).to.deep.equal({
            bootstrap_servers: "cdc-kafka-kafka-bootstrap.kafka.svc:9093",
            security_protocol: "SSL",
            tls: {
                ca_file: "/var/run/secrets/cdc/kafka/ssl.truststore.crt",
                cert_file: "/var/run/secrets/cdc/kafka/ssl.keystore.crt",
                key_file: "/var/run/secrets/cdc/kafka/ssl.keystore.key",
            },
        });
        const pod = lakehouseDeploymentBody(spec, sales).spec.template.spec;
        expect(pod.volumes.find((v) => v.name === "kafka")?.secret?.items.map((i) => i.key)).to.deep.equal([
            "ssl.truststore.crt",
            "ssl.keystore.crt",
            "ssl.keystore.key",
        ]);
        expect(lakehouseKafkaUserBody(spec, sales)!.spec.authentication).to.deep.equal({ type: "tls" });
        expect(validateManifest(lakehouseKafkaUserBody(spec, sales) as any)).to.deep.equal([]);
        expect(validateWriterConfig(writerConfigFile(spec, sales))).to.equal(true);
    });

    describe("credentials from Vault", () => {
        it("syncs the object-storage keys (written by the bucket's owner) and the catalog role's password to the lakehouse consumer only", () => {
            const syncs = (spec: StackSpec) =>
                planSecretSyncs(spec)
                    .filter((s) => s.consumer === "lakehouse")
                    .map((s) => [s.secretName, s.path]);
            expect(syncs(specs.dev)).to.deep.equal([
                ["cdc-lakehouse-object-storage", "lakehouse/object-storage"],
                ["cdc-lakehouse-iceberg-catalog", "db/cdc-lakehouse/iceberg-catalog"],
            ]);
            expect(syncs(specs.prod)).to.deep.equal([["cdc-lakehouse-object-storage", "lakehouse/object-storage"]]);
            const policy = planVaultPolicies(specs.dev).find((p) => p.consumer === "lakehouse")!;
            expect(policy.rules.map((r) => [r.path, r.capabilities])).to.deep.equal([
                ["secret/data/db/cdc-lakehouse/iceberg-catalog", ["read"]],
                ["secret/data/lakehouse/object-storage", ["read"]],
            ]);
            for (const other of planVaultPolicies(specs.dev).filter((p) => p.consumer !== "lakehouse")) {
                expect(other.rules.map((r) => r.path).join()).to.not.include("lakehouse");
            }
        });

        it("writes the catalog role's generated password to Vault like every database credential; never the object-storage keys", () => {
            const secret = planVaultSecrets(specs.dev).find((s) => s.purpose === "iceberg-catalog");
            expect(secret).to.deep.equal({
                path: "db/cdc-lakehouse/iceberg-catalog",
                purpose: "iceberg-catalog",
                fields: { host: "warehouse-dev.postgres.svc", port: "5432", username: "iceberg_catalog" },
                password: { kind: "postgres-role", role: "iceberg_catalog" },
            });
            expect(planVaultSecrets(specs.dev).map((s) => s.path)).to.not.include("lakehouse/object-storage");
        });
    });

    describe("the Iceberg catalog on PostgreSQL", () => {
        it("gets its own database and a login that may create tables in its public schema only", () => {
            const [server] = planPostgresTargets(specs.dev);
            expect(server.databases).to.deep.equal(["iceberg_catalog", "warehouse"]);
            expect(server.roles.find((r) => r.name === "iceberg_catalog")).to.deep.equal({
                name: "iceberg_catalog",
                purpose: "catalog",
                login: true,
                superuser: false,
                createDatabase: false,
                createRole: false,
                replication: false,
                bypassRowLevelSecurity: false,
                inherit: true,
                connectionLimit: 60,
                pipelines: ["shop", "inventory"],
            });
            expect(server.grants.filter((g) => g.role === "iceberg_catalog")).to.deep.equal([
                { role: "iceberg_catalog", database: "iceberg_catalog", objectType: "database", objects: [], privileges: ["CONNECT"] },
                {
                    role: "iceberg_catalog",
                    database: "iceberg_catalog",
                    schema: "public",
                    objectType: "schema",
                    objects: [],
                    privileges: ["USAGE", "CREATE"],
                },
            ]);
        });

        it("prepares a catalog server no pipeline writes to with the same admin login, at its adminHosts address", () => {
            const config = raw("dev");
            config.lakehouse.catalog = { host: "catalog.postgres.svc", port: 5433 };
            config.postgres.adminHosts["catalog.postgres.svc"] = "catalog.example.com";
            const plans = planPostgresTargets(specOf(config));
            expect(plans.map((p) => p.key)).to.deep.equal(["warehouse-dev.postgres.svc", "catalog.postgres.svc-5433"]);
            expect(plans[1]).to.deep.include({
                host: "catalog.postgres.svc",
                port: 5433,
                admin: { host: "catalog.example.com", port: 5433 },
                pipelines: [],
                databases: ["iceberg_catalog"],
            });
            expect(plans[0].roles.map((r) => r.name)).to.not.include("iceberg_catalog");
        });

        it("leaves the catalog database to its DBA where the stack creates no databases (prod)", () => {
            const config = raw("prod");
            config.pipelines[0].destinations[0].format = "iceberg";
            config.lakehouse.catalog = { host: "warehouse.postgres.svc" };
            const [server] = planPostgresTargets(specOf(config));
            expect(server.databases).to.deep.equal([]);
            expect(server.roles.map((r) => r.name)).to.include("iceberg_catalog");
        });
    });
});

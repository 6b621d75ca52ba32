import { expect } from "chai";
import { parseStackSpec } from "../plan/stack-spec";
import { kafkaConnectBody } from "../plan/connect-cluster";
import { connectJvmOptions, jvmArguments } from "../plan/connect-jvm";
import { memoryBytes } from "../model/quantity";
import { validateManifest } from "./helpers/k8s-schemas";
import { problemsOf, Raw, shippedRaw } from "./helpers/config-problems";

const withConnectMemory = (stack: "dev" | "prod", memory: string): Raw => {
    const raw = shippedRaw(stack);
    raw.connect.resources = { requests: { cpu: "1", memory }, limits: { memory } };
    return raw;
};

describe("Connect worker JVM options", () => {
    it("reads Kubernetes memory quantities as bytes, binary and decimal", () => {
        expect(memoryBytes("1Gi")).to.equal(1_073_741_824);
        expect(memoryBytes("512Mi")).to.equal(536_870_912);
        expect(memoryBytes("1.5Gi")).to.equal(1_610_612_736);
        expect(memoryBytes("2G")).to.equal(2_000_000_000);
        expect(memoryBytes("129e6")).to.equal(129_000_000);
        expect(memoryBytes("1048576")).to.equal(1_048_576);
        for (const bad of ["2GB", "1gi", "500m", "", "Gi", "-1Gi"]) expect(memoryBytes(bad), bad).to.equal(undefined);
    });

    it("gives the heap Strimzi's share of the limit, initial equal to maximum, in the units the CRD accepts", () => {
        const heap = (stack: "dev" | "prod") => {
            const o = connectJvmOptions(parseStackSpec(shippedRaw(stack)).spec.connect);
            expect(o["-Xms"]).to.equal(o["-Xmx"]);
            return o["-Xmx"];
        };
        expect(heap("dev")).to.equal("768m"); // limit 1Gi
        expect(heap("prod")).to.equal("3072m"); // limit 4Gi
        expect(connectJvmOptions(parseStackSpec(withConnectMemory("dev", "2G")).spec.connect)["-Xmx"]).to.equal("1430m");
    });

    it("keeps Kafka's G1 options but raises the pause target, since setting -XX replaces them all", () => {
        const xx = connectJvmOptions(parseStackSpec(shippedRaw("prod")).spec.connect)["-XX"];
        expect(xx).to.deep.equal({
            UseG1GC: "true",
            MaxGCPauseMillis: "200",
            InitiatingHeapOccupancyPercent: "35",
            ExplicitGCInvokesConcurrent: "true",
        });
    });

    it("renders them into both stacks' KafkaConnect, valid against Strimzi's CRD", () => {
        for (const stack of ["dev", "prod"] as const) {
            const spec = parseStackSpec(shippedRaw(stack)).spec;
            const body = kafkaConnectBody(spec);
            expect(body.spec.jvmOptions, stack).to.deep.equal(connectJvmOptions(spec.connect));
            expect(validateManifest(body as any), stack).to.deep.equal([]);
        }
    });

    it("turns them into the java options Strimzi's image runs", () => {
        expect(
            jvmArguments({
                "-Xms": "768m",
                "-Xmx": "768m",
                "-XX": { UseG1GC: "true", UseStringDeduplication: "false", MaxGCPauseMillis: "200" },
                javaSystemProperties: [{ name: "java.awt.headless", value: "true" }],
            }),
        ).to.deep.equal([
            "-Xms768m",
            "-Xmx768m",
            "-XX:+UseG1GC",
            "-XX:-UseStringDeduplication",
            "-XX:MaxGCPauseMillis=200",
            "-Djava.awt.headless=true",
        ]);
    });

    it("refuses a memory limit it cannot size a heap from, naming the path", () => {
        expect(problemsOf(withConnectMemory("dev", "2GB"))).to.deep.equal([
            "connect.resources.requests.memory: must be a Kubernetes memory quantity such as 2Gi, 512Mi or 2G",
            "connect.resources.limits.memory: must be a Kubernetes memory quantity such as 2Gi, 512Mi or 2G",
        ]);
    });
});

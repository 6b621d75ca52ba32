/**
 * The shared command-line parser (model/args.ts) and the CLIs built on it: one wording for every mistake, and no
 * flag silently taken as another flag's value or a missing number read as 0.
 */
import * as fs from "fs";
import { expect } from "chai";
import { parse as parseYaml } from "yaml";
import { parseFlags, UsageError } from "../model/args";
import { parseArgs } from "../reconciler/config";
import { parseDemoArgs } from "../sandbox/demo";

const FLAGS = {
    name: { type: "string", short: "n" },
    tag: { type: "string", multiple: true },
    count: { type: "number", integer: true, min: 0 },
    ratio: { type: "number" },
    quiet: { type: "boolean", short: "q" },
} as const;

const problem = (argv: string[]): string => {
    try {
        parseFlags(argv, FLAGS, "tool [--name X]");
    } catch (e) {
        expect(e).to.be.instanceOf(UsageError);
        return (e as Error).message;
    }
    throw new Error(`accepted ${JSON.stringify(argv)}`);
};

describe("command-line flags (model/args.ts)", () => {
    it("reads strings, repeated strings, numbers and booleans, in both --flag value and --flag=value forms", () => {
        expect(parseFlags(["--name", "a", "--tag=x", "--tag", "y", "--count=3", "--ratio=-0.5e1", "-q"], FLAGS, "tool")).to.deep.equal({
            name: "a",
            tag: ["x", "y"],
            count: 3,
            ratio: -5,
            quiet: true,
        });
        expect(parseFlags([], FLAGS, "tool")).to.deep.equal({ tag: [], quiet: false });
        expect(parseFlags(["-qn", "b", "--name=--literal"], FLAGS, "tool")).to.deep.include({ name: "--literal", quiet: true });
    });

    it("names the flag and ends with the usage for every mistake", () => {
        expect(problem(["--nmae", "x"])).to.equal("unknown option --nmae; usage: tool [--name X]");
        expect(problem(["-z"])).to.equal("unknown option -z; usage: tool [--name X]");
        expect(problem(["extra"])).to.equal('unexpected argument "extra"; usage: tool [--name X]');
        expect(problem(["--name"])).to.match(/^--name needs a value/);
        expect(problem(["--name", "--quiet"])).to.match(/^--name needs a value \(write --name=<value> for one starting with "-"\)/);
        expect(problem(["--quiet=yes"])).to.match(/^--quiet takes no value;/);
        expect(problem(["--count", "two"])).to.match(/^--count needs a whole number of at least 0, got "two";/);
        expect(problem(["--count=-1"])).to.match(/^--count needs a whole number of at least 0, got "-1";/);
        expect(problem(["--count=1.5"])).to.match(/needs a whole number/);
        expect(problem(["--ratio=Infinity"])).to.match(/^--ratio needs a number, got "Infinity"/);
    });

    it("reads an empty or blank number as a mistake, not as 0", () => {
        expect(problem(["--count="])).to.match(/^--count needs a whole number/);
        expect(problem(["--count", " "])).to.match(/^--count needs a whole number/);
        expect(problem(["--count", "0x10"])).to.match(/^--count needs a whole number/);
    });

    it("does not take names of Object.prototype for flags", () => {
        expect(problem(["--constructor"])).to.match(/^unknown option --constructor;/);
        expect(problem(["--toString", "x"])).to.match(/^unknown option --toString;/);
        expect(problem(["--__proto__"])).to.match(/^unknown option --__proto__;/);
    });
});

describe("the CLIs' flags", () => {
    it("reconciler: --lag-window needs a number of at least 0, and an empty one is not 0", () => {
        expect(parseArgs(["--lag-window", "0"]).lagWindowSeconds).to.equal(0);
        expect(() => parseArgs(["--lag-window="])).to.throw(UsageError, /^--lag-window needs a number of at least 0, got ""/);
        expect(() => parseArgs(["--lag-window", "-5"])).to.throw(UsageError, /^--lag-window needs a value/);
        expect(() => parseArgs(["--lag-window=-5"])).to.throw(UsageError, /at least 0, got "-5"/);
        expect(parseArgs(["-h"]).help).to.equal(true);
    });

    it("demo: defaults, whole numbers only, and the usage on a mistake", () => {
        // The default wire format is the shipped dev stack's, read from Pulumi.dev.yaml.
        const devSerialization = (parseYaml(fs.readFileSync("Pulumi.dev.yaml", "utf8")) as { config: Record<string, unknown> }).config[
            "cdc-pipeline:serialization"
        ];
        expect(parseDemoArgs([])).to.deep.equal({
            changes: 3000,
            rate: 100,
            seed: 4,
            keep: false,
            serialization: devSerialization ?? "json",
        });
        expect(parseDemoArgs(["--changes", "10", "--rate=0", "--seed", "7", "--keep", "--serialization", "json"])).to.deep.equal({
            changes: 10,
            rate: 0,
            seed: 7,
            keep: true,
            serialization: "json",
        });
        expect(() => parseDemoArgs(["--serialization", "protobuf"])).to.throw(
            UsageError,
            /^--serialization is one of json, avro, got "protobuf"/,
        );
        expect(() => parseDemoArgs(["--changes", ""])).to.throw(UsageError, /^--changes needs a whole number of at least 0, got ""/);
        expect(() => parseDemoArgs(["--rate", "1.5"])).to.throw(UsageError, /^--rate needs a whole number/);
        expect(() => parseDemoArgs(["--kep"])).to.throw(
            UsageError,
            "unknown option --kep; usage: npm run demo -- [--changes N] [--rate N] [--seed N] [--keep] [--serialization json|avro]",
        );
    });
});

/**
 * Fuzzing the command-line parser every CLI shares (model/args.ts) and the demo's flags: any argv gives options of
 * the declared types, or a UsageError; never another exception, and never a flag's value taken from Object.prototype.
 */
import { expect } from "chai";
import fc from "fast-check";
import { FlagSpec, parseFlags, UsageError } from "../../model/args";
import { parseDemoArgs } from "../../sandbox/demo";
import { edgeString, fuzz, PROTOTYPE_KEYS } from "./mutations";

/** Flag names a CLI might declare; `__proto__` cannot be a property of the returned object, so no CLI can declare it. */
const NAMES = ["changes", "rate", "seed", "keep", "table", "lag-window", "v", ...PROTOTYPE_KEYS.filter((k) => k !== "__proto__")];

const flagSpec: fc.Arbitrary<FlagSpec> = fc.oneof(
    fc.record(
        { type: fc.constant("boolean" as const), short: fc.option(fc.constantFrom("v", "h", "k"), { nil: undefined }) },
        { requiredKeys: ["type"] },
    ),
    fc.record({ type: fc.constant("string" as const), multiple: fc.boolean() }),
    fc.record(
        { type: fc.constant("number" as const), integer: fc.boolean(), min: fc.option(fc.constantFrom(0, 1, -5), { nil: undefined }) },
        { requiredKeys: ["type"] },
    ),
);

const argvFor = (names: readonly string[]) =>
    fc.array(
        fc.oneof(
            fc.constantFrom(...names).map((n) => `--${n}`),
            fc.tuple(fc.constantFrom(...names), edgeString()).map(([n, v]) => `--${n}=${v}`),
            fc.constantFrom("-v", "-h", "-vh", "-", "--", "---", "--=x", "-5", "1e3", "0x10", " ", ""),
            edgeString(),
        ),
        { maxLength: 8 },
    );

/** The values parseFlags promises for each declared flag. */
function checkTyped(values: Record<string, unknown>, spec: Record<string, FlagSpec>): void {
    expect(
        Object.keys(values).every((k) => Object.hasOwn(spec, k)),
        JSON.stringify(values),
    ).to.equal(true);
    for (const [name, flag] of Object.entries(spec)) {
        const value = Object.hasOwn(values, name) ? values[name] : undefined;
        if (flag.type === "boolean") expect(value, name).to.be.a("boolean");
        else if (flag.type === "string" && flag.multiple)
            expect(value, name)
                .to.be.an("array")
                .that.satisfies((v: unknown[]) => v.every((x) => typeof x === "string"));
        else if (flag.type === "string") expect(value === undefined || typeof value === "string", name).to.equal(true);
        else if (value !== undefined) {
            expect(Number.isFinite(value), name).to.equal(true);
            if (flag.integer) expect(Number.isSafeInteger(value), name).to.equal(true);
            if (flag.min !== undefined) expect(value as number).to.be.at.least(flag.min);
        }
    }
}

function parsesOrUsageError<T>(parse: () => T, check: (result: T) => void): void {
    let result: T;
    try {
        result = parse();
    } catch (e) {
        expect(e, `${(e as Error)?.name}: ${(e as Error)?.message}`).to.be.instanceOf(UsageError);
        expect((e as Error).message).to.match(/; usage: \S/);
        return;
    }
    check(result);
}

describe("fuzzing the command-line parser", function () {
    this.timeout(60000);

    it("gives values of the declared types or a UsageError, for any flags and any argv", () => {
        const spec = fc.dictionary(fc.constantFrom(...NAMES), flagSpec, { minKeys: 1, maxKeys: 5 });
        fuzz(
            fc.property(
                spec.chain((s) => fc.tuple(fc.constant(s), argvFor([...Object.keys(s), "unknown", ...PROTOTYPE_KEYS]))),
                ([s, argv]) =>
                    parsesOrUsageError(
                        () => parseFlags(argv, s, "tool [flags]"),
                        (values) => checkTyped(values, s),
                    ),
            ),
            1500,
        );
    });

    it("demo: any argv gives whole numbers of at least 0 and a boolean, or a UsageError", () => {
        fuzz(
            fc.property(argvFor(["changes", "rate", "seed", "keep"]), (argv) =>
                parsesOrUsageError(
                    () => parseDemoArgs(argv),
                    (o) => {
                        for (const n of [o.changes, o.rate, o.seed])
                            expect(Number.isSafeInteger(n) && n >= 0, JSON.stringify(o)).to.equal(true);
                        expect(o.keep).to.be.a("boolean");
                    },
                ),
            ),
            1000,
        );
    });
});

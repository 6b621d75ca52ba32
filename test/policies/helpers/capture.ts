/**
 * Resource options as the engine would hand them to a policy. `MockResourceArgs` carries type, name and
 * inputs only, but policies also read `args.opts` (protect, parent, dependencies). This wraps the mock
 * monitor's `registerResource` once per process and records, per RecordingMocks instance, what each
 * RegisterResourceRequest asked for. It must be installed before any program runs: spec files import
 * this module, and mocha loads every spec file before running a test.
 */
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";

export interface CapturedRegistration {
    urn: string;
    type: string;
    name: string;
    custom: boolean;
    protect: boolean;
    retainOnDelete: boolean;
    deleteBeforeReplace?: boolean;
    ignoreChanges: string[];
    aliases: string[];
    additionalSecretOutputs: string[];
    parent?: string;
    dependencies: string[];
    propertyDependencies: Record<string, string[]>;
}

const byMocks = new WeakMap<object, Map<string, CapturedRegistration>>();

export const registrationKey = (type: string, name: string): string => `${type}::${name}`;

type RegisterRequest = {
    getType(): string;
    getName(): string;
    getParent(): string;
    getCustom(): boolean;
    getProtect(): boolean | undefined;
    getRetainondelete(): boolean | undefined;
    getDeletebeforereplace(): boolean;
    getDeletebeforereplacedefined(): boolean;
    getIgnorechangesList(): string[];
    getAliasurnsList(): string[];
    getAdditionalsecretoutputsList(): string[];
    getDependenciesList(): string[];
    getPropertydependenciesMap(): { forEach(cb: (value: { getUrnsList(): string[] }, key: string) => void): void };
};

function install(): void {
    const proto = MockMonitor.prototype as unknown as {
        registerResource(this: MockMonitor, req: RegisterRequest, callback: unknown): Promise<void>;
        __cdcPolicyCapture?: boolean;
    };
    if (proto.__cdcPolicyCapture) return;
    proto.__cdcPolicyCapture = true;
    const original = proto.registerResource;
    proto.registerResource = function (req, callback) {
        // Never let the recording break the program run other specs share this process with.
        try {
            record(this as unknown as { mocks: object; newUrn(parent: string, type: string, name: string): string }, req);
        } catch (e) {
            failures.push(e instanceof Error ? e.message : String(e));
        }
        return original.call(this, req, callback);
    };
}

const failures: string[] = [];
const ambiguous = new WeakMap<object, Set<string>>();

function record(self: { mocks: object; newUrn(parent: string, type: string, name: string): string }, req: RegisterRequest): void {
    let map = byMocks.get(self.mocks);
    if (!map) byMocks.set(self.mocks, (map = new Map()));
    const key = registrationKey(req.getType(), req.getName());
    if (map.has(key)) {
        // Keyed by type and name (what RecordingMocks records); a duplicate cannot be joined reliably.
        const set = ambiguous.get(self.mocks) ?? new Set<string>();
        set.add(key);
        ambiguous.set(self.mocks, set);
    }
    const propertyDependencies: Record<string, string[]> = {};
    req.getPropertydependenciesMap().forEach((value, prop) => (propertyDependencies[prop] = value.getUrnsList()));
    map.set(key, {
        urn: self.newUrn(req.getParent(), req.getType(), req.getName()),
        type: req.getType(),
        name: req.getName(),
        custom: req.getCustom(),
        protect: req.getProtect() === true,
        retainOnDelete: req.getRetainondelete() === true,
        ...(req.getDeletebeforereplacedefined() ? { deleteBeforeReplace: req.getDeletebeforereplace() } : {}),
        ignoreChanges: req.getIgnorechangesList(),
        aliases: req.getAliasurnsList(),
        additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
        ...(req.getParent() ? { parent: req.getParent() } : {}),
        dependencies: req.getDependenciesList(),
        propertyDependencies,
    });
}

install();

/** What the monitor recorded for the program run that used these mocks. */
export function capturedFor(mocks: object): Map<string, CapturedRegistration> {
    if (failures.length > 0) throw new Error(`recording resource options failed: ${failures.join("; ")}`);
    const duplicates = ambiguous.get(mocks);
    if (duplicates && duplicates.size > 0)
        throw new Error(`several resources share type and name (${[...duplicates].join(", ")}); their options cannot be told apart`);
    const map = byMocks.get(mocks);
    if (!map || map.size === 0) {
        throw new Error(
            "no resource options were captured for this run: was the program run before test/policies/helpers/capture.ts was loaded?",
        );
    }
    return map;
}

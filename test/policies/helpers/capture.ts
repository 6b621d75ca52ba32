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
        const self = this as unknown as { mocks: object; newUrn(parent: string, type: string, name: string): string };
        let map = byMocks.get(self.mocks);
        if (!map) byMocks.set(self.mocks, (map = new Map()));
        const key = registrationKey(req.getType(), req.getName());
        if (map.has(key)) throw new Error(`two registrations of ${key}: the policy test builder keys options by type and name`);
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
        return original.call(this, req, callback);
    };
}

install();

/** What the monitor recorded for the program run that used these mocks. */
export function capturedFor(mocks: object): Map<string, CapturedRegistration> {
    const map = byMocks.get(mocks);
    if (!map || map.size === 0) {
        throw new Error("no resource options were captured for this run: was the program run before test/policies/helpers/capture.ts was loaded?");
    }
    return map;
}

import * as pulumi from "@pulumi/pulumi";

export interface Registration {
    type: string;
    name: string;
    inputs: Record<string, any>;
}

/** Every password a RandomPassword "generates" under these mocks starts with this, so tests can hunt for leaks. */
export const MOCK_GENERATED_PASSWORD = "Mock-Generated-Pa55word";
/** What a password read from Vault holds under these mocks. */
export const MOCK_VAULT_PASSWORD = "Mock-Vault-Pa55word";

/** The invokes the program makes on purpose, with fixed answers. */
const MOCKED_INVOKES: Record<string, (inputs: Record<string, any>) => Record<string, any>> = {
    // SQL Server databases are looked up, never created; the id is SQL Server's DB_ID.
    "mssql:index/getDatabase:getDatabase": (inputs) => ({ id: String(5 + [...String(inputs.name)].length), name: inputs.name }),
    // The schema registry login `pulumi up` sets compatibility rules with, read from Vault (components/schema-registry-rules.ts).
    "vault:kv/getSecretV2:getSecretV2": (inputs) => ({
        ...inputs,
        data: { username: `login-at-${inputs.name}`, password: `${MOCK_VAULT_PASSWORD}-${inputs.name}` },
    }),
};

/**
 * Records every resource the program registers. Invokes other than MOCKED_INVOKES fail loudly instead
 * of returning something plausible.
 */
export class RecordingMocks implements pulumi.runtime.Mocks {
    readonly registrations: Registration[] = [];

    newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, any> } {
        this.registrations.push({ type: args.type, name: args.name, inputs: args.inputs });
        const state = { ...args.inputs };
        if (args.type.startsWith("kubernetes:") && state.metadata && state.metadata.name === undefined) {
            state.metadata = { ...state.metadata, name: `${args.name}-generated` };
        }
        if (args.type === "random:index/randomPassword:RandomPassword") state.result = `${MOCK_GENERATED_PASSWORD}-${args.name}`;
        return { id: `${args.name}-id`, state };
    }

    call(args: pulumi.runtime.MockCallArgs): Record<string, any> {
        const mocked = MOCKED_INVOKES[args.token];
        if (mocked) return mocked(args.inputs);
        throw new Error(`unexpected invoke ${args.token}; mock it deliberately if the program needs it`);
    }

    ofType(type: string): Registration[] {
        return this.registrations.filter((r) => r.type === type);
    }

    one(type: string, name: string): Registration {
        const found = this.registrations.filter((r) => r.type === type && r.name === name);
        if (found.length !== 1) {
            const known = this.ofType(type).map((r) => r.name);
            throw new Error(`expected one ${type} named ${name}, found ${found.length} (known: ${known.join(", ")})`);
        }
        return found[0];
    }

    /** Resolves once no new registration has arrived for `quietMs`. */
    async settled(quietMs = 200, timeoutMs = 20000): Promise<void> {
        const start = Date.now();
        let count = -1;
        while (count !== this.registrations.length) {
            if (Date.now() - start > timeoutMs) throw new Error("registrations did not settle");
            count = this.registrations.length;
            await new Promise((r) => setTimeout(r, quietMs));
        }
    }
}

export function promiseOf<T>(output: pulumi.Output<T>, timeoutMs = 10000): Promise<T> {
    return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`output did not resolve within ${timeoutMs} ms`)), timeoutMs);
        output.apply((value) => {
            clearTimeout(timer);
            resolve(value);
        });
    });
}

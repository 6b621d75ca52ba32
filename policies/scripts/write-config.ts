/**
 * Writes policies/<env>.json for every environment profile, or with --check fails when one is stale.
 *   npm run policies:config            # regenerate after changing config/profiles.ts
 *   npm run policies:config -- --check # in CI
 */
import * as fs from "fs";
import * as path from "path";
import { ENVIRONMENTS } from "../../model/environment";
import { PROFILES } from "../../config/profiles";
import { renderPackConfig } from "../environments";
import { parseFlags, UsageError } from "../../model/args";

let check = false;
try {
    check = parseFlags(process.argv.slice(2), { check: { type: "boolean" } }, "npm run policies:config [-- --check]").check;
} catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(e.message);
    process.exit(2);
}

let stale = 0;
for (const environment of ENVIRONMENTS) {
    const file = path.join(__dirname, "..", `${environment}.json`);
    const wanted = renderPackConfig(environment, PROFILES[environment]);
    const current = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
    if (current === wanted) continue;
    if (check) {
        console.error(`${path.relative(process.cwd(), file)} is out of date with config/profiles.ts; run npm run policies:config`);
        stale++;
    } else {
        fs.writeFileSync(file, wanted);
        console.log(`wrote ${path.relative(process.cwd(), file)}`);
    }
}
process.exit(stale > 0 ? 1 : 0);

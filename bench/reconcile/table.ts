/** Prints the Markdown results table from a results JSON-lines file: `ts-node bench/reconcile/table.ts <file>`. */
import { readFileSync } from "fs";
import { markdown } from "./run";

process.stdout.write(
    markdown(
        readFileSync(process.argv[2], "utf8")
            .split("\n")
            .filter(Boolean)
            .map((l) => JSON.parse(l)),
    ),
);

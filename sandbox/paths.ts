import * as path from "path";

/** Repository root: every sandbox path is derived from it so the sandbox works from any clone. */
export const REPO_ROOT = path.resolve(__dirname, "..");

/** Downloads that survive between runs (Maven-resolved jars); safe to delete, rebuilt on demand. */
export const CACHE_DIR = path.join(REPO_ROOT, ".cache");

/** Per-run state: data directories, generated configs, secrets and logs of the running sandbox. */
export const RUN_DIR = path.join(REPO_ROOT, ".sandbox");

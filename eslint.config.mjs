// One lint style for the whole TypeScript tree; formatting is Prettier's job, so no stylistic rules here.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
    {
        ignores: ["node_modules/", "policies/node_modules/", ".cache/", ".sandbox/", "dist/", "bench/out/", "lakehouse/", "**/*.js", "**/*.mjs"],
    },
    js.configs.recommended,
    ...tseslint.configs.recommended,
    {
        rules: {
            "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }],
            "@typescript-eslint/no-require-imports": "off",
            "@typescript-eslint/no-namespace": "off",
            "no-constant-condition": ["error", { checkLoops: false }],
            eqeqeq: ["error", "always", { null: "ignore" }],
            "prefer-const": "error",
        },
    },
    {
        // Chai's property assertions (`expect(x).to.be.true`) are expressions by design; tests read untyped
        // mocked resource inputs, where `any` is the honest type.
        files: ["test/**/*.ts"],
        rules: {
            "@typescript-eslint/no-unused-expressions": "off",
            "@typescript-eslint/no-explicit-any": "off",
        },
    },
);

// ESLint for the hand-written TypeScript (flat config, typescript-eslint).
// Formatting is prettier's (.prettierrc.json); `npm run lint` runs both.
import eslint from "@eslint/js";
import { defineConfig, globalIgnores } from "eslint/config";
import tseslint from "typescript-eslint";

export default defineConfig(
  // Generated (drizzle-kit pull, supabase gen types) and not ours.
  globalIgnores(["node_modules/", ".data/", "dist/", "src/schema/generated/", "src/types/database.types.ts"]),
  eslint.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // `_name` marks a parameter kept for its position.
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" },
      ],
    },
  },
  {
    // Tests: expect.any() and friends are typed any; a suite's helpers are destructured; a unit may do its work without awaiting.
    files: ["**/*.test.ts", "tests/**/*.ts"],
    rules: {
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/unbound-method": "off",
      "@typescript-eslint/require-await": "off",
    },
  },
  {
    // Compile-time type tests: values exist to have their types checked.
    files: ["tests/types/*.typecheck.ts"],
    rules: { "@typescript-eslint/no-unused-vars": "off" },
  },
  // This file itself is JavaScript, outside tsconfig.json.
  { files: ["**/*.js"], extends: [tseslint.configs.disableTypeChecked] },
);

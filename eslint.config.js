// ESLint for the hand-written TypeScript (flat config, typescript-eslint).
// Formatting is prettier's (.prettierrc.json); `npm run lint` runs both.
import eslint from "@eslint/js";
import { defineConfig, globalIgnores } from "eslint/config";
import tseslint from "typescript-eslint";

/** An import path the files of a layer must not use: [regex source, message]. */
const SCRIPTS = ["(^|/)scripts/", "scripts/ holds command entry points only: move shared code to tooling/."];
const TOOLING = ["(^|/)tooling/", "src/ is the package: it must not depend on the development tooling."];
/** The packages of tooling/ that `name` must not import (they build on it). */
function above(name, packages) {
  return [
    `^\\.\\./(${packages.join("|")})/`,
    `tooling/${name} must not import ${packages.join(", ")}: they build on it.`,
  ];
}
/** no-restricted-imports (static imports) and no-restricted-syntax (import()) for `files`. */
function layer(files, forbidden, ignores = []) {
  return {
    files,
    ignores,
    rules: {
      "no-restricted-imports": ["error", { patterns: forbidden.map(([regex, message]) => ({ regex, message })) }],
      "no-restricted-syntax": [
        "error",
        ...forbidden.map(([regex, message]) => ({
          // esquery regexes cannot hold a slash: \x2F stands for it.
          selector: `ImportExpression[source.value=/${regex.replaceAll("/", "\\x2F")}/]`,
          message,
        })),
      ],
    },
  };
}

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
  // The layout holds (tooling/README.md): scripts/ holds command entry points only, so nothing under src/, tests/
  // or tooling/ imports from it, and src/ (the package) not from tooling/ either; tooling's packages depend one
  // way: server <- build <- testing, checks.
  layer(["src/**/*.ts"], [SCRIPTS, TOOLING]),
  layer(["tests/**/*.ts", "tooling/**/*.ts"], [SCRIPTS]),
  layer(["tooling/server/**/*.ts"], [SCRIPTS, above("server", ["build", "testing", "checks", "bench"])]),
  layer(["tooling/build/**/*.ts"], [SCRIPTS, above("build", ["testing", "checks"])], ["**/*.test.ts"]),
  layer(["tooling/testing/**/*.ts"], [SCRIPTS, above("testing", ["checks"])]),
  // This file itself is JavaScript, outside tsconfig.json.
  { files: ["**/*.js"], extends: [tseslint.configs.disableTypeChecked] },
);

// @ts-check
import pulumi from "@pulumi/eslint-plugin";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: [
      "node_modules/**",
      "schemas/**",
      ".tenancy/**",
      "policies/dist/**",
      "policies/dist.*/**",
    ],
  },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { pulumi: pulumi.default ?? pulumi },
    files: ["**/*.ts"],
    rules: {
      "pulumi/no-output-in-template-literal": "error",
      "pulumi/no-output-instance-in-template-literal": "error",
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_" },
      ],
      "@typescript-eslint/restrict-template-expressions": [
        "error",
        { allowNumber: true, allowBoolean: true },
      ],
      "@typescript-eslint/only-throw-error": "error",
      // Fastify plugins are async by contract even when they register synchronously.
      "@typescript-eslint/require-await": "off",
    },
  },
  // Layering (README "Layout"): contract/ imports nothing of ours; catalog/ only contract/;
  // components/ never db/ or control-plane/; db/ nothing above it (contract/ only).
  ...[
    ["contract/**/*.ts", "^\\.\\./"],
    ["catalog/**/*.ts", "(^|/)(components|stacks|control-plane|db|cli|fleet)/"],
    ["components/**/*.ts", "(^|/)(db|control-plane|stacks|cli|fleet)/"],
    ["db/**/*.ts", "(^|/)(catalog|components|stacks|control-plane|cli|fleet)/"],
  ].map(([files, regex]) => ({
    files: [files],
    rules: {
      "no-restricted-imports": [
        "error",
        { patterns: [{ regex, message: "breaks the layering (README, Layout)" }] },
      ],
    },
  })),
  {
    files: ["**/*.js", "**/*.mjs", "**/*.cjs"],
    ...tseslint.configs.disableTypeChecked,
    rules: {
      ...tseslint.configs.disableTypeChecked.rules,
      "pulumi/no-output-in-template-literal": "off",
      "pulumi/no-output-instance-in-template-literal": "off",
    },
  },
);

/**
 * ../shared/spec/admin.spec.json and ../shared/fixtures, as JSON keyed by file
 * name. A module of its own, apart from shared-fixtures.ts, so that the
 * workerd tests' env type (test/support/workerd/env.d.ts) can name it without Node's fs.
 */
export interface SharedFixtures {
  spec: unknown;
  manifests: Record<string, unknown>;
  providers: Record<string, unknown>;
}

/** ../shared/spec/admin.spec.json and ../shared/fixtures, as JSON keyed by file name. */
export interface SharedFixtures {
  spec: unknown;
  manifests: Record<string, unknown>;
  providers: Record<string, unknown>;
}

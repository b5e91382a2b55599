/**
 * Closes the gaps between DataFusion's SQL, which Amp users write, and
 * squirreling's, before squirreling parses it:
 * - schema-qualified tables (`eth_rpc.logs`, `"_/eth_rpc@1.0.0".logs`) become
 *   one quoted identifier squirreling looks up as a table, aliased as the
 *   table's own name so `logs.address` still resolves;
 * - schema-qualified functions (`eth_rpc.eth_call(…)`, `self.fn(…)`) become
 *   generated plain names, mapped back here;
 * - unquoted identifiers are lower-cased, as DataFusion folds them;
 * - `0x…` and `X'…'` hex literals become the engine's binary form, the
 *   lower-case `'0x…'` string binary columns are read as (sql-values.ts).
 * Comments are dropped; string literals and quoted identifiers pass unchanged.
 */
import { SqlInputError } from "./sql-errors";

export interface TableReference {
  /** The schema part as DataFusion resolves it: lower-cased unless quoted. */
  schema: string;
  table: string;
  /** The identifier squirreling sees. */
  engineName: string;
}

export interface FunctionReference {
  schema: string;
  name: string;
  engineName: string;
}

export interface RewrittenSql {
  sql: string;
  tables: TableReference[];
  /** Unqualified names in table position: CTEs, or tables the user forgot to qualify. */
  bareTables: string[];
  functions: FunctionReference[];
}

type Token =
  | { kind: "word"; text: string }
  | { kind: "quoted"; text: string }
  | { kind: "string"; raw: string }
  | { kind: "hex"; text: string }
  | { kind: "number"; raw: string }
  | { kind: "punct"; text: string }
  | { kind: "space" };

const WORD_START = /[A-Za-z_]/;
const WORD_PART = /[A-Za-z0-9_$]/;
const DIGIT = /[0-9]/;

function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    if (/\s/.test(c)) {
      while (i < sql.length && /\s/.test(sql[i]!)) i++;
      tokens.push({ kind: "space" });
    } else if (c === "-" && sql[i + 1] === "-") {
      while (i < sql.length && sql[i] !== "\n") i++;
      tokens.push({ kind: "space" });
    } else if (c === "/" && sql[i + 1] === "*") {
      const end = sql.indexOf("*/", i + 2);
      if (end < 0) throw new SqlInputError("SQL_PARSE_ERROR", "unterminated comment");
      i = end + 2;
      tokens.push({ kind: "space" });
    } else if (c === "'" || ((c === "x" || c === "X") && sql[i + 1] === "'")) {
      const hex = c !== "'";
      const start = hex ? i + 1 : i;
      let j = start + 1;
      for (;;) {
        if (j >= sql.length) throw new SqlInputError("SQL_PARSE_ERROR", "unterminated string literal");
        if (sql[j] === "'") {
          if (sql[j + 1] === "'") j += 2;
          else break;
        } else j++;
      }
      const raw = sql.slice(start, j + 1);
      if (hex) {
        const digits = raw.slice(1, -1);
        if (!/^[0-9a-fA-F]*$/.test(digits) || digits.length % 2 !== 0) {
          throw new SqlInputError("SQL_PARSE_ERROR", `invalid hex literal X${raw}`);
        }
        tokens.push({ kind: "hex", text: digits.toLowerCase() });
      } else tokens.push({ kind: "string", raw });
      i = j + 1;
    } else if (c === '"') {
      let j = i + 1;
      let text = "";
      for (;;) {
        if (j >= sql.length) throw new SqlInputError("SQL_PARSE_ERROR", "unterminated quoted identifier");
        if (sql[j] === '"') {
          if (sql[j + 1] === '"') {
            text += '"';
            j += 2;
          } else break;
        } else text += sql[j++];
      }
      tokens.push({ kind: "quoted", text });
      i = j + 1;
    } else if (c === "0" && (sql[i + 1] === "x" || sql[i + 1] === "X") && /[0-9a-fA-F]/.test(sql[i + 2] ?? "")) {
      let j = i + 2;
      while (j < sql.length && /[0-9a-fA-F]/.test(sql[j]!)) j++;
      const digits = sql.slice(i + 2, j).toLowerCase();
      tokens.push({ kind: "hex", text: digits.length % 2 === 0 ? digits : `0${digits}` });
      i = j;
    } else if (DIGIT.test(c) || (c === "." && DIGIT.test(sql[i + 1] ?? ""))) {
      let j = i;
      while (j < sql.length && /[0-9.eE]/.test(sql[j]!)) {
        if ((sql[j] === "e" || sql[j] === "E") && (sql[j + 1] === "-" || sql[j + 1] === "+")) j++;
        j++;
      }
      tokens.push({ kind: "number", raw: sql.slice(i, j) });
      i = j;
    } else if (WORD_START.test(c)) {
      let j = i;
      while (j < sql.length && WORD_PART.test(sql[j]!)) j++;
      tokens.push({ kind: "word", text: sql.slice(i, j) });
      i = j;
    } else {
      const two = sql.slice(i, i + 2);
      const op = ["<=", ">=", "<>", "!=", "==", "||", "::"].includes(two) ? two : c;
      tokens.push({ kind: "punct", text: op });
      i += op.length;
    }
  }
  return tokens;
}

/** Keywords after which a FROM list ends, and words that cannot be a table's alias. */
const FROM_LIST_END = new Set(["where", "group", "order", "having", "limit", "offset", "union", "except", "intersect", "window", "on", "using", "qualify", "select"]);
const NOT_ALIAS = new Set([
  ...FROM_LIST_END,
  "join", "inner", "left", "right", "full", "cross", "outer", "natural", "positional", "lateral", "as",
]);

function identifierText(token: Token): string | null {
  if (token.kind === "word") return token.text.toLowerCase();
  if (token.kind === "quoted") return token.text;
  return null;
}

function quote(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}

/** The rewrite described above; `SqlInputError` for input no dialect would take. */
export function rewriteSql(sql: string): RewrittenSql {
  const tokens = tokenize(sql).filter((token) => token.kind !== "space");
  const out: string[] = [];
  const tables: TableReference[] = [];
  const functions: FunctionReference[] = [];
  const bareTables: string[] = [];
  // One flag per parenthesis depth: whether the tokens at that depth are a FROM list.
  const inFrom: boolean[] = [false];
  let expectTable = false;

  const tableName = (schema: string, table: string): string => {
    const engineName = `${schema}.${table}`;
    if (!tables.some((t) => t.engineName === engineName)) tables.push({ schema, table, engineName });
    return engineName;
  };

  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    const depth = inFrom.length - 1;
    const ident = identifierText(token);
    if (ident !== null) {
      // A dotted chain: a.b, a.b.c, possibly followed by "(" or ".*".
      const parts = [ident];
      const rendered = [token.kind === "word" ? ident : quote(ident)];
      let j = i;
      for (;;) {
        const dot = tokens[j + 1];
        const part = tokens[j + 2];
        if (dot?.kind !== "punct" || dot.text !== "." || part === undefined) break;
        const partText = identifierText(part);
        if (partText !== null) {
          parts.push(partText);
          rendered.push(part.kind === "word" ? partText : quote(partText));
        } else if (part.kind === "punct" && part.text === "*") {
          rendered.push("*");
        } else break;
        j += 2;
        if (part.kind === "punct") break;
      }
      const next = tokens[j + 1];
      const isCall = next?.kind === "punct" && next.text === "(";
      if (expectTable && !isCall) {
        expectTable = false;
        if (parts.length === 1) {
          bareTables.push(parts[0]!);
          out.push(quote(parts[0]!));
        } else if (parts.length === 2) {
          out.push(quote(tableName(parts[0]!, parts[1]!)));
          const after = tokens[j + 1];
          const afterText = after ? identifierText(after) : null;
          const hasAlias = after !== undefined && afterText !== null && !(after.kind === "word" && NOT_ALIAS.has(afterText));
          const hasAs = after?.kind === "word" && after.text.toLowerCase() === "as";
          if (!hasAlias && !hasAs) out.push(quote(parts[1]!));
        } else {
          throw new SqlInputError(
            "CATALOG_QUALIFIED_TABLE",
            `Catalog-qualified table references are not supported: ${parts.join(".")}`,
          );
        }
        i = j;
        continue;
      }
      if (isCall && parts.length === 2) {
        const engineName = `fn_${parts[0]!.replace(/[^a-z0-9_]/gi, "_")}__${parts[1]}`.toLowerCase();
        if (!functions.some((f) => f.engineName === engineName)) functions.push({ schema: parts[0]!, name: parts[1]!, engineName });
        out.push(engineName);
        i = j;
        continue;
      }
      if (isCall && parts.length > 2) {
        throw new SqlInputError("INVALID_PLAN", `function names have at most one qualifier: ${parts.join(".")}`);
      }
      if (token.kind === "word") {
        const word = token.text.toLowerCase();
        if (word === "from" || word === "join") {
          expectTable = true;
          if (word === "from") inFrom[depth] = true;
        } else if (FROM_LIST_END.has(word)) inFrom[depth] = false;
      }
      out.push(rendered.join("."));
      i = j;
      continue;
    }
    if (token.kind === "punct") {
      if (token.text === "(") inFrom.push(false);
      else if (token.text === ")" && inFrom.length > 1) inFrom.pop();
      expectTable = token.text === "," && inFrom[depth] === true;
      out.push(token.text);
      continue;
    }
    expectTable = false;
    if (token.kind === "hex") out.push(`'0x${token.text}'`);
    else if (token.kind === "string") out.push(token.raw);
    else if (token.kind === "number") out.push(token.raw);
  }
  return { sql: out.join(" "), tables, bareTables, functions };
}

/**
 * A tiny contract written directly in EVM bytecode, so tests need no
 * compiler. Its calldata is one 32-byte word whose first byte selects what
 * it does, then four 32-byte topic words, then any payload:
 * - 0..4: emit one LOG0..LOG4 whose topics are the first n topic words;
 * - 5: emit LOG0, LOG1, LOG2, LOG3 and LOG4, in that order;
 * - 0xfe: emit a LOG1, then REVERT (so the transaction fails);
 * - anything else: do nothing.
 * Every log's data is the whole calldata.
 */

import { bytesToHex } from "viem";

type Op = number | { push2: string } | { label: string };

const OP = {
  STOP: 0x00,
  EQ: 0x14,
  SHR: 0x1c,
  CALLDATALOAD: 0x35,
  CALLDATASIZE: 0x36,
  CALLDATACOPY: 0x37,
  CODECOPY: 0x39,
  DUP1: 0x80,
  PUSH1: 0x60,
  PUSH2: 0x61,
  JUMPI: 0x57,
  JUMPDEST: 0x5b,
  LOG0: 0xa0,
  RETURN: 0xf3,
  REVERT: 0xfd,
} as const;

export const EMIT_ALL = 5;
export const EMIT_THEN_REVERT = 0xfe;

/** LOGn with topics = calldata words 1..n and data = memory[0..calldatasize). */
function emit(topicCount: number): Op[] {
  const ops: Op[] = [];
  for (let topic = topicCount; topic >= 1; topic--) ops.push(OP.PUSH1, topic * 32, OP.CALLDATALOAD);
  ops.push(OP.CALLDATASIZE, OP.PUSH1, 0, OP.LOG0 + topicCount);
  return ops;
}

function branch(selector: number, label: string): Op[] {
  return [OP.DUP1, OP.PUSH1, selector, OP.EQ, { push2: label }, OP.JUMPI];
}

const RUNTIME: Op[] = [
  // selector = calldata[0]
  OP.PUSH1, 0, OP.CALLDATALOAD, OP.PUSH1, 0xf8, OP.SHR,
  // memory[0..calldatasize) = calldata
  OP.CALLDATASIZE, OP.PUSH1, 0, OP.PUSH1, 0, OP.CALLDATACOPY,
  ...[0, 1, 2, 3, 4].flatMap((n) => branch(n, `log${n}`)),
  ...branch(EMIT_ALL, "all"),
  ...branch(EMIT_THEN_REVERT, "revert"),
  OP.STOP,
  ...[0, 1, 2, 3, 4].flatMap((n) => [{ label: `log${n}` }, OP.JUMPDEST, ...emit(n), OP.STOP]),
  { label: "all" }, OP.JUMPDEST, ...[0, 1, 2, 3, 4].flatMap(emit), OP.STOP,
  { label: "revert" }, OP.JUMPDEST, ...emit(1), OP.PUSH1, 0, OP.PUSH1, 0, OP.REVERT,
];

/** Two passes: label offsets first, then bytes with PUSH2 <offset> for every label use. */
function assemble(ops: Op[]): Uint8Array {
  const labels = new Map<string, number>();
  let offset = 0;
  for (const op of ops) {
    if (typeof op === "number") offset += 1;
    else if ("push2" in op) offset += 3;
    else labels.set(op.label, offset);
  }
  const out: number[] = [];
  for (const op of ops) {
    if (typeof op === "number") out.push(op);
    else if ("push2" in op) {
      const target = labels.get(op.push2);
      if (target === undefined) throw new Error(`unknown label ${op.push2}`);
      out.push(OP.PUSH2, target >> 8, target & 0xff);
    }
  }
  return Uint8Array.from(out);
}

const runtime = assemble(RUNTIME);

/** Init code that returns the runtime: CODECOPY(0, initLength, runtimeLength); RETURN(0, runtimeLength). */
function deployCode(code: Uint8Array): Uint8Array {
  const initLength = 15;
  const n = code.length;
  const init = [
    OP.PUSH2, n >> 8, n & 0xff,
    OP.PUSH2, 0, initLength,
    OP.PUSH1, 0,
    OP.CODECOPY,
    OP.PUSH2, n >> 8, n & 0xff,
    OP.PUSH1, 0,
    OP.RETURN,
  ];
  return Uint8Array.from([...init, ...code]);
}

export const LOG_EMITTER_DEPLOY_CODE = bytesToHex(deployCode(runtime));
export const LOG_EMITTER_RUNTIME = bytesToHex(runtime);

/** A 32-byte word from a small integer, for topics that are easy to recognise. */
export function word(value: number | bigint): `0x${string}` {
  return `0x${BigInt(value).toString(16).padStart(64, "0")}`;
}

/** Calldata for the emitter: selector, four topic words, then `payload`. */
export function emitterCalldata(selector: number, topics: readonly `0x${string}`[], payload: `0x${string}` = "0x"): `0x${string}` {
  if (topics.length !== 4) throw new Error("the emitter reads exactly four topic words");
  const head = selector.toString(16).padStart(2, "0").padEnd(64, "0");
  return `0x${head}${topics.map((topic) => topic.slice(2)).join("")}${payload.slice(2)}`;
}

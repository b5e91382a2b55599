/**
 * The Parquet layer: a streaming writer (hyparquet-writer pages, own
 * statistics, footer and ARROW:schema) and a small reader (hyparquet).
 * Imports nothing from the rest of the project.
 */
export type { ArrowFieldSpec, ArrowTimeUnit, ArrowTypeSpec } from "./arrow-types";
export { ARROW_SCHEMA_KEY, ArrowSchemaError, decodeArrowSchema, encodeArrowSchema } from "./arrow-schema";
export { type ColumnType, type ColumnValues, type ParquetColumn, UnsupportedColumnTypeError } from "./columns";
export { ColumnValueError } from "./encode-column";
export {
  type ColumnsByName,
  DEFAULT_CREATED_BY,
  type ParquetCompression,
  type ParquetSink,
  ParquetStreamWriter,
  ParquetWriteError,
  type ParquetWriterOptions,
  type WrittenParquetFile,
} from "./writer";
export { BufferSink, FixedSizePartSink } from "./sinks";
export {
  type ParquetFooter,
  type ParquetRow,
  type ParquetSource,
  type ParquetValue,
  type ReadOptions,
  rangeSource,
  readParquetColumns,
  readParquetFooter,
  readParquetRows,
} from "./reader";
export { type ColumnRange, readRowGroupColumns, rowGroupColumnRange, rowGroupStarts } from "./row-groups";

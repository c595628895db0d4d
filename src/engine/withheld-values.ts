// Error text from a stage that handles patient data before de-identification (a stage upstream of
// medical.deidentify, see privacy.ts): a stage may put row values into its message (a name, a
// birth date, a whole row as JSON). The worker still has the batch the stage failed on, so every
// text value of that batch is taken out of the message before it leaves the worker.
import { DataType, type RecordBatch } from 'apache-arrow';
import { RejectedRows } from '../workflow/errors.ts';

/** Text values shorter than this are left (a sex code, a unit): they identify no one and would blot out the message. */
const MIN_LENGTH = 3;

/** `message` with every text value of `batch` replaced by `[value withheld]`. */
export function withoutBatchValues(message: string, batch: RecordBatch): string {
  const values = new Set<string>();
  for (const [i, field] of batch.schema.fields.entries()) {
    if (!DataType.isUtf8(field.type) && !DataType.isLargeUtf8(field.type) && !DataType.isDictionary(field.type)) continue;
    const column = batch.getChildAt(i)!;
    for (let r = 0; r < batch.numRows; r++) {
      const value = column.get(r);
      if (typeof value === 'string' && value.trim().length >= MIN_LENGTH) values.add(value.trim());
    }
  }
  let text = message;
  // Longest first, so a name is not left half-replaced by a value it contains.
  for (const value of [...values].sort((a, b) => b.length - a.length)) if (text.includes(value)) text = text.split(value).join('[value withheld]');
  return text;
}

/**
 * `error` with its message through withoutBatchValues: a RejectedRows stays one (it says which
 * rows to set aside), anything else becomes a plain Error of the same name.
 */
export function withheldError(error: unknown, batch: RecordBatch): Error {
  if (error instanceof RejectedRows) {
    return new RejectedRows(error.rows, withoutBatchValues(error.reason, batch), withoutBatchValues(error.message, batch));
  }
  const message = error instanceof Error ? error.message : String(error);
  const cleaned = new Error(withoutBatchValues(message, batch));
  cleaned.name = error instanceof Error ? error.name : 'Error';
  return cleaned;
}

// `model.classification-metrics`: how well scores or decisions match 0/1 labels, over all rows:
// the confusion matrix at a threshold, precision, recall, F1, accuracy, false-alarm rate, ROC AUC
// (from the scores, ties counting half), and the skill scores solar-flare forecasting reports:
//   TSS = TP/(TP+FN) - FP/(FP+TN)                  (true skill statistic, Hanssen–Kuipers)
//   HSS = 2(TP·TN - FN·FP) / ((TP+FN)(FN+TN) + (TP+FP)(FP+TN))   (Heidke skill score)
// Undefined ratios (a zero denominator) are null, not 0.
import { Field, Float64, Int64, Schema, Type, vectorFromArray, type DataType, type RecordBatch } from 'apache-arrow';
import { z } from 'zod';
import { makeBatch } from '../../arrow/batch.ts';
import { isNumeric } from '../../arrow/types.ts';
import { requireColumnOf } from '../../arrow/columns.ts';
import { defineReduce } from '../../workflow/stage.ts';

const params = z.object({
  label: z.string().min(1).describe('the truth: 1 (or true) positive, 0 (or false) negative'),
  score: z.string().min(1).describe('the classifier score (higher means more likely positive) or its 0/1 decision'),
  threshold: z.number().default(0.5).describe('score > threshold is a positive decision'),
}).strict();

const counts = ['rows', 'tp', 'fp', 'tn', 'fn'];
const ratios = ['precision', 'recall', 'f1', 'accuracy', 'false_alarm_rate', 'roc_auc', 'tss', 'hss'];
const schema = new Schema([...counts.map((n) => new Field(n, new Int64(), false)), ...ratios.map((n) => new Field(n, new Float64(), true))]);

export interface Confusion { tp: number; fp: number; tn: number; fn: number }

const ratio = (a: number, b: number) => (b === 0 ? null : a / b);

export function skillScores({ tp, fp, tn, fn }: Confusion) {
  const recall = ratio(tp, tp + fn);
  const falseAlarmRate = ratio(fp, fp + tn);
  const precision = ratio(tp, tp + fp);
  return {
    precision, recall,
    f1: precision === null || recall === null || precision + recall === 0 ? null : (2 * precision * recall) / (precision + recall),
    accuracy: ratio(tp + tn, tp + fp + tn + fn),
    false_alarm_rate: falseAlarmRate,
    tss: recall === null || falseAlarmRate === null ? null : recall - falseAlarmRate,
    hss: ratio(2 * (tp * tn - fn * fp), (tp + fn) * (fn + tn) + (tp + fp) * (fp + tn)),
  };
}

/** ROC AUC: the chance a random positive scores above a random negative (ties half), by ranks. */
export function rocAuc(scores: Float64Array, labels: Uint8Array): number | null {
  const order = Array.from(scores.keys()).sort((a, b) => scores[a] - scores[b]);
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && scores[order[j + 1]] === scores[order[i]]) j++;
    const midRank = (i + j) / 2 + 1; // tied scores share the average rank
    for (let k = i; k <= j; k++) if (labels[order[k]]) {
      positives++;
      rankSum += midRank;
    }
    i = j + 1;
  }
  const negatives = order.length - positives;
  if (positives === 0 || negatives === 0) return null;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

export const classificationMetrics = defineReduce({
  name: 'model.classification-metrics',
  kind: 'reduce',
  version: '1',
  description: 'Confusion matrix, precision, recall, F1, accuracy, false-alarm rate, ROC AUC, TSS and HSS of scores against 0/1 labels.',
  params,
  outputSchema({ params: p, inputs: [input] }) {
    const numberOrBool = (t: DataType) => isNumeric(t) || t.typeId === Type.Bool;
    requireColumnOf(input, p.label, numberOrBool, 'a 0/1 number or bool');
    requireColumnOf(input, p.score, numberOrBool, 'a number or bool');
    return schema;
  },
  scope: () => 'all',
  create(p) {
    const scores: number[] = [];
    const labels: number[] = [];
    return {
      push(batch: RecordBatch) {
        const label = batch.getChild(p.label)!;
        const score = batch.getChild(p.score)!;
        for (let i = 0; i < batch.numRows; i++) {
          const y = label.get(i);
          const s = score.get(i);
          if (y === null || s === null) throw new Error(`row ${labels.length}: label and score must not be null`);
          const value = Number(y);
          if (value !== 0 && value !== 1) throw new Error(`row ${labels.length}: label ${y} is not 0 or 1`);
          labels.push(value);
          scores.push(Number(s));
        }
      },
      end() {
        const c: Confusion = { tp: 0, fp: 0, tn: 0, fn: 0 };
        labels.forEach((y, i) => {
          const hit = scores[i] > p.threshold;
          if (y === 1) hit ? c.tp++ : c.fn++;
          else hit ? c.fp++ : c.tn++;
        });
        const values: Record<string, number | null> = { ...skillScores(c), roc_auc: rocAuc(Float64Array.from(scores), Uint8Array.from(labels)) };
        return makeBatch(schema, [
          ...[labels.length, c.tp, c.fp, c.tn, c.fn].map((v) => vectorFromArray([BigInt(v)], new Int64()).data[0]),
          ...ratios.map((n) => vectorFromArray([values[n]], new Float64()).data[0]),
        ], 1);
      },
    };
  },
});

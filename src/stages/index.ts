// The built-in stage library, every stage imported: every name a workflow file can `use` without
// a stage file. Each file format brings its own source and sink (connectors/); each domain its stages (index.ts).
import { arrowSink } from '../../connectors/arrow-ipc/sink.ts';
import { arrowSource } from '../../connectors/arrow-ipc/source.ts';
import { csvSink } from '../../connectors/csv/sink.ts';
import { csvSource } from '../../connectors/csv/source.ts';
import { dicomSource } from '../../connectors/dicom/source.ts';
import { fitsSink } from '../../connectors/fits/sink.ts';
import { fitsSource } from '../../connectors/fits/source.ts';
import { niftiSink } from '../../connectors/nifti/sink.ts';
import { niftiSource } from '../../connectors/nifti/source.ts';
import { parquetSink } from '../../connectors/parquet/sink.ts';
import { parquetSource } from '../../connectors/parquet/source.ts';
import { sigmfSource } from '../../connectors/sigmf/source.ts';
import { odimSource } from '../../connectors/odim/source.ts';
import type { Stage } from '../workflow/stage.ts';
import { astroStages } from './astro/index.ts';
import { financeStages } from './finance/index.ts';
import { medicalStages } from './medical/index.ts';
import { modelStages } from './model/index.ts';
import { radarStages } from './radar/index.ts';
import { tableStages } from './table/index.ts';

const formatStages: Stage[] = [
  arrowSource, arrowSink, csvSource, csvSink, parquetSource, parquetSink, sigmfSource, odimSource, fitsSource, fitsSink, dicomSource, niftiSource, niftiSink,
];

export const builtinStages: Stage[] = [
  ...formatStages, ...tableStages, ...radarStages, ...modelStages, ...astroStages, ...medicalStages, ...financeStages,
];

// The catalog workflows resolve names in: lazy, each stage's module imported on first use.
export { builtinCatalog } from './catalog.ts';

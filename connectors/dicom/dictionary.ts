// The DICOM attributes quiver reads by name (PS3.6): tag and value representation. An implicit-VR
// file does not say what its values are; for these the dictionary does (others stay 'UN', bytes).
export const tags = {
  TransferSyntaxUID: [0x0002_0010, 'UI'],
  SOPClassUID: [0x0008_0016, 'UI'],
  SOPInstanceUID: [0x0008_0018, 'UI'],
  StudyDate: [0x0008_0020, 'DA'],
  SeriesDate: [0x0008_0021, 'DA'],
  AcquisitionDate: [0x0008_0022, 'DA'],
  ContentDate: [0x0008_0023, 'DA'],
  StudyTime: [0x0008_0030, 'TM'],
  SeriesTime: [0x0008_0031, 'TM'],
  AccessionNumber: [0x0008_0050, 'SH'],
  Modality: [0x0008_0060, 'CS'],
  Manufacturer: [0x0008_0070, 'LO'],
  InstitutionName: [0x0008_0080, 'LO'],
  InstitutionAddress: [0x0008_0081, 'ST'],
  ReferringPhysicianName: [0x0008_0090, 'PN'],
  StationName: [0x0008_1010, 'SH'],
  StudyDescription: [0x0008_1030, 'LO'],
  SeriesDescription: [0x0008_103e, 'LO'],
  PerformingPhysicianName: [0x0008_1050, 'PN'],
  OperatorsName: [0x0008_1070, 'PN'],
  PatientName: [0x0010_0010, 'PN'],
  PatientID: [0x0010_0020, 'LO'],
  PatientBirthDate: [0x0010_0030, 'DA'],
  PatientSex: [0x0010_0040, 'CS'],
  PatientAge: [0x0010_1010, 'AS'],
  PatientWeight: [0x0010_1030, 'DS'],
  BodyPartExamined: [0x0018_0015, 'CS'],
  SliceThickness: [0x0018_0050, 'DS'],
  KVP: [0x0018_0060, 'DS'],
  DeviceSerialNumber: [0x0018_1000, 'LO'],
  SpacingBetweenSlices: [0x0018_0088, 'DS'],
  GantryDetectorTilt: [0x0018_1120, 'DS'],
  StudyInstanceUID: [0x0020_000d, 'UI'],
  SeriesInstanceUID: [0x0020_000e, 'UI'],
  StudyID: [0x0020_0010, 'SH'],
  SeriesNumber: [0x0020_0011, 'IS'],
  InstanceNumber: [0x0020_0013, 'IS'],
  ImagePositionPatient: [0x0020_0032, 'DS'],
  ImageOrientationPatient: [0x0020_0037, 'DS'],
  SamplesPerPixel: [0x0028_0002, 'US'],
  PhotometricInterpretation: [0x0028_0004, 'CS'],
  NumberOfFrames: [0x0028_0008, 'IS'],
  Rows: [0x0028_0010, 'US'],
  Columns: [0x0028_0011, 'US'],
  PixelSpacing: [0x0028_0030, 'DS'],
  BitsAllocated: [0x0028_0100, 'US'],
  BitsStored: [0x0028_0101, 'US'],
  HighBit: [0x0028_0102, 'US'],
  PixelRepresentation: [0x0028_0103, 'US'],
  PixelPaddingValue: [0x0028_0120, 'US'],
  RescaleIntercept: [0x0028_1052, 'DS'],
  RescaleSlope: [0x0028_1053, 'DS'],
  PixelData: [0x7fe0_0010, 'OW'],
} as const satisfies Record<string, readonly [number, string]>;

export type Keyword = keyof typeof tags;

const vrByTag = new Map<number, string>(Object.values(tags).map(([tag, vr]) => [tag, vr]));

/** The VR an implicit-VR file means for `tag`: the dictionary's, UL for group lengths, else UN. */
export function impliedVr(tag: number): string {
  if ((tag & 0xffff) === 0) return 'UL';
  return vrByTag.get(tag) ?? 'UN';
}

/** (gggg,eeee) as DICOM writes tags. */
export const tagName = (tag: number) => `(${(tag >>> 16).toString(16).padStart(4, '0')},${(tag & 0xffff).toString(16).padStart(4, '0')})`.toUpperCase();
